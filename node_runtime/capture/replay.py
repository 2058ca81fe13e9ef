"""Replaying a capture against any node (library API and ``qewd-node replay``).

Owns re-sending captured requests over ``/ws`` in ``sync``, ``timed`` or ``burst``
mode, getting tokens (minted from the mesh secret, given, or by ``ewd-register``),
and comparing each new reply with the captured one while ignoring tokens and timings.
It must not change captures nor talk to ``/monitor``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from node_runtime.capture.format import Capture
from node_runtime.capture.recorder import endpoint_url
from node_runtime.errors import NodeError
from node_runtime.protocol.tokens import TokenService, TokenSettings
from node_runtime.stats import percentile
from node_runtime.tasks import TaskSet

MODES = ("sync", "timed", "burst")
IGNORED_KEYS = frozenset({"token", "ms", "time", "trace"})
MAX_DIFF_LINES = 5


@dataclass
class Mismatch:
    """One reply that differs from the captured one."""

    index: int
    type: str
    diff: list[str]


@dataclass
class ReplayReport:
    """Counts, mismatches and round-trip times of one replay."""

    sent: int = 0
    ok: int = 0
    errors: int = 0
    compared: bool = False
    mismatches: list[Mismatch] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def latency(self, q: float) -> float:
        """Round-trip time quantile in ms."""
        return round(percentile(sorted(self.latencies_ms), q), 3)

    def summary(self) -> str:
        """The lines ``qewd-node replay`` prints."""
        lines = [
            f"sent {self.sent}, ok {self.ok}, errors {self.errors}, mismatches "
            f"{len(self.mismatches) if self.compared else '-'}, latency p50 "
            f"{self.latency(0.5)} ms p99 {self.latency(0.99)} ms"
        ]
        for mismatch in self.mismatches:
            lines.append(f"  #{mismatch.index} {mismatch.type}:")
            lines += [f"    {line}" for line in mismatch.diff]
        return "\n".join(lines)


def normalise(value: Any, ignore: Iterable[str] = IGNORED_KEYS) -> Any:
    """``value`` without the keys that legitimately differ between runs."""
    skip = frozenset(ignore)
    if isinstance(value, dict):
        return {k: normalise(v, skip) for k, v in value.items() if k not in skip}
    if isinstance(value, list):
        return [normalise(v, skip) for v in value]
    return value


def differences(old: Any, new: Any, path: str = "message") -> list[str]:
    """Where two JSON values differ, one short line each."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            where = f"{path}.{key}"
            if key not in new:
                lines.append(f"{where}: missing now (was {_short(old[key])})")
            elif key not in old:
                lines.append(f"{where}: new ({_short(new[key])})")
            else:
                lines += differences(old[key], new[key], where)
        return lines
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            line
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for line in differences(a, b, f"{path}[{i}]")
        ]
    return [] if old == new else [f"{path}: {_short(old)} -> {_short(new)}"]


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Connection:
    """One /ws connection with replies matched to requests by id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}

    async def read(self) -> None:
        try:
            async for data in self.ws:
                frame = json.loads(data)
                if frame.get("finished") is False:
                    continue
                future = self.waiting.pop(frame.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(frame)
        except ConnectionClosed:
            pass
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(NodeError("the connection closed", "E_PEER_DOWN"))

    async def call(self, frame: dict[str, Any], timeout: float) -> dict[str, Any]:
        request_id = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = future
        await self.ws.send(json.dumps({**frame, "id": request_id}))
        return await asyncio.wait_for(future, timeout)


async def replay(
    capture: Capture,
    target: str,
    *,
    secret: str | None = None,
    token: str | None = None,
    mode: str = "sync",
    speed: float = 1.0,
    compare: bool = False,
    ignore: Iterable[str] = IGNORED_KEYS,
    timeout: float = 30.0,
) -> ReplayReport:
    """Re-send every captured request to ``target``; compare replies when asked."""
    if mode not in MODES:
        raise NodeError(f"mode must be one of {', '.join(MODES)}", "E_USAGE")
    if speed <= 0:
        raise NodeError("speed must be positive", "E_USAGE")
    service = TokenService(TokenSettings(secret=secret)) if secret else None
    tokens: dict[str, str] = {}
    chained: dict[tuple[str, str], str] = {}
    report = ReplayReport(compared=compare)
    ignored = frozenset(ignore)
    async with connect(endpoint_url(target, "/ws"), max_size=None) as ws:
        conn = _Connection(ws)
        tasks = TaskSet("replay")
        tasks.spawn(conn.read(), "reader")

        async def token_for(app: str, session: str) -> str:
            # Requests of one captured session are replayed as one session: each
            # reply's refreshed token (with what its handler stored in the session,
            # e.g. a login) is used for the session's next request.
            if session and (app, session) in chained:
                return chained[app, session]
            if token:
                return token
            if app not in tokens:
                if service is not None:
                    tokens[app] = service.issue_session(app, time.time())
                else:
                    reply = await conn.call({"type": "ewd-register", "application": app}, timeout)
                    tokens[app] = str(reply.get("message", {}).get("token", ""))
            return tokens[app]

        async def one(index: int, entry: dict[str, Any]) -> None:
            request = entry["request"]
            app = str(request.get("application") or "")
            session = str(entry.get("session") or "")
            frame = {
                "type": request["type"],
                "params": request.get("params"),
                "token": await token_for(app, session),
            }
            started = time.perf_counter()
            report.sent += 1
            try:
                reply = await conn.call(frame, timeout)
            except (NodeError, TimeoutError) as exc:
                report.errors += 1
                if compare:
                    report.mismatches.append(
                        Mismatch(index, str(request["type"]), [f"no reply: {exc}"])
                    )
                return
            report.latencies_ms.append((time.perf_counter() - started) * 1000.0)
            message = reply.get("message")
            failed = isinstance(message, dict) and "error" in message
            if session and isinstance(message, dict) and isinstance(message.get("token"), str):
                chained[app, session] = message["token"]
            report.errors += failed
            report.ok += not failed
            if compare:
                lines = differences(
                    normalise(entry.get("message"), ignored), normalise(message, ignored)
                )
                if lines:
                    report.mismatches.append(
                        Mismatch(index, str(request["type"]), lines[:MAX_DIFF_LINES])
                    )

        try:
            entries = list(enumerate(capture.entries, start=1))
            if mode == "sync":
                for index, entry in entries:
                    await one(index, entry)
            else:
                loop = asyncio.get_running_loop()
                start = loop.time()
                pending = []
                for index, entry in entries:
                    if mode == "timed":
                        delay = start + float(entry.get("t", 0.0)) / speed - loop.time()
                        if delay > 0:
                            await asyncio.sleep(delay)
                    pending.append(tasks.spawn(one(index, entry), f"send-{index}"))
                await asyncio.gather(*pending)
        finally:
            await ws.close()
            await tasks.cancel_all()
    report.mismatches.sort(key=lambda m: m.index)
    return report
