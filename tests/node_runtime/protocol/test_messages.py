"""The pure message core: frame decoding, request checks, reply shapes, trace maths."""

from __future__ import annotations

import json

import pytest

from node_runtime.calls import frame_text
from node_runtime.protocol import messages as m
from node_runtime.protocol.trace import hop, is_hop_list, with_transit


def test_decode_rejects_non_json_and_non_objects() -> None:
    """Non-JSON is E_BAD_JSON; JSON that is not an object is E_BAD_MESSAGE."""
    with pytest.raises(m.FrameError) as bad_json:
        m.decode_frame("{nope")
    assert bad_json.value.code == "E_BAD_JSON"
    for text in ("[]", "3", '"x"', "null"):
        with pytest.raises(m.FrameError) as not_object:
            m.decode_frame(text)
        assert not_object.value.code == "E_BAD_MESSAGE"


def test_decode_bounds_nesting_and_keeps_the_id() -> None:
    """A frame nested past the limit is refused with the id it carried."""
    text = json.dumps({"type": "t", "id": 5, "params": [[[[[[1]]]]]]})
    with pytest.raises(m.FrameError) as error:
        m.decode_frame(text, max_depth=4)
    assert error.value.code == "E_BAD_MESSAGE"
    assert error.value.id == 5
    assert m.decode_frame(text, max_depth=10)["id"] == 5


def test_brackets_inside_strings_do_not_trip_the_depth_check() -> None:
    """Many brackets inside a string value are not nesting."""
    frame = m.decode_frame(json.dumps({"type": "t", "params": "[" * 500}), max_depth=4)
    assert frame["params"] == "[" * 500


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        ({}, "'type'"),
        ({"type": ""}, "'type'"),
        ({"type": "x" * 200}, "longer"),
        ({"type": "t", "id": True}, "'id'"),
        ({"type": "t", "id": [1]}, "'id'"),
        ({"type": "t", "token": 1}, "'token'"),
        ({"type": "t", "application": ""}, "'application'"),
        ({"type": "t", "trace": 1}, "'trace'"),
        ({"type": "t", "via": "a"}, "'via'"),
        ({"type": "t", "deadline": -1}, "'deadline'"),
        ({"type": "t", "deadline": True}, "'deadline'"),
    ],
)
def test_parse_request_names_the_bad_field(frame: dict[str, object], fragment: str) -> None:
    """Each malformed field is refused with E_BAD_MESSAGE and named in the text."""
    with pytest.raises(m.FrameError) as error:
        m.parse_request(frame)
    assert error.value.code == "E_BAD_MESSAGE"
    assert fragment in error.value.text


def test_too_many_hops_is_hop_limit() -> None:
    """A via list longer than the bound is E_HOP_LIMIT."""
    with pytest.raises(m.FrameError) as error:
        m.parse_request({"type": "t", "via": [f"n{i}" for i in range(m.MAX_VIA + 1)]})
    assert error.value.code == "E_HOP_LIMIT"


def test_parse_request_keeps_fields() -> None:
    """A good request keeps id, token, params, application, trace, via and deadline."""
    request = m.parse_request(
        {
            "type": "t",
            "id": "a7",
            "token": "x",
            "params": {"a": 1},
            "application": "app",
            "trace": True,
            "via": ["n1"],
            "deadline": 250,
        }
    )
    assert (request.type, request.id, request.token, request.params) == ("t", "a7", "x", {"a": 1})
    assert (request.application, request.trace, request.via) == ("app", True, ("n1",))
    assert request.deadline_ms == 250.0


def test_frame_text_is_the_json_of_the_reply() -> None:
    """Splicing an encoded message gives the same frame as encoding the whole reply."""
    text = frame_text("t", "a7", '{"x":1}', ms=1.5, hops=[{"node": "n"}])
    assert json.loads(text) == {
        "type": "t",
        "id": "a7",
        "finished": True,
        "message": {"x": 1},
        "ms": 1.5,
        "trace": [{"node": "n"}],
    }
    assert "id" not in json.loads(frame_text("t", None, "{}", finished=False))


def test_transit_is_callers_wait_minus_callees_time() -> None:
    """Link transit is derived from the caller's next-hop wait and the callee's total."""
    hops = with_transit(
        [
            hop("a", total_ms=5.0, next_ms=4.0),
            hop("b", total_ms=3.0, next_ms=2.5),
            hop("c", total_ms=2.0, handler_ms=1.8),
        ]
    )
    assert [h.get("transit_ms") for h in hops] == [1.0, 0.5, None]
    assert (
        with_transit([hop("a", total_ms=1, next_ms=1), hop("b", total_ms=2)])[0]["transit_ms"]
        == 0.0
    )
    assert is_hop_list(hops)
    assert not is_hop_list([{"x": 1}])
    assert not is_hop_list("no")
