"""File → Connect…: attaching by URL and token, errors in the dialog, remembered connections."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from qewd_console.models.connections import ConnectionBook
from qewd_console.session.console import ConsoleSession
from qewd_console.session.token_store import MemoryTokenStore
from qewd_console.widgets.main_window import MainWindow
from tests.qewd_console.conftest import eventually
from tests.support import node_config, running, scaled


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_remembered_connections_keep_tokens_out_of_the_settings_file(
    settings: QSettings, tmp_path: Path
) -> None:
    """URL and label reach the settings file, the token only the token store; a new run
    lists the connection again but, without a keyring, needs the token anew."""
    book = ConnectionBook(settings, MemoryTokenStore())
    book.remember("ws://127.0.0.1:1/ws", "one", "secret-token-1")
    book.remember("ws://127.0.0.1:2/ws", "two", "secret-token-2")
    book.remember("ws://127.0.0.1:1/ws", "one again", "secret-token-3")
    assert [(e.url, e.label) for e in book.entries()] == [
        ("ws://127.0.0.1:1/ws", "one again"),
        ("ws://127.0.0.1:2/ws", "two"),
    ]
    assert book.token("ws://127.0.0.1:1/ws") == "secret-token-3"
    text = (tmp_path / "console.ini").read_text()
    assert "127.0.0.1:2" in text
    assert "secret-token" not in text
    next_run = ConnectionBook(
        QSettings(settings.fileName(), QSettings.Format.IniFormat), MemoryTokenStore()
    )
    assert len(next_run.entries()) == 2
    assert next_run.token("ws://127.0.0.1:1/ws") is None
    next_run.forget("ws://127.0.0.1:2/ws")
    assert [e.url for e in next_run.entries()] == ["ws://127.0.0.1:1/ws"]


def test_connect_dialog_shows_errors_then_attaches_and_reconnects_in_one_click(
    qtbot: QtBot, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path, settings: QSettings
) -> None:
    """Bad URL, refused port and 401 show in the dialog; a good token attaches the node,
    is remembered, and one click on the remembered entry connects again."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            session = ConsoleSession()
            window = MainWindow(session, settings=settings, tokens=MemoryTokenStore())
            qtbot.addWidget(window)
            try:
                assert window.connect_action.shortcut().toString() == "Ctrl+N"
                window.connect_action.trigger()
                dialog = window.connect_dialog
                assert dialog is not None
                assert dialog.isVisible()
                assert "memory for this session only" in dialog.storage.text()

                dialog.url.setText("http://127.0.0.1:1")
                dialog.token.setText("x")
                qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
                assert "bad URL" in dialog.error.text()

                dialog.url.setText(f"ws://127.0.0.1:{closed_port()}")
                qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
                await eventually(lambda: "⚠" in dialog.error.text(), what="refused")
                assert "cannot reach" in dialog.error.text(), dialog.error.text()

                dialog.url.setText(node.url)
                dialog.token.setText("not-a-jwt")
                qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
                await eventually(lambda: "401" in dialog.error.text(), what="401")
                assert "E_AUTH" in dialog.error.text()
                assert not session.mirrors

                token = node.tokens.issue_role("admin", "t", time.time(), 3600)
                dialog.token.setText(token)
                dialog.label.setText("test node")
                qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
                await eventually(lambda: not dialog.isVisible(), what="dialog closed")
                assert dialog.result() == QDialog.DialogCode.Accepted
                await eventually(
                    lambda: session.mirrors[node.url].state == "up", what="node attached"
                )
                await eventually(lambda: len(window.graph.nodes) == 1, what="node in the graph")
                saved = await asyncio.to_thread(Path(settings.fileName()).read_text)
                assert token not in saved

                window.open_connect_dialog()
                assert dialog.remembered.count() == 1
                item = dialog.remembered.item(0)
                assert "test node" in item.text()
                first = session.clients[node.url]
                rect = dialog.remembered.visualItemRect(item)
                qtbot.mouseClick(
                    dialog.remembered.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
                )
                await eventually(lambda: not dialog.isVisible(), what="reconnected")
                assert session.clients[node.url] is not first
                await eventually(lambda: session.mirrors[node.url].state == "up", what="up")
            finally:
                window.close()
                await session.close()

    qt_loop.run_until_complete(asyncio.wait_for(scenario(), scaled(60)))
