"""Stable error codes of the client protocol and their HTTP statuses.

This module owns the list of codes a client can see (DESIGN section 3) and how the
REST face maps them onto HTTP. It must not grow behaviour: it is a table.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """A code that appears as ``message.code`` in an error reply."""

    BAD_JSON = "E_BAD_JSON"
    BAD_MESSAGE = "E_BAD_MESSAGE"
    NO_TOKEN = "E_NO_TOKEN"  # noqa: S105 - an error code, not a password
    BAD_TOKEN = "E_BAD_TOKEN"  # noqa: S105 - same
    TOKEN_EXPIRED = "E_TOKEN_EXPIRED"  # noqa: S105 - same
    NO_APP = "E_NO_APP"
    NO_HANDLER = "E_NO_HANDLER"
    HANDLER = "E_HANDLER"
    WORKER_DIED = "E_WORKER_DIED"
    TIMEOUT = "E_TIMEOUT"
    BUSY = "E_BUSY"
    NO_ROUTE = "E_NO_ROUTE"
    PEER_DOWN = "E_PEER_DOWN"
    HOP_LIMIT = "E_HOP_LIMIT"
    FORBIDDEN = "E_FORBIDDEN"
    TOO_LARGE = "E_TOO_LARGE"


# What each code means, in the words the README uses.
DESCRIPTIONS: dict[ErrorCode, str] = {
    ErrorCode.BAD_JSON: "the frame is not valid JSON",
    ErrorCode.BAD_MESSAGE: "the frame is JSON but not a valid message (shape, fields, nesting)",
    ErrorCode.NO_TOKEN: "the message needs a token and carries none",
    ErrorCode.BAD_TOKEN: "the token is malformed, tampered with, or signed with another key",
    ErrorCode.TOKEN_EXPIRED: "the token's sliding session window has passed",
    ErrorCode.NO_APP: "no such application on this node, nor a route for it",
    ErrorCode.NO_HANDLER: "the application has no handler for this type",
    ErrorCode.HANDLER: "the handler raised an exception (the worker survives)",
    ErrorCode.WORKER_DIED: "the worker process died while running the handler",
    ErrorCode.TIMEOUT: "the deadline passed (handler_timeout or request deadline)",
    ErrorCode.BUSY: "the node's queue is full (max_queue)",
    ErrorCode.NO_ROUTE: "no route for this request on this node",
    ErrorCode.PEER_DOWN: "the link to the destination is down or was lost in flight",
    ErrorCode.HOP_LIMIT: "the message has passed too many nodes or looped",
    ErrorCode.FORBIDDEN: "the caller may not do this (role or refusal by before_handler)",
    ErrorCode.TOO_LARGE: "the message or its reply exceeds the size limit",
}

HTTP_STATUS: dict[str, int] = {
    ErrorCode.BAD_JSON: 400,
    ErrorCode.BAD_MESSAGE: 400,
    ErrorCode.NO_TOKEN: 401,
    ErrorCode.BAD_TOKEN: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.NO_APP: 404,
    ErrorCode.NO_HANDLER: 404,
    ErrorCode.HANDLER: 400,
    ErrorCode.WORKER_DIED: 502,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.BUSY: 429,
    ErrorCode.NO_ROUTE: 404,
    ErrorCode.PEER_DOWN: 503,
    ErrorCode.HOP_LIMIT: 502,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.TOO_LARGE: 400,
}


def http_status(code: str) -> int:
    """HTTP status for an error code; application codes from ``HandlerError`` map to 400."""
    return HTTP_STATUS.get(code, 400)
