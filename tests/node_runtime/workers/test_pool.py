"""The worker pool on its own: real worker processes, no sockets to clients."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from node_runtime.loading import worker_init
from node_runtime.workers.pool import BusyError, Job, JobResult, WorkerPool
from tests.support import eventually, node_config, run


def _pool(tmp_path: Path, **options: Any) -> WorkerPool:
    init = worker_init(node_config(tmp_path))
    settings: dict[str, Any] = {"size": 1, "handler_timeout": 10.0, "max_queue": 100}
    settings.update(options)
    return WorkerPool(init=init, **settings)


async def _run(pool: WorkerPool, type_: str = "echo", params: Any = None) -> JobResult:
    done: asyncio.Future[JobResult] = asyncio.get_running_loop().create_future()
    payload = {"app": "trials", "msg": {"type": type_, "params": params}, "session": None}
    pool.submit(Job(payload, done.set_result))
    return await done


def test_recycle_after_n_messages(tmp_path: Path) -> None:
    """With recycle_after=2 a worker is replaced after its second message."""

    async def scenario() -> None:
        pool = _pool(tmp_path, recycle_after=2)
        await pool.start()
        try:
            pids = [(await _run(pool)).worker for _ in range(4)]
            assert pids[0] == pids[1]
            assert pids[2] == pids[3]
            assert pids[1] != pids[2]
        finally:
            await pool.close()

    run(scenario())


def test_idle_workers_stop(tmp_path: Path) -> None:
    """A worker idle past idle_timeout is stopped; the next job starts a new one."""

    async def scenario() -> None:
        events: list[tuple[str, dict[str, Any]]] = []
        pool = _pool(tmp_path, idle_timeout=0.2, listener=lambda k, d: events.append((k, d)))
        await pool.start()
        try:
            first = (await _run(pool)).worker
            stopped = asyncio.get_running_loop().create_future()

            def watch(kind: str, data: dict[str, Any]) -> None:
                events.append((kind, data))
                if kind == "worker_stopped" and not stopped.done():
                    stopped.set_result(data)

            pool.listener = watch
            assert (await asyncio.wait_for(stopped, 5))["reason"] == "idle"
            assert pool.workers == {}
            assert (await _run(pool)).worker != first
        finally:
            await pool.close()

    run(scenario())


def test_resize_and_stop_worker(tmp_path: Path) -> None:
    """Resizing a preforked pool changes its workers; stop_worker replaces one."""

    async def scenario() -> None:
        pool = _pool(tmp_path, size=1, prefork=True)
        await pool.start()
        try:
            assert len(pool.workers) == 1
            await pool.resize(3)
            assert len(pool.workers) == 3
            await pool.resize(1)
            await eventually(lambda: len(pool.workers) == 1, what="pool shrink")
            pid = next(iter(pool.workers))
            assert pool.stop_worker(pid)
            assert not pool.stop_worker(424242)
            result = await _run(pool)
            assert result.ok
            assert result.worker != pid
        finally:
            await pool.close()

    run(scenario())


def test_full_queue_raises_busy_and_close_answers_the_rest(tmp_path: Path) -> None:
    """Past max_queue submit raises BusyError; close() answers every queued job."""

    async def scenario() -> None:
        pool = _pool(tmp_path, max_queue=2)
        await pool.start()
        results: list[JobResult] = []
        payload = {
            "app": "trials",
            "msg": {"type": "slow", "params": {"seconds": 5}},
            "session": None,
        }
        pool.submit(Job(payload, results.append))
        pool.submit(Job(payload, results.append))
        with pytest.raises(BusyError) as refused:
            pool.submit(Job(payload, results.append))
        assert refused.value.code == "E_BUSY"
        await pool.close(grace=1.0)
        assert len(results) == 2
        assert all(not r.ok for r in results)

    run(scenario())


def test_job_lined_up_behind_a_dying_or_hung_job_runs_elsewhere(tmp_path: Path) -> None:
    """A job prefetched behind one that kills or hangs its worker still runs, exactly once."""

    async def scenario() -> None:
        pool = _pool(tmp_path, prefork=True, handler_timeout=0.5)
        await pool.start()
        try:
            loop = asyncio.get_running_loop()
            for first_type, code in (("die", "E_WORKER_DIED"), ("slow", "E_TIMEOUT")):
                first: asyncio.Future[JobResult] = loop.create_future()
                second: list[JobResult] = []
                params = {"seconds": 5}
                pool.submit(
                    Job(
                        {
                            "app": "trials",
                            "msg": {"type": first_type, "params": params},
                            "session": None,
                        },
                        first.set_result,
                    )
                )
                pool.submit(
                    Job(
                        {"app": "trials", "msg": {"type": "echo", "params": 1}, "session": None},
                        second.append,
                    )
                )
                assert pool.lined_up == 1
                assert (await first).code == code
                await eventually(lambda got=second: bool(got), what="second job")
                assert len(second) == 1
                assert second[0].ok
                assert pool.lined_up == 0
        finally:
            await pool.close()

    run(scenario())
