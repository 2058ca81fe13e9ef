"""Session-layer pieces that need no loop and no Qt: rings, series, mirrors, waterfall."""

from __future__ import annotations

from qewd_console.session.mirror import NodeMirror
from qewd_console.session.monitor_client import monitor_url
from qewd_console.session.ring import SeqRing, TimeSeries
from qewd_console.session.waterfall import path_of, waterfall


def test_seq_ring_keeps_the_newest_and_reports_what_came_since() -> None:
    """A full ring drops the oldest items, and ``since`` skips what was dropped."""
    ring: SeqRing[int] = SeqRing(3)
    for value in range(5):
        ring.append(value)
    assert list(ring) == [2, 3, 4]
    assert [item for _, item in ring.since(0)] == [2, 3, 4]
    assert [item for _, item in ring.since(4)] == [4]
    assert ring.since(5) == []


def test_time_series_forgets_points_past_its_horizon() -> None:
    """Points older than the horizon (relative to the newest) are discarded."""
    series = TimeSeries(horizon=10.0)
    for second in range(30):
        series.add(float(second), 1.0)
    assert list(series.times) == [float(s) for s in range(19, 30)]


def test_mirror_follows_snapshot_stats_worker_and_routes_frames() -> None:
    """A mirror takes identity from the snapshot, load from stats, and later changes."""
    mirror = NodeMirror(key="ws://127.0.0.1:1/ws")
    mirror.apply(
        {
            "kind": "snapshot",
            "node": {"name": "n1", "pool_size": 2, "url": "ws://x/ws"},
            "role": "admin",
            "workers": [{"pid": 1}],
            "links": [],
            "routes": {"version": 3, "map": {"routes": []}},
        }
    )
    assert (mirror.name, mirror.state, mirror.routes_version) == ("n1", "up", 3)
    mirror.apply(
        {
            "kind": "stats",
            "time": 100.0,
            "queue": 0,
            "busy": 1,
            "pool_size": 2,
            "workers": [{"pid": 1}, {"pid": 2}],
            "rates": {"in": 5.0},
            "latency": [{"app": "a", "type": "t", "p50": 1.0, "p99": 2.0}],
            "links": [{"url": "ws://y/ws", "state": "up", "rtt_ms": 0.5}],
        }
    )
    assert mirror.load == 0.5
    assert list(mirror.route_p99["a/t"].values) == [2.0]
    assert list(mirror.link_rtt["ws://y/ws"].values) == [0.5]
    mirror.apply({"kind": "worker", "event": "stopped", "worker": {"pid": 2}})
    assert [w["pid"] for w in mirror.workers] == [1]
    mirror.apply({"kind": "routes", "version": 4, "map": {"routes": [{"destination": "d"}]}})
    assert mirror.routes_version == 4


def test_mirror_health_is_bad_when_down_and_warns_on_a_down_link() -> None:
    """Health is bad for a node not up, warn when a link is down, ok otherwise."""
    mirror = NodeMirror(key="k")
    assert mirror.health == "bad"
    mirror.state = "up"
    assert mirror.health == "ok"
    mirror.links["u"] = {"state": "down"}
    assert mirror.health == "warn"


def test_waterfall_nests_downstream_hops_inside_the_callers_wait() -> None:
    """Each hop's bars start after its caller's handler and half the link transit."""
    trace = [
        {"node": "a", "queue_ms": 1, "handler_ms": 1, "next_ms": 6, "total_ms": 8, "transit_ms": 2},
        {"node": "b", "queue_ms": 1, "handler_ms": 3, "next_ms": 0, "total_ms": 4},
    ]
    segments = {(s.row, s.kind): s for s in waterfall(trace)}
    assert segments[("a", "waiting")].start_ms == 2
    assert segments[("a → b", "transit")].length_ms == 2
    assert segments[("b", "queue")].start_ms == 3
    assert segments[("b", "handler")].start_ms == 4
    assert path_of(trace) == ["a", "b"]


def test_monitor_url_replaces_the_path() -> None:
    """A node's /ws URL becomes its /monitor URL."""
    assert monitor_url("ws://127.0.0.1:8080/ws") == "ws://127.0.0.1:8080/monitor"
    assert monitor_url("wss://h:1") == "wss://h:1/monitor"


def test_latency_history_is_bounded_by_the_users_choice() -> None:
    """Setting the latency history drops older points from every series, old and new."""
    from qewd_console.session.mirror import NodeMirror

    mirror = NodeMirror(key="ws://n")
    for second in range(300):
        mirror.apply(
            {
                "kind": "stats",
                "time": 1000.0 + second,
                "links": [{"url": "ws://x", "rtt_ms": 1.0}],
                "latency": [{"app": "a", "type": "t", "p50": 1.0, "p99": 2.0}],
            }
        )
    assert len(mirror.link_rtt["ws://x"]) == 121
    mirror.set_history(30)
    mirror.apply({"kind": "stats", "time": 1300.0, "links": [], "latency": []})
    mirror.apply(
        {"kind": "stats", "time": 1301.0, "latency": [{"app": "a", "type": "t", "p50": 1}]}
    )
    assert len(mirror.route_p50["a/t"]) == 30  # 1271..1299 and 1301
    mirror.set_history(5)
    assert mirror.history == 10  # bounded below
