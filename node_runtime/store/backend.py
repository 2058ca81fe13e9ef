"""The contract between DocumentNode and a storage engine.

This module owns the small set of primitives every backend provides over one sorted
map from encoded keys (see ``collation``) to value texts (see ``values``), plus named
locks. Only nodes that hold a value have an entry: a node "exists" when its key or a
key inside its subtree ``[key, key + b"\\xff")`` is present, so intermediate nodes need
no bookkeeping and a subtree delete is one range delete. Backends know nothing of
subscripts or M; they must not decode keys.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from node_runtime.store.values import Number


class Backend(ABC):
    """A sorted byte-keyed map with range scans, atomic batches and named locks.

    Each method is atomic on its own and safe against other processes using the same
    database; ranges are half-open ``[low, high)`` in byte order.
    """

    name: str

    @abstractmethod
    def get(self, key: bytes) -> str | bytes | None:
        """The value text stored at ``key``, or None."""

    @abstractmethod
    def put(self, key: bytes, value: str) -> None:
        """Store a value text at ``key``."""

    @abstractmethod
    def remove(self, key: bytes) -> None:
        """Remove the value at ``key`` only (its subtree is untouched)."""

    @abstractmethod
    def remove_range(self, low: bytes, high: bytes) -> None:
        """Remove every key in ``[low, high)`` in one atomic step."""

    @abstractmethod
    def keys(self, low: bytes, high: bytes, limit: int, reverse: bool = False) -> list[bytes]:
        """Up to ``limit`` keys in ``[low, high)``, ascending (or descending if reverse)."""

    @abstractmethod
    def items(self, low: bytes, high: bytes) -> list[tuple[bytes, str | bytes]]:
        """Every (key, value text) in ``[low, high)``, ascending."""

    @abstractmethod
    def write_batch(self, puts: Sequence[tuple[bytes, str]], removes: Sequence[bytes]) -> None:
        """Apply all removes then all puts in one transaction."""

    @abstractmethod
    def increment(self, key: bytes, by: Number, where: str) -> Number:
        """Atomically add ``by`` to the number at ``key`` (missing is 0); the new number."""

    @abstractmethod
    def try_lock(self, name: bytes, token: str, lease: float | None) -> bool:
        """Take lock ``name`` for ``token`` if it is free, expired or its owner is dead."""

    @abstractmethod
    def unlock(self, name: bytes, token: str) -> bool:
        """Free lock ``name`` if ``token`` still holds it; False if it did not."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; the backend is unusable afterwards."""
