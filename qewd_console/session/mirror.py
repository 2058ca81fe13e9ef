"""The console's copy of one node's state, kept up to date from monitor frames.

Owns the meaning of snapshot/stats/link/worker/routes frames (docs/monitor.md) for
the console; it must not do I/O or read the clock (frame times are used instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qewd_console.session.ring import TimeSeries

HISTORY_SECONDS = 120.0
MIN_HISTORY_SECONDS = 10.0
MAX_HISTORY_SECONDS = 3600.0
# Stats arrive about once a second: room for the longest history a user may choose.
MAX_POINTS = int(MAX_HISTORY_SECONDS * 1.5)


@dataclass
class NodeMirror:
    """What the console knows about a node; ``key`` is the URL it was attached by."""

    key: str
    name: str = ""
    state: str = "connecting"  # connecting | up | down
    error: str = ""
    role: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    workers: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)  # url -> link
    routes_version: int = 0
    routes_map: dict[str, Any] = field(default_factory=dict)
    queue: int = 0
    busy: int = 0
    pool_size: int = 0
    rates: dict[str, float] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    latency: list[dict[str, Any]] = field(default_factory=list)
    flows_dropped: int = 0
    payloads: bool = False
    link_rtt: dict[str, TimeSeries] = field(default_factory=dict)
    route_p50: dict[str, TimeSeries] = field(default_factory=dict)
    route_p99: dict[str, TimeSeries] = field(default_factory=dict)
    history: float = HISTORY_SECONDS  # seconds of latency kept per series

    def _series(self, table: dict[str, TimeSeries], key: str) -> TimeSeries:
        series = table.get(key)
        if series is None:
            series = table[key] = TimeSeries(self.history, MAX_POINTS)
        return series

    def set_history(self, seconds: float) -> None:
        """Keep ``seconds`` of latency history (bounded) in every series, old and new."""
        self.history = min(max(seconds, MIN_HISTORY_SECONDS), MAX_HISTORY_SECONDS)
        for table in (self.link_rtt, self.route_p50, self.route_p99):
            for series in table.values():
                series.horizon = self.history

    @property
    def label(self) -> str:
        return self.name or self.key

    @property
    def url(self) -> str:
        return str(self.info.get("url", self.key))

    @property
    def load(self) -> float:
        """Fraction of the worker pool busy, 0..1."""
        size = self.pool_size or len(self.workers) or 1
        return min(1.0, self.busy / size)

    @property
    def health(self) -> str:
        """ok | warn | bad: down or erroring is bad, queueing or a down link warns."""
        if self.state != "up":
            return "bad"
        errors = self.rates.get("errors", 0.0)
        if errors > 0 and errors >= 0.2 * max(self.rates.get("in", 0.0), 1.0):
            return "bad"
        if (
            self.queue > 0
            or errors > 0
            or any(link.get("state") != "up" for link in self.links.values())
        ):
            return "warn"
        return "ok"

    def apply(self, frame: dict[str, Any]) -> str:
        """Fold one frame into the mirror; returns the frame kind."""
        kind = str(frame.get("kind", ""))
        if kind == "snapshot":
            self.info = dict(frame.get("node") or {})
            self.name = str(self.info.get("name", self.name))
            self.role = str(frame.get("role", ""))
            self.workers = list(frame.get("workers") or [])
            self.pool_size = int(self.info.get("pool_size", len(self.workers)))
            self.links = {str(link.get("url")): link for link in frame.get("links") or []}
            routes = frame.get("routes") or {}
            self.routes_version = int(routes.get("version", 0))
            self.routes_map = dict(routes.get("map") or {})
            self.payloads = bool((frame.get("subscription") or {}).get("payloads", False))
            self.state = "up"
            self.error = ""
        elif kind == "stats":
            now = float(frame.get("time", 0.0))
            self.queue = int(frame.get("queue", 0))
            self.busy = int(frame.get("busy", 0))
            self.pool_size = int(frame.get("pool_size", self.pool_size))
            self.workers = list(frame.get("workers") or self.workers)
            self.rates = {k: float(v) for k, v in (frame.get("rates") or {}).items()}
            self.totals = {k: int(v) for k, v in (frame.get("totals") or {}).items()}
            self.latency = list(frame.get("latency") or [])
            self.flows_dropped = int(frame.get("flows_dropped", 0))
            for link in frame.get("links") or []:
                self.links[str(link.get("url"))] = link
            for link in self.links.values():
                rtt = link.get("rtt_ms")
                if isinstance(rtt, int | float):
                    self._series(self.link_rtt, str(link.get("url"))).add(now, float(rtt))
            for row in self.latency:
                route = f"{row.get('app')}/{row.get('type')}"
                self._series(self.route_p50, route).add(now, float(row.get("p50", 0.0)))
                self._series(self.route_p99, route).add(now, float(row.get("p99", 0.0)))
        elif kind == "link":
            link = dict(frame.get("link") or {})
            self.links[str(link.get("url"))] = link
        elif kind == "worker":
            worker = dict(frame.get("worker") or {})
            pid = worker.get("pid")
            self.workers = [w for w in self.workers if w.get("pid") != pid]
            if frame.get("event") == "started":
                self.workers.append(worker)
        elif kind == "routes":
            self.routes_version = int(frame.get("version", self.routes_version))
            self.routes_map = dict(frame.get("map") or {})
        return kind
