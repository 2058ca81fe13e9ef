"""The node's WebSocket server: ``/ws`` for clients and peer nodes, ``/monitor`` for consoles.

Owns the listening socket, the handshake (path check, bearer-token authentication,
401 refusals), frame size limits (oversize frames close with 1009, done by
websockets) and the per-peer reader loop. What a frame means is the master's
business: this module hands each one to a callback and never inspects it.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from node_runtime.errors import NodeError
from node_runtime.tasks import TaskSet
from node_runtime.transport.connection import Identity, Peer

log = logging.getLogger("qewd.transport")

PATHS = ("/ws", "/monitor")

Authenticate = Callable[[str, str | None], Identity]


def bearer_token(headers: Headers, query: str) -> str | None:
    """The bearer token from ``Authorization`` or, for browsers, a ``token`` query arg."""
    value = headers.get("Authorization")
    if value:
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return ""  # present but unusable: refused by the authenticator
    tokens = parse_qs(query).get("token")
    return tokens[0] if tokens else None


class WsServer:
    """Listens on host:port and runs one reader loop per peer."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        max_size: int,
        authenticate: Authenticate,
        on_frame: Callable[[Peer, str | bytes], None],
        on_open: Callable[[Peer], None],
        on_close: Callable[[Peer], None],
        monitor: Callable[[Peer], Awaitable[None]] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        ping_interval: float = 20.0,
    ) -> None:
        self.host = host
        self.port = port
        self.max_size = max_size
        self._authenticate = authenticate
        self._on_frame = on_frame
        self._on_open = on_open
        self._on_close = on_close
        self._monitor = monitor
        self._ssl = ssl_context
        self._ping_interval = ping_interval
        self._server: Server | None = None
        self._identities: dict[int, tuple[Identity, str]] = {}
        self.peers: set[Peer] = set()
        self._tasks = TaskSet("ws")

    async def start(self) -> None:
        """Bind and listen; ``port`` becomes the real port when 0 was asked for."""
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            max_size=self.max_size,
            max_queue=64,
            compression=None,
            ssl=self._ssl,
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_interval,
            server_header=None,
        )
        for sock in self._server.sockets:
            self.port = sock.getsockname()[1]
            break

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path not in PATHS:
            return connection.respond(HTTPStatus.NOT_FOUND, "no such endpoint: /ws or /monitor\n")
        token = bearer_token(request.headers, parts.query)
        try:
            identity = self._authenticate(parts.path, token)
        except NodeError as exc:
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"{exc.code}: {exc.text}\n")
        self._identities[id(connection)] = (identity, parts.path)
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        identity, path = self._identities.pop(id(ws), (Identity(), "/ws"))
        peer = Peer(ws, identity, path)
        peer.writer = self._tasks.spawn(peer.write_loop(), f"writer-{peer.id}")
        self.peers.add(peer)
        self._on_open(peer)
        try:
            if path == "/monitor" and self._monitor is not None:
                await self._monitor(peer)
            else:
                on_frame = self._on_frame
                async for data in ws:
                    try:
                        on_frame(peer, data)
                    except Exception:
                        # A bug of ours must not take the connection (or node) down.
                        log.exception("frame from %s could not be handled", peer.remote)
        except ConnectionClosed:
            pass
        finally:
            self.peers.discard(peer)
            peer.close_writer()
            self._on_close(peer)

    def stop_listening(self) -> None:
        """Stop accepting new connections; open ones carry on."""
        if self._server is not None:
            self._server.close(close_connections=False)

    async def close(self, code: int = 1001, reason: str = "node shutting down") -> None:
        """Close every connection and the server."""
        if self._server is None:
            return
        peers = list(self.peers)
        await asyncio.gather(*(peer.flush(1.0) for peer in peers))
        # stop_listening() already began closing the server, so a second Server.close
        # would not touch open connections: close them ourselves.
        await asyncio.gather(*(peer.ws.close(code, reason) for peer in peers))
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        await self._tasks.cancel_all()
