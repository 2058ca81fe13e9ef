"""The session layer against real nodes on 127.0.0.1 (no Qt): monitor, ops, composer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import Attachment, EmbeddedMesh
from qewd_console.session.monitor_client import MonitorError
from qewd_console.session.traffic import TrafficGenerator
from tests.qewd_console.conftest import eventually
from tests.support import node_config, run, running


def test_session_mirrors_a_node_and_resizes_its_pool(tmp_path: Path) -> None:
    """An admin session sees the snapshot, and pool.resize changes the mirrored pool."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            session = ConsoleSession()
            token = node.tokens.issue_role("admin", "test", time.time(), 600)
            mirror = session.attach(Attachment(node.url, token))
            try:
                await eventually(lambda: mirror.state == "up", what="snapshot")
                assert mirror.name == "n1"
                assert mirror.role == "admin"
                reply = await session.resize_pool(node.url, 2)
                assert reply["ok"]
                await eventually(lambda: mirror.pool_size == 2, what="pool size in stats")
            finally:
                await session.close()

    run(scenario())


def test_monitor_token_cannot_change_anything(tmp_path: Path) -> None:
    """A monitor-role session gets E_FORBIDDEN from pool.resize."""

    async def scenario() -> str:
        async with running(node_config(tmp_path)) as node:
            session = ConsoleSession()
            token = node.tokens.issue_role("monitor", "test", time.time(), 600)
            mirror = session.attach(Attachment(node.url, token))
            try:
                await eventually(lambda: mirror.state == "up", what="snapshot")
                with pytest.raises(MonitorError) as refused:
                    await session.resize_pool(node.url, 3)
                return refused.value.code
            finally:
                await session.close()

    assert run(scenario()) == "E_FORBIDDEN"


def test_a_bad_token_shows_as_a_down_connection_with_the_reason(tmp_path: Path) -> None:
    """A refused handshake leaves the node 'down' with the HTTP status as the reason."""

    async def scenario() -> str:
        async with running(node_config(tmp_path)) as node:
            session = ConsoleSession()
            mirror = session.attach(Attachment(node.url, "not-a-token"))
            try:
                await eventually(lambda: mirror.state == "down", what="refusal")
                return mirror.error
            finally:
                await session.close()

    assert "401" in run(scenario())


def test_composer_call_returns_intermediates_final_reply_and_path(tmp_path: Path) -> None:
    """compose() registers, sends with tracing on, and records the call in history."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            session = ConsoleSession()
            try:
                results = await session.compose(
                    node.url, "clinic", "echo", {"x": 1}, count=2, rate=100
                )
                assert [r.ok for r in results] == [True, True]
                assert results[0].final["message"]["echo"] == {"x": 1}
                assert [hop["node"] for hop in results[0].trace] == ["n1"]
                assert len(session.history) == 2
            finally:
                await session.close()

    run(scenario())


@pytest.mark.slow
def test_demo_mesh_carries_generated_traffic_and_reports_flows(tmp_path: Path) -> None:
    """The embedded demo mesh starts, the generator's messages succeed, flows arrive."""

    async def scenario() -> None:
        mesh = EmbeddedMesh(tmp_path)
        session = ConsoleSession()
        targets = await mesh.start()
        traffic = TrafficGenerator(mesh.entry_url, rate=50, seed=1)
        try:
            assert len(targets) == 6
            for target in targets:
                session.attach(target)
            await eventually(
                lambda: all(m.state == "up" for m in session.mirrors.values()), what="all nodes up"
            )
            traffic.start()
            await eventually(
                lambda: traffic.sent >= 40 and len(session.flows) >= 40, what="traffic"
            )
            names = {record.flow.get("node") for record in session.flows}
            assert "orchestrator" in names
            assert len(names) > 2
            await asyncio.sleep(0)
            assert traffic.errors == 0, traffic.last_error
        finally:
            await traffic.close()
            await session.close()
            await mesh.stop()

    run(scenario(), timeout=90)
