"""Bounded buffers: a sequence-numbered ring of records and time series bounded in seconds.

Owns memory bounds for everything the console keeps about traffic; it must not know
about Qt or the network.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class SeqRing(Generic[T]):
    """A ring of items, each numbered; readers ask for what came after the last they saw."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[tuple[int, T]] = deque(maxlen=capacity)
        self.next_seq = 0

    def append(self, item: T) -> int:
        seq = self.next_seq
        self._items.append((seq, item))
        self.next_seq += 1
        return seq

    @property
    def first_seq(self) -> int:
        """Sequence number of the oldest item still held (== next_seq when empty)."""
        return self._items[0][0] if self._items else self.next_seq

    def since(self, seq: int) -> list[tuple[int, T]]:
        """Items numbered ``seq`` or later that are still held."""
        start = max(seq, self.first_seq)
        offset = start - self.first_seq
        return [self._items[i] for i in range(offset, len(self._items))]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return (item for _, item in self._items)

    def latest(self) -> T | None:
        return self._items[-1][1] if self._items else None


class TimeSeries:
    """(time, value) points kept for ``horizon`` seconds, at most ``max_points``."""

    def __init__(self, horizon: float = 120.0, max_points: int = 2000) -> None:
        self.horizon = horizon
        self.times: deque[float] = deque(maxlen=max_points)
        self.values: deque[float] = deque(maxlen=max_points)

    def add(self, now: float, value: float) -> None:
        self.times.append(now)
        self.values.append(value)
        while self.times and self.times[0] < now - self.horizon:
            self.times.popleft()
            self.values.popleft()

    def __len__(self) -> int:
        return len(self.times)

    @property
    def last_time(self) -> float:
        """Time of the newest point (0.0 when empty): views redraw when it moves."""
        return self.times[-1] if self.times else 0.0
