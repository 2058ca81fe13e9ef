"""One worker process as the master sees it, and the job it runs.

Owns the process, its channel, the handler timer and the translation of what the
worker sends (or its death) into exactly one ``JobResult`` per job. Queueing and
the pool's size are ``pool.py``'s business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from node_runtime.errors import NodeError
from node_runtime.protocol.codes import ErrorCode
from node_runtime.workers.ipc import FrameReader, pack
from node_runtime.workers.launch import module_command

if TYPE_CHECKING:
    from node_runtime.workers.pool import WorkerPool

log = logging.getLogger("qewd.pool")

START_TIMEOUT = 60.0
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(slots=True)
class JobResult:
    """The one outcome of a job."""

    ok: bool
    message_json: str | None = None
    code: str = ""
    text: str = ""
    queue_ms: float = 0.0
    handler_ms: float = 0.0
    worker: int | None = None


@dataclass(slots=True, eq=False)
class Job:
    """A message waiting for, or running on, a worker."""

    payload: dict[str, Any]
    on_done: Callable[[JobResult], None]
    on_message: Callable[[str, str | None], None] | None = None
    enqueued: float = field(default_factory=time.perf_counter)
    started: float = 0.0
    finished: bool = False

    def finish(self, result: JobResult) -> None:
        """Deliver the outcome once; later calls are ignored."""
        if self.finished:
            return
        self.finished = True
        self.on_done(result)

    def cancel(self) -> None:
        """Forget the job (its caller already answered, e.g. the deadline passed)."""
        self.finished = True


class _WorkerProtocol(asyncio.Protocol):
    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.reader = FrameReader(worker.on_frame)

    def data_received(self, data: bytes) -> None:
        try:
            self.reader.feed(data)
        except Exception:
            log.exception("bad frame from worker %s", self.worker.pid)
            self.worker.kill()

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker.on_lost()


class Worker:
    """The master's handle on one worker process."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        self.proc: asyncio.subprocess.Process | None = None
        self.transport: asyncio.Transport | None = None
        self.pid = 0
        self.state = "starting"  # starting, idle, busy, stopping, dead
        self.job: Job | None = None
        # A job already written to the worker's socket behind the running one. The
        # worker still runs one job at a time; it just finds the next one waiting
        # instead of idling until the master wakes up to send it.
        self.next_job: Job | None = None
        self.seq = 0
        self.handled = 0
        self.started_at = time.time()
        self.last_active = time.monotonic()
        self.timer: asyncio.TimerHandle | None = None
        self.ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.timed_out = False
        self.exit_reason = ""

    async def spawn(self, init: dict[str, Any]) -> None:
        """Start the process, hand it its settings and wait until it is ready."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        try:
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    *module_command("node_runtime.workers.worker_main", str(theirs.fileno())),
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                )
            finally:
                theirs.close()
            self.pid = self.proc.pid
            transport, _ = await loop.connect_accepted_socket(lambda: _WorkerProtocol(self), ours)
            self.transport = transport
            transport.write(pack(("init", init)))
            await asyncio.wait_for(asyncio.shield(self.ready), START_TIMEOUT)
        except BaseException:
            # Cancelled (the pool is closing) or failed: leave no process or socket behind.
            self.kill()
            if self.transport is None:
                ours.close()
            else:
                self.transport.close()
            raise

    def on_frame(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind in ("done", "fail"):
            self._finished(message)
        elif kind == "send":
            job = self.job
            if job is not None and message[1] == self.seq and job.on_message and not job.finished:
                job.on_message(message[2], message[3])
        elif kind == "ready":
            if not self.ready.done():
                self.ready.set_result(message[1])
        elif kind == "fatal":
            self.exit_reason = f"worker failed to start: {message[1]}"
            if not self.ready.done():
                self.ready.set_exception(NodeError(self.exit_reason, ErrorCode.WORKER_DIED))

    def _finished(self, message: tuple[Any, ...]) -> None:
        job = self.job
        if job is None or message[1] != self.seq:
            return
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.job = None
        self.handled += 1
        queue_ms = (job.started - job.enqueued) * 1000.0
        if message[0] == "done":
            result = JobResult(
                True, message[2], queue_ms=queue_ms, handler_ms=message[3], worker=self.pid
            )
        else:
            result = JobResult(
                False,
                code=message[2],
                text=message[3],
                queue_ms=queue_ms,
                handler_ms=message[4],
                worker=self.pid,
            )
            self.pool.errors += 1
        # Hand the worker its next job before delivering this result: the worker then
        # runs while the master encodes and sends the reply, instead of waiting for it.
        upcoming, self.next_job = self.next_job, None
        if upcoming is not None:
            # The worker sends a result before it reads the next job, so the prefetched
            # one starts now.
            self.seq += 1
            self.pool.lined_up -= 1
            self._begin(upcoming)
            self.pool.handled_total += 1
            self.pool.pump()
        else:
            self.pool.worker_free(self)
        job.finish(result)

    def run(self, job: Job) -> None:
        """Send a job to this (idle) worker."""
        assert self.transport is not None
        self.seq += 1
        self.state = "busy"
        self.transport.write(pack(("run", self.seq, job.payload)))
        self._begin(job)

    def prefetch(self, job: Job) -> None:
        """Queue a job in the busy worker's socket; it starts when the current one ends."""
        assert self.transport is not None
        assert self.next_job is None
        self.next_job = job
        self.transport.write(pack(("run", self.seq + 1, job.payload)))

    def _begin(self, job: Job) -> None:
        self.job = job
        job.started = time.perf_counter()
        timeout = self.pool.handler_timeout
        if timeout > 0:
            self.timer = asyncio.get_running_loop().call_later(timeout, self.on_timeout)

    def on_timeout(self) -> None:
        """The handler ran past handler_timeout: answer E_TIMEOUT, replace the worker."""
        self.timer = None
        job = self.job
        if job is None:
            return
        self.timed_out = True
        self.job = None
        job.finish(
            JobResult(
                False,
                code=ErrorCode.TIMEOUT,
                text=f"handler ran longer than {self.pool.handler_timeout:g} s",
                queue_ms=(job.started - job.enqueued) * 1000.0,
                handler_ms=self.pool.handler_timeout * 1000.0,
                worker=self.pid,
            )
        )
        self.exit_reason = "handler timeout"
        self.kill()

    def stop(self, reason: str) -> None:
        """Ask the worker to exit once idle (it never has two jobs)."""
        self.exit_reason = reason
        self.state = "stopping"
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(pack(("exit",)))

    def kill(self) -> None:
        """Kill the process now; ``on_lost`` follows."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)

    def close_channel(self) -> None:
        """Close the socket to the (exited) process."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def on_lost(self) -> None:
        """The channel closed: the process exited or died."""
        if self.state == "dead":
            return
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.state = "dead"
        upcoming, self.next_job = self.next_job, None
        if upcoming is not None:
            # Never started (its predecessor's result had not arrived): safe to rerun.
            self.pool.lined_up -= 1
            self.pool.requeue(upcoming)
        job, self.job = self.job, None
        if job is not None:
            job.finish(
                JobResult(
                    False,
                    code=ErrorCode.WORKER_DIED,
                    text="the worker process died while running the handler",
                    queue_ms=(job.started - job.enqueued) * 1000.0,
                    worker=self.pid,
                )
            )
            self.pool.errors += 1
        if not self.ready.done():
            self.ready.set_exception(
                NodeError(
                    self.exit_reason or "worker exited during start-up", ErrorCode.WORKER_DIED
                )
            )
        self.pool.worker_lost(self)

    def memory_bytes(self) -> int:
        """Resident memory of the process, from /proc (0 where unavailable)."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as handle:
                return int(handle.read().split()[1]) * PAGE_SIZE
        except (OSError, ValueError, IndexError):
            return 0

    def info(self) -> dict[str, Any]:
        """What the monitor shows of this worker."""
        return {
            "pid": self.pid,
            "state": self.state,
            "busy": self.state == "busy",
            "handled": self.handled,
            "started": self.started_at,
            "memory": self.memory_bytes(),
        }
