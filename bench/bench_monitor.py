"""Benchmark: node throughput with no console vs one console taking every flow with payloads.

The node runs in its own host process (benchlib.Host), the load generator (16 closed-loop
clients sending ``echo``) in a client process, and the console in a third process: it
subscribes with ``max_rate`` 10000, ``payloads`` on (admin) and ``batch`` on (one
``flows`` frame per 20 ms flush instead of one frame per flow), and reads everything.
A third kind of round has the console keep the default subscription (flows capped at
200/s, no payloads), which is what the desktop console asks for by default.
Rounds alternate bare / watched; the best of each is compared (target: watched >= 0.9x).

Run: .venv/bin/python bench/bench_monitor.py [--seconds 4] [--rounds 3] [--pool 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import benchlib
from websockets.asyncio.client import connect

from node_runtime.protocol.tokens import TokenService, TokenSettings
from tests.support import SECRET


async def _console(url: str, conn: Connection, full: bool) -> None:
    token = TokenService(TokenSettings(secret=SECRET)).issue_role("admin", "bench", time.time(), 60)
    monitor = url.removesuffix("/ws") + "/monitor"
    counts = {"flows": 0, "dropped": 0, "bytes": 0}
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(monitor, additional_headers=headers, max_size=None) as ws:
        op: dict[str, Any] = {"op": "subscribe", "id": 1}
        if full:
            op.update(max_rate=10000, payloads=True, batch=True)
        await ws.send(json.dumps(op))
        loop = asyncio.get_running_loop()
        stop = loop.run_in_executor(None, conn.recv)
        while not stop.done():
            try:
                data = await asyncio.wait_for(ws.recv(), 0.2)
            except TimeoutError:
                continue
            frame: dict[str, Any] = json.loads(data)
            kind = frame.get("kind")
            if kind == "reply":
                conn.send("ready")
            elif kind == "flow":
                counts["flows"] += 1
                counts["bytes"] += len(data)
                assert ("reply" in frame["flow"]) is full
            elif kind == "flows":
                counts["flows"] += len(frame["flows"])
                counts["bytes"] += len(data)
                assert all("reply" in flow for flow in frame["flows"])
            elif kind == "stats":
                counts["dropped"] += frame["flows_dropped"]
    conn.send(counts)


def _console_main(url: str, conn: Connection, full: bool) -> None:
    asyncio.run(_console(url, conn, full))


def watched_round(
    url: str, clients: int, seconds: float, full: bool = True
) -> tuple[dict[str, Any], dict[str, int]]:
    """One throughput round with a console process attached."""
    conn, child = benchlib.CTX.Pipe()
    proc = benchlib.CTX.Process(target=_console_main, args=(url, child, full), daemon=True)
    proc.start()
    assert conn.recv() == "ready"
    result = benchlib.run_client("throughput", url=url, clients=clients, seconds=seconds)
    conn.send("stop")
    counts: dict[str, int] = conn.recv()
    proc.join(10)
    return result, counts


def master_us(node: benchlib.Host, before: float, result: dict[str, Any]) -> float:
    """Node master CPU microseconds per request over a round (warm-up included)."""
    used = node.cpu_seconds()["master"] - before
    return used / max(result["n"], 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pool", type=int, default=2)
    args = parser.parse_args()
    print(benchlib.machine())
    with tempfile.TemporaryDirectory() as tmp:
        node = benchlib.Host("node", {"tmp": str(Path(tmp)), "name": "n1", "pool_size": args.pool})
        try:
            bare: list[float] = []
            watched: list[float] = []
            default: list[float] = []
            cost: dict[str, list[float]] = {"bare": [], "watched": [], "default": []}
            for round_no in range(1, args.rounds + 1):
                before = node.cpu_seconds()["master"]
                plain = benchlib.run_client(
                    "throughput", url=node.url, clients=args.clients, seconds=args.seconds
                )
                cost["bare"].append(master_us(node, before, plain))
                bare.append(plain["req_s"])
                print(
                    f"round {round_no} no console: {benchlib.fmt(plain)} "
                    f"master={cost['bare'][-1]:.0f}us/req"
                )
                before = node.cpu_seconds()["master"]
                result, counts = watched_round(node.url, args.clients, args.seconds)
                cost["watched"].append(master_us(node, before, result))
                watched.append(result["req_s"])
                print(
                    f"round {round_no} console:    {benchlib.fmt(result)} "
                    f"master={cost['watched'][-1]:.0f}us/req flows={counts['flows']} "
                    f"dropped={counts['dropped']} flow_bytes={counts['bytes']}"
                )
                before = node.cpu_seconds()["master"]
                result, counts = watched_round(node.url, args.clients, args.seconds, full=False)
                cost["default"].append(master_us(node, before, result))
                default.append(result["req_s"])
                print(
                    f"round {round_no} default console: {benchlib.fmt(result)} "
                    f"master={cost['default'][-1]:.0f}us/req flows={counts['flows']} "
                    f"dropped={counts['dropped']}"
                )
        finally:
            node.stop()
    ratio = max(watched) / max(bare)
    print(
        f"master CPU per request (best): no console {min(cost['bare']):.0f} us | "
        f"console {min(cost['watched']):.0f} us | default console {min(cost['default']):.0f} us"
    )
    print(
        f"best req/s with a console on the default subscription (200 flows/s, no payloads): "
        f"{max(default):,.0f} | ratio {max(default) / max(bare):.3f}"
    )
    print(
        f"best req/s: no console {max(bare):,.0f} | console at full flow rate with payloads "
        f"{max(watched):,.0f} | ratio {ratio:.3f} (target >= 0.9)"
    )


if __name__ == "__main__":
    main()
