"""The /monitor endpoint over real sockets: roles, snapshot then stats, flows, ops."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from node_runtime.protocol.tokens import TokenService, TokenSettings
from node_runtime.tasks import TaskSet
from tests.node_runtime.monitor.console import Console, monitor_url, role_token
from tests.support import SECRET, Client, front_and_back, node_config, run, running


def test_handshake_refused_without_an_admin_or_monitor_token(tmp_path: Path) -> None:
    """No token, a session token, a node token and a bad token all get HTTP 401."""

    async def scenario() -> list[int]:
        async with running(node_config(tmp_path)) as node:
            url = monitor_url(node.url)
            session = TokenService(TokenSettings(secret=SECRET)).issue_session("trials", 1e10)
            statuses = []
            for headers in (
                {},
                {"Authorization": f"Bearer {role_token('node')}"},
                {"Authorization": "Bearer nonsense"},
                {"Authorization": f"Bearer {session}"},
            ):
                try:
                    async with connect(url, additional_headers=headers):
                        statuses.append(101)
                except InvalidStatus as exc:
                    statuses.append(exc.response.status_code)
            return statuses

    assert run(scenario()) == [401, 401, 401, 401]


def test_snapshot_first_then_stats_counting_messages(tmp_path: Path) -> None:
    """A console gets a snapshot first, then stats frames whose totals count messages."""

    async def scenario() -> None:
        async with (
            running(node_config(tmp_path)) as node,
            Console.open(node.url, "monitor") as console,
        ):
            first = await console.recv()
            assert first["kind"] == "snapshot"
            assert first["version"] == 1
            assert first["role"] == "monitor"
            assert first["node"]["name"] == "n1"
            assert "echo" in first["node"]["apps"]["trials"]
            assert first["node"]["pool_size"] == 1
            assert first["routes"]["version"] == node.route_map.version
            assert first["subscription"] == {
                "max_rate": 200.0,
                "payloads": False,
                "tokens": False,
                "batch": False,
                "filters": {},
            }
            async with Client.connect(node.url) as client:
                await client.register()
                for _ in range(3):
                    await client.call({"type": "echo"})
            stats = await console.wait_for(
                lambda f: f["kind"] == "stats" and f["totals"]["messages"] >= 3
            )
            assert stats["pool_size"] == 1
            assert stats["latency"][0]["type"] == "echo"
            assert stats["flows_dropped"] == 0

    run(scenario())


def test_monitor_role_is_read_only_and_unknown_ops_are_refused(tmp_path: Path) -> None:
    """A monitor token gets E_FORBIDDEN for changes and payloads; odd ops E_BAD_MESSAGE."""

    async def scenario() -> None:
        async with (
            running(node_config(tmp_path)) as node,
            Console.open(node.url, "monitor") as console,
        ):
            current = node.route_map.to_dict()
            version = node.route_map.version
            for name, fields in (
                ("routes.apply", {"map": current, "if_version": version}),
                ("pool.resize", {"size": 2}),
                ("worker.stop", {"pid": 1}),
                ("subscribe", {"payloads": True}),
            ):
                reply = await console.op(name, **fields)
                assert reply["ok"] is False
                assert reply["code"] == "E_FORBIDDEN", name
            assert (await console.op("nope"))["code"] == "E_BAD_MESSAGE"
            await console.ws.send("not json")
            bad = await console.kind("reply")
            assert bad["code"] == "E_BAD_MESSAGE"
            assert bad["id"] is None
            ok = await console.op("subscribe", filters={"app": "trials"}, max_rate=50)
            assert ok["ok"] is True
            assert ok["subscription"]["filters"] == {"app": ["trials"]}
            snap_reply = await console.op("snapshot")
            assert snap_reply["ok"] is True
            assert (await console.recv())["kind"] == "snapshot"
            checked = await console.op("routes.validate", map=current)
            assert checked["ok"] is True
            assert checked["diff"] == []
            assert node.pool.size == 1

    run(scenario())


def test_flow_events_at_every_node_on_the_path(tmp_path: Path) -> None:
    """A forwarded request yields one flow at each node; payloads only for admin."""

    async def scenario() -> None:
        routes = [{"application": "trials", "types": ["echo"], "destination": "b"}]
        async with (
            front_and_back(tmp_path, routes) as (node_a, node_b),
            Console.open(node_a.url, "admin") as admin_a,
            Console.open(node_b.url, "monitor") as monitor_b,
        ):
            await admin_a.op("subscribe", payloads=True)
            await monitor_b.op("subscribe")
            async with Client.connect(node_a.url) as client:
                await client.register()
                reply = await client.call(
                    {"type": "echo", "params": {"x": 1}, "trace": True, "id": "q1"}
                )
                assert reply["message"]["node"] == "b"
            at_a = (await admin_a.kind("flow"))["flow"]
            at_b = (await monitor_b.kind("flow"))["flow"]
            assert (at_a["node"], at_a["to"], at_a["ok"]) == ("a", "b", True)
            assert (at_b["node"], at_b["to"], at_b["from"]) == ("b", "b", "a")
            assert at_a["id"] == "q1"
            assert [hop["node"] for hop in at_a["trace"]] == ["a", "b"]
            assert at_a["reply"]["echo"] == {"x": 1}
            assert at_a["request"]["params"] == {"x": 1}
            assert "reply" not in at_b
            assert "request" not in at_b

    run(scenario())


def test_consoles_each_get_their_own_kind_of_flow(tmp_path: Path) -> None:
    """Consoles on one node: plain, payloads (token redacted), payloads with tokens, and
    one filtered to errors each get what they asked for, in order, batched or not."""
    from node_runtime.monitor.flow_json import REDACTED

    async def scenario() -> None:
        async with (
            running(node_config(tmp_path)) as node,
            Console.open(node.url, "monitor") as plain,
            Console.open(node.url, "admin") as redacted,
            Console.open(node.url, "admin") as tokens,
            Console.open(node.url, "admin") as errors,
        ):
            assert (await plain.op("subscribe"))["ok"]
            assert (await redacted.op("subscribe", payloads=True, batch=True))["ok"]
            assert (await tokens.op("subscribe", payloads=True, tokens=True))["ok"]
            assert (await errors.op("subscribe", filters={"status": "error"}))["ok"]
            async with Client.connect(node.url) as client:
                await client.register()
                replies = [await client.call({"type": "echo", "params": n}) for n in range(3)]
                await client.call({"type": "refuse", "params": {}})
            session_tokens = [reply["message"]["token"] for reply in replies]

            async def flows(console: Console, count: int) -> list[dict[str, Any]]:
                got: list[dict[str, Any]] = []
                while len(got) < count:
                    frame = await console.wait_for(lambda f: f["kind"] in ("flow", "flows"))
                    got += frame["flows"] if frame["kind"] == "flows" else [frame["flow"]]
                return got

            at_plain = await flows(plain, 4)
            assert [f["ok"] for f in at_plain] == [True, True, True, False]
            assert all("reply" not in f for f in at_plain)
            at_redacted = await flows(redacted, 4)
            assert [f["reply"].get("echo") for f in at_redacted[:3]] == [0, 1, 2]
            assert {f["reply"]["token"] for f in at_redacted[:3]} == {REDACTED}
            at_tokens = await flows(tokens, 4)
            assert [f["reply"]["token"] for f in at_tokens[:3]] == session_tokens
            at_errors = await flows(errors, 1)
            assert (at_errors[0]["type"], at_errors[0]["ok"]) == ("refuse", False)

    run(scenario())


def test_flow_rate_cap_counts_drops_with_a_slow_reader(tmp_path: Path) -> None:
    """A console capped at 5 flows/s that does not read gets at most that; drops are counted."""

    async def scenario() -> None:
        async with (
            running(node_config(tmp_path)) as node,
            Console.open(node.url, "admin") as console,
        ):
            reply = await console.op("subscribe", max_rate=5, payloads=True)
            assert reply["ok"] is True
            async with Client.connect(node.url) as client:
                await client.register()
                for index in range(60):
                    answer = await client.call({"type": "echo", "params": index})
                    assert answer["message"]["echo"] == index
            dropped = 0
            flows = 0
            while flows + dropped < 60:
                frame = await console.recv()
                if frame["kind"] == "flow":
                    flows += 1
                elif frame["kind"] == "stats":
                    dropped += frame["flows_dropped"]
            assert flows + dropped == 60
            assert dropped > 0
            assert flows <= 5 + 5 * 3  # the burst plus refills over a few seconds at most

    run(scenario())


def _route_map(node_b_url: str, to_b: bool) -> dict[str, Any]:
    routes = [{"application": "trials", "types": ["echo"], "destination": "b"}] if to_b else []
    return {"destinations": {"b": {"url": node_b_url}}, "routes": routes}


def test_routes_apply_checks_version_and_changes_routing_live(tmp_path: Path) -> None:
    """A stale if_version gets E_CONFLICT; the current one applies and reroutes at once."""

    async def scenario() -> None:
        routes = [{"application": "clinic", "types": ["*"], "destination": "b"}]
        async with (
            front_and_back(tmp_path, routes) as (node_a, node_b),
            Console.open(node_a.url) as console,
            Client.connect(node_a.url) as client,
        ):
            await client.register()
            before = await client.call({"type": "echo"})
            assert before["message"]["node"] == "a"
            version = node_a.route_map.version
            new_map = _route_map(node_b.url, to_b=True)
            checked = await console.op("routes.validate", map=new_map)
            assert any(line.startswith("+") for line in checked["diff"])
            stale = await console.op("routes.apply", map=new_map, if_version=version - 1)
            assert (stale["code"], stale["version"]) == ("E_CONFLICT", version)
            bad = await console.op(
                "routes.apply",
                if_version=version,
                map={
                    "destinations": {},
                    "routes": [
                        {"application": "trials", "types": ["echo"], "destination": "nowhere"}
                    ],
                },
            )
            assert bad["code"] == "E_BAD_ROUTES"
            assert bad["problems"][0]["code"] == "R_UNKNOWN_DESTINATION"
            applied = await console.op("routes.apply", map=new_map, if_version=version)
            assert applied == {
                "kind": "reply",
                "id": applied["id"],
                "ok": True,
                "version": version + 1,
            }
            changed = await console.kind("routes")
            assert changed["version"] == version + 1
            assert await node_a.mesh.links[node_b.url].wait_up(10)
            after = await client.call({"type": "echo"})
            assert after["message"]["node"] == "b"

    run(scenario())


def test_pool_resize_is_seen_in_stats_and_worker_stop_checks_pid(tmp_path: Path) -> None:
    """pool.resize to 2 shows two workers in stats; worker.stop of an unknown pid is E_NOT_FOUND."""

    async def scenario() -> None:
        config = node_config(tmp_path, prefork=True)
        async with running(config) as node, Console.open(node.url) as console:
            assert (await console.op("pool.resize", size=0))["code"] == "E_BAD_MESSAGE"
            resized = await console.op("pool.resize", size=2)
            assert resized["size"] == 2
            stats = await console.wait_for(
                lambda f: f["kind"] == "stats" and len(f["workers"]) == 2
            )
            assert stats["pool_size"] == 2
            missing = await console.op("worker.stop", pid=1)
            assert missing["code"] == "E_NOT_FOUND"
            pid = stats["workers"][0]["pid"]
            assert (await console.op("worker.stop", pid=pid))["ok"] is True
            stopped = await console.wait_for(
                lambda f: f["kind"] == "worker" and f["event"] == "stopped"
            )
            assert stopped["worker"]["pid"] == pid
            replacement = await console.wait_for(
                lambda f: f["kind"] == "worker" and f["event"] == "started"
            )
            assert replacement["worker"]["pid"] != pid

    run(scenario())


@pytest.mark.parametrize("role", ["admin", "monitor"])
def test_snapshot_role_matches_token(tmp_path: Path, role: str) -> None:
    """The snapshot names the token's role."""

    async def scenario() -> str:
        async with running(node_config(tmp_path)) as node, Console.open(node.url, role) as console:
            return str((await console.kind("snapshot"))["role"])

    assert run(scenario()) == role


def test_no_flow_listener_without_consoles(tmp_path: Path) -> None:
    """No flow listener (so no flow events are built) until a console connects."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            assert node.flow_listeners == []
            async with Console.open(node.url) as console:
                await console.kind("snapshot")
                assert len(node.flow_listeners) == 1

    run(scenario())


@pytest.mark.parametrize("batch", [False, True])
def test_console_that_never_reads_does_not_hold_up_replies_or_memory(
    tmp_path: Path, batch: bool
) -> None:
    """With 1 MB payloads and a console that never reads, clients get every reply and the
    console's unwritten frames stay within the character bound (one flow per frame or
    batched alike); the rest is counted as dropped."""
    from node_runtime.monitor.hub import FLOW_BACKLOG_CHARS

    async def scenario() -> None:
        async with (
            running(node_config(tmp_path)) as node,
            Console.open(node.url, "admin", max_queue=1) as console,
        ):
            reply = await console.op("subscribe", max_rate=10000, payloads=True, batch=batch)
            assert reply["ok"] is True
            async with Client.connect(node.url) as client:
                await client.register()
                for _ in range(100):  # well past what socket buffers absorb
                    answer = await client.call(
                        {"type": "huge", "params": {"bytes": 1_000_000}}, timeout=30
                    )
                    assert len(answer["message"]["blob"]) == 1_000_000
            node.monitor.flush_flows()
            session = node.monitor.sessions[0]
            # At most one flow (about 1 MB) past the bound, plus small stats frames.
            assert session.peer.pending_chars() < FLOW_BACKLOG_CHARS + 1_100_000
            assert session.peer.pending_chars() == sum(map(len, session.peer.queued()))
            assert session.dropped > 0

    run(scenario())


def test_link_events_follow_a_peer_going_away(tmp_path: Path) -> None:
    """The snapshot lists the link up; when the peer stops, a link event reports it not up."""
    from node_runtime.master import Node

    async def scenario() -> None:
        node_b = Node(node_config(tmp_path, "b"))
        await node_b.start()
        stopped = False
        try:
            config_a = node_config(
                tmp_path,
                "a",
                destinations={"b": {"url": node_b.url}},
                routes=[{"application": "trials", "types": ["echo"], "destination": "b"}],
            )
            async with running(config_a) as node_a:
                assert await node_a.mesh.links[node_b.url].wait_up(10)
                async with Console.open(node_a.url, "monitor") as console:
                    snapshot = await console.kind("snapshot")
                    assert [(x["url"], x["state"]) for x in snapshot["links"]] == [
                        (node_b.url, "up")
                    ]
                    await node_b.stop(drain_timeout=1)
                    stopped = True
                    event = await console.wait_for(
                        lambda f: f["kind"] == "link" and f["link"]["state"] != "up"
                    )
                    assert event["link"]["url"] == node_b.url
        finally:
            if not stopped:
                await node_b.stop(drain_timeout=1)

    run(scenario())


def test_consoles_coming_and_going_under_load_change_no_reply(tmp_path: Path) -> None:
    """Four clients send 50 requests each at once while consoles with every kind of
    subscription attach and leave, some mid-batch: every request is answered exactly
    once, to its sender, and the node keeps serving consoles afterwards."""
    from tests.support import own_replies_only

    subscriptions: list[dict[str, Any]] = [
        {"max_rate": 10000, "payloads": True, "batch": True},
        {"max_rate": 10000, "payloads": True},
        {"max_rate": 5},
        {"filters": {"status": "error"}},
    ]

    async def churn(url: str, stop: asyncio.Event) -> int:
        rounds = 0
        while not stop.is_set():
            sub = subscriptions[rounds % len(subscriptions)]
            # unbounded client queue: a console leaving with many frames unread must
            # still read the node's close frame (websockets stops reading at max_queue)
            async with Console.open(url, "admin", max_queue=None) as console:
                assert (await console.op("subscribe", **sub))["ok"]
                await asyncio.sleep(0.01 * (rounds % 3))
            rounds += 1
        return rounds

    async def scenario() -> None:
        async with running(node_config(tmp_path, pool_size=2)) as node:
            stop = asyncio.Event()
            tasks = TaskSet("churn")
            churners = [tasks.spawn(churn(node.url, stop), f"console {n}") for n in range(2)]
            try:
                await asyncio.gather(*(own_replies_only(node.url, tag) for tag in range(4)))
            finally:
                stop.set()
                rounds = await asyncio.gather(*churners)
            assert min(rounds) > 0
            assert node.in_flight == 0
            async with Console.open(node.url, "admin") as console:
                await console.op("subscribe", payloads=True)
                async with Client.connect(node.url) as client:
                    await client.register()
                    await client.call({"type": "echo", "params": "after"})
                flow = (await console.kind("flow"))["flow"]
                assert flow["reply"]["echo"] == "after"

    run(scenario())
