"""``GET /metrics``: a node's numbers in the Prometheus text exposition format (0.0.4).

Owns the metric names and labels: requests in flight, queue length, workers busy and
the pool size, messages and errors by app/type (and code), latency quantiles over the
recent window, and each link's state and RTT. It reads the node; it must not change it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from node_runtime.master import Node

LINK_STATES = ("connecting", "up", "down")
QUANTILES = (("0.5", "p50"), ("0.9", "p90"), ("0.99", "p99"))


def escape(value: str) -> str:
    """A label value escaped as the text format requires."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels(**pairs: str) -> str:
    """``{a="x",b="y"}`` with escaped values (keys are ours, never user input)."""
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in pairs.items()) + "}"


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, text: str) -> None:
        self.lines.append(f"# HELP {name} {text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, label_text: str = "") -> None:
        number = repr(float(value)) if isinstance(value, float) else str(value)
        self.lines.append(f"{name}{label_text} {number}")


def prometheus_text(node: Node) -> str:
    """Every metric of ``node`` right now."""
    out = _Text()
    node_label = labels(node=node.name)
    pool = node.pool.stats()
    stats = node.stats

    out.family("qewd_up", "gauge", "1 while the node serves, 0 while it drains.")
    out.sample("qewd_up", 0 if node.draining else 1, node_label)
    out.family("qewd_uptime_seconds", "gauge", "Seconds since the node started.")
    out.sample("qewd_uptime_seconds", round(time.time() - node.started_at, 3), node_label)
    out.family("qewd_in_flight", "gauge", "Requests accepted and not yet answered.")
    out.sample("qewd_in_flight", node.in_flight, node_label)
    out.family("qewd_queue_length", "gauge", "Jobs waiting for a free worker.")
    out.sample("qewd_queue_length", int(pool["queue"]), node_label)
    out.family("qewd_workers_busy", "gauge", "Workers running a handler now.")
    out.sample("qewd_workers_busy", int(pool["busy"]), node_label)
    out.family("qewd_workers", "gauge", "Worker processes alive.")
    out.sample("qewd_workers", len(pool["workers"]), node_label)
    out.family("qewd_pool_size", "gauge", "Configured worker pool size.")
    out.sample("qewd_pool_size", int(pool["size"]), node_label)

    out.family("qewd_messages_total", "counter", "Requests finished, by application and type.")
    for (app, type_), count in sorted(stats.messages.items()):
        out.sample("qewd_messages_total", count, labels(app=app, type=type_))
    out.family("qewd_errors_total", "counter", "Error replies, by application, type and code.")
    for (app, type_, code), count in sorted(stats.errors.items()):
        out.sample("qewd_errors_total", count, labels(app=app, type=type_, code=code))
    out.family(
        "qewd_request_duration_ms",
        "summary",
        "Request duration at this node over the recent window, in ms.",
    )
    for row in sorted(stats.latency(), key=lambda r: (r["app"], r["type"])):
        for quantile, key in QUANTILES:
            out.sample(
                "qewd_request_duration_ms",
                float(row[key]),
                labels(app=row["app"], type=row["type"], quantile=quantile),
            )
        out.sample(
            "qewd_request_duration_ms_count",
            int(row["count"]),
            labels(app=row["app"], type=row["type"]),
        )

    infos = [link.info() for _, link in sorted(node.mesh.links.items())]
    out.family("qewd_link_up", "gauge", "1 when the link to a destination URL is up.")
    for info in infos:
        out.sample("qewd_link_up", 1 if info["state"] == "up" else 0, labels(url=info["url"]))
    out.family("qewd_link_state", "gauge", "The link's state (one sample per state, 1 = current).")
    for info in infos:
        for state in LINK_STATES:
            out.sample(
                "qewd_link_state",
                1 if info["state"] == state else 0,
                labels(url=info["url"], state=state),
            )
    out.family("qewd_link_rtt_ms", "gauge", "Last keepalive round trip of an up link, in ms.")
    for info in infos:
        if info["rtt_ms"] is not None:
            out.sample("qewd_link_rtt_ms", float(info["rtt_ms"]), labels(url=info["url"]))
    out.family("qewd_link_in_flight", "gauge", "Requests sent on the link awaiting a reply.")
    for info in infos:
        out.sample("qewd_link_in_flight", int(info["in_flight"]), labels(url=info["url"]))
    out.family("qewd_link_sent_total", "counter", "Requests sent on the link.")
    for info in infos:
        out.sample("qewd_link_sent_total", int(info["sent"]), labels(url=info["url"]))
    out.family("qewd_link_reconnects_total", "counter", "Times the link was re-established.")
    for info in infos:
        out.sample("qewd_link_reconnects_total", int(info["reconnects"]), labels(url=info["url"]))
    return "\n".join(out.lines) + "\n"
