"""The REST request path (DESIGN section 4): an HTTP request or a forwarded ``ewd-rest``
frame in, one final answer out.

A REST request is matched first against the route map's REST routes (forwarded over
the same persistent links, as an ``ewd-rest`` frame whose params carry method, path,
query, body and headers), then against the ``rest`` handlers of this node's
applications (run on the worker pool). Both ends reuse ``Call`` for the exactly-once
final reply and the deadline, and ``Mesh.forward`` for carrying. It also answers
``/healthz``. It must not touch sockets (the transport does) nor change routes.

Tokens: a forwarded route always needs a valid user session token (checked here, so
a bad one fails fast, and carried unchanged). A local handler needs one too, unless
its key is listed in the module's ``rest_public`` set; a public handler given a token
still gets that session. The token's ``application`` claim is not compared with the
handler's application: ``ewd-register`` hands out tokens to anyone, so a handler that
needs a logged-in user checks ``ctx.session`` itself, as on WebSocket.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from node_runtime.errors import ConfigError
from node_runtime.metrics import prometheus_text
from node_runtime.protocol import messages as msgs
from node_runtime.protocol.codes import ErrorCode, http_status
from node_runtime.protocol.messages import MessageId, Request, is_error
from node_runtime.protocol.route_paths import (
    HTTP_METHODS,
    Segments,
    match_segments,
    split_template,
    template_problems,
)
from node_runtime.protocol.tokens import TokenError
from node_runtime.transport.connection import Peer
from node_runtime.transport.rest import RestReply, RestRequest, RestServer
from node_runtime.transport.tls import server_context

if TYPE_CHECKING:
    from collections.abc import Callable

    from node_runtime.loading import LoadedApp
    from node_runtime.master import Node

REST_FRAME = "ewd-rest"


@dataclass(frozen=True, slots=True)
class LocalRest:
    """One ``rest`` handler of an application on this node."""

    app: str
    key: str  # as written in the module, e.g. "GET /api/patient/:id"
    method: str
    template: Segments
    public: bool


@dataclass(slots=True)
class RestParams:
    """The parts of a REST request that travel to the handler (and over links)."""

    method: str
    path: str
    query: dict[str, Any]
    body: Any
    headers: dict[str, str]

    def wire(self) -> dict[str, Any]:
        """The ``params`` of a forwarded ``ewd-rest`` frame."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "headers": self.headers,
        }


def split_key(key: str) -> tuple[str, str] | None:
    """``"GET /api/x/:id"`` as (method, template), or None when it is not such a key."""
    method, _, template = key.strip().partition(" ")
    template = template.strip()
    if method.upper() not in HTTP_METHODS or template_problems(template):
        return None
    return method.upper(), template


def local_rest_table(apps: dict[str, LoadedApp]) -> tuple[LocalRest, ...]:
    """Every app's ``rest`` keys in app order; a malformed key is a configuration error."""
    table: list[LocalRest] = []
    for loaded in apps.values():
        module = importlib.import_module(loaded.module_name)
        public = {str(k) for k in getattr(module, "rest_public", ())}
        for key in loaded.rest:
            parts = split_key(key)
            if parts is None:
                raise ConfigError(
                    "apps", loaded.name, f"rest key {key!r} is not 'METHOD /path/:var'"
                )
            table.append(
                LocalRest(loaded.name, key, parts[0], split_template(parts[1]), key in public)
            )
    return tuple(table)


def _params_from_frame(params: Any) -> RestParams | None:
    if not isinstance(params, dict):
        return None
    method, path = params.get("method"), params.get("path")
    query, headers = params.get("query", {}), params.get("headers", {})
    if not isinstance(method, str) or not isinstance(path, str) or not path.startswith("/"):
        return None
    if not isinstance(query, dict) or not isinstance(headers, dict):
        return None
    return RestParams(
        method.upper(),
        path,
        query,
        params.get("body"),
        {str(k): str(v) for k, v in headers.items()},
    )


def reply_from_frame(frame: dict[str, Any]) -> RestReply:
    """The HTTP reply for a final frame: its message as the body, errors by their code."""
    message = frame.get("message")
    headers = {}
    if isinstance(frame.get("ms"), int | float):
        headers["X-Response-Time"] = f"{frame['ms']:.3f}ms"
    status = http_status(str(message["code"])) if is_error(message) else 200
    return RestReply(status, json.dumps(message, separators=(",", ":")), headers=headers)


class RestCalls:
    """The node's REST request path and its HTTP server's callbacks."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.local = local_rest_table(node.apps)

    def server(self) -> RestServer:
        """The HTTP server of this node, wired to this object (not yet started)."""
        config = self.node.config
        return RestServer(
            host=config.host,
            port=config.http_port,
            max_size=config.max_message_bytes,
            on_api=self.handle_http,
            health=self.health,
            metrics=lambda: prometheus_text(self.node),
            ssl_context=server_context(config.tls),
        )

    def match_local(self, method: str, path: str) -> tuple[LocalRest, dict[str, str]] | None:
        """The first local handler whose key matches, with the path variables."""
        wanted = method.upper()
        segments = split_template(path)
        for entry in self.local:
            if entry.method != wanted:
                continue
            bound = match_segments(entry.template, segments)
            if bound is not None:
                return entry, bound
        return None

    def health(self) -> tuple[int, dict[str, Any]]:
        """``/healthz``: 200 while serving, 503 while draining."""
        node = self.node
        pool = node.pool.stats()
        body = {
            "status": "draining" if node.draining else "ok",
            "node": node.name,
            "uptime_s": round(time.time() - node.started_at, 3),
            "in_flight": node.in_flight,
            "queue": pool["queue"],
            "workers": len(pool["workers"]),
            "links": {url: link.state for url, link in node.mesh.links.items()},
        }
        return (503 if node.draining else 200), body

    # -- entry points -------------------------------------------------------------------

    async def handle_http(self, request: RestRequest) -> RestReply:
        """Run one HTTP API request to its final frame and map that onto HTTP."""
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def send(text: str) -> None:
            frame = json.loads(text)
            if frame.get("finished") is False or answer.done():
                return  # intermediate messages have no place in one HTTP reply
            answer.set_result(frame)

        params = RestParams(
            request.method, request.path, request.query, request.body, request.headers
        )
        self._start(
            params,
            token=request.token,
            via=(),
            deadline_ms=None,
            trace=False,
            send=send,
            id_=None,
            label=f"http:{request.remote}",
            size=request.size,
        )
        return reply_from_frame(await answer)

    def handle_frame(self, peer: Peer, request: Request, size: int) -> None:
        """An ``ewd-rest`` frame forwarded by another node: run it as REST here."""
        if not peer.identity.is_node:
            self._refuse(
                peer.send,
                request.id,
                REST_FRAME,
                ErrorCode.FORBIDDEN,
                "only node links may send ewd-rest",
            )
            return
        params = _params_from_frame(request.params)
        if params is None:
            self._refuse(
                peer.send,
                request.id,
                REST_FRAME,
                ErrorCode.BAD_MESSAGE,
                "ewd-rest params need method, path ('/...'), query and headers objects",
            )
            return
        self._start(
            params,
            token=request.token,
            via=request.via,
            deadline_ms=request.deadline_ms,
            trace=request.trace,
            send=peer.send,
            id_=request.id,
            label=peer.name,
            size=size,
        )

    # -- the decision -------------------------------------------------------------------

    def _refuse(
        self,
        send: Callable[[str], None],
        id_: MessageId,
        type_: str,
        code: str,
        text: str,
        *,
        app: str = "",
    ) -> None:
        send(msgs.encode(msgs.error_reply(REST_FRAME, id_, code, text)))
        self.node.stats.count_error(app, type_, code)

    def _start(
        self,
        params: RestParams,
        *,
        token: str | None,
        via: tuple[str, ...],
        deadline_ms: float | None,
        trace: bool,
        send: Callable[[str], None],
        id_: MessageId,
        label: str,
        size: int,
    ) -> None:
        node = self.node
        what = f"{params.method} {params.path}"
        # Before a route matched, stats count under one label: paths are caller-chosen
        # and would make the metrics' label set unbounded.
        unmatched = REST_FRAME
        if node.draining:
            self._refuse(send, id_, unmatched, ErrorCode.BUSY, "the node is shutting down")
            return
        if node.name in via:
            self._refuse(
                send,
                id_,
                unmatched,
                ErrorCode.HOP_LIMIT,
                f"routing loop: {' -> '.join((*via, node.name))}",
            )
            return
        route_map = node.route_map
        routed = route_map.rest_match(params.method, params.path)
        local = None if routed is not None else self.match_local(params.method, params.path)
        if routed is None and local is None:
            self._refuse(
                send,
                id_,
                unmatched,
                ErrorCode.NO_ROUTE,
                f"no REST route or handler for {what} on node {node.name}",
            )
            return
        if routed is not None:
            type_, app = f"{params.method} {routed[0].path}", ""
        else:
            assert local is not None
            type_, app = local[0].key, local[0].app
        session = None
        if token is None and local is not None and local[0].public:
            pass
        elif not token:
            code = ErrorCode.NO_TOKEN if token is None else ErrorCode.BAD_TOKEN
            self._refuse(
                send,
                id_,
                type_,
                code,
                "this request needs 'Authorization: Bearer "
                "<token>' (a session token from ewd-register)",
                app=app,
            )
            return
        else:
            try:
                session = node.tokens.verify(token, time.time())
            except TokenError as exc:
                self._refuse(send, id_, type_, exc.code, exc.text, app=app)
                return
        deadline = node.config.request_timeout
        if deadline_ms is not None:
            deadline = min(deadline, deadline_ms / 1000.0)
        if routed is not None:
            assert session is not None
            app = str(session.get("application", "")) or REST_FRAME
        call = node.open_call(
            send=send,
            type_=type_,
            id_=id_,
            app=app,
            trace=trace,
            deadline=deadline,
            peer_label=label,
            request_bytes=size,
        )
        if routed is not None:
            route, _ = routed
            dest = route_map.destinations.get(route.destination)
            if dest is None:
                call.fail(
                    ErrorCode.NO_ROUTE, f"route names unknown destination {route.destination!r}"
                )
                return
            forwarded = Request(
                type=REST_FRAME, id=None, token=token, params=params.wire(), trace=trace, via=via
            )
            node.mesh.forward(call, forwarded, dest, route_map)
            return
        assert local is not None
        entry, args = local
        payload = {
            "app": entry.app,
            "rest": entry.key,
            "msg": {
                "method": params.method,
                "path": params.path,
                "args": args,
                "query": params.query,
                "body": params.body,
                "headers": params.headers,
            },
            "session": session.to_wire() if session is not None else None,
        }
        node.run_local(call, payload)
