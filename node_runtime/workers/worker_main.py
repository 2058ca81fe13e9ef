"""The worker process: receives one job at a time from the master and runs its handler.

Started by ``WorkerPool`` as ``python -m node_runtime.workers.worker_main FD``. It owns
the handler call, the session token refresh and the JSON encoding of the result (so the
master's single core does less). It must never run two jobs at once, and never exit
on a handler's exception: only an exit message, a closed channel or death ends it.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import socket
import sys
import time
import traceback
from types import ModuleType
from typing import Any

from node_runtime.errors import HandlerError
from node_runtime.protocol.codes import ErrorCode
from node_runtime.protocol.tokens import Session, TokenService, TokenSettings
from node_runtime.workers.context import HandlerContext, StoreHolder
from node_runtime.workers.ipc import BlockingChannel

log = logging.getLogger("qewd.worker")


def normalise_result(result: Any) -> dict[str, Any]:
    """Shape a handler's return value into a reply ``message`` object (QEWD wraps lists)."""
    if result is None:
        return {}
    if isinstance(result, dict):
        return result
    if isinstance(result, list | tuple):
        return {"results": list(result)}
    return {"result": result}


class WorkerRuntime:
    """The state a worker keeps between jobs: apps, store, token service."""

    def __init__(self, channel: BlockingChannel, init: dict[str, Any]) -> None:
        self.channel = channel
        self.node: str = init["node"]
        self.pid = os.getpid()
        for entry in init.get("sys_path", []):
            if entry not in sys.path:
                sys.path.append(entry)  # after installed packages, as in the master
        self.apps: dict[str, ModuleType] = {
            name: importlib.import_module(module) for name, module in init["apps"].items()
        }
        self.stores = StoreHolder(init["store"])
        self.tokens = TokenService(TokenSettings(**init["tokens"]))
        self.max_bytes: int = init.get("max_message_bytes", 1 << 20)

    def start_hooks(self) -> None:
        """Run each application's ``on_worker_start(ctx)`` hook."""
        for module in self.apps.values():
            hook = getattr(module, "on_worker_start", None)
            if callable(hook):
                hook(self._context(Session(), 0, {}))

    def _context(self, session: Session, seq: int, request: dict[str, Any]) -> HandlerContext:
        def send(message: Any, type_: str | None) -> None:
            self.channel.send(("send", seq, json.dumps(message, default=str), type_))

        return HandlerContext(
            node=self.node,
            session=session,
            stores=self.stores,
            send=send,
            worker_pid=self.pid,
            request=request,
        )

    def run(self, seq: int, job: dict[str, Any]) -> None:
        """Run one job and send exactly one final message for it."""
        started = time.perf_counter()
        try:
            text = self._run_handler(seq, job)
        except HandlerError as exc:
            self.channel.send(("fail", seq, exc.code, exc.text, _ms(started)))
            return
        except Exception as exc:
            log.warning(
                "handler %s/%s failed:\n%s", job.get("app"), job.get("type"), traceback.format_exc()
            )
            self.channel.send(
                ("fail", seq, ErrorCode.HANDLER, f"{type(exc).__name__}: {exc}", _ms(started))
            )
            return
        if len(text) > self.max_bytes:
            self.channel.send(
                (
                    "fail",
                    seq,
                    ErrorCode.TOO_LARGE,
                    f"reply of {len(text)} bytes exceeds {self.max_bytes}",
                    _ms(started),
                )
            )
            return
        self.channel.send(("done", seq, text, _ms(started)))

    def _run_handler(self, seq: int, job: dict[str, Any]) -> str:
        app = job["app"]
        module = self.apps.get(app)
        if module is None:
            raise HandlerError(
                f"application {app!r} is not loaded on {self.node}", ErrorCode.NO_APP
            )
        msg: dict[str, Any] = job["msg"]
        if job.get("rest"):
            table = getattr(module, "rest", {})
            handler = table.get(job["rest"])
        else:
            handler = getattr(module, "handlers", {}).get(msg["type"])
        if handler is None:
            raise HandlerError(
                f"application {app!r} has no handler for {msg.get('type')!r}", ErrorCode.NO_HANDLER
            )
        wire = job.get("session")
        session = Session.from_wire(wire) if wire is not None else Session()
        ctx = self._context(session, seq, msg)
        before = getattr(module, "before_handler", None)
        if callable(before) and before(msg, ctx) is False:
            raise HandlerError("refused by the application's before_handler", ErrorCode.FORBIDDEN)
        message = normalise_result(handler(msg, ctx))
        if wire is not None:
            message["token"] = self.tokens.refresh(session, time.time())
        try:
            return json.dumps(message, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise HandlerError(
                f"handler returned a value that is not JSON: {exc}", ErrorCode.HANDLER
            ) from exc


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def main(argv: list[str] | None = None) -> int:
    """Entry point of a worker process."""
    args = sys.argv[1:] if argv is None else argv
    # The master owns shutdown: a Ctrl-C or SIGTERM sent to the whole process group
    # must not kill a handler half way; the master drains, then tells us to exit.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s worker[{os.getpid()}] %(message)s")
    channel = BlockingChannel(socket.socket(fileno=int(args[0])))
    first = channel.recv()
    if first is None or first[0] != "init":
        return 2
    try:
        runtime = WorkerRuntime(channel, first[1])
        runtime.start_hooks()
    except Exception as exc:
        channel.send(("fatal", f"{type(exc).__name__}: {exc}"))
        return 1
    channel.send(("ready", runtime.pid))
    while True:
        message = channel.recv()
        if message is None or message[0] == "exit":
            break
        if message[0] == "run":
            runtime.run(message[1], message[2])
        elif message[0] == "ping":
            channel.send(("pong", message[1]))
    runtime.stores.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
