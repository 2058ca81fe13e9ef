"""End to end: the console starts the demo mesh, fires from the composer, shows the flow."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import EmbeddedMesh
from qewd_console.session.traffic import TrafficGenerator
from qewd_console.widgets.main_window import MainWindow
from tests.qewd_console.conftest import eventually
from tests.support import scaled


@pytest.mark.slow
def test_composer_message_appears_as_a_flow_with_its_waterfall(
    qtbot: QtBot, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """A getPatient fired from the composer returns, shows its path, and its flow's hops."""

    async def scenario() -> None:
        mesh = EmbeddedMesh(tmp_path)
        session = ConsoleSession()
        targets = await mesh.start()
        traffic = TrafficGenerator(mesh.entry_url, rate=5, seed=2)
        window = MainWindow(session, traffic)
        qtbot.addWidget(window)
        try:
            for target in targets:
                session.attach(target)
            window.show()
            await eventually(
                lambda: all(m.state == "up" for m in session.mirrors.values()), what="all nodes up"
            )
            await eventually(lambda: window.composer.target.count() == 6, what="targets")
            assert len(window.graph.nodes) == 6
            await eventually(lambda: len(window.graph.links) == 5, what="links in the graph")

            composer = window.composer
            composer.target.setCurrentIndex(composer.target.findText("orchestrator"))
            composer.app.setCurrentText("audit")
            composer.type.setCurrentText("archive")
            composer.params.setPlainText(json.dumps({"event": "from-test"}))
            assert composer.fire.isEnabled()
            qtbot.mouseClick(composer.fire, Qt.MouseButton.LeftButton)
            await eventually(lambda: composer.history.count() == 1, what="composer reply")
            result = composer.results[0]
            assert result.ok, result.final
            assert "orchestrator → audit → archive" in composer.output.toPlainText()

            window.flows.filters["type"].setText("archive")
            await eventually(lambda: window.flows.select_last(min_hops=3), what="the flow")
            rows = window.flows.waterfall.rows()
            assert rows == [
                "orchestrator",
                "orchestrator → audit",
                "audit",
                "audit → archive",
                "archive",
            ]
            assert "via orchestrator → audit → archive" in window.flows.waterfall.title
        finally:
            window.close()
            await traffic.close()
            await session.close()
            await mesh.stop()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(90)))


def test_params_editor_flags_bad_json(qtbot: QtBot) -> None:
    """Invalid params disable Fire and say where the JSON is wrong."""
    from qewd_console.widgets.composer import Composer

    composer = Composer()
    qtbot.addWidget(composer)
    composer.params.setPlainText('{"a": ')
    assert not composer.fire.isEnabled()
    assert "line 1" in composer.params_error.text()
    composer.params.setPlainText('{"a": 1}')
    assert composer.fire.isEnabled()
    assert composer.params_error.text() == ""
