"""Links when the far node dies or restarts: nothing hangs, the link comes back."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from node_runtime.meshrun import free_port
from tests.support import (
    Client,
    eventually,
    node_config,
    run,
    running,
    scaled,
    start_node_process,
    write_node_file,
)

ROUTES = [{"application": "trials", "types": ["*"], "destination": "far"}]


def test_peer_killed_with_requests_in_flight_then_restarted(tmp_path: Path) -> None:
    """SIGKILL of the far node answers every in-flight request E_PEER_DOWN; a restart heals."""

    async def scenario() -> None:
        port = free_port()
        far_file = write_node_file(tmp_path, "far", port)
        far = await start_node_process(far_file)
        url = f"ws://127.0.0.1:{port}/ws"
        config = node_config(tmp_path, "near", destinations={"far": {"url": url}}, routes=ROUTES)
        try:
            async with running(config) as near, Client.connect(near.url) as client:
                link = near.mesh.links[url]
                assert await link.wait_up(scaled(10))
                await client.register()
                for i in range(5):
                    await client.send_raw(
                        json.dumps(
                            {
                                "type": "slow",
                                "id": i,
                                "token": client.token,
                                "params": {"seconds": 20},
                            }
                        )
                    )
                await eventually(lambda: link.in_flight == 5, what="5 requests in flight")
                far.send_signal(signal.SIGKILL)
                await far.wait()
                replies = [await client.recv(timeout=5) for _ in range(5)]
                assert sorted(r["id"] for r in replies) == list(range(5))
                assert {r["message"]["code"] for r in replies} == {"E_PEER_DOWN"}
                down = await client.call({"type": "echo"}, timeout=5)
                assert down["message"]["code"] == "E_PEER_DOWN"
                far = await start_node_process(far_file)
                assert await link.wait_up(scaled(15))
                assert link.reconnects >= 1
                back = await client.call({"type": "echo", "params": "again"})
                assert back["message"]["echo"] == "again"
        finally:
            if far.returncode is None:
                far.send_signal(signal.SIGTERM)
                await far.wait()

    run(scenario(), timeout=90)


def test_no_answer_within_deadline_is_a_timeout(tmp_path: Path) -> None:
    """A forwarded request whose far handler outlives the deadline gets E_TIMEOUT once."""

    async def scenario() -> None:
        async with running(node_config(tmp_path, "far", handler_timeout=10)) as far:
            config = node_config(
                tmp_path,
                "near",
                request_timeout=0.5,
                destinations={"far": {"url": far.url}},
                routes=ROUTES,
            )
            async with running(config) as near, Client.connect(near.url) as client:
                assert await near.mesh.links[far.url].wait_up(scaled(5))
                await client.register()
                reply = await client.call({"type": "slow", "params": {"seconds": 2}})
                assert reply["message"]["code"] == "E_TIMEOUT"
                assert reply["ms"] < 1500

    run(scenario())
