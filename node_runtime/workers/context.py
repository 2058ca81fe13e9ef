"""What a handler sees as ``ctx``: the session, intermediate sends, the store, the node name.

Lives in the worker process. It must not know how frames reach the master; it is
given a ``send`` callable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node_runtime.protocol.tokens import Session
from node_runtime.store import DocumentStore, open_store

StoreOpener = Callable[[], DocumentStore]


class StoreHolder:
    """Opens the node's document store on first use and keeps it for the worker's life."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self._settings = settings
        self._store: DocumentStore | None = None

    def get(self) -> DocumentStore:
        """The open store."""
        if self._store is None:
            self._store = open_store(**self._settings)
        return self._store

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None


class HandlerContext:
    """The ``ctx`` argument of a handler."""

    __slots__ = ("_send", "_stores", "node", "request", "session", "worker_pid")

    def __init__(
        self,
        *,
        node: str,
        session: Session,
        stores: StoreHolder,
        send: Callable[[Any, str | None], None],
        worker_pid: int,
        request: dict[str, Any] | None = None,
    ) -> None:
        self.node = node
        self.session = session
        self._stores = stores
        self._send = send
        self.worker_pid = worker_pid
        self.request = request or {}

    @property
    def store(self) -> DocumentStore:
        """The node's document store, shared by every worker of the node."""
        return self._stores.get()

    def send(self, message: Any, type: str | None = None) -> None:
        """Send an intermediate message (``finished: false``) to the requesting client."""
        self._send(message, type)
