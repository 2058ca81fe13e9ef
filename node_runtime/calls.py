"""The life of one request at this node, from frame in to its one final reply out.

A ``Call`` owns the exactly-once rule: whatever finishes first (the worker, a peer's
reply, a dead link, the deadline) sends the final frame and every later outcome is
dropped. It also measures this node's trace hop. It must not decide routing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from node_runtime.protocol import trace as tracing
from node_runtime.protocol.codes import ErrorCode
from node_runtime.protocol.messages import MessageId, Request, error_message

_dumps = json.dumps


def frame_text(
    type_: str,
    id_: MessageId,
    message_json: str,
    *,
    finished: bool = True,
    ms: float | None = None,
    hops: list[dict[str, Any]] | None = None,
) -> str:
    """Assemble a reply frame around a message already encoded as JSON (no re-encoding)."""
    parts = ['{"type":', _dumps(type_)]
    if id_ is not None:
        parts += [',"id":', _dumps(id_)]
    parts += [',"finished":', "true" if finished else "false", ',"message":', message_json]
    if ms is not None:
        parts += [',"ms":', f"{ms:.3f}"]
    if hops is not None:
        parts += [',"trace":', _dumps(hops, separators=(",", ":"))]
    parts.append("}")
    return "".join(parts)


MAX_KEPT_INTERMEDIATES = 100

FlowSink = Callable[["Call", bool, str, str], None]


class Call:
    """One request in flight at this node."""

    __slots__ = (
        "app",
        "cancel_hook",
        "code",
        "deadline",
        "destination",
        "done",
        "handler_ms",
        "id",
        "kept",
        "next_hops",
        "next_ms",
        "node",
        "ok",
        "on_finish",
        "peer_label",
        "queue_ms",
        "request",
        "request_bytes",
        "send",
        "session_id",
        "started",
        "timer",
        "total_ms",
        "trace",
        "type",
        "worker",
    )

    def __init__(
        self,
        *,
        send: Callable[[str], None],
        node: str,
        type_: str,
        id_: MessageId,
        app: str,
        trace: bool,
        deadline: float,
        peer_label: str,
        request_bytes: int,
        on_finish: FlowSink,
    ) -> None:
        self.send = send
        self.node = node
        self.type = type_
        self.id = id_
        self.app = app
        self.trace = trace
        self.started = time.perf_counter()
        self.deadline = deadline  # seconds from ``started``
        self.peer_label = peer_label
        self.request_bytes = request_bytes
        self.on_finish = on_finish
        self.done = False
        self.ok = False  # ok, code and total_ms are set when the call finishes
        self.code = ""
        self.total_ms = 0.0
        self.destination = ""  # "" = run locally, else the destination's name
        self.queue_ms = 0.0
        self.handler_ms = 0.0
        self.next_ms = 0.0
        self.next_hops: list[dict[str, Any]] | None = None
        self.worker: int | None = None
        self.cancel_hook: Callable[[], None] | None = None
        self.kept: list[str] | None = None  # intermediates (JSON) kept for the monitor
        self.session_id = ""  # the token's sid: lets a replay follow one session
        self.request: Request | None = None  # kept for the monitor's payloads
        self.timer: asyncio.TimerHandle | None = None

    def arm(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the deadline timer."""
        self.timer = loop.call_later(self.deadline, self._expired)

    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return self.deadline - (time.perf_counter() - self.started)

    def _expired(self) -> None:
        self.timer = None
        if self.done:
            return
        hook = self.cancel_hook
        if hook is not None:
            hook()
        self.fail(ErrorCode.TIMEOUT, f"no reply within the deadline of {self.deadline:g} s")

    def intermediate(self, message_json: str, type_: str | None) -> None:
        """Relay an intermediate message (``finished: false``) while the call is open."""
        if not self.done:
            self.send(frame_text(type_ or self.type, self.id, message_json, finished=False))
            kept = self.kept
            if kept is not None and len(kept) < MAX_KEPT_INTERMEDIATES:
                kept.append(message_json)

    def elapsed_ms(self) -> float:
        """Milliseconds since the request arrived."""
        return (time.perf_counter() - self.started) * 1000.0

    def hop_list(self, total_ms: float) -> list[dict[str, Any]]:
        """This node's hop followed by the hops reported by the next node, with transit."""
        own = tracing.hop(
            self.node,
            total_ms=total_ms,
            queue_ms=self.queue_ms,
            handler_ms=self.handler_ms,
            next_ms=self.next_ms,
            worker=self.worker,
        )
        return tracing.with_transit([own, *(self.next_hops or [])])

    def succeed(self, message_json: str) -> None:
        """Send the final result (already JSON) once."""
        self._final(message_json, ok=True, code="")

    def fail(self, code: str, text: str, **extra: Any) -> None:
        """Send a final error once."""
        self._final(_dumps(error_message(code, text, **extra)), ok=False, code=code)

    def _final(self, message_json: str, *, ok: bool, code: str) -> None:
        if self.done:
            return
        self.done = True
        # The hook (a worker job's or a link's) refers back to this call: dropping it
        # breaks the cycle, so a finished call is freed at once, not by the cyclic GC.
        self.cancel_hook = None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        total = self.total_ms = self.elapsed_ms()
        self.ok = ok
        self.code = code
        hops = self.hop_list(total) if self.trace else None
        self.send(frame_text(self.type, self.id, message_json, ms=total, hops=hops))
        self.on_finish(self, ok, code, message_json)
