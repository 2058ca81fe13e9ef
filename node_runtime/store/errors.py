"""Errors raised by the document store.

This module owns the store's two error types. It must not grow behaviour: backends
translate their library exceptions (sqlite3, redis) into these at the boundary.
"""

from __future__ import annotations

from node_runtime.errors import NodeError
from node_runtime.protocol.codes import ErrorCode


class StoreError(NodeError):
    """The store was misused (bad subscript or value) or its database failed."""

    def __init__(self, text: str, code: str = ErrorCode.HANDLER) -> None:
        super().__init__(text, code)


class LockTimeout(StoreError):  # noqa: N818 -- the public name the node API promises
    """A lock could not be acquired before its timeout; names the path and the timeout."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__(f"lock on {path} not acquired within {timeout:g}s", ErrorCode.TIMEOUT)
        self.path = path
        self.timeout = timeout
