"""The capture/replay panel against a real node: record composed messages, replay them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import Attachment
from qewd_console.widgets.main_window import MainWindow
from tests.qewd_console.conftest import eventually
from tests.support import node_config, running, scaled


def test_capture_panel_records_and_replays_through_a_node(
    qtbot: QtBot, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Recording for a while captures composed messages; replaying them finds no mismatch."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            session = ConsoleSession()
            token = node.tokens.issue_role("admin", "test", time.time(), 600)
            mirror = session.attach(Attachment(node.url, token))
            window = MainWindow(session)
            qtbot.addWidget(window)
            panel = window.capture
            try:
                await eventually(lambda: mirror.state == "up", what="node up")
                await eventually(lambda: panel.source.count() == 1, what="capture targets")
                panel.file.setText(str(tmp_path / "cap.jsonl"))
                panel.duration.setValue(0)
                panel._record()
                await eventually(lambda: window.capture_job is not None, what="job")
                await session.compose(node.url, "clinic", "echo", {"n": 1}, count=3, rate=50)
                await eventually(
                    lambda: (
                        (tmp_path / "cap.jsonl").stat().st_size > 200
                        if (tmp_path / "cap.jsonl").exists()
                        else False
                    ),
                    what="entries written",
                )
                panel.stop_requested.emit()
                await eventually(
                    lambda: "recorded" in panel.output.toPlainText(), what="capture summary"
                )
                panel._replay()
                await eventually(
                    lambda: "replay to" in panel.output.toPlainText(), what="replay summary"
                )
                assert "mismatches 0" in panel.output.toPlainText(), panel.output.toPlainText()
            finally:
                window.close()
                await session.close()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(60)))
