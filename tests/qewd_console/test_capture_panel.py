"""The capture/replay panel against a real node: record, export HAR, replay with progress."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from node_runtime.capture.replay import Mismatch
from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import Attachment
from qewd_console.widgets.capture_panel import CapturePanel
from qewd_console.widgets.main_window import MainWindow
from tests.qewd_console.conftest import eventually
from tests.support import SECRET, node_config, running, scaled


def test_capture_panel_records_exports_and_replays_through_a_node(
    qtbot: QtBot, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """A recording exports to HAR and replays with secret-minted tokens, progress to 100%."""
    capture_file = tmp_path / "cap.jsonl"

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            session = ConsoleSession()
            token = node.tokens.issue_role("admin", "test", time.time(), 600)
            mirror = session.attach(Attachment(node.url, token))
            window = MainWindow(session)
            qtbot.addWidget(window)
            panel = window.capture
            steps: list[tuple[int, int]] = []
            try:
                await eventually(lambda: mirror.state == "up", what="node up")
                await eventually(lambda: panel.source.count() == 1, what="capture targets")
                panel.file.setText(str(capture_file))
                panel.duration.setValue(0)
                panel._record()
                await eventually(lambda: window.capture_control.job is not None, what="job")
                await session.compose(node.url, "clinic", "echo", {"n": 1}, count=6, rate=50)
                await eventually(
                    lambda: capture_file.exists() and capture_file.read_text().count("\n") >= 7,
                    what="entries written",
                )
                panel.stop_requested.emit()
                await eventually(
                    lambda: "recorded" in panel.output.toPlainText(), what="capture summary"
                )

                panel.har_requested.emit(str(capture_file), str(tmp_path / "cap.har"))
                har = json.loads((tmp_path / "cap.har").read_text())
                assert len(har["log"]["entries"]) == 6
                assert "exported 6 exchanges" in panel.output.toPlainText()

                panel.show_progress = lambda done, total: steps.append((done, total))  # type: ignore[method-assign]
                panel.secret.setText(SECRET)
                panel._replay()
                await eventually(
                    lambda: "replay to" in panel.output.toPlainText(), what="replay summary"
                )
                text = panel.output.toPlainText()
                assert "sent 6, ok 6, errors 0, mismatches 0" in text, text
                assert steps[0] == (0, 6)
                assert steps[-1] == (6, 6)
                assert panel.mismatches.rowCount() == 0
            finally:
                window.close()
                await session.close()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(60)))


def test_replay_progress_is_determinate_and_mismatches_show_their_diffs(
    qtbot: QtBot, qtmodeltester: ModelTester, tmp_path: Path
) -> None:
    """Progress shows done/total; each mismatch is a row, and selecting it shows its diff."""
    panel = CapturePanel(tmp_path)
    qtbot.addWidget(panel)
    panel.show_progress(3, 12)
    assert (panel.progress.minimum(), panel.progress.maximum()) == (0, 12)
    assert panel.progress.value() == 3
    panel.show_mismatches(
        [
            Mismatch(2, "getPatient", ["message.name: 'Ann' != 'Bob'"]),
            Mismatch(5, "echo", ["message.n: 1 != 2", "message.extra: missing"]),
        ]
    )
    qtmodeltester.check(panel.mismatches)
    assert panel.mismatches.rowCount() == 2
    panel.mismatch_table.selectRow(1)
    assert panel.mismatch_diff.toPlainText() == (
        "#5 echo\nmessage.n: 1 != 2\nmessage.extra: missing"
    )
