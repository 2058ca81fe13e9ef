"""Console test fixtures: offscreen Qt, a qasync loop that re-raises loop errors, private
settings, and a guard that fails tests leaking top-level widgets or running QTimers."""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # the platform must be chosen before Qt is imported
import qasync
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from tests import support


@pytest.fixture(autouse=True)
def private_settings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point default-constructed QSettings at a temporary folder: tests never touch the
    user's settings."""
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """A settings file of this test alone."""
    return QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def no_leaks(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a new top-level widget alive, or a QTimer running (as napari
    does: compare ``topLevelWidgets()`` before and after, and track every started timer)."""
    before = {id(w) for w in QApplication.topLevelWidgets()}
    started: list[weakref.ref[QTimer]] = []
    original_start = QTimer.start

    def tracked_start(timer: QTimer, *args: Any) -> None:
        started.append(weakref.ref(timer))
        original_start(timer, *args)

    monkeypatch.setattr(QTimer, "start", tracked_start)
    yield
    monkeypatch.undo()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()
    leaked = [
        w
        for w in QApplication.topLevelWidgets()
        if id(w) not in before
        and shiboken6.isValid(w)
        # popups (menus, combo box lists) are parentless helpers of live widgets
        and w.windowType() != Qt.WindowType.Popup
    ]
    running = [
        t for ref in started if (t := ref()) is not None and shiboken6.isValid(t) and t.isActive()
    ]
    for widget in leaked:
        widget.close()
        widget.deleteLater()
    for timer in running:
        timer.stop()
    assert not leaked, f"leaked top-level widgets: {leaked}"
    assert not running, f"QTimers still running: {running}"


@pytest.fixture
def qt_loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop driven by Qt (as in the app); errors nobody handled fail the test."""
    qapp.setQuitOnLastWindowClosed(False)  # as in the app: closing a window ends no loop
    loop = qasync.QEventLoop(qapp)
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    asyncio.set_event_loop(loop)
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    asyncio.set_event_loop(None)
    assert not errors, errors


async def eventually(
    condition: Callable[[], object], timeout: float = 20.0, what: str = "condition"
) -> None:
    """``tests.support.eventually`` with the console's longer default (Qt and mesh start-up)."""
    await support.eventually(condition, timeout, what)
