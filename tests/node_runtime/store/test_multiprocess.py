"""The store shared by real OS processes (spawned, as a node's workers are), per backend."""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable, Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest

from node_runtime.store import DocumentStore, LockTimeout, open_store
from tests.node_runtime.store import processes
from tests.node_runtime.store.conftest import scaled

CONTEXT = multiprocessing.get_context("spawn")

Spawn = Callable[..., BaseProcess]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start a spawned process running a function of ``processes``; kill leftovers after."""
    started: list[BaseProcess] = []

    def start(target: Callable[..., None], *args: Any) -> BaseProcess:
        process = CONTEXT.Process(target=target, args=args, name=f"store-{target.__name__}")
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.is_alive():
            process.kill()
        process.join(scaled(30))
        process.close()


def join_all(workers: list[BaseProcess]) -> None:
    """Wait for every worker and require that each exited cleanly."""
    for worker in workers:
        worker.join(scaled(90))
        assert worker.exitcode == 0, f"{worker.name} exited with {worker.exitcode}"


def shared_node(store: DocumentStore) -> Any:
    """The node every worker function uses."""
    return store[processes.PATH[0]][processes.PATH[1]]


def test_increments_from_four_processes_add_up_exactly(
    store: DocumentStore, store_options: dict[str, Any], spawn: Spawn
) -> None:
    """4 processes x 500 increments of one node, started together, give exactly 2000."""
    start = CONTEXT.Barrier(4)
    workers = [spawn(processes.increment_many, store_options, start, 500) for _ in range(4)]
    join_all(workers)
    assert shared_node(store).value == 2000


def test_processes_opening_a_new_sqlite_file_at_once_all_succeed(
    tmp_path: Path, spawn: Spawn
) -> None:
    """Six processes creating the same new store file together all open it and write."""
    options: dict[str, Any] = {
        "backend": "sqlite",
        "path": str(tmp_path / "fresh" / "store.sqlite"),
    }
    start = CONTEXT.Barrier(6)
    workers = [spawn(processes.open_together_and_increment, options, start, 20) for _ in range(6)]
    join_all(workers)
    with open_store(**options) as store:
        assert shared_node(store).value == 120


def test_lock_makes_read_modify_write_exclusive_across_processes(
    store: DocumentStore, store_options: dict[str, Any], spawn: Spawn
) -> None:
    """4 processes doing an unatomic read-add-write under the node's lock lose no update."""
    start = CONTEXT.Barrier(4)
    workers = [spawn(processes.add_under_lock, store_options, start, 100) for _ in range(4)]
    join_all(workers)
    assert shared_node(store).value == 400


def test_lock_held_by_one_process_blocks_another_until_released(
    store: DocumentStore, store_options: dict[str, Any], spawn: Spawn
) -> None:
    """A waiter in another process gets the lock only after the holder wrote and released."""
    acquired, release, waiting = CONTEXT.Event(), CONTEXT.Event(), CONTEXT.Event()
    seen: Any = CONTEXT.Queue()
    holder = spawn(processes.hold_lock_until, store_options, acquired, release)
    assert acquired.wait(scaled(60))
    waiter = spawn(processes.wait_for_lock, store_options, waiting, seen)
    assert waiting.wait(scaled(60))
    with pytest.raises(queue.Empty):
        seen.get(timeout=0.3)  # still blocked: nothing to report while the holder holds
    release.set()
    assert seen.get(timeout=scaled(30)) == "written by the first holder"
    join_all([holder, waiter])


def test_lock_held_elsewhere_raises_lock_timeout_after_the_timeout(
    store: DocumentStore, store_options: dict[str, Any], spawn: Spawn
) -> None:
    """While another process holds the lock, acquire(timeout) raises LockTimeout, not sooner."""
    acquired, release = CONTEXT.Event(), CONTEXT.Event()
    holder = spawn(processes.hold_lock_until, store_options, acquired, release)
    assert acquired.wait(scaled(60))
    began = time.monotonic()
    with pytest.raises(LockTimeout):
        shared_node(store).lock(timeout=0.25).acquire()
    assert time.monotonic() - began >= 0.25
    release.set()
    join_all([holder])
    shared_node(store).lock(timeout=0).acquire().release()


def test_lock_of_a_killed_holder_is_reclaimed(
    store: DocumentStore, store_options: dict[str, Any], spawn: Spawn
) -> None:
    """A lock (without lease) whose holder was SIGKILLed is taken over by the next contender."""
    acquired = CONTEXT.Event()
    holder = spawn(processes.hold_lock_forever, store_options, acquired)
    assert acquired.wait(scaled(60))
    with pytest.raises(LockTimeout):
        shared_node(store).lock(timeout=0).acquire()
    holder.kill()
    holder.join(scaled(30))
    reclaimed = shared_node(store).lock(timeout=scaled(5)).acquire()
    reclaimed.release()
