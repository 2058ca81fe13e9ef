"""Trace maths: the hop list of a traced request, and link transit derived without clock sync.

Each node measures only on its own clock: how long the request waited in its queue,
ran in a handler, and waited on the next hop, and its total time. The transit of the
link from hop i to hop i+1 is then ``next_ms[i] - total_ms[i+1]`` (caller's wait minus
callee's own time), so clocks of different machines never need to agree.
"""

from __future__ import annotations

import itertools
from typing import Any

Hop = dict[str, Any]


def hop(
    node: str,
    *,
    total_ms: float,
    queue_ms: float = 0.0,
    handler_ms: float = 0.0,
    next_ms: float = 0.0,
    worker: int | None = None,
) -> Hop:
    """One node's entry in a trace, rounded to microseconds."""
    entry: Hop = {
        "node": node,
        "queue_ms": round(queue_ms, 3),
        "handler_ms": round(handler_ms, 3),
        "next_ms": round(next_ms, 3),
        "total_ms": round(total_ms, 3),
    }
    if worker is not None:
        entry["worker"] = worker
    return entry


def with_transit(hops: list[Hop]) -> list[Hop]:
    """Add ``transit_ms`` (link to the next hop, both directions) to each hop that has a next.

    Hops must be in path order. Fan-out results are not a chain, so callers pass one
    chain at a time. A negative figure (clock granularity) is clamped to zero.
    """
    out = [dict(h) for h in hops]
    for here, there in itertools.pairwise(out):
        try:
            transit = float(here["next_ms"]) - float(there["total_ms"])
        except (KeyError, TypeError, ValueError):
            continue
        here["transit_ms"] = round(max(transit, 0.0), 3)
    return out


def is_hop_list(value: object) -> bool:
    """True when ``value`` looks like a hop list a peer may hand us (shape check only)."""
    return isinstance(value, list) and all(
        isinstance(h, dict) and isinstance(h.get("node"), str) for h in value
    )
