"""The embedded default backend: one SQLite file in WAL mode shared by a node's processes.

This module owns the SQLite schema and every SQL statement of the store. Each worker
process opens its own connection (never share one across ``fork``); WAL lets readers
run beside one writer, and a busy timeout makes concurrent writers wait instead of
failing. Read-modify-write steps (increment, lock takeover) run under
``BEGIN IMMEDIATE``, which takes the write lock up front so two processes cannot both
read the old value. ``synchronous=NORMAL``: a committed write survives a crash of any
process; only a power loss can drop the last few commits. It must not decode keys.

Schema: ``nodes(key BLOB PRIMARY KEY, value TEXT)`` and
``locks(name BLOB PRIMARY KEY, token TEXT, expires REAL)``, both WITHOUT ROWID so the
primary key is the B-tree and range scans read keys in byte order.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

from node_runtime.store.backend import Backend
from node_runtime.store.errors import StoreError
from node_runtime.store.owner import owner_is_dead
from node_runtime.store.values import Number, incremented

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS nodes (key BLOB PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS locks"
    " (name BLOB PRIMARY KEY, token TEXT NOT NULL, expires REAL) WITHOUT ROWID",
)


class SqliteBackend(Backend):
    """A connection to one SQLite store file; thread-safe, one per process."""

    name = "sqlite"

    def __init__(self, path: str | PathLike[str], busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(
                self.path,
                timeout=busy_timeout,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # guarded by self._guard instead
                cached_statements=256,
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open store file {self.path}: {exc}") from exc
        # sqlite3 connections are not safe for concurrent use by several threads.
        self._guard = threading.RLock()
        try:
            self._prepare(busy_timeout)
        except StoreError:
            self._connection.close()
            raise

    def _prepare(self, busy_timeout: float) -> None:
        """Switch to WAL and create the tables, retrying while another process does so.

        Changing the journal mode does not wait on the busy handler: when several
        processes open a new file at once, all but one get "database is locked".
        """
        deadline = time.monotonic() + busy_timeout
        pause = 0.001
        while True:
            try:
                with self._guarded() as connection:
                    mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
                    if str(mode).lower() != "wal":
                        connection.execute("PRAGMA journal_mode=WAL")
                    connection.execute("PRAGMA synchronous=NORMAL")
                    for statement in _SCHEMA:
                        connection.execute(statement)
                return
            except StoreError as exc:
                code = getattr(exc.__cause__, "sqlite_errorcode", None)
                busy = isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(pause * random.uniform(0.5, 1.0))
            pause = min(pause * 2, 0.05)

    @contextmanager
    def _guarded(self) -> Iterator[sqlite3.Connection]:
        with self._guard:
            try:
                yield self._connection
            except sqlite3.ProgrammingError as exc:
                raise StoreError(f"store {self.path} is closed or misused: {exc}") from exc
            except sqlite3.Error as exc:
                raise StoreError(f"store {self.path}: {exc}") from exc

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back if the body raises."""
        with self._guarded() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def get(self, key: bytes) -> str | None:
        with self._guarded() as connection:
            row = connection.execute("SELECT value FROM nodes WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: bytes, value: str) -> None:
        with self._guarded() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO nodes (key, value) VALUES (?, ?)", (key, value)
            )

    def remove(self, key: bytes) -> None:
        with self._guarded() as connection:
            connection.execute("DELETE FROM nodes WHERE key = ?", (key,))

    def remove_range(self, low: bytes, high: bytes) -> None:
        with self._guarded() as connection:
            connection.execute("DELETE FROM nodes WHERE key >= ? AND key < ?", (low, high))

    def keys(self, low: bytes, high: bytes, limit: int, reverse: bool = False) -> list[bytes]:
        order = "DESC" if reverse else "ASC"
        query = f"SELECT key FROM nodes WHERE key >= ? AND key < ? ORDER BY key {order} LIMIT ?"  # noqa: S608 -- order is one of two literals
        with self._guarded() as connection:
            rows = connection.execute(query, (low, high, limit)).fetchall()
        return [bytes(row[0]) for row in rows]

    def items(self, low: bytes, high: bytes) -> list[tuple[bytes, str | bytes]]:
        with self._guarded() as connection:
            rows = connection.execute(
                "SELECT key, value FROM nodes WHERE key >= ? AND key < ? ORDER BY key",
                (low, high),
            ).fetchall()
        return [(bytes(key), str(value)) for key, value in rows]

    def write_batch(self, puts: Sequence[tuple[bytes, str]], removes: Sequence[bytes]) -> None:
        with self._write_transaction() as connection:
            connection.executemany("DELETE FROM nodes WHERE key = ?", [(key,) for key in removes])
            connection.executemany("INSERT OR REPLACE INTO nodes (key, value) VALUES (?, ?)", puts)

    def increment(self, key: bytes, by: Number, where: str) -> Number:
        with self._write_transaction() as connection:
            row = connection.execute("SELECT value FROM nodes WHERE key = ?", (key,)).fetchone()
            result, text = incremented(None if row is None else row[0], by, where)
            connection.execute(
                "INSERT OR REPLACE INTO nodes (key, value) VALUES (?, ?)", (key, text)
            )
        return result

    def try_lock(self, name: bytes, token: str, lease: float | None) -> bool:
        select = "SELECT token, expires FROM locks WHERE name = ?"
        # A plain read first: a lock held by a live owner costs no write transaction.
        with self._guarded() as connection:
            row = connection.execute(select, (name,)).fetchone()
        if row is not None and not _is_stale(row[0], row[1]):
            return False
        with self._write_transaction() as connection:
            row = connection.execute(select, (name,)).fetchone()
            if row is not None and not _is_stale(row[0], row[1]):
                return False
            expires = None if lease is None else time.time() + lease
            connection.execute(
                "INSERT OR REPLACE INTO locks (name, token, expires) VALUES (?, ?, ?)",
                (name, token, expires),
            )
        return True

    def unlock(self, name: bytes, token: str) -> bool:
        with self._guarded() as connection:
            cursor = connection.execute(
                "DELETE FROM locks WHERE name = ? AND token = ?", (name, token)
            )
        return cursor.rowcount == 1

    def close(self) -> None:
        with self._guard:
            self._connection.close()


def _is_stale(token: str, expires: float | None) -> bool:
    """A lock may be taken over when its lease ran out or its owner process is gone."""
    return (expires is not None and expires <= time.time()) or owner_is_dead(token)
