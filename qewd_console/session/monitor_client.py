"""A client of one node's ``/monitor`` feed (docs/monitor.md): connect, read, send ops.

Owns the socket, reconnection with backoff, and matching op replies to requests by id.
It hands every non-reply frame to ``on_frame`` and every state change to ``on_state``;
it must not interpret frames (that is ``NodeMirror``'s job) or know about Qt.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

from node_runtime.errors import NodeError

OP_TIMEOUT = 10.0
PROBE_TIMEOUT = 10.0
# Flow events asked of each node a second. The views sample (a table of recent rows,
# a few dots a link a frame); totals and latencies come from stats, never from flows.
# 500 a node made flow decoding the console's largest steady cost at mesh rates of
# thousands a second (bench/bench_console.py). Batched: one frame a node per 20 ms
# flush instead of one a flow, so the per-frame cost is paid ~50 times a second.
FLOW_RATE = 200
SUBSCRIPTION: Mapping[str, Any] = MappingProxyType({"max_rate": FLOW_RATE, "batch": True})


class MonitorError(NodeError):
    """An op the node refused or that could not be sent; ``code`` is the node's code."""

    def __init__(self, text: str, code: str, reply: dict[str, Any] | None = None) -> None:
        super().__init__(text, code)
        self.reply: dict[str, Any] = reply or {}


def monitor_url(url: str) -> str:
    """``ws://host:port[/ws]`` -> ``ws://host:port/monitor``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme or "ws", parts.netloc, "/monitor", "", ""))


def check_url(url: str) -> str:
    """Refuse what cannot be a node's WebSocket URL; returns a reason, or "" if fine."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("ws", "wss"):
        return "the URL must start with ws:// or wss://"
    if not parts.hostname:
        return "the URL has no host"
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "the URL's port is not a number in 0..65535"
    return ""


async def probe(url: str, token: str, timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """Open ``/monitor`` once and return the snapshot; raise ``MonitorError`` saying why not.

    Codes: ``E_USAGE`` (bad URL), ``E_AUTH`` (HTTP 401/403), ``E_PEER_DOWN`` (refused,
    unreachable, closed), ``E_TIMEOUT``.
    """
    reason = check_url(url)
    if reason:
        raise MonitorError(f"bad URL {url!r}: {reason}", "E_USAGE")
    try:
        async with asyncio.timeout(timeout):
            async with connect(
                monitor_url(url.strip()),
                max_size=None,
                additional_headers={"Authorization": f"Bearer {token}"},
            ) as ws:
                while True:
                    frame = json.loads(await ws.recv())
                    if isinstance(frame, dict) and frame.get("kind") == "snapshot":
                        return frame
    except InvalidStatus as exc:
        status = exc.response.status_code
        body = exc.response.body.decode(errors="replace").strip() if exc.response.body else ""
        code = "E_AUTH" if status in (401, 403) else "E_PEER_DOWN"
        raise MonitorError(f"refused: HTTP {status} {body}".strip(), code) from exc
    except InvalidURI as exc:
        raise MonitorError(f"bad URL {url!r}: {exc}", "E_USAGE") from exc
    except TimeoutError as exc:
        raise MonitorError(f"no snapshot from {url} within {timeout:g} s", "E_TIMEOUT") from exc
    except (OSError, WebSocketException, ValueError) as exc:
        if isinstance(exc, ConnectionRefusedError):
            text = "connection refused (is a node listening there?)"
        else:
            text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MonitorError(
            f"cannot reach {url}: {text or type(exc).__name__}", "E_PEER_DOWN"
        ) from exc


class MonitorClient:
    """Keeps one monitor connection alive until ``close``."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        on_frame: Callable[[dict[str, Any]], None],
        on_state: Callable[[str, str], None],
        subscription: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.on_frame = on_frame
        self.on_state = on_state
        self.subscription: dict[str, Any] = dict(subscription or SUBSCRIPTION)
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._closed = False

    async def run(self) -> None:
        """Connect, subscribe and read until closed; reconnect after failures."""
        failures = 0
        while not self._closed:
            self.on_state("connecting", "")
            try:
                async with connect(
                    monitor_url(self.url),
                    max_size=None,
                    open_timeout=10,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                ) as ws:
                    self._ws = ws
                    failures = 0
                    await ws.send(json.dumps({"op": "subscribe", "id": 0, **self.subscription}))
                    async for data in ws:
                        self._receive(data)
                reason = "closed by node"
            except InvalidStatus as exc:
                reason = f"refused: HTTP {exc.response.status_code}"
            except (OSError, WebSocketException, TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
            finally:
                self._ws = None
                self._fail_pending()
            if self.closed:
                break
            self.on_state("down", reason)
            failures += 1
            await asyncio.sleep(min(5.0, 0.25 * 2**failures))

    def _receive(self, data: str | bytes) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            return
        if not isinstance(frame, dict):
            return
        if frame.get("kind") == "reply":
            future = self._pending.pop(frame.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(frame)
            elif frame.get("id") == 0 and not frame.get("ok", True):
                self.on_frame(frame)  # the subscribe was refused: surface it
            return
        self.on_frame(frame)

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(MonitorError("connection lost", code="E_PEER_DOWN"))
        self._pending.clear()

    async def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send an op and return its ``ok`` reply; raise ``MonitorError`` otherwise."""
        ws = self._ws
        if ws is None:
            raise MonitorError(f"not connected to {self.url}", code="E_PEER_DOWN")
        op_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[op_id] = future
        await ws.send(json.dumps({"op": op, "id": op_id, **fields}))
        try:
            reply = await asyncio.wait_for(future, OP_TIMEOUT)
        finally:
            self._pending.pop(op_id, None)
        if not reply.get("ok"):
            raise MonitorError(
                str(reply.get("error", "refused")),
                code=str(reply.get("code", "E_UNKNOWN")),
                reply=reply,
            )
        return reply

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        self._closed = True
        if self._ws is not None:
            await self._ws.close()
