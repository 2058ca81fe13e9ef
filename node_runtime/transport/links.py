"""Persistent, JWT-authenticated WebSocket links from this node to other nodes.

A ``PeerLink`` owns one connection to one URL: opening it at start-up with
``Authorization: Bearer <node JWT>``, keepalive pings and RTT, reconnecting with capped
exponential backoff and jitter, and correlating replies to requests by a link-local
``id`` (never by type). When the connection drops, every request in flight on it is
failed at once. It does not decide what to send where.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import ssl
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from node_runtime.errors import RemoteError
from node_runtime.protocol.codes import ErrorCode
from node_runtime.tasks import TaskSet
from node_runtime.transport.connection import Identity, Peer

log = logging.getLogger("qewd.links")

ReplyHandler = Callable[[dict[str, Any]], None]


class PeerDown(RemoteError):  # noqa: N818 - named for what it reports, like ConnectionClosed
    """The link to a destination is not up."""

    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"link to {url} is down: {why}", ErrorCode.PEER_DOWN)
        self.url = url


class PeerLink:
    """One persistent link to one node URL."""

    def __init__(
        self,
        url: str,
        *,
        token_factory: Callable[[], str],
        on_change: Callable[[PeerLink], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_size: int = 1 << 20,
        ping_interval: float = 2.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
    ) -> None:
        self.url = url
        self._token_factory = token_factory
        self._on_change = on_change
        self._ssl = ssl_context
        self._max_size = max_size
        self._ping_interval = ping_interval
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self.state = "connecting"
        self.last_error = ""
        self.reconnects = 0
        self.connected_since = 0.0
        self.sent = 0
        self._ws: ClientConnection | None = None
        self._writer: Peer | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, ReplyHandler] = {}
        self._tasks = TaskSet(f"link:{url}")
        self._stopping = False
        self._up = asyncio.Event()
        self._rtt: float | None = None
        self._retired = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._retry = asyncio.Event()

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start connecting in the background; the node does not wait for the peer."""
        self._tasks.spawn(self._run(), "run")

    async def wait_up(self, timeout: float) -> bool:
        """Wait until the link is up (for tests and start-up reporting)."""
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Close the link for good; requests in flight get E_PEER_DOWN."""
        self._stopping = True
        if self._ws is not None:
            await self._ws.close(1001, "node shutting down")
        await self._tasks.cancel_all()
        self._fail_pending("link closed")

    def closing(self) -> bool:
        """True once ``close`` was called."""
        return self._stopping

    @property
    def rtt_ms(self) -> float | None:
        """Last measured round-trip time of a keepalive ping, in ms."""
        if self._ws is None or self.state != "up" or self._rtt is None:
            return None
        return round(self._rtt * 1000.0, 3)

    @property
    def in_flight(self) -> int:
        """Requests sent on this link and not yet answered."""
        return len(self._pending)

    def info(self) -> dict[str, Any]:
        """What the monitor shows of this link."""
        return {
            "url": self.url,
            "state": self.state,
            "rtt_ms": self.rtt_ms,
            "reconnects": self.reconnects,
            "in_flight": self.in_flight,
            "sent": self.sent,
            "error": self.last_error,
        }

    def _set_state(self, state: str, error: str = "") -> None:
        changed = state != self.state or error != self.last_error
        self.state = state
        self.last_error = error
        if state == "up":
            self._up.set()
        else:
            self._up.clear()
        if changed and self._on_change is not None:
            self._on_change(self)

    async def _run(self) -> None:
        delay = self._backoff_initial
        while not self._stopping:
            try:
                ws = await connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {self._token_factory()}"},
                    ssl=self._ssl,
                    max_size=self._max_size,
                    compression=None,
                    ping_interval=None,  # _keepalive pings, and measures RTT as it goes
                    ping_timeout=None,
                    open_timeout=10,
                    user_agent_header=None,
                )
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                why = (
                    f"HTTP {exc.response.status_code}"
                    if isinstance(exc, InvalidStatus)
                    else (str(exc) or type(exc).__name__)
                )
                self._set_state("down", why)
                await self._backoff(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, self._backoff_max)
                continue
            delay = self._backoff_initial
            writer = Peer(ws, Identity(role="node", sub=self.url), "/ws")
            self._tasks.spawn(writer.write_loop(), "writer")
            self._ws, self._writer = ws, writer
            self.connected_since = time.time()
            self._set_state("up")
            self._rtt = None
            keepalive = self._tasks.spawn(self._keepalive(ws), "keepalive")
            await self._read(ws)
            keepalive.cancel()
            writer.close_writer()
            self._ws = self._writer = None
            if self.closing():
                break
            self.reconnects += 1
            self._set_state("down", "connection lost")
            self._fail_pending("connection lost with the request in flight")
            await self._backoff(self._backoff_initial * random.uniform(0.5, 1.0))

    async def _backoff(self, seconds: float) -> None:
        """Wait before reconnecting, cut short by ``retry_now``."""
        self._retry.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._retry.wait(), seconds)

    def retry_now(self) -> None:
        """Skip the current backoff wait (a peer is known to have just started)."""
        self._retry.set()

    async def _keepalive(self, ws: ClientConnection) -> None:
        """Ping at once and then every interval; each pong is an RTT sample.

        A pong missing for two intervals means the peer is gone even if TCP has not
        noticed: the connection is closed so requests in flight are failed at once.
        """
        try:
            while True:
                started = time.perf_counter()
                pong = await ws.ping()
                try:
                    await asyncio.wait_for(pong, self._ping_interval * 2)
                except TimeoutError:
                    log.warning(
                        "no pong from %s in %.1f s; closing", self.url, self._ping_interval * 2
                    )
                    await ws.close(1011, "keepalive ping timeout")
                    return
                self._rtt = time.perf_counter() - started
                if self._on_change is not None:
                    self._on_change(self)
                await asyncio.sleep(self._ping_interval)
        except ConnectionClosed:
            return

    async def _read(self, ws: ClientConnection) -> None:
        pending = self._pending
        try:
            async for data in ws:
                try:
                    frame = json.loads(data)
                    link_id = frame["id"]
                except (ValueError, KeyError, TypeError):
                    log.warning("unusable frame from %s ignored", self.url)
                    continue
                if not isinstance(link_id, int):
                    continue
                if frame.get("finished") is False:
                    handler = pending.get(link_id)
                else:
                    handler = pending.pop(link_id, None)
                    if not pending:
                        self._idle.set()
                if handler is not None:
                    handler(frame)
        except ConnectionClosed:
            pass

    def _fail_pending(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        self._idle.set()
        for link_id, handler in pending.items():
            handler(
                {
                    "id": link_id,
                    "finished": True,
                    "message": {"error": f"link to {self.url}: {why}", "code": ErrorCode.PEER_DOWN},
                }
            )

    # -- requests -----------------------------------------------------------------------

    def request(self, frame: dict[str, Any], on_reply: ReplyHandler) -> int:
        """Send a request frame (its ``id`` is replaced); replies go to ``on_reply``.

        Raises ``PeerDown`` at once when the link is not up.
        """
        writer = self._writer
        if self._retired:
            raise PeerDown(self.url, "the route map no longer names this link")
        if writer is None or writer.closed or self.state != "up":
            raise PeerDown(self.url, self.last_error or self.state)
        link_id = next(self._ids)
        frame["id"] = link_id
        self._pending[link_id] = on_reply
        self._idle.clear()
        self.sent += 1
        # If the connection drops before this is written, _run fails it with the rest.
        writer.send(json.dumps(frame, separators=(",", ":")))
        return link_id

    def forget(self, link_id: int) -> None:
        """Stop waiting for a reply (its caller's deadline passed)."""
        self._pending.pop(link_id, None)
        if not self._pending:
            self._idle.set()

    def retire(self) -> None:
        """Refuse new requests; those in flight still get their replies."""
        self._retired = True

    async def wait_idle(self, timeout: float) -> None:
        """Wait (bounded) until no request is waiting for a reply."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
