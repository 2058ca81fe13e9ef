"""A WebSocket peer as the master sees it: who it is and a non-blocking ``send``.

Owns the outbound queue and its writer task, so code that decides (the master, the
monitor) can answer from plain callbacks without awaiting the socket. A peer that
stops reading is cut off once its queue passes a bound, instead of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.connection import Connection as WsConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

log = logging.getLogger("qewd.transport")

_ids = itertools.count(1)

MAX_PENDING_FRAMES = 50_000
DIRECT_WRITE_LIMIT = 64 * 1024


@dataclass(slots=True)
class Identity:
    """Who is on the other end, from the handshake's bearer token (if any)."""

    role: str = "client"  # client, node, admin, monitor
    sub: str = ""
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def is_node(self) -> bool:
        """True for a node-authenticated link."""
        return self.role == "node"


class Peer:
    """One open WebSocket: identity, remote address, and a queued writer."""

    def __init__(self, ws: WsConnection, identity: Identity, path: str) -> None:
        self.ws = ws
        self.identity = identity
        self.path = path
        self.id = next(_ids)
        remote = ws.remote_address
        self.remote = f"{remote[0]}:{remote[1]}" if isinstance(remote, tuple) else str(remote)
        self._out: deque[str] = deque()
        self._out_chars = 0  # characters of the frames in _out
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self.closed = False
        self._writing = False
        self._flush_soon = False
        self._loop = asyncio.get_running_loop()
        self.dropped = 0
        self.writer: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        """A label for logs and flow events: the node name for links, else the address."""
        sub = self.identity.sub
        return sub[5:] if sub.startswith("node:") else (sub or self.remote)

    def send(self, text: str) -> None:
        """Send a text frame without blocking: at once when the socket can take it,
        else queued for the writer task. A peer far behind is disconnected (1008)."""
        if self.closed:
            return
        if not self._out and not self._writing:
            # Fast path: the same steps as websockets' own send() minus its await on
            # drain, which we skip only while the kernel buffer has room. It saves a
            # task wake-up per frame. The first frame of a loop iteration is written at
            # once (no added latency); later ones of the same iteration leave together
            # in one socket write at its end (a send() costs far more than framing).
            ws = self.ws
            if (
                ws.protocol.state is State.OPEN
                and ws.transport.get_write_buffer_size() < DIRECT_WRITE_LIMIT
            ):
                ws.protocol.send_text(text.encode())
                if not self._flush_soon:
                    self._flush()
                    self._flush_soon = True
                    self._loop.call_soon(self._flush)
                return
        if len(self._out) >= MAX_PENDING_FRAMES:
            log.warning("peer %s is not reading; closing", self.remote)
            self.closed = True
            self._wake.set()
            return
        self._out.append(text)
        self._out_chars += len(text)
        self._drained.clear()
        self._wake.set()

    def _flush(self) -> None:
        """Write every frame framed since the last flush, in one socket write."""
        self._flush_soon = False
        ws = self.ws
        chunks = ws.protocol.data_to_send()
        payload = b"".join(chunks)
        if payload:
            ws.transport.write(payload)
        if any(not chunk for chunk in chunks):
            # An empty chunk is websockets' end-of-stream marker (the connection is
            # closing): half-close as its own send_data() would.
            if ws.transport.can_write_eof():
                ws.transport.write_eof()
            else:
                ws.transport.close()

    def send_many(self, texts: list[str]) -> None:
        """Send several text frames (one socket write when the fast path applies)."""
        for text in texts:
            self.send(text)

    def close_writer(self) -> None:
        """Let the writer finish what is queued and end."""
        self.closed = True
        self._wake.set()

    def pending(self) -> int:
        """Frames queued but not yet written."""
        return len(self._out)

    def pending_chars(self) -> int:
        """Characters of the frames queued but not yet written."""
        return self._out_chars

    def queued(self) -> tuple[str, ...]:
        """The frames queued but not yet written, oldest first (a copy)."""
        return tuple(self._out)

    async def write_loop(self) -> None:
        """Write queued frames in order until closed."""
        out = self._out
        wake = self._wake
        ws = self.ws
        try:
            while True:
                await wake.wait()
                wake.clear()
                if self.closed and len(out) >= MAX_PENDING_FRAMES:
                    await ws.close(1008, "peer is not reading its replies")
                    return
                self._writing = True
                while out:
                    text = out.popleft()
                    self._out_chars -= len(text)
                    await ws.send(text)
                self._writing = False
                self._drained.set()
                if self.closed:
                    return
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self._drained.set()

    async def flush(self, timeout: float) -> None:
        """Wait (bounded) until everything queued has been written."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drained.wait(), timeout)
