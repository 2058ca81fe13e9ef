"""The document store: QEWD's DocumentNode model over SQLite (default) or Redis.

    store = open_store(backend="sqlite", path="data/node/store.sqlite")
    store["patients"][42]["name"].value = "Ann"

Subscripts collate as in M (numbers, then strings; see ``collation``); values are JSON
scalars that keep their type (see ``values``); every process opens its own store.
"""

from __future__ import annotations

from node_runtime.store.collation import Subscript
from node_runtime.store.errors import LockTimeout, StoreError
from node_runtime.store.locking import NodeLock
from node_runtime.store.node import Document, DocumentNode
from node_runtime.store.store import DocumentStore, open_store
from node_runtime.store.values import Scalar

__all__ = [
    "Document",
    "DocumentNode",
    "DocumentStore",
    "LockTimeout",
    "NodeLock",
    "Scalar",
    "StoreError",
    "Subscript",
    "open_store",
]
