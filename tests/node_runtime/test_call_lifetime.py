"""Finished calls are freed by reference counting, not left for the cyclic GC.

A call in a reference cycle (call -> cancel hook -> job -> callback -> call) lives until
the next collection, and while a console holds flows for its 20 ms flush, survives into
the older generations, whose collections then cost the master several per cent.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from node_runtime.calls import Call
from node_runtime.workers.handle import Job
from tests.node_runtime.monitor.console import Console
from tests.support import Client, front_and_back, run


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """While the test runs, what the cyclic GC finds is kept in the list, not freed."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_local_and_forwarded_calls_leave_no_cycles(
    tmp_path: Path, saved_garbage: list[object]
) -> None:
    """Calls run locally and forwarded, watched by a console with payloads, and a call
    that times out: none of their calls or jobs is left for the cyclic GC."""
    routes = [{"application": "trials", "types": ["echo"], "destination": "b"}]

    async def scenario() -> None:
        async with (
            front_and_back(tmp_path, routes, request_timeout=0.3) as (front, back),
            Console.open(front.url, "admin") as console,
        ):
            # batched: a client that stops reading with more than its max_queue of
            # frames unread cannot read the close frame either (its close then waits 10 s)
            await console.op("subscribe", payloads=True, max_rate=10000, batch=True)
            async with Client.connect(front.url) as client:
                await client.register()
                for n in range(20):
                    await client.call({"type": "echo", "params": n})  # forwarded to b
                    await client.call({"type": "count", "params": {}})  # run on a
                late = await client.call({"type": "slow", "params": {"seconds": 1}})
                assert late["message"]["code"] == "E_TIMEOUT"
            front.monitor.flush_flows()
            assert back.name == "b"

    run(scenario())
    gc.collect()
    left = [o for o in saved_garbage if type(o) in (Call, Job)]
    assert left == []
