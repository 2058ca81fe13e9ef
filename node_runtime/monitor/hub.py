"""The node's ``/monitor`` endpoint: one session per console, events fanned out to them.

Owns the console sessions of one node, the frames sent to them (``snapshot``, ``stats``
once a second from one ticker task, ``link``, ``worker``, ``routes``, ``flow``) and
the backpressure rules: flows are rate-capped per subscription and dropped (counted)
when a console's backlog is long, so a slow console never slows the message path nor
grows memory without bound. What each op does lives in ``ops``. It must not decide
routing or touch the request path beyond listening to finished calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from node_runtime.monitor.flow_json import flow_json
from node_runtime.monitor.ops import handle_op
from node_runtime.monitor.subscription import Subscription, TokenBucket
from node_runtime.tasks import TaskSet
from node_runtime.transport.connection import Peer
from node_runtime.transport.links import PeerLink

if TYPE_CHECKING:
    from node_runtime.calls import Call
    from node_runtime.master import Node

log = logging.getLogger("qewd.monitor")

PROTOCOL_VERSION = 1
STATS_INTERVAL = 1.0
# Flows are skipped (and counted as dropped) while this many frames, or this many
# characters of frames, wait unwritten for a console: bounds a slow console's memory
# far below the transport's disconnect bound, whatever the size of the payloads.
FLOW_BACKLOG = 1000
FLOW_BACKLOG_CHARS = 16 * 1024 * 1024
# Flows are handed to the consoles' writers in batches this often: one writer wake-up
# per batch instead of one per request keeps the message path's cost per flow low.
FLOW_FLUSH_INTERVAL = 0.02

_dumps = json.dumps


# A flow waiting for the next flush: the finished call, its final message (JSON) and
# the wall time it finished at.
Pending = tuple["Call", str, float]


class Session:
    """One connected console: its peer, subscription, flow bucket and drop count."""

    __slots__ = ("bucket", "dropped", "peer", "subscription")

    def __init__(self, peer: Peer, now: float) -> None:
        self.peer = peer
        self.subscription = Subscription()
        self.bucket = TokenBucket(self.subscription.max_rate, now)
        self.dropped = 0

    @property
    def role(self) -> str:
        """The token's role: admin or monitor."""
        return self.peer.identity.role

    def resubscribe(self, subscription: Subscription, now: float) -> None:
        """Replace the subscription and restart its bucket."""
        self.subscription = subscription
        self.bucket = TokenBucket(subscription.max_rate, now)

    def send(self, frame: dict[str, Any]) -> None:
        """Queue one frame (never blocks)."""
        self.peer.send(_dumps(frame, separators=(",", ":")))


class MonitorHub:
    """All console sessions of one node."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.sessions: list[Session] = []
        self._tasks = TaskSet(f"monitor-{node.name}")
        self._last_total = 0
        self._last_received = 0
        self._last_errors = 0
        self._last_tick = time.monotonic()
        self._flush_timer: asyncio.TimerHandle | None = None
        self._pending: list[Pending] = []  # finished calls not yet flushed
        node.link_listeners.append(self._on_link)
        node.pool_listeners.append(self._on_pool)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the stats ticker (one task per node)."""
        self._last_tick = time.monotonic()
        self._tasks.spawn(self._tick_forever(), "stats")

    async def stop(self) -> None:
        """Stop the ticker and the flow flusher."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        await self._tasks.cancel_all()

    async def serve(self, peer: Peer) -> None:
        """Run one console connection: snapshot first, then ops until it closes."""
        session = Session(peer, time.monotonic())
        session.send(self.snapshot(session))
        self.flush_flows()  # calls that finished before this console came are not its flows
        self.sessions.append(session)
        if len(self.sessions) == 1:
            self.node.flow_listeners.append(self._on_flow)
        try:
            async for data in peer.ws:
                await handle_op(self, session, data)
        finally:
            self.sessions.remove(session)
            if not self.sessions and self._on_flow in self.node.flow_listeners:
                self.node.flow_listeners.remove(self._on_flow)

    # -- frames ---------------------------------------------------------------------------

    def node_info(self) -> dict[str, Any]:
        """The ``node`` part of a snapshot."""
        node = self.node
        config = node.config
        return {
            "name": node.name,
            "url": node.url,
            "http_port": config.http_port,
            "pid": os.getpid(),
            "started": node.started_at,
            "apps": {name: sorted(app.types) for name, app in node.apps.items()},
            "pool_size": node.pool.size,
            "handler_timeout": config.handler_timeout,
            "request_timeout": config.request_timeout,
            "max_queue": config.max_queue,
        }

    def links(self) -> list[dict[str, Any]]:
        """Every peer link's state."""
        return [link.info() for link in self.node.mesh.links.values()]

    def routes_frame(self) -> dict[str, Any]:
        """The current route map and its version."""
        route_map = self.node.route_map
        return {"kind": "routes", "version": route_map.version, "map": route_map.to_dict()}

    def snapshot(self, session: Session) -> dict[str, Any]:
        """Everything a console needs to draw this node from scratch."""
        routes = self.routes_frame()
        return {
            "kind": "snapshot",
            "version": PROTOCOL_VERSION,
            "node": self.node_info(),
            "role": session.role,
            "workers": self.node.pool.stats()["workers"],
            "links": self.links(),
            "routes": {"version": routes["version"], "map": routes["map"]},
            "subscription": session.subscription.to_dict(),
        }

    def broadcast(self, frame: dict[str, Any]) -> None:
        """Send one frame to every console (encoded once)."""
        if not self.sessions:
            return
        text = _dumps(frame, separators=(",", ":"))
        for session in self.sessions:
            session.peer.send(text)

    def stats_frame(self, now: float) -> dict[str, Any]:
        """Counters since the last tick; ``flows_dropped`` is filled in per session."""
        stats = self.node.stats
        pool = self.node.pool.stats()
        interval = max(now - self._last_tick, 1e-6)
        rate_in = (stats.received - self._last_received) / interval
        rate_out = (stats.total - self._last_total) / interval
        rate_errors = (stats.total_errors - self._last_errors) / interval
        self._last_total = stats.total
        self._last_received = stats.received
        self._last_errors = stats.total_errors
        self._last_tick = now
        return {
            "kind": "stats",
            "time": time.time(),
            "queue": pool["queue"],
            "busy": pool["busy"],
            "pool_size": pool["size"],
            "workers": pool["workers"],
            "rates": {
                "in": round(rate_in, 1),
                "out": round(rate_out, 1),
                "errors": round(rate_errors, 1),
            },
            "totals": {"messages": stats.total, "errors": stats.total_errors},
            "latency": stats.latency(),
            "links": self.links(),
            "flows_dropped": 0,
        }

    def tick(self) -> None:
        """Send ``stats`` to every console (never dropped) with its own drop count."""
        self.flush_flows()
        frame = self.stats_frame(time.monotonic())
        for session in self.sessions:
            frame["flows_dropped"] = session.dropped
            session.dropped = 0
            session.send(frame)

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            if self.sessions:
                self.tick()

    # -- node events ----------------------------------------------------------------------

    def _on_link(self, link: PeerLink) -> None:
        self.broadcast({"kind": "link", "link": link.info()})

    def _on_pool(self, kind: str, data: dict[str, Any]) -> None:
        event = kind.removeprefix("worker_")
        frame: dict[str, Any] = {"kind": "worker", "event": event, "worker": data}
        if "reason" in data:
            frame["reason"] = data["reason"]
        self.broadcast(frame)

    def _on_flow(self, call: Call, message_json: str) -> None:
        """One finished call: kept until the next flush, which does all the work."""
        self._pending.append((call, message_json, time.time()))
        if self._flush_timer is None:
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(FLOW_FLUSH_INTERVAL, self.flush_flows)

    def flush_flows(self) -> None:
        """Give every console the flows finished since the last flush, in order.

        Filters, backlog bounds and rate buckets are applied here, and the text of each
        flow is written here, for the whole batch in one loop (its code stays hot) and
        once per variant (plain, payloads, payloads with tokens) however many consoles
        share it; the request path itself only appends to a list.
        """
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        pending, self._pending = self._pending, []
        if not pending:
            return
        now = time.monotonic()
        shared: dict[tuple[int, bool, bool], str] = {}
        several = len(self.sessions) > 1
        for session in self.sessions:
            texts = self._flows_for(session, pending, now, shared if several else None)
            if not texts:
                continue
            if session.subscription.batch:
                session.peer.send('{"kind":"flows","flows":[' + ",".join(texts) + "]}")
            else:
                session.peer.send_many([flow_frame(text) for text in texts])

    @staticmethod
    def _flows_for(
        session: Session,
        pending: list[Pending],
        now: float,
        shared: dict[tuple[int, bool, bool], str] | None,
    ) -> list[str]:
        """The texts of the pending flows that one console takes; the rest are counted
        as dropped (filtered out ones are not)."""
        sub = session.subscription
        payloads, tokens = sub.payloads, sub.tokens
        filters = sub.filters
        take = session.bucket.take
        frames = session.peer.pending()
        chars = session.peer.pending_chars()
        per_flow = 0 if sub.batch else 1  # batched flows leave as one frame
        texts: list[str] = []
        for item in pending:
            call, message_json, wall_time = item
            if filters and not sub.matches(
                app=call.app, type_=call.type, node=call.node, ok=call.ok
            ):
                continue
            if frames >= FLOW_BACKLOG or chars >= FLOW_BACKLOG_CHARS or not take(now):
                session.dropped += 1
                continue
            if shared is None:
                text = flow_json(
                    call, message_json, wall_time=wall_time, payloads=payloads, tokens=tokens
                )
            else:
                key = (id(item), payloads, tokens)
                text = shared.get(key) or flow_json(
                    call, message_json, wall_time=wall_time, payloads=payloads, tokens=tokens
                )
                shared[key] = text
            texts.append(text)
            frames += per_flow
            chars += len(text)
        return texts


def flow_frame(flow: str) -> str:
    """A ``flow`` frame around one flow event already encoded."""
    return '{"kind":"flow","flow":' + flow + "}"
