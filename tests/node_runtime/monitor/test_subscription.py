"""The pure subscription rules: parsing, role checks, filters and the token bucket."""

from __future__ import annotations

import pytest

from node_runtime.monitor.subscription import SubscribeError, TokenBucket, parse_subscribe


def test_bucket_allows_a_burst_then_the_rate() -> None:
    """A 10/s bucket passes 10 at once, then one per 0.1 s of time passed in."""
    bucket = TokenBucket(10.0, now=0.0)
    assert sum(bucket.take(0.0) for _ in range(20)) == 10
    assert bucket.take(0.05) is False
    assert bucket.take(0.1) is True
    assert sum(bucket.take(10.0) for _ in range(20)) == 10


def test_filters_match_strings_lists_and_status() -> None:
    """Each filter is a string or a list; status compares ok/error; absent means all."""
    sub = parse_subscribe(
        {"filters": {"app": ["a", "b"], "status": "error", "type": "t"}}, "monitor"
    )
    assert sub.matches(app="a", type_="t", node="n", ok=False)
    assert not sub.matches(app="a", type_="t", node="n", ok=True)
    assert not sub.matches(app="c", type_="t", node="n", ok=False)
    assert not sub.matches(app="b", type_="u", node="n", ok=False)
    by_node = parse_subscribe({"filters": {"node": "n1"}}, "monitor")
    assert by_node.matches(app="a", type_="t", node="n1", ok=True)
    assert not by_node.matches(app="a", type_="t", node="n2", ok=True)
    assert parse_subscribe({}, "monitor").matches(app="x", type_="y", node="n", ok=True)


@pytest.mark.parametrize(
    ("op", "role", "code"),
    [
        ({"payloads": True}, "monitor", "E_FORBIDDEN"),
        ({"payloads": True, "tokens": "yes"}, "admin", "E_BAD_MESSAGE"),
        ({"tokens": True}, "admin", "E_BAD_MESSAGE"),
        ({"max_rate": 0}, "admin", "E_BAD_MESSAGE"),
        ({"max_rate": 10_001}, "admin", "E_BAD_MESSAGE"),
        ({"max_rate": True}, "admin", "E_BAD_MESSAGE"),
        ({"filters": {"colour": "red"}}, "admin", "E_BAD_MESSAGE"),
        ({"filters": {"app": 5}}, "admin", "E_BAD_MESSAGE"),
    ],
)
def test_bad_subscriptions_are_refused(op: dict[str, object], role: str, code: str) -> None:
    """Payloads need admin; rates and filters outside the contract are bad messages."""
    with pytest.raises(SubscribeError) as caught:
        parse_subscribe(op, role)
    assert caught.value.code == code


def test_batch_is_a_boolean_option() -> None:
    """`batch` turns batched flows frames on, and anything but a boolean is refused."""
    from node_runtime.monitor.subscription import SubscribeError, parse_subscribe

    assert parse_subscribe({"batch": True}, "monitor").batch is True
    assert parse_subscribe({}, "monitor").batch is False
    with pytest.raises(SubscribeError):
        parse_subscribe({"batch": "yes"}, "monitor")
