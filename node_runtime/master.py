"""The composition root of a node: wires config, tokens, the worker pool, the WebSocket
server, peer links, the REST face and the monitor. Nothing else wires layers together.

It also holds the node's request path (``handle_frame``): decode, authenticate,
decide (local worker or a destination), and hand the outcome to a ``Call`` that
replies exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from node_runtime.calls import Call
from node_runtime.config import NodeConfig
from node_runtime.errors import NodeError
from node_runtime.loading import load_apps, token_settings, worker_init
from node_runtime.mesh import Mesh
from node_runtime.monitor.hub import MonitorHub
from node_runtime.protocol import messages as msgs
from node_runtime.protocol.codes import ErrorCode
from node_runtime.protocol.messages import FrameError, Request
from node_runtime.protocol.routes import RouteMap
from node_runtime.protocol.tokens import TokenError, TokenService
from node_runtime.rest_calls import REST_FRAME, RestCalls
from node_runtime.stats import NodeStats
from node_runtime.transport.connection import Identity, Peer
from node_runtime.transport.links import PeerLink
from node_runtime.transport.rest import RestServer
from node_runtime.transport.server import WsServer
from node_runtime.transport.tls import client_context, server_context
from node_runtime.workers.pool import BusyError, Job, JobResult, WorkerPool

log = logging.getLogger("qewd.node")

# A finished call and its final message (JSON).
FlowListener = Callable[[Call, str], None]


class Node:
    """One node: master process state and its wiring."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.name = config.name
        self.started_at = time.time()
        self.tokens = TokenService(token_settings(config))
        if self.tokens.secret_notice:
            log.warning("node %s: [jwt] secret: %s", config.name, self.tokens.secret_notice)
        self.route_map: RouteMap = config.route_map
        self.stats = NodeStats()
        self.flow_listeners: list[FlowListener] = []
        self.draining = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.apps = load_apps(config)
        self.pool = WorkerPool(
            init=worker_init(config),
            size=config.pool_size,
            handler_timeout=config.handler_timeout,
            max_queue=config.max_queue,
            idle_timeout=config.idle_timeout,
            recycle_after=config.recycle_after,
            prefork=config.prefork,
            listener=self._pool_event,
        )
        self.server = WsServer(
            host=config.host,
            port=config.port,
            max_size=config.max_message_bytes,
            authenticate=self._authenticate,
            on_frame=self.handle_frame,
            on_open=self._peer_open,
            on_close=self._peer_closed,
            monitor=self._serve_monitor,
            ssl_context=server_context(config.tls),
        )
        self.pool_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self.link_listeners: list[Callable[[PeerLink], None]] = []
        self.mesh = Mesh(
            node=self.name,
            token_factory=lambda: self.tokens.node_token(self.name, time.time()),
            ssl_context=client_context(config.tls),
            max_size=config.max_message_bytes,
            on_link_change=self._link_changed,
        )
        self.monitor = MonitorHub(self)
        self.rest = RestCalls(self)
        self.rest_server: RestServer | None = None

    # -- wiring -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the pool and the server; links and the REST face come up alongside."""
        Path(self.config.data_dir).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once
        await self.pool.start()
        await self.server.start()
        self.monitor.start()
        self.mesh.sync_links(self.route_map)
        log.info(
            "node %s listening on ws://%s:%d/ws", self.name, self.config.host, self.server.port
        )
        if self.config.http_port:
            self.rest_server = self.rest.server()
            await self.rest_server.start()
            log.info("node %s REST face on port %d", self.name, self.rest_server.port)

    @property
    def port(self) -> int:
        """The WebSocket port actually bound."""
        return self.server.port

    @property
    def url(self) -> str:
        """This node's client URL."""
        scheme = "wss" if self.config.tls is not None else "ws"
        return f"{scheme}://{self.config.host}:{self.server.port}/ws"

    def apply_routes(self, new_map: RouteMap) -> RouteMap:
        """Swap the route map atomically (the caller validated it and checked the version).

        Calls already dispatched keep the destination they were given: in-flight
        messages finish on the old map.
        """
        self.route_map = new_map.with_version(self.route_map.version + 1)
        self.mesh.sync_links(self.route_map)
        return self.route_map

    async def stop(self, drain_timeout: float | None = None) -> None:
        """Graceful stop: refuse new work, let in-flight requests finish (bounded), close."""
        self.draining = True
        self.server.stop_listening()
        timeout = self.config.request_timeout if drain_timeout is None else drain_timeout
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("drain timed out with %d requests in flight", self.in_flight)
        if self.rest_server is not None:  # kept open while draining: /healthz says 503
            await self.rest_server.close()
        await self.monitor.stop()
        await self.pool.close()
        await self.mesh.close()
        await self.server.close()

    # -- peers --------------------------------------------------------------------------

    def _authenticate(self, path: str, token: str | None) -> Identity:
        if token is None:
            if path == "/monitor":
                raise NodeError(
                    "a bearer token with role admin or monitor is required", ErrorCode.NO_TOKEN
                )
            return Identity()
        try:
            claims = self.tokens.verify(token, time.time())
        except TokenError as exc:
            raise NodeError(exc.text, exc.code) from exc
        role = str(claims.get("role", ""))
        allowed = ("admin", "monitor") if path == "/monitor" else ("node", "admin")
        if role not in allowed:
            raise NodeError(f"role {role or 'none'!r} may not open {path}", ErrorCode.FORBIDDEN)
        return Identity(role=role, sub=str(claims.get("sub", "")), claims=dict(claims))

    def _peer_open(self, peer: Peer) -> None:
        pass

    def _peer_closed(self, peer: Peer) -> None:
        pass

    async def _serve_monitor(self, peer: Peer) -> None:
        await self.monitor.serve(peer)

    def _link_changed(self, link: PeerLink) -> None:
        for listener in self.link_listeners:
            listener(link)

    def _pool_event(self, kind: str, data: dict[str, Any]) -> None:
        for listener in self.pool_listeners:
            listener(kind, data)

    # -- the request path ---------------------------------------------------------------

    def handle_frame(self, peer: Peer, data: str | bytes) -> None:
        """One frame from a client or a peer node: answer it exactly once."""
        try:
            request = msgs.parse_request(msgs.decode_frame(data))
        except FrameError as exc:
            peer.send(msgs.encode(msgs.error_reply(exc.type, exc.id, exc.code, exc.text)))
            self.stats.count_error("", exc.type, exc.code)
            return
        if request.type == msgs.REGISTER:
            self._register(peer, request)
        elif request.type == msgs.REREGISTER:
            self._reregister(peer, request)
        elif request.type == REST_FRAME:
            self.rest.handle_frame(peer, request, len(data))
        else:
            self._dispatch(peer, request, len(data))

    def _reply_error(
        self, peer: Peer, request: Request, code: str, text: str, app: str = ""
    ) -> None:
        peer.send(msgs.encode(msgs.error_reply(request.type, request.id, code, text)))
        self.stats.count_error(app, request.type, code)

    def _knows_app(self, app: str) -> bool:
        return app in self.apps or any(r.application == app for r in self.route_map.ws_routes)

    def _register(self, peer: Peer, request: Request) -> None:
        app = request.application
        if app is None:
            self._reply_error(
                peer, request, ErrorCode.BAD_MESSAGE, "ewd-register needs an 'application'"
            )
            return
        if not self._knows_app(app):
            self._reply_error(
                peer, request, ErrorCode.NO_APP, f"no application {app!r} on node {self.name}", app
            )
            return
        token = self.tokens.issue_session(app, time.time())
        peer.send(msgs.encode(msgs.reply(request.type, request.id, {"token": token})))

    def _reregister(self, peer: Peer, request: Request) -> None:
        if not request.token:
            self._reply_error(peer, request, ErrorCode.NO_TOKEN, "ewd-reregister needs a token")
            return
        now = time.time()
        try:
            session = self.tokens.verify(request.token, now)
        except TokenError as exc:
            self._reply_error(peer, request, exc.code, exc.text)
            return
        token = self.tokens.refresh(session, now)
        peer.send(msgs.encode(msgs.reply(request.type, request.id, {"ok": True, "token": token})))

    def _dispatch(self, peer: Peer, request: Request, size: int) -> None:
        if self.draining:
            self._reply_error(peer, request, ErrorCode.BUSY, "the node is shutting down")
            return
        if not request.token:
            self._reply_error(
                peer,
                request,
                ErrorCode.NO_TOKEN,
                "this message needs a token: send ewd-register first",
            )
            return
        try:
            session = self.tokens.verify(request.token, time.time())
        except TokenError as exc:
            self._reply_error(peer, request, exc.code, exc.text)
            return
        token_app = str(session.get("application", ""))
        app = token_app
        if request.application is not None and request.application != token_app:
            if not peer.identity.is_node:
                self._reply_error(
                    peer,
                    request,
                    ErrorCode.FORBIDDEN,
                    "only node links may set 'application'",
                    token_app,
                )
                return
            app = request.application
        if self.name in request.via:
            self._reply_error(
                peer,
                request,
                ErrorCode.HOP_LIMIT,
                f"routing loop: {' -> '.join((*request.via, self.name))}",
                app,
            )
            return
        deadline = self.config.request_timeout
        if request.deadline_ms is not None:
            deadline = min(deadline, request.deadline_ms / 1000.0)
        call = Call(
            send=peer.send,
            node=self.name,
            type_=request.type,
            id_=request.id,
            app=app,
            trace=request.trace,
            deadline=deadline,
            peer_label=peer.name,
            request_bytes=size,
            on_finish=self._call_finished,
        )
        self.stats.received += 1
        if self.flow_listeners:
            call.kept = []  # a console may want the payloads: intermediates, request
            call.request = request
            call.session_id = str(session.get("sid", ""))
        self.in_flight += 1
        self._idle.clear()
        call.arm(asyncio.get_running_loop())
        destination = self.route_map.ws_destination(app, request.type)
        if destination is not None:
            self.mesh.forward(call, request, destination, self.route_map)
            return
        loaded = self.apps.get(app)
        if loaded is None:
            call.fail(
                ErrorCode.NO_APP if not self._knows_app(app) else ErrorCode.NO_ROUTE,
                f"no application {app!r} and no route for it on node {self.name}",
            )
            return
        if request.type not in loaded.types:
            call.fail(
                ErrorCode.NO_HANDLER, f"application {app!r} has no handler for {request.type!r}"
            )
            return
        payload = {
            "app": app,
            "msg": {
                "type": request.type,
                "params": request.params,
                "id": request.id,
                "application": app,
            },
            "session": session.to_wire(),
        }
        self.run_local(call, payload)

    def run_local(self, call: Call, payload: dict[str, Any]) -> None:
        """Queue a call's job on the worker pool; the job's outcome finishes the call."""

        def done(result: JobResult) -> None:
            call.queue_ms = result.queue_ms
            call.handler_ms = result.handler_ms
            call.worker = result.worker
            if result.ok:
                assert result.message_json is not None
                call.succeed(result.message_json)
            else:
                call.fail(result.code, result.text)

        job = Job(payload, done, call.intermediate)
        call.cancel_hook = job.cancel
        try:
            self.pool.submit(job)
        except BusyError as exc:
            call.fail(exc.code, exc.text)

    def open_call(self, **fields: Any) -> Call:
        """A new call of this node (``Call`` fields but node and on_finish), counted as in
        flight so that a drain waits for it, with its deadline running."""
        call = Call(node=self.name, on_finish=self._call_finished, **fields)
        self.in_flight += 1
        self._idle.clear()
        call.arm(asyncio.get_running_loop())
        return call

    def _call_finished(self, call: Call, ok: bool, code: str, message_json: str) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()
        self.stats.count(call.app, call.type, ok, code, call.total_ms)
        for listener in self.flow_listeners:
            listener(call, message_json)
