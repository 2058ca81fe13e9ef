"""Console test fixtures: offscreen Qt, a qasync loop that re-raises loop errors."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # the platform must be chosen before Qt is imported
import qasync
from PySide6.QtWidgets import QApplication

from tests.support import scaled


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
    """Wait (polling the event loop) until ``condition()`` is truthy, or fail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + scaled(timeout)
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
