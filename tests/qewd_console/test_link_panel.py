"""Selecting a link in the graph opens its details: URL, state, RTT, counts, last error."""

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

ROUTES = [{"application": "clinic", "types": ["echo"], "destination": "far"}]


def test_selecting_a_link_shows_its_details_panel(
    qtbot: QtBot, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """A link picked in the graph fills the Link tab with the source node's view of it."""

    async def scenario() -> None:
        async with running(node_config(tmp_path, "far")) as far:
            config = node_config(
                tmp_path, "near", routes=ROUTES, destinations={"far": {"url": far.url}}
            )
            async with running(config) as near:
                session = ConsoleSession()
                for node in (near, far):
                    token = node.tokens.issue_role("admin", "t", time.time(), 3600)
                    session.attach(Attachment(node.url, token))
                window = MainWindow(session)
                qtbot.addWidget(window)
                window.show()
                try:
                    await eventually(lambda: len(window.graph.links) == 1, what="the link")
                    await session.compose(near.url, "clinic", "echo", {"n": 1}, count=3)
                    link_item = next(iter(window.graph.links.values()))
                    window.graph.scene().clearSelection()
                    link_item.setSelected(True)
                    assert window.right_tabs.currentWidget() is window.link_panel
                    panel = window.link_panel
                    assert panel.title.text() == "Link near → far"
                    assert panel.values["url"].text() == far.url
                    await eventually(
                        lambda: panel.values["sent"].text() not in ("-", "0"), what="sent"
                    )
                    assert panel.values["state"].text() == "up"
                    assert panel.values["rtt_ms"].text().endswith(" ms")
                    assert panel.values["error"].text() == "none"
                    for key in ("reconnects", "in_flight"):
                        assert panel.values[key].text().isdigit()
                finally:
                    window.close()
                    await session.close()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(60)))
