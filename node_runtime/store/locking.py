"""Named locks on a node's path, held across processes.

This module owns the acquire loop (poll with jittered exponential backoff until a
deadline) and the holder's token. A lock covers exactly one path: unlike M's LOCK it
does not also cover descendants or ancestors (the same choice as QEWD's Redis
emulation). It is not re-entrant: a second ``NodeLock`` on the same path waits, even in
the same thread. A lock is held until ``release``, until its holder process dies (then
the next contender on the same host reclaims it at once), or until its ``lease``
seconds pass, whichever comes first; ``lease=None`` means no expiry. The backend does
the atomic take/free; this module must not touch storage itself.
"""

from __future__ import annotations

import random
import time
from types import TracebackType

from node_runtime.store.backend import Backend
from node_runtime.store.errors import LockTimeout, StoreError
from node_runtime.store.owner import new_token

DEFAULT_TIMEOUT = 5.0
DEFAULT_LEASE = 60.0
_FIRST_PAUSE = 0.001
_MAX_PAUSE = 0.05


class NodeLock:
    """One holder's lock on one path; use ``with`` or ``acquire()``/``release()``."""

    def __init__(
        self, backend: Backend, name: bytes, where: str, timeout: float, lease: float | None
    ) -> None:
        if timeout < 0:
            raise StoreError(f"lock on {where}: timeout must be >= 0, not {timeout!r}")
        if lease is not None and lease <= 0:
            raise StoreError(f"lock on {where}: lease must be > 0 or None, not {lease!r}")
        self._backend = backend
        self._name = name
        self._where = where
        self.timeout = timeout
        self.lease = lease
        self._token: str | None = None

    @property
    def held(self) -> bool:
        """True between a successful acquire and the release (lease expiry is not seen)."""
        return self._token is not None

    def acquire(self) -> NodeLock:
        """Wait up to ``timeout`` seconds for the lock; LockTimeout if it stays taken."""
        if self._token is not None:
            raise StoreError(f"lock on {self._where} is already held by this lock object")
        token = new_token()
        deadline = time.monotonic() + self.timeout
        pause = _FIRST_PAUSE
        while not self._backend.try_lock(self._name, token, self.lease):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeout(self._where, self.timeout)
            # Jitter keeps contenders that started together from polling in step.
            time.sleep(min(remaining, pause * random.uniform(0.5, 1.0)))
            pause = min(pause * 2, _MAX_PAUSE)
        self._token = token
        return self

    def release(self) -> None:
        """Free the lock; StoreError if it was not held or was lost (lease, reclaim)."""
        token, self._token = self._token, None
        if token is None:
            raise StoreError(f"lock on {self._where} is not held by this lock object")
        if not self._backend.unlock(self._name, token):
            raise StoreError(f"lock on {self._where} was lost before release (lease expired)")

    def __enter__(self) -> NodeLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
