"""Forwarding over persistent links between real nodes on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from node_runtime.master import Node
from tests.support import (
    Client,
    eventually,
    node_config,
    own_replies_only,
    run,
    running,
    scaled,
)

ECHO_ROUTE = [
    {"application": "trials", "types": ["echo", "progress", "slow"], "destination": "next"}
]


@asynccontextmanager
async def chain(tmp_path: Path, length: int, **last: Any) -> AsyncIterator[list[Node]]:
    """Nodes n0 -> n1 -> ... each forwarding trials echo/progress/slow to the next."""
    async with AsyncExitStack() as stack:
        nodes: list[Node] = []
        downstream: Node | None = None
        for index in reversed(range(length)):
            extra: dict[str, Any] = (
                dict(last)
                if downstream is None
                else {"destinations": {"next": {"url": downstream.url}}, "routes": ECHO_ROUTE}
            )
            node = await stack.enter_async_context(
                running(node_config(tmp_path, f"n{index}", **extra))
            )
            if downstream is not None:
                assert await node.mesh.links[downstream.url].wait_up(scaled(5))
            nodes.insert(0, node)
            downstream = node
        yield nodes


def test_forward_through_a_chain_with_trace(tmp_path: Path) -> None:
    """A request crosses three nodes, runs on the last, and the trace lists every hop."""

    async def scenario() -> None:
        async with chain(tmp_path, 3) as nodes, Client.connect(nodes[0].url) as client:
            await client.register()
            reply = await client.call({"type": "echo", "params": {"x": 1}, "trace": True})
            assert reply["message"]["node"] == "n2"
            assert reply["message"]["echo"] == {"x": 1}
            assert "token" in reply["message"]
            hops = reply["trace"]
            assert [h["node"] for h in hops] == ["n0", "n1", "n2"]
            assert hops[2]["handler_ms"] > 0
            assert hops[0]["transit_ms"] >= 0
            assert hops[1]["transit_ms"] >= 0
            assert hops[0]["next_ms"] >= hops[1]["total_ms"]
            link = nodes[0].mesh.links[nodes[1].url]
            await eventually(lambda: link.rtt_ms is not None, what="an RTT sample")
            assert link.rtt_ms is not None
            assert link.rtt_ms > 0

    run(scenario())


def test_intermediates_are_relayed_across_links(tmp_path: Path) -> None:
    """ctx.send messages at the far end reach the client with its id, typed ones included."""

    async def scenario() -> None:
        async with chain(tmp_path, 2) as nodes, Client.connect(nodes[0].url) as client:
            await client.register()
            reply = await client.call({"type": "progress", "params": {"steps": 2}, "id": "q"})
            assert [m["message"] for m in reply["between"]] == [
                {"step": 0},
                {"step": 1},
                {"note": "typed"},
            ]
            assert reply["between"][2]["type"] == "progressNote"
            assert all(m["id"] == "q" for m in reply["between"])

    run(scenario())


def test_many_clients_same_type_through_a_link_get_their_own_replies(tmp_path: Path) -> None:
    """4 clients x 50 same-type requests at once through a link: one reply each, to its owner."""

    async def scenario() -> None:
        async with chain(tmp_path, 2, pool_size=2) as nodes:
            await asyncio.gather(*(own_replies_only(nodes[0].url, tag) for tag in range(4)))

    run(scenario())


def test_down_destination_fails_at_once(tmp_path: Path) -> None:
    """A route to a node that is not running answers E_PEER_DOWN immediately."""

    async def scenario() -> None:
        from node_runtime.meshrun import free_port

        config = node_config(
            tmp_path,
            "a",
            routes=ECHO_ROUTE,
            destinations={"next": {"url": f"ws://127.0.0.1:{free_port()}/ws"}},
        )
        async with running(config) as node, Client.connect(node.url) as client:
            await client.register()
            reply = await client.call({"type": "echo"}, timeout=2)
            assert reply["message"]["code"] == "E_PEER_DOWN"
            assert reply["ms"] < 500

    run(scenario())


def test_routing_loop_is_stopped(tmp_path: Path) -> None:
    """Two nodes routing to each other answer E_HOP_LIMIT instead of looping."""

    async def scenario() -> None:
        from node_runtime.meshrun import free_port
        from node_runtime.protocol.routes import RouteMap

        port_b = free_port()
        a_cfg = node_config(
            tmp_path,
            "a",
            routes=ECHO_ROUTE,
            destinations={"next": {"url": f"ws://127.0.0.1:{port_b}/ws"}},
        )
        async with running(a_cfg) as a:
            b_cfg = node_config(tmp_path, "b", port=port_b)
            async with running(b_cfg) as b:
                b.apply_routes(
                    RouteMap.from_dict(
                        {"destinations": {"next": {"url": a.url}}, "routes": ECHO_ROUTE}
                    )
                )
                assert await b.mesh.links[a.url].wait_up(scaled(5))
                assert await a.mesh.links[b.url].wait_up(scaled(5))
                async with Client.connect(a.url) as client:
                    await client.register()
                    reply = await client.call({"type": "echo"})
                    assert reply["message"]["code"] == "E_HOP_LIMIT"
                    assert "a -> b -> a" in reply["message"]["error"]

    run(scenario())


def test_groups_all_and_balance(tmp_path: Path) -> None:
    """'all' combines every member's reply; 'balance' spreads requests and skips a down member."""

    async def scenario() -> None:
        from node_runtime.meshrun import free_port

        async with (
            running(node_config(tmp_path, "s1")) as s1,
            running(node_config(tmp_path, "s2")) as s2,
        ):
            dead = f"ws://127.0.0.1:{free_port()}/ws"
            destinations = {
                "s1": {"url": s1.url},
                "s2": {"url": s2.url},
                "dead": {"url": dead},
                "both": {"members": ["s1", "s2"], "mode": "all"},
                "partial": {"members": ["s1", "dead"], "mode": "all"},
                "pool": {"members": ["dead", "s1", "s2"], "mode": "balance"},
            }
            routes = [
                {"application": "trials", "types": ["echo"], "destination": "both"},
                {"application": "trials", "types": ["whoami"], "destination": "partial"},
                {"application": "trials", "types": ["progress"], "destination": "pool"},
            ]
            config = node_config(tmp_path, "front", destinations=destinations, routes=routes)
            async with running(config) as front, Client.connect(front.url) as client:
                assert await front.mesh.links[s1.url].wait_up(scaled(5))
                assert await front.mesh.links[s2.url].wait_up(scaled(5))
                await client.register()
                both = await client.call({"type": "echo", "params": 7})
                results = both["message"]["results"]
                assert {results["s1"]["node"], results["s2"]["node"]} == {"s1", "s2"}
                assert "token" in both["message"]
                assert "token" not in results["s1"]
                assert "token" not in results["s2"]
                partial = await client.call({"type": "whoami"})
                assert partial["message"]["results"]["dead"]["code"] == "E_PEER_DOWN"
                assert partial["message"]["results"]["s1"]["authenticated"] is False
                seen = set()
                for _ in range(6):
                    reply = await client.call({"type": "progress", "params": {"steps": 0}})
                    assert reply["message"]["done"] == 0
                    seen.add(front.stats.total)
                assert front.mesh.links[s1.url].sent >= 2
                assert front.mesh.links[s2.url].sent >= 2

    run(scenario())


def test_route_swap_is_atomic_and_in_flight_calls_finish_on_the_old_map(tmp_path: Path) -> None:
    """A request in flight when the map changes finishes where it went; the next goes anew."""

    async def scenario() -> None:
        from node_runtime.protocol.routes import RouteMap

        async with (
            running(node_config(tmp_path, "old")) as old,
            running(node_config(tmp_path, "new")) as new,
        ):
            routes = [{"application": "trials", "types": ["slow", "echo"], "destination": "d"}]
            config = node_config(
                tmp_path, "front", destinations={"d": {"url": old.url}}, routes=routes
            )
            async with running(config) as front, Client.connect(front.url) as client:
                await front.mesh.wait_links({old.url}, scaled(5))
                await client.register()
                version = front.route_map.version
                await client.send_request(
                    {"type": "slow", "id": "s", "params": {"seconds": 0.5, "notify": True}}
                )
                started = await client.recv()
                assert started["finished"] is False
                applied = front.apply_routes(
                    RouteMap.from_dict({"destinations": {"d": {"url": new.url}}, "routes": routes})
                )
                assert applied.version == version + 1
                slow = await client.recv()
                assert (slow["id"], slow["message"]["slept"]) == ("s", True)
                await front.mesh.wait_links({new.url}, scaled(5))
                echo = await client.call({"type": "echo"})
                assert echo["message"]["node"] == "new"

    run(scenario())
