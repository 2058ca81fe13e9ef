"""Entry points for the worker processes the multi-process store tests spawn.

Each function opens its own store from picklable ``open_store`` options, as a worker
process of a node would, and reports back only through multiprocessing primitives.
"""

from __future__ import annotations

import threading
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from node_runtime.store import open_store

PATH = ("counters", "shared")
LONG_WAIT = 120.0


def increment_many(options: dict[str, Any], start: Barrier, count: int) -> None:
    """Increment the shared counter ``count`` times, starting together with the others."""
    with open_store(**options) as store:
        node = store[PATH[0]][PATH[1]]
        start.wait(LONG_WAIT)
        for _ in range(count):
            node.increment()


def open_together_and_increment(options: dict[str, Any], start: Barrier, count: int) -> None:
    """Open the store at the same moment as the others (a new file), then increment."""
    start.wait(LONG_WAIT)
    with open_store(**options) as store:
        node = store[PATH[0]][PATH[1]]
        for _ in range(count):
            node.increment()


def add_under_lock(options: dict[str, Any], start: Barrier, count: int) -> None:
    """Read, add one and write back ``count`` times, each time inside the node's lock."""
    with open_store(**options) as store:
        node = store[PATH[0]][PATH[1]]
        start.wait(LONG_WAIT)
        for _ in range(count):
            with node.lock(timeout=LONG_WAIT):
                current = node.value
                assert current is None or isinstance(current, int)
                node.value = (current or 0) + 1


def hold_lock_until(options: dict[str, Any], acquired: Event, release: Event) -> None:
    """Take the lock, say so, wait for ``release``, write a marker, then free the lock."""
    with open_store(**options) as store:
        node = store[PATH[0]][PATH[1]]
        with node.lock(timeout=LONG_WAIT):
            acquired.set()
            release.wait(LONG_WAIT)
            node.value = "written by the first holder"


def hold_lock_forever(options: dict[str, Any], acquired: Event) -> None:
    """Take the lock with no lease and never free it (the test kills this process)."""
    store = open_store(**options)
    store[PATH[0]][PATH[1]].lock(timeout=LONG_WAIT, lease=None).acquire()
    acquired.set()
    never = threading.Event()
    while True:
        never.wait(LONG_WAIT)


def wait_for_lock(options: dict[str, Any], waiting: Event, seen: Queue[Any]) -> None:
    """Say we are about to wait, wait for the lock, then report the value found under it."""
    with open_store(**options) as store:
        node = store[PATH[0]][PATH[1]]
        waiting.set()
        with node.lock(timeout=LONG_WAIT):
            seen.put(node.value)
