"""Trace maths for the waterfall: hop list in, positioned segments out. Pure functions.

A trace (DESIGN section 3) lists each node passed with times measured on its own clock:
``queue_ms``, ``handler_ms``, ``next_ms`` (waiting on the next hop), ``total_ms`` and,
on a hop with a next one, ``transit_ms``. Segments are laid out on one axis starting at
0 so the view only has to draw rectangles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Segment:
    """One bar of the waterfall: a row label, what it measures, where it starts, how long."""

    row: str
    kind: str  # "queue" | "handler" | "waiting" | "transit"
    start_ms: float
    length_ms: float


def _num(hop: dict[str, Any], key: str) -> float:
    value = hop.get(key, 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def waterfall(trace: list[dict[str, Any]]) -> list[Segment]:
    """Segments for a trace: per node queue, handler, waiting; per link the transit.

    Each downstream hop starts after half its link's transit (the outbound leg) so the
    bars nest inside the caller's waiting bar; the return leg is the other half.
    """
    segments: list[Segment] = []
    offset = 0.0
    for index, hop in enumerate(trace):
        node = str(hop.get("node", f"hop {index}"))
        queue = _num(hop, "queue_ms")
        handler = _num(hop, "handler_ms")
        waiting = _num(hop, "next_ms")
        total = _num(hop, "total_ms")
        if total <= 0:
            total = queue + handler + waiting
        start = offset
        segments.append(Segment(node, "queue", start, queue))
        segments.append(Segment(node, "handler", start + queue, handler))
        if waiting > 0:
            wait_start = start + queue + handler
            segments.append(Segment(node, "waiting", wait_start, waiting))
            transit = _num(hop, "transit_ms")
            if index + 1 < len(trace):
                nxt = str(trace[index + 1].get("node", f"hop {index + 1}"))
                segments.append(Segment(f"{node} → {nxt}", "transit", wait_start, transit))
                offset = wait_start + transit / 2
    return segments


def path_of(trace: list[dict[str, Any]]) -> list[str]:
    """The node names a message passed, in order."""
    return [str(hop.get("node", "?")) for hop in trace]
