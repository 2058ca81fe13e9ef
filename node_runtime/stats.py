"""Counters and latency samples of a node's requests, for /metrics and the monitor.

Owns only numbers: counts by app/type/outcome and a bounded window of recent
durations per app/type for percentiles. Cheap enough for the hot path.
"""

from __future__ import annotations

from collections import deque
from typing import Any

WINDOW = 2048


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-quantile (0..1) of already sorted values, nearest rank; 0 when empty."""
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


class NodeStats:
    """Running totals of one node."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], int] = {}
        self.errors: dict[tuple[str, str, str], int] = {}
        self.durations: dict[tuple[str, str], deque[float]] = {}
        self.total = 0
        self.total_errors = 0
        self.received = 0  # requests accepted for routing (total counts finished ones)

    def count(self, app: str, type_: str, ok: bool, code: str, ms: float) -> None:
        """Record one finished request."""
        key = (app, type_)
        self.total += 1
        self.messages[key] = self.messages.get(key, 0) + 1
        window = self.durations.get(key)
        if window is None:
            window = self.durations[key] = deque(maxlen=WINDOW)
        window.append(ms)
        if not ok:
            self.count_error(app, type_, code, counted=True)

    def count_error(self, app: str, type_: str, code: str, counted: bool = False) -> None:
        """Record an error (also for frames answered before they became requests)."""
        if not counted:
            self.total += 1
        self.total_errors += 1
        key = (app, type_, code)
        self.errors[key] = self.errors.get(key, 0) + 1

    def latency(self) -> list[dict[str, Any]]:
        """p50/p90/p99 per app/type over the recent window."""
        out = []
        for (app, type_), window in self.durations.items():
            values = sorted(window)
            out.append(
                {
                    "app": app,
                    "type": type_,
                    "count": self.messages.get((app, type_), 0),
                    "p50": round(percentile(values, 0.50), 3),
                    "p90": round(percentile(values, 0.90), 3),
                    "p99": round(percentile(values, 0.99), 3),
                }
            )
        return out
