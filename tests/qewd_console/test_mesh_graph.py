"""The mesh graph against a real node: dragged places are remembered across runs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import Attachment
from qewd_console.widgets.mesh_graph import MeshGraph, layout_key
from tests.qewd_console.conftest import eventually
from tests.support import node_config, running, scaled


def mouse(graph: MeshGraph, kind: QEvent.Type, at: QPoint, buttons: Qt.MouseButton) -> None:
    """Send one mouse event to the graph's viewport (a drag needs held buttons on moves)."""
    event = QMouseEvent(
        kind,
        QPointF(at),
        QPointF(graph.viewport().mapToGlobal(at)),
        Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(graph.viewport(), event)


def test_dragged_node_places_are_restored_on_the_next_start(
    qtbot: QtBot, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path, settings: QSettings
) -> None:
    """Dragging a node saves its place under the set of node names; a new graph over the
    same mesh puts it back there."""

    async def attached_graph(url: str, token: str) -> tuple[ConsoleSession, MeshGraph]:
        session = ConsoleSession()
        session.attach(Attachment(url, token))
        graph = MeshGraph(session, settings)
        qtbot.addWidget(graph)
        graph.resize(600, 400)
        graph.show()

        def placed() -> bool:
            graph.refresh()
            return bool(graph.nodes) and session.mirrors[url].name == "n1"

        await eventually(placed, what="node in the graph")
        return session, graph

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            token = node.tokens.issue_role("admin", "t", time.time(), 3600)
            session, graph = await attached_graph(node.url, token)
            try:
                item = graph.nodes[node.url]
                start = item.pos()
                grab = graph.mapFromScene(item.pos())
                drop = grab + QPoint(60, 40)
                mouse(graph, QEvent.Type.MouseButtonPress, grab, Qt.MouseButton.LeftButton)
                mouse(
                    graph, QEvent.Type.MouseMove, grab + QPoint(30, 20), Qt.MouseButton.LeftButton
                )
                mouse(graph, QEvent.Type.MouseMove, drop, Qt.MouseButton.LeftButton)
                mouse(graph, QEvent.Type.MouseButtonRelease, drop, Qt.MouseButton.NoButton)
                moved = item.pos()
                assert moved != start
                assert settings.value(layout_key({"n1"}))
            finally:
                graph.close()
                await session.close()

            session, graph = await attached_graph(node.url, token)
            try:
                again = graph.nodes[node.url].pos()
                assert (round(again.x(), 3), round(again.y(), 3)) == (
                    round(moved.x(), 3),
                    round(moved.y(), 3),
                )
            finally:
                graph.close()
                await session.close()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(60)))


def test_layout_key_ignores_order_and_holds_no_separators() -> None:
    """The same names in any order give one key, with no group separator after the group."""
    key = layout_key({"a/b", "c\\d"})
    assert key == layout_key({"c\\d", "a/b"})
    assert "\\" not in key
    assert key.count("/") == 1
