"""The route editor against a real node: problems inline, diff, guarded apply, conflict."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from qewd_console.models.route_tables import DestinationRowsModel, RouteRowsModel
from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import Attachment
from qewd_console.widgets.main_window import MainWindow
from qewd_console.widgets.routes_editor import map_to_toml, toml_to_map
from tests.qewd_console.conftest import eventually
from tests.support import node_config, running, scaled

NEW_ROUTES = """
[destinations.far]
url = "ws://127.0.0.1:9/ws"

[[routes]]
application = "clinic"
types = ["echo"]
destination = "far"
"""


def test_toml_round_trip_of_a_route_map() -> None:
    """The TOML text view reads back into the same map it was made from."""
    route_map = {
        "destinations": {"a": {"url": "ws://h:1/ws"}},
        "routes": [{"application": "x", "types": ["*"], "destination": "a"}],
    }
    assert toml_to_map(map_to_toml(route_map)) == (route_map, "")
    assert toml_to_map("[[routes]\n")[0] is None


def test_editor_validates_applies_and_reports_a_conflict(
    qtbot: QtBot, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Bad maps show coded problems; a valid one applies; a stale version is a conflict."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            session = ConsoleSession()
            token = node.tokens.issue_role("admin", "test", time.time(), 600)
            session.attach(Attachment(node.url, token))
            window = MainWindow(session)
            qtbot.addWidget(window)
            editor = window.routes
            try:
                await eventually(lambda: editor.key == node.url, what="editor loaded")
                editor.text.setPlainText(NEW_ROUTES.replace('"far"\n', '"nowhere"\n'))
                editor._validate()
                await eventually(lambda: editor.problems.topLevelItemCount() > 0, what="problems")
                codes = [
                    editor.problems.topLevelItem(i).text(0)
                    for i in range(editor.problems.topLevelItemCount())
                ]
                assert all(code.startswith(("R_", "E_")) for code in codes), codes
                assert not editor.apply.isEnabled()

                editor.text.setPlainText(NEW_ROUTES)
                editor._validate()
                await eventually(editor.apply.isEnabled, what="valid map")
                assert "far" in editor.diff.toPlainText()
                before = editor.loaded_version
                editor._apply()
                await eventually(lambda: "applied" in editor.message.text(), what="applied")
                assert editor.loaded_version == before + 1

                editor.loaded_version = before  # as if another console applied meanwhile
                editor.validated_text = editor.text.toPlainText()
                editor._apply()
                await eventually(lambda: "Conflict" in editor.message.text(), what="conflict")
            finally:
                window.close()
                await session.close()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(60)))


def test_route_tables_pass_the_model_tester_while_edited(qtmodeltester: ModelTester) -> None:
    """Both editable models stay consistent through inserts, edits, removals and problems."""
    routes = RouteRowsModel()
    destinations = DestinationRowsModel()
    destinations.set_map({"a": {"url": "ws://h:1/ws"}, "g": {"members": ["a"], "mode": "all"}})
    routes.set_rows([{"application": "x", "types": ["*"], "destination": "a"}])
    for model in (routes, destinations):
        qtmodeltester.check(model)
        assert model.insertRows(1, 2)
        assert model.setData(model.index(1, 0), "edited")
        assert model.removeRows(2, 1)
        qtmodeltester.check(model)
    assert destinations.data(destinations.index(2, 2)) == "a"
    routes.setData(routes.index(0, 1), "login, getPatient")
    assert routes.to_list()[0]["types"] == ["login", "getPatient"]
    routes.set_problems(
        [{"code": "R_UNKNOWN_DESTINATION", "severity": "error", "where": "routes[1].destination"}]
    )
    assert routes.data(routes.index(1, 5)) == "R_UNKNOWN_DESTINATION"
    assert routes.data(routes.index(0, 5)) == ""
    destinations.set_problems([{"code": "R_BAD_URL", "where": "mesh.n1.destinations.a.url"}])
    assert destinations.data(destinations.index(0, 4)) == "R_BAD_URL"
    qtmodeltester.check(routes)


def test_table_edits_validate_and_apply_on_a_real_node(
    qtbot: QtBot, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Rows added in the table reach the text; a bad destination is flagged on its row; fixed
    in the table, the map validates and applies, and the node's route map version moves."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            session = ConsoleSession()
            token = node.tokens.issue_role("admin", "test", time.time(), 600)
            mirror = session.attach(Attachment(node.url, token))
            window = MainWindow(session)
            qtbot.addWidget(window)
            editor = window.routes
            try:
                await eventually(lambda: editor.key == node.url, what="editor loaded")
                version = mirror.routes_version
                editor.add_row(editor.destination_table)
                dest = editor.destinations
                dest.setData(dest.index(dest.rowCount() - 1, 0), "far")
                dest.setData(dest.index(dest.rowCount() - 1, 1), "ws://127.0.0.1:9/ws")
                editor.add_row(editor.table)
                routes = editor.model
                last = routes.rowCount() - 1
                for column, value in enumerate(["clinic", "echo", "", "", "nowhere"]):
                    routes.setData(routes.index(last, column), value)
                route_map, _ = toml_to_map(editor.text.toPlainText())
                assert route_map is not None
                assert route_map["destinations"]["far"] == {"url": "ws://127.0.0.1:9/ws"}
                assert route_map["routes"][-1] == {
                    "application": "clinic",
                    "types": ["echo"],
                    "destination": "nowhere",
                }

                editor._validate()
                await eventually(lambda: routes.problems, what="inline problems")
                assert "R_UNKNOWN_DESTINATION" in routes.data(routes.index(last, 5))
                assert not editor.apply.isEnabled()

                routes.setData(routes.index(last, 4), "far")
                assert 'destination = "far"' in editor.text.toPlainText()
                editor._validate()
                await eventually(editor.apply.isEnabled, what="valid map")
                editor._apply()
                await eventually(lambda: "applied" in editor.message.text(), what="applied")
                assert node.route_map.version == version + 1
                await eventually(lambda: mirror.routes_version == version + 1, what="mirror")
                assert mirror.routes_map["destinations"]["far"]["url"] == "ws://127.0.0.1:9/ws"

                editor.text.setPlainText(
                    editor.text.toPlainText() + '\n[destinations.x]\nurl = "ws://h:2/ws"\n'
                )
                assert "x" in dest.to_map()
            finally:
                window.close()
                await session.close()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(60)))
