"""Flow events written straight from a finished call: valid JSON, the same facts as the
call's own trace, payloads spliced in, and session tokens redacted unless asked for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from node_runtime.calls import Call
from node_runtime.monitor.flow_json import REDACTED, flow_json, redact_token
from node_runtime.protocol.messages import MessageId, Request

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJzMSJ9.c2lnbmF0dXJl"


def finished_call(id_: MessageId = 7, *, ok: bool = True, **fields: Any) -> tuple[Call, list[str]]:
    """A call run to its end the way the master runs one, with the frames it sent."""
    sent: list[str] = []
    call = Call(
        send=sent.append,
        node="n1",
        type_="echo",
        id_=id_,
        app="trials",
        trace=True,
        deadline=5.0,
        peer_label="127.0.0.1:5000",
        request_bytes=40,
        on_finish=lambda *_: None,
    )
    for key, value in fields.items():
        setattr(call, key, value)
    if ok:
        call.succeed('{"echo":"hi","token":"' + TOKEN + '"}')
    else:
        call.fail("E_HANDLER", "boom")
    return call, sent


def test_plain_flow_has_the_calls_facts_and_its_own_trace() -> None:
    """Without payloads: the summary fields, and the same hop list the reply carried."""
    call, sent = finished_call(queue_ms=0.25, handler_ms=1.5, worker=4321)
    flow = json.loads(flow_json(call, '{"a":1}', wall_time=1700000000.5, payloads=False))
    reply_trace = json.loads(sent[0])["trace"]
    assert flow["trace"] == reply_trace
    assert flow["trace"][0]["worker"] == 4321
    assert flow["ms"] == pytest.approx(call.total_ms, abs=0.001)
    assert {k: flow[k] for k in ("id", "app", "type", "from", "to", "node", "ok", "code")} == {
        "id": 7,
        "app": "trials",
        "type": "echo",
        "from": "127.0.0.1:5000",
        "to": "n1",
        "node": "n1",
        "ok": True,
        "code": "",
    }
    assert flow["reply_bytes"] == len('{"a":1}')
    assert flow["request_bytes"] == 40
    assert flow["time"] == 1700000000.5
    assert "reply" not in flow
    assert "request" not in flow


def test_forwarded_trace_keeps_the_next_hops_with_transit() -> None:
    """A call that went on to another node lists that node's hop after its own."""
    far = [{"node": "n2", "queue_ms": 0.1, "handler_ms": 0.2, "next_ms": 0.0, "total_ms": 0.5}]
    call, sent = finished_call(destination="far", next_ms=0.9, next_hops=far)
    flow = json.loads(flow_json(call, "{}", wall_time=1.0, payloads=False))
    assert [hop["node"] for hop in flow["trace"]] == ["n1", "n2"]
    assert flow["trace"] == json.loads(sent[0])["trace"]
    assert flow["trace"][0]["transit_ms"] == pytest.approx(0.4)
    assert flow["to"] == "far"


@pytest.mark.parametrize("id_", [None, 'a"b\\c\u00e9', 3.5, 12])
def test_any_message_id_is_written_as_json(id_: MessageId) -> None:
    """Ids of every JSON kind, strings with quotes and non-ASCII included, round-trip."""
    call, _ = finished_call(id_)
    assert json.loads(flow_json(call, "{}", wall_time=1.0, payloads=False))["id"] == id_


def test_payloads_carry_request_reply_and_intermediates_with_the_token_redacted() -> None:
    """The reply is spliced in as the worker wrote it, but its session token is redacted."""
    call, _ = finished_call(kept=['{"step":1}', '{"step":2}'])
    call.request = Request(type="echo", id=7, token=TOKEN, params={"text": "hi"})
    reply = '{"echo":"hi","token":"' + TOKEN + '"}'
    text = flow_json(call, reply, wall_time=1.0, payloads=True)
    flow = json.loads(text)
    assert TOKEN not in text
    assert flow["reply"] == {"echo": "hi", "token": REDACTED}
    assert flow["request"] == {
        "type": "echo",
        "application": None,
        "params": {"text": "hi"},
        "id": 7,
    }
    assert flow["intermediates"] == [{"step": 1}, {"step": 2}]
    kept = json.loads(flow_json(call, reply, wall_time=1.0, payloads=True, tokens=True))
    assert kept["reply"]["token"] == TOKEN


def test_failed_call_flow() -> None:
    """A failure is ok false with its code, and the error message as the reply."""
    call, _ = finished_call(ok=False)
    error = json.dumps({"error": "boom", "code": "E_HANDLER"})
    flow = json.loads(flow_json(call, error, wall_time=1.0, payloads=True))
    assert (flow["ok"], flow["code"], flow["reply"]["code"]) == (False, "E_HANDLER", "E_HANDLER")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"a":1,"token":"' + TOKEN + '"}', {"a": 1, "token": REDACTED}),
        ('{"token":"' + TOKEN + '","a":1}', {"token": REDACTED, "a": 1}),
        ('{"token":"' + TOKEN + '"}', {"token": REDACTED}),
        ('{"a":{"token":"inner"}}', {"a": {"token": "inner"}}),
        ('{"a":"x\\",\\"token\\":\\"y"}', {"a": 'x","token":"y'}),
        ('{"a":1}', {"a": 1}),
        ("[1,2]", [1, 2]),
        ('{"token":5}', {"token": REDACTED}),
    ],
)
def test_redact_token_touches_only_the_top_level_token(reply: str, expected: Any) -> None:
    """Only a top-level ``token`` member is replaced, whatever its place or the text's shape."""
    assert json.loads(redact_token(reply)) == expected


def test_redact_token_leaves_text_that_is_not_json() -> None:
    """A reply that does not parse is passed on as it is (never raises)."""
    assert redact_token('{"token": oops') == '{"token": oops'
