"""DocumentStore: one process's open store, and ``open_store`` to make one.

This module owns choosing and opening a backend and the store-wide operations (the
document directory, close). Every OS process opens its own store object on the same
SQLite file or Redis database; one object is safe to share between the threads of a
process but must not cross a ``fork``. Node behaviour lives in ``node``, storage in the
backends; this module must not grow either.
"""

from __future__ import annotations

from os import PathLike
from types import TracebackType

from node_runtime.store.backend import Backend
from node_runtime.store.collation import decode_element
from node_runtime.store.errors import StoreError
from node_runtime.store.node import DocumentNode, child_keys_between

BACKENDS = ("sqlite", "redis")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class DocumentStore:
    """An open document store: ``store["patients"]`` is the document node of a global."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @property
    def backend_name(self) -> str:
        """Which backend this store uses: "sqlite" or "redis"."""
        return self._backend.name

    def __getitem__(self, name: str) -> DocumentNode:
        """The top-level node of document (global) ``name``."""
        return DocumentNode.document_root(self._backend, name)

    def document_names(self) -> list[str]:
        """Names of every document that holds at least one value, in collation order."""
        names = []
        for key in child_keys_between(self._backend, b"", b"", b"\xff", reverse=False):
            name = decode_element(key)
            assert isinstance(name, str)
            names.append(name)
        return names

    def close(self) -> None:
        """Close the connection; nodes of this store are unusable afterwards."""
        self._backend.close()

    def __enter__(self) -> DocumentStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_store(
    backend: str = "sqlite",
    *,
    path: str | PathLike[str] | None = None,
    url: str = DEFAULT_REDIS_URL,
    namespace: str = "qewd",
    busy_timeout: float = 10.0,
) -> DocumentStore:
    """Open a store: SQLite at ``path`` (file and directories created) or Redis at ``url``.

    ``busy_timeout`` is how long a SQLite writer waits for another process's write;
    ``namespace`` prefixes every Redis key so several meshes can share one database.
    """
    if backend == "sqlite":
        if path is None:
            raise StoreError("the sqlite backend needs a path for its store file")
        from node_runtime.store.sqlite_backend import SqliteBackend  # noqa: PLC0415 -- load only the backend in use

        return DocumentStore(SqliteBackend(path, busy_timeout))
    if backend == "redis":
        from node_runtime.store.redis_backend import RedisBackend  # noqa: PLC0415 -- redis is only needed by redis nodes

        return DocumentStore(RedisBackend(url, namespace))
    raise StoreError(f"unknown store backend {backend!r}; choose one of {', '.join(BACKENDS)}")
