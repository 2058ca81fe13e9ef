"""Opening stores: zero set-up for SQLite, clear errors for bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from node_runtime.store import StoreError, open_store


def test_sqlite_store_creates_its_directories_and_file(tmp_path: Path) -> None:
    """open_store makes missing parent directories and the file, in WAL mode."""
    path = tmp_path / "data" / "node" / "store.sqlite"
    with open_store(backend="sqlite", path=path) as store:
        store["x"].value = 1
        assert store.backend_name == "sqlite"
    assert path.is_file()
    assert Path(f"{path}-wal").exists() or path.stat().st_size > 0
    with open_store(path=str(path)) as reopened:
        assert reopened["x"].value == 1


def test_unknown_backend_and_missing_path_are_refused(tmp_path: Path) -> None:
    """An unknown backend name, or sqlite without a path, raises StoreError."""
    with pytest.raises(StoreError, match="unknown store backend"):
        open_store(backend="mongo", path=tmp_path / "x")
    with pytest.raises(StoreError, match="needs a path"):
        open_store(backend="sqlite")


def test_unreachable_redis_is_a_store_error() -> None:
    """A redis URL where nothing listens raises StoreError at open."""
    with pytest.raises(StoreError, match="cannot connect"):
        open_store(backend="redis", url="redis://127.0.0.1:1/0")


def test_document_names_must_be_non_empty_strings(tmp_path: Path) -> None:
    """store[""] and store[42] raise StoreError."""
    with open_store(path=tmp_path / "s.sqlite") as store:
        for bad in ("", 42):
            with pytest.raises(StoreError):
                store[bad]  # type: ignore[index]


def test_a_path_that_cannot_hold_a_database_is_a_store_error(tmp_path: Path) -> None:
    """Opening a directory as the store file raises StoreError naming the path."""
    with pytest.raises(StoreError, match=str(tmp_path)):
        open_store(path=tmp_path)
