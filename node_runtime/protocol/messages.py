"""Message shapes of the client protocol (DESIGN section 3): parse frames, build replies.

This module owns what a valid frame is and what every reply looks like, so the
transport only moves text and the master only decides. It does no I/O and never
reads the clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from node_runtime.errors import NodeError
from node_runtime.protocol.codes import ErrorCode

MAX_DEPTH = 64
MAX_TYPE_LEN = 128
MAX_ID_LEN = 128
MAX_VIA = 16

REGISTER = "ewd-register"
REREGISTER = "ewd-reregister"

Json = Any
MessageId = str | int | None


class FrameError(NodeError):
    """The peer sent a frame we cannot act on; carries what is needed to answer it."""

    def __init__(self, code: str, text: str, *, type_: str = "error", id_: MessageId = None):
        super().__init__(text, code)
        self.type = type_
        self.id = id_


@dataclass(slots=True)
class Request:
    """One client request after its shape has been checked."""

    type: str
    id: MessageId
    token: str | None
    params: Json
    application: str | None = None
    trace: bool = False
    via: tuple[str, ...] = ()
    deadline_ms: float | None = None
    extra: dict[str, Json] = field(default_factory=dict)


def _depth_exceeds(obj: Json, limit: int) -> bool:
    """True when ``obj`` nests containers deeper than ``limit`` (iterative, no recursion)."""
    stack: list[tuple[Json, int]] = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def decode_frame(data: str | bytes, max_depth: int = MAX_DEPTH) -> dict[str, Json]:
    """Decode one text frame into a JSON object or raise ``FrameError``."""
    try:
        obj = json.loads(data)
    except RecursionError as exc:
        raise FrameError(ErrorCode.BAD_MESSAGE, "message nests too deeply") from exc
    except (ValueError, TypeError) as exc:
        raise FrameError(ErrorCode.BAD_JSON, f"frame is not valid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise FrameError(ErrorCode.BAD_MESSAGE, "a message must be a JSON object")
    # Counting brackets is far cheaper than walking, and bounds the walk to frames that
    # could possibly be too deep.
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    if text.count("{") + text.count("[") > max_depth and _depth_exceeds(obj, max_depth):
        raise FrameError(
            ErrorCode.BAD_MESSAGE,
            f"message nests deeper than {max_depth} levels",
            type_=_safe_type(obj),
            id_=_safe_id(obj),
        )
    return obj


def _safe_type(obj: dict[str, Json]) -> str:
    value = obj.get("type")
    if isinstance(value, str) and 0 < len(value) <= MAX_TYPE_LEN:
        return value
    return "error"


def _safe_id(obj: dict[str, Json]) -> MessageId:
    value = obj.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and len(value) <= MAX_ID_LEN):
        return value
    return None


def parse_request(obj: dict[str, Json]) -> Request:
    """Check the fields of a decoded message; raise ``FrameError`` naming the bad one."""
    type_ = _safe_type(obj)
    id_ = _safe_id(obj)

    def bad(text: str) -> FrameError:
        return FrameError(ErrorCode.BAD_MESSAGE, text, type_=type_, id_=id_)

    raw_type = obj.get("type")
    if not isinstance(raw_type, str) or not raw_type:
        raise bad("field 'type' must be a non-empty string")
    if len(raw_type) > MAX_TYPE_LEN:
        raise bad(f"field 'type' is longer than {MAX_TYPE_LEN} characters")
    raw_id = obj.get("id")
    if raw_id is not None and raw_id != id_:
        raise bad(f"field 'id' must be a string of at most {MAX_ID_LEN} characters or an integer")
    token = obj.get("token")
    if token is not None and not isinstance(token, str):
        raise bad("field 'token' must be a string")
    application = obj.get("application")
    if application is not None and (not isinstance(application, str) or not application):
        raise bad("field 'application' must be a non-empty string")
    trace = obj.get("trace", False)
    if not isinstance(trace, bool):
        raise bad("field 'trace' must be true or false")
    via_raw = obj.get("via", ())
    if not isinstance(via_raw, list | tuple) or not all(isinstance(v, str) for v in via_raw):
        raise bad("field 'via' must be a list of node names")
    if len(via_raw) > MAX_VIA:
        raise FrameError(ErrorCode.HOP_LIMIT, "message passed too many nodes", type_=type_, id_=id_)
    deadline = obj.get("deadline")
    if deadline is not None and (
        isinstance(deadline, bool) or not isinstance(deadline, int | float) or deadline < 0
    ):
        raise bad("field 'deadline' must be a non-negative number of milliseconds")
    return Request(
        type=raw_type,
        id=id_,
        token=token,
        params=obj.get("params"),
        application=application,
        trace=trace,
        via=tuple(via_raw),
        deadline_ms=float(deadline) if deadline is not None else None,
    )


def reply(type_: str, id_: MessageId, message: Json, *, finished: bool = True) -> dict[str, Json]:
    """A reply frame; ``id`` is echoed only when the request carried one."""
    frame: dict[str, Json] = {"type": type_, "finished": finished, "message": message}
    if id_ is not None:
        frame["id"] = id_
    return frame


def error_message(code: str, text: str, **extra: Json) -> dict[str, Json]:
    """The ``message`` part of an error reply."""
    body: dict[str, Json] = {"error": text, "code": code}
    body.update(extra)
    return body


def error_reply(type_: str, id_: MessageId, code: str, text: str, **extra: Json) -> dict[str, Json]:
    """A final error reply frame."""
    return reply(type_, id_, error_message(code, text, **extra))


def is_error(message: Json) -> TypeGuard[dict[str, Json]]:
    """True when a final ``message`` is an error (has both ``error`` and ``code``)."""
    return isinstance(message, dict) and "error" in message and "code" in message


def encode(frame: dict[str, Json]) -> str:
    """Encode a frame compactly; non-JSON values become strings rather than failing."""
    return json.dumps(frame, separators=(",", ":"), default=str)
