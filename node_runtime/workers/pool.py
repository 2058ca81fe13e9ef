"""The worker pool (ewd-qoper8's semantics, without its gaps): a bounded queue and N processes.

Owns how many workers run, which job goes to which idle worker, idle shutdown,
recycling after N jobs, resizing and draining. Each worker runs one job at a time.
Every submitted ``Job`` gets exactly one ``on_done``. It must not know about client
sockets or routing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from node_runtime.errors import NodeError
from node_runtime.protocol.codes import ErrorCode
from node_runtime.tasks import TaskSet
from node_runtime.workers.handle import Job, JobResult, Worker

log = logging.getLogger("qewd.pool")

__all__ = ["BusyError", "Job", "JobResult", "WorkerPool"]


class BusyError(NodeError):
    """The queue is full."""

    def __init__(self, text: str) -> None:
        super().__init__(text, ErrorCode.BUSY)


PoolListener = Callable[[str, dict[str, Any]], None]


class WorkerPool:
    """A pool of worker processes fed from one FIFO queue."""

    def __init__(
        self,
        *,
        init: dict[str, Any],
        size: int,
        handler_timeout: float,
        max_queue: int,
        idle_timeout: float = 0.0,
        recycle_after: int = 0,
        prefork: bool = False,
        listener: PoolListener | None = None,
    ) -> None:
        self.init = init
        self.size = size
        self.handler_timeout = handler_timeout
        self.max_queue = max_queue
        self.idle_timeout = idle_timeout
        self.recycle_after = recycle_after
        self.prefork = prefork
        self.listener = listener
        self.queue: deque[Job] = deque()
        self.workers: dict[int, Worker] = {}
        self._all: set[Worker] = set()  # every worker whose process was not reaped yet
        self.idle: list[Worker] = []
        self.starting = 0
        self.lined_up = 0  # jobs prefetched behind a running one: still waiting
        self.errors = 0
        self.handled_total = 0
        self.closed = False
        self._tasks = TaskSet("pool")
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._spawn_failures = 0

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the supervisor; with ``prefork``, start every worker and wait for them."""
        self._tasks.spawn(self._supervise(), "supervise")
        if self.prefork:
            await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    async def drain(self, timeout: float) -> bool:
        """Wait until nothing is queued or running; True if that happened within ``timeout``."""
        try:
            await asyncio.wait_for(self._quiet.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self, grace: float = 5.0) -> None:
        """Fail what is still queued, stop every worker (killing those that linger)."""
        self.closed = True
        while self.queue:
            self.queue.popleft().finish(
                JobResult(False, code=ErrorCode.TIMEOUT, text="the node is shutting down")
            )
        workers = list(self._all)
        for worker in workers:
            if worker.state == "busy":
                worker.kill()
            else:
                worker.stop("node shutting down")
        procs = [w.proc.wait() for w in workers if w.proc is not None]
        if procs:
            try:
                await asyncio.wait_for(asyncio.gather(*procs), grace)
            except TimeoutError:
                for worker in workers:
                    worker.kill()
                await asyncio.gather(*procs, return_exceptions=True)
        for worker in workers:
            worker.close_channel()
        await self._tasks.cancel_all()

    # -- dispatch -----------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Queue a job, or raise ``BusyError`` when the queue is full or the pool closed."""
        if self.closed:
            raise BusyError("the node is shutting down")
        if len(self.queue) + self.lined_up >= self.max_queue:
            raise BusyError(f"queue is full ({self.max_queue} messages waiting)")
        self.queue.append(job)
        self._quiet.clear()
        self.pump()

    def requeue(self, job: Job) -> None:
        """Put a job that never started back at the head of the queue."""
        if job.finished:
            return
        if self.closed:
            job.finish(JobResult(False, code=ErrorCode.TIMEOUT, text="the node is shutting down"))
            return
        self.queue.appendleft(job)

    def pump(self) -> None:
        """Dispatch what can be dispatched now."""
        queue = self.queue
        idle = self.idle
        while queue and idle:
            job = queue.popleft()
            if job.finished:
                continue
            idle.pop().run(job)
        if queue and not idle and not self.starting and len(self.workers) >= self.size:
            self._prefetch()
        # Start workers on demand (QEWD's default), one per waiting job up to the size.
        wanted = min(len(queue), self.size - len(self.workers) - self.starting)
        if wanted > 0 and not self.closed:
            for _ in range(wanted):
                self.starting += 1
                self._tasks.spawn(self._spawn(counted=True), "spawn")
        if not queue and not any(w.job is not None for w in self.workers.values()):
            self._quiet.set()

    async def _spawn(self, counted: bool = False) -> None:
        if not counted:
            self.starting += 1
        worker = Worker(self)
        self._all.add(worker)
        try:
            await worker.spawn(self.init)
        except Exception as exc:
            self.starting -= 1
            self._spawn_failures += 1
            worker.kill()
            text = worker.exit_reason or f"worker failed to start: {exc}"
            log.error("%s", text)
            # Never spin: a worker that cannot start fails the oldest waiting job.
            while self.queue:
                job = self.queue.popleft()
                if not job.finished:
                    job.finish(JobResult(False, code=ErrorCode.WORKER_DIED, text=text))
                    break
            self.pump()
            return
        self.starting -= 1
        self._spawn_failures = 0
        if self.closed:
            worker.stop("node shutting down")
            return
        self.workers[worker.pid] = worker
        worker.state = "idle"
        self.idle.append(worker)
        self._emit("worker_started", worker.info())
        self.pump()

    def worker_free(self, worker: Worker) -> None:
        """A worker finished its job: recycle it or give it the next one."""
        self.handled_total += 1
        worker.last_active = time.monotonic()
        if self.recycle_after and worker.handled >= self.recycle_after:
            self._retire(worker, "recycled")
        elif worker.state == "busy":
            if len(self.workers) > self.size:
                self._retire(worker, "pool resized")
            else:
                worker.state = "idle"
                self.idle.append(worker)
        self.pump()

    def worker_lost(self, worker: Worker) -> None:
        """A worker's process ended, expectedly or not."""
        self.workers.pop(worker.pid, None)
        if worker in self.idle:
            self.idle.remove(worker)
        reason = worker.exit_reason or "died"
        if reason == "died":
            log.warning("worker %s died", worker.pid)
        self._emit("worker_stopped", {"pid": worker.pid, "reason": reason})
        self._tasks.spawn(self._reap(worker), f"reap-{worker.pid}")
        if self.prefork and not self.closed and len(self.workers) + self.starting < self.size:
            self.starting += 1
            self._tasks.spawn(self._spawn(counted=True), "respawn")
        self.pump()

    def _prefetch(self) -> None:
        """Every worker busy and work waiting: line up one job behind each running one."""
        queue = self.queue
        for worker in self.workers.values():
            if not queue:
                return
            if (
                worker.state != "busy"
                or worker.next_job is not None
                or (self.recycle_after and worker.handled + 1 >= self.recycle_after)
            ):
                continue
            job = queue.popleft()
            while job.finished and queue:
                job = queue.popleft()
            if job.finished:
                return
            self.lined_up += 1
            worker.prefetch(job)

    async def _reap(self, worker: Worker) -> None:
        if worker.proc is not None:
            await worker.proc.wait()
        worker.close_channel()
        self._all.discard(worker)

    def _retire(self, worker: Worker, reason: str) -> None:
        if worker in self.idle:
            self.idle.remove(worker)
        worker.stop(reason)

    # -- admin --------------------------------------------------------------------------

    async def resize(self, size: int) -> None:
        """Change the pool size; extra idle workers stop now, busy ones when they finish."""
        if size < 1:
            raise NodeError("pool size must be at least 1", ErrorCode.BAD_MESSAGE)
        self.size = size
        surplus = len(self.workers) - size
        for worker in list(self.idle):
            if surplus <= 0:
                break
            self._retire(worker, "pool resized")
            surplus -= 1
        if self.prefork:
            missing = size - len(self.workers) - self.starting
            await asyncio.gather(*(self._spawn() for _ in range(max(missing, 0))))
        self.pump()

    def stop_worker(self, pid: int) -> bool:
        """Stop one worker: at once when idle, after its job when busy. False if unknown."""
        worker = self.workers.get(pid)
        if worker is None:
            return False
        self._retire(worker, "stopped by admin")
        return True

    # -- supervision --------------------------------------------------------------------

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.idle_timeout > 0:
                now = time.monotonic()
                for worker in list(self.idle):
                    if now - worker.last_active > self.idle_timeout:
                        self._retire(worker, "idle")

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        if self.listener is not None:
            self.listener(kind, data)

    def stats(self) -> dict[str, Any]:
        """Queue length and each worker's state, for the monitor and /metrics."""
        workers = [w.info() for w in self.workers.values()]
        return {
            "size": self.size,
            "queue": len(self.queue) + self.lined_up,
            "busy": sum(1 for w in workers if w["busy"]),
            "workers": workers,
            "handled": self.handled_total,
            "errors": self.errors,
        }
