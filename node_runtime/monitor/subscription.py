"""What one console asked to see: flow filters, a flow rate cap, payloads on or off.

This module owns the ``subscribe`` op's rules (parsing, role checks, defaults and
limits) and the token bucket that caps flow events per subscription. It is pure: time
is passed in, nothing here touches sockets or the node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from node_runtime.errors import NodeError
from node_runtime.protocol.codes import ErrorCode

DEFAULT_MAX_RATE = 200.0
MAX_MAX_RATE = 10_000.0
FILTER_KEYS = ("app", "type", "status", "node")


class SubscribeError(NodeError):
    """A ``subscribe`` op that cannot be honoured; ``code`` is the reply's code."""


@dataclass(frozen=True)
class Subscription:
    """Filters (key -> allowed values; absent = all), flow rate cap and payload choice."""

    max_rate: float = DEFAULT_MAX_RATE
    payloads: bool = False
    tokens: bool = False  # session tokens in payloads as they are (else redacted)
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    batch: bool = False  # flows as {"kind":"flows","flows":[...]} frames, one per flush

    def to_dict(self) -> dict[str, Any]:
        """The subscription as the snapshot and the ``subscribe`` reply show it."""
        return {
            "max_rate": self.max_rate,
            "payloads": self.payloads,
            "tokens": self.tokens,
            "batch": self.batch,
            "filters": {key: sorted(values) for key, values in self.filters.items()},
        }

    def matches(self, *, app: str, type_: str, node: str, ok: bool) -> bool:
        """True when a finished call passes every filter."""
        for key, allowed in self.filters.items():
            if key == "status":
                value = "ok" if ok else "error"
            elif key == "app":
                value = app
            elif key == "type":
                value = type_
            else:
                value = node
            if value not in allowed:
                return False
        return True


def parse_subscribe(op: Mapping[str, Any], role: str) -> Subscription:
    """A subscription from a ``subscribe`` op; ``SubscribeError`` says why not."""
    raw_rate = op.get("max_rate", DEFAULT_MAX_RATE)
    if isinstance(raw_rate, bool) or not isinstance(raw_rate, int | float):
        raise SubscribeError("max_rate must be a number", ErrorCode.BAD_MESSAGE)
    if not 0 < raw_rate <= MAX_MAX_RATE:
        raise SubscribeError(f"max_rate must be in (0, {MAX_MAX_RATE:g}]", ErrorCode.BAD_MESSAGE)
    payloads = op.get("payloads", False)
    if not isinstance(payloads, bool):
        raise SubscribeError("payloads must be true or false", ErrorCode.BAD_MESSAGE)
    if payloads and role != "admin":
        raise SubscribeError("payloads need an admin token", ErrorCode.FORBIDDEN)
    tokens = op.get("tokens", False)
    if not isinstance(tokens, bool):
        raise SubscribeError("tokens must be true or false", ErrorCode.BAD_MESSAGE)
    if tokens and not payloads:
        raise SubscribeError("tokens are sent only with payloads", ErrorCode.BAD_MESSAGE)
    batch = op.get("batch", False)
    if not isinstance(batch, bool):
        raise SubscribeError("batch must be true or false", ErrorCode.BAD_MESSAGE)
    raw_filters = op.get("filters") or {}
    if not isinstance(raw_filters, dict):
        raise SubscribeError("filters must be an object", ErrorCode.BAD_MESSAGE)
    filters: dict[str, frozenset[str]] = {}
    for key, value in raw_filters.items():
        if key not in FILTER_KEYS:
            raise SubscribeError(f"unknown filter {key!r}", ErrorCode.BAD_MESSAGE)
        if value is None:
            continue
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise SubscribeError(
                f"filter {key!r} must be a string or a list of strings", ErrorCode.BAD_MESSAGE
            )
        filters[key] = frozenset(values)
    return Subscription(
        max_rate=float(raw_rate), payloads=payloads, tokens=tokens, filters=filters, batch=batch
    )


class TokenBucket:
    """At most ``rate`` events per second on average, bursts up to one second's worth."""

    __slots__ = ("capacity", "level", "rate", "stamp")

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self.level = self.capacity
        self.stamp = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one; False means the event must be dropped."""
        elapsed = now - self.stamp
        if elapsed > 0:
            self.level = min(self.capacity, self.level + elapsed * self.rate)
            self.stamp = now
        if self.level >= 1.0:
            self.level -= 1.0
            return True
        return False
