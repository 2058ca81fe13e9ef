"""The node panel's actions against a real node, and ``--attach`` end to end."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from qewd_console.app import parse_args, run_console
from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import Attachment
from qewd_console.widgets.main_window import MainWindow
from tests.qewd_console.conftest import eventually
from tests.support import node_config, running, scaled


def test_resize_and_stop_worker_buttons_change_the_node(
    qtbot: QtBot, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Resize pool grows the real node's pool; Stop selected worker ends that worker; the
    next stats show both."""

    async def scenario() -> None:
        async with running(node_config(tmp_path, pool_size=1, prefork=True)) as node:
            session = ConsoleSession()
            token = node.tokens.issue_role("admin", "t", time.time(), 3600)
            mirror = session.attach(Attachment(node.url, token))
            window = MainWindow(session)
            qtbot.addWidget(window)
            panel = window.node_panel
            try:
                await eventually(lambda: panel.mirror is mirror and mirror.workers, what="loaded")
                panel.pool_size_box.setValue(2)
                qtbot.mouseClick(panel.resize_button, Qt.MouseButton.LeftButton)
                await eventually(
                    lambda: mirror.pool_size == 2 and len(mirror.workers) == 2,
                    what="two workers in the stats",
                )
                await eventually(lambda: panel.model.rowCount() == 2, what="two rows")
                panel.table.selectRow(0)
                victim = panel.model.row(0)
                assert victim is not None
                qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
                await eventually(
                    lambda: victim["pid"] not in {w.get("pid") for w in mirror.workers},
                    what="the stopped worker gone from the stats",
                )
                assert victim["pid"] not in set(node.pool.workers)
            finally:
                window.close()
                await session.close()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(60)))


def test_attach_puts_a_running_node_in_the_graph(
    qt_loop: asyncio.AbstractEventLoop, qapp: QApplication, tmp_path: Path
) -> None:
    """``qewd-console --attach URL --token T`` opens a window whose graph shows the node;
    closing the window ends the console with exit code 0."""

    async def scenario() -> int:
        async with running(node_config(tmp_path, "attached")) as node:
            token = node.tokens.issue_role("admin", "t", time.time(), 3600)
            args = parse_args(["--attach", node.url, "--token", token])
            console = asyncio.ensure_future(run_console(args, qapp))

            def window() -> MainWindow | None:
                return next(
                    (w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None
                )

            try:
                await eventually(window, what="the console window")
                main = window()
                assert main is not None
                await eventually(
                    lambda: [m.name for m in main.session.mirrors.values()] == ["attached"],
                    what="the node attached",
                )
                await eventually(
                    lambda: (
                        node.url in main.graph.nodes
                        and main.graph.nodes[node.url].title.text() == "attached"
                    ),
                    what="the node in the graph",
                )
            finally:
                for widget in QApplication.topLevelWidgets():
                    if isinstance(widget, MainWindow):
                        widget.close()
                code = await asyncio.wait_for(console, scaled(20))
            return code

    assert qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(60))) == 0
