"""Locks within one process, on every backend: acquire, release, timeout, lease."""

from __future__ import annotations

import pytest

from node_runtime.store import DocumentStore, LockTimeout, StoreError


def test_lock_context_manager_acquires_and_releases(store: DocumentStore) -> None:
    """Inside ``with node.lock()`` the lock is held; after it, another holder can take it."""
    node = store["d"]["x"]
    lock = node.lock(timeout=1.0)
    states = [lock.held]
    with lock:
        states.append(lock.held)
    states.append(lock.held)
    assert states == [False, True, False]
    node.lock(timeout=0).acquire().release()


def test_second_holder_times_out_while_the_lock_is_held(store: DocumentStore) -> None:
    """A second lock object on the same path raises LockTimeout after its timeout."""
    node = store["d"]["x"]
    first = node.lock(timeout=1.0).acquire()
    try:
        with pytest.raises(LockTimeout) as raised:
            node.lock(timeout=0.05).acquire()
        assert raised.value.timeout == 0.05
        assert isinstance(raised.value, StoreError)
        assert '^d("x")' in str(raised.value)
    finally:
        first.release()


def test_locks_on_different_paths_are_independent(store: DocumentStore) -> None:
    """A lock covers one path only: its parent, children and siblings stay free."""
    with store["d"]["x"].lock(timeout=0):
        for other in (store["d"], store["d"]["x"]["y"], store["d"]["z"], store["e"]["x"]):
            other.lock(timeout=0).acquire().release()


def test_releasing_a_lock_not_held_raises(store: DocumentStore) -> None:
    """release() without acquire, or twice, raises StoreError."""
    lock = store["d"]["x"].lock()
    with pytest.raises(StoreError, match="not held"):
        lock.release()
    lock.acquire()
    lock.release()
    with pytest.raises(StoreError, match="not held"):
        lock.release()


def test_acquiring_twice_with_one_lock_object_raises(store: DocumentStore) -> None:
    """A lock object is not re-entrant: a second acquire() on it raises StoreError."""
    lock = store["d"]["x"].lock(timeout=0).acquire()
    with pytest.raises(StoreError, match="already held"):
        lock.acquire()
    lock.release()


def test_an_expired_lease_lets_another_holder_in(store: DocumentStore) -> None:
    """After its lease a lock can be taken by another; the first holder's release then fails."""
    first = store["d"]["x"].lock(timeout=0, lease=0.1).acquire()
    second = store["d"]["x"].lock(timeout=5.0).acquire()
    with pytest.raises(StoreError, match="lost"):
        first.release()
    second.release()


@pytest.mark.parametrize(("timeout", "lease"), [(-1.0, 1.0), (1.0, 0.0), (1.0, -2.0)])
def test_invalid_lock_settings_are_refused(
    store: DocumentStore, timeout: float, lease: float
) -> None:
    """A negative timeout or a non-positive lease raises StoreError."""
    with pytest.raises(StoreError):
        store["d"].lock(timeout=timeout, lease=lease)
