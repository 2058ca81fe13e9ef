"""Qt models over session state, checked with qtmodeltester and driven synchronously."""

from __future__ import annotations

from typing import Any

from pytestqt.modeltest import ModelTester

from qewd_console.models.flows import FlowFilter, FlowsModel
from qewd_console.models.route_tables import RouteRowsModel
from qewd_console.models.tables import WorkersModel
from qewd_console.session.console import ConsoleSession, FlowRecord


def flow(n: int, ok: bool = True, app: str = "clinic") -> dict[str, Any]:
    return {
        "id": str(n),
        "app": app,
        "type": "echo" if n % 2 else "getPatient",
        "node": "orchestrator",
        "to": "login",
        "ok": ok,
        "code": "" if ok else "E_X",
        "ms": 1.5,
        "request_bytes": 10,
        "reply_bytes": 20,
        "time": 1796414746.0 + n,
        "trace": [{"node": "orchestrator"}],
    }


def test_flows_model_appends_and_evicts_in_batches(qtmodeltester: ModelTester) -> None:
    """Refresh appends what arrived and drops the oldest past the bound; the model is valid."""
    session = ConsoleSession()
    model = FlowsModel(session, max_rows=5)
    qtmodeltester.check(model)
    for n in range(3):
        session.flows.append(FlowRecord("k", flow(n)))
    assert model.refresh() == 3
    for n in range(3, 9):
        session.flows.append(FlowRecord("k", flow(n)))
    assert model.refresh() == 5  # of 6 new, only the newest 5 fit
    assert model.rowCount() == 5
    assert model.data(model.index(0, 2)) == "getPatient"  # flow 4 is the oldest kept
    record = model.record(4)
    assert record is not None
    assert record.flow["id"] == "8"
    qtmodeltester.check(model)


def test_flow_filter_selects_by_field_and_status(qtmodeltester: ModelTester) -> None:
    """The proxy keeps rows matching every filter; status separates ok from errors."""
    session = ConsoleSession()
    model = FlowsModel(session)
    for n in range(6):
        session.flows.append(
            FlowRecord("k", flow(n, ok=n != 3, app="audit" if n == 5 else "clinic"))
        )
    model.refresh()
    proxy = FlowFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.set_field("status", "error")
    assert proxy.rowCount() == 1
    assert proxy.data(proxy.index(0, 5)) == "E_X"
    proxy.set_field("status", "")
    proxy.set_field("app", "AUD")
    assert proxy.rowCount() == 1
    proxy.set_field("app", "")
    proxy.set_field("type", "getpat")
    assert proxy.rowCount() == 3
    qtmodeltester.check(proxy)


def test_workers_and_routes_models_show_their_rows(qtmodeltester: ModelTester) -> None:
    """Row models render workers (memory in MiB) and routes (types joined)."""
    workers = WorkersModel()
    workers.set_rows(
        [{"pid": 1, "state": "idle", "busy": False, "handled": 3, "memory": 2 * 1048576}]
    )
    qtmodeltester.check(workers)
    assert workers.data(workers.index(0, 4)) == "2.0 MiB"
    workers.set_rows([])
    qtmodeltester.check(workers)
    routes = RouteRowsModel()
    routes.set_rows([{"application": "clinic", "types": ["login", "x"], "destination": "d"}])
    qtmodeltester.check(routes)
    assert routes.data(routes.index(0, 1)) == "login, x"
