"""A finished call as the JSON text of one ``flow`` event (docs/monitor.md).

Flows are the monitor's hot path: a console at full rate asks for one per request, so
the text is written straight from the call — strings through the C escaper, times at
fixed precision, the reply JSON spliced in as the worker wrote it — instead of building
a dict and encoding it (about 3x cheaper). Session tokens in replies are credentials:
they are redacted here, before anything leaves the node, unless the subscriber asked
for them. Pure: no I/O, the wall time is passed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring_ascii as _quote
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from node_runtime.calls import Call

# What a redacted token reads as, in flows and in captures.
REDACTED = "<redacted>"


def _compact_encoder() -> Callable[[Any], str]:
    """Compact JSON for values decoded from JSON (no cycles possible). The C encoder is
    built once here: ``JSONEncoder.encode`` builds a new one per call, which costs more
    than encoding a small object."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(separators=(",", ":"), check_circular=False).encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    chunks = make(None, refuse, _quote, None, ":", ",", False, False, True)
    return lambda value: "".join(chunks(value, 0))


_encode = _compact_encoder()
_TOKEN_MEMBER = ',"token":"'  # noqa: S105 - the JSON key, not a secret
_REDACTED_MEMBER = ',"token":' + _quote(REDACTED) + "}"


def _value(value: Any) -> str:
    """Any JSON value; ints and strings (almost every message id) without the encoder."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return _quote(value)
    return _encode(value)


def trace_json(call: Call) -> str:
    """The call's hop list: this node's hop written directly when it is the only one."""
    if call.next_hops:
        return _encode(call.hop_list(call.total_ms))
    worker = "" if call.worker is None else f',"worker":{call.worker}'
    return (
        f'[{{"node":{_quote(call.node)},"queue_ms":{call.queue_ms:.3f},'
        f'"handler_ms":{call.handler_ms:.3f},"next_ms":{call.next_ms:.3f},'
        f'"total_ms":{call.total_ms:.3f}{worker}}}]'
    )


def redact_token(message_json: str) -> str:
    """A reply with its top-level ``token`` (the refreshed session token) redacted.

    The worker adds the token last, so it is found at the end without parsing; any
    other shape takes the slow path through the decoder.
    """
    at = message_json.rfind(_TOKEN_MEMBER)
    if at > 0 and message_json.endswith('"}'):
        value = message_json[at + len(_TOKEN_MEMBER) : -2]
        if '"' not in value and "\\" not in value:
            return message_json[:at] + _REDACTED_MEMBER
    if '"token"' not in message_json:
        return message_json
    try:
        message = json.loads(message_json)
    except ValueError:
        return message_json
    if not isinstance(message, dict) or "token" not in message:
        return message_json
    message["token"] = REDACTED
    return _encode(message)


def flow_json(
    call: Call,
    message_json: str,
    *,
    wall_time: float,
    payloads: bool,
    tokens: bool = False,
) -> str:
    """One flow event as JSON: the call's summary, and with ``payloads`` the request (if
    the call kept it), the intermediates and the final reply (its token redacted unless
    ``tokens``)."""
    body = (
        f'{{"id":{_value(call.id)},"app":{_quote(call.app)},"type":{_quote(call.type)},'
        f'"from":{_quote(call.peer_label)},"to":{_quote(call.destination or call.node)},'
        f'"node":{_quote(call.node)},"ok":{"true" if call.ok else "false"},'
        f'"code":{_quote(call.code)},"ms":{call.total_ms:.3f},'
        f'"request_bytes":{call.request_bytes},"reply_bytes":{len(message_json)},'
        f'"trace":{trace_json(call)},"time":{wall_time:.6f},'
        f'"session":{_quote(call.session_id)}'
    )
    if not payloads:
        return body + "}"
    reply = message_json if tokens else redact_token(message_json)
    parts = [body, ',"reply":', reply or "null"]
    request = call.request
    if request is not None:
        application = "null" if request.application is None else _quote(request.application)
        parts += [
            f',"request":{{"type":{_quote(request.type)},"application":{application},'
            f'"params":{_encode(request.params)},"id":{_value(request.id)}}}'
        ]
    if call.kept:
        parts += [',"intermediates":[', ",".join(call.kept), "]"]
    parts.append("}")
    return "".join(parts)
