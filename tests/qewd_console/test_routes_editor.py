"""The route editor against a real node: problems inline, diff, guarded apply, conflict."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

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
