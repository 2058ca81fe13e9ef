"""The node's HTTP server (the REST face): ``/healthz``, ``/metrics`` and everything else.

Owns the listening socket (aiohttp), reading and JSON-decoding request bodies (with
the node's size limit), the bearer token header, and writing replies. What a request
means is the master's business: every request other than the two fixed endpoints is
handed to a callback as a ``RestRequest`` and answered with the ``RestReply`` it
returns. It must not import the master nor decide routing or authentication.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from node_runtime.errors import NodeError
from node_runtime.protocol.codes import ErrorCode, http_status
from node_runtime.protocol.messages import error_message

log = logging.getLogger("qewd.rest")

JSON_TYPE = "application/json"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Headers a handler never sees: the token already became its session.
HIDDEN_HEADERS = frozenset({"authorization"})


@dataclass(slots=True)
class RestRequest:
    """One HTTP request as the master sees it."""

    method: str
    path: str  # percent-decoded, without the query string
    query: dict[str, Any]  # a repeated key gives a list of its values
    body: Any  # decoded JSON, or None for an empty body
    headers: dict[str, str]  # lower-case names, without Authorization
    token: str | None  # None: no Authorization header; "": present but not a bearer token
    remote: str
    size: int


@dataclass(slots=True)
class RestReply:
    """What to answer: a status, a body already encoded, its content type, extra headers."""

    status: int
    body: str
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


ApiHandler = Callable[[RestRequest], Awaitable[RestReply]]


def error_reply(code: str, text: str) -> RestReply:
    """An error reply with the status the code maps to and the ``{"error","code"}`` body."""
    return RestReply(http_status(code), json.dumps(error_message(code, text)))


def bearer(value: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header; "" when the header is unusable."""
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return ""


def _query(request: web.Request) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        query[key] = values[0] if len(values) == 1 else list(values)
    return query


class RestServer:
    """Listens on host:port and hands API requests to ``on_api``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        max_size: int,
        on_api: ApiHandler,
        health: Callable[[], tuple[int, dict[str, Any]]],
        metrics: Callable[[], str],
        ssl_context: ssl.SSLContext | None = None,
        shutdown_timeout: float = 2.0,
    ) -> None:
        self.host = host
        self.port = port
        self.max_size = max_size
        self._on_api = on_api
        self._health = health
        self._metrics = metrics
        self._ssl = ssl_context
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Bind and listen; ``port`` becomes the real port when 0 was asked for."""
        app = web.Application(client_max_size=self.max_size)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=self._shutdown_timeout
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self._ssl)
        await site.start()
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple):
                self.port = int(address[1])
                break

    async def close(self) -> None:
        """Stop listening and close every connection."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/healthz" and request.method == "GET":
            status, body = self._health()
            return web.Response(status=status, text=json.dumps(body), content_type=JSON_TYPE)
        if request.path == "/metrics" and request.method == "GET":
            return web.Response(
                body=self._metrics().encode(), headers={"Content-Type": METRICS_TYPE}
            )
        try:
            parsed = await self._parse(request)
        except _BadRequestError as exc:
            return self._respond(exc.reply)
        return self._respond(await self._on_api(parsed))

    async def _parse(self, request: web.Request) -> RestRequest:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            text = f"request body exceeds {self.max_size} bytes"
            raise _BadRequestError(
                error_reply(ErrorCode.TOO_LARGE, text), ErrorCode.TOO_LARGE, text
            ) from exc
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                text = f"request body is not valid JSON: {exc}"
                raise _BadRequestError(
                    error_reply(ErrorCode.BAD_JSON, text), ErrorCode.BAD_JSON, text
                ) from exc
        headers = {
            k.lower(): v for k, v in request.headers.items() if k.lower() not in HIDDEN_HEADERS
        }
        return RestRequest(
            method=request.method,
            path=request.path,
            query=_query(request),
            body=body,
            headers=headers,
            token=bearer(request.headers.get("Authorization")),
            remote=request.remote or "",
            size=len(raw),
        )

    @staticmethod
    def _respond(reply: RestReply) -> web.Response:
        return web.Response(
            status=reply.status,
            body=reply.body.encode(),
            headers={"Content-Type": reply.content_type, **reply.headers},
        )


class _BadRequestError(NodeError):
    """A request refused before it reached the master (carries the reply)."""

    def __init__(self, reply: RestReply, code: str, text: str) -> None:
        super().__init__(text, code)
        self.reply = reply
