"""Benchmark: node throughput with no console vs one console taking every flow with payloads.

The node runs in its own host process (benchlib.Host), the load generator (16 closed-loop
clients sending ``echo``) in a client process, and the console in a third process: it
subscribes with ``max_rate`` 10000, ``payloads`` on (admin) and ``batch`` on (one
``flows`` frame per 20 ms flush instead of one frame per flow), and reads everything.
A third kind of round has the console keep the default subscription (flows capped at
200/s, no payloads), which is what the desktop console asks for by default.
Rounds alternate bare / watched; the best of each is compared (target: watched >= 0.9x).

Two layouts of the processes on the CPUs, each run in turn:

* ``split``: the node (master and workers) alone on CPU 0, the load clients and the
  console on CPU 1 — as in use, where the console runs on a desk, not on the server, so
  the ratio is what monitoring costs the node itself;
* ``shared``: every process free on every CPU, so the console's own work (receiving and
  parsing every flow) competes with the node for the same two cores.

Run: .venv/bin/python bench/bench_monitor.py [--seconds 4] [--rounds 3] [--pool 2]
         [--layout split|shared|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from multiprocessing.connection import Connection
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


def _console_main(url: str, conn: Connection, full: bool, cpus: list[int] | None) -> None:
    benchlib.pin(cpus)
    started = time.process_time()
    asyncio.run(_console(url, conn, full))
    conn.send(time.process_time() - started)


def watched_round(
    url: str, clients: int, seconds: float, full: bool = True, cpus: list[int] | None = None
) -> tuple[dict[str, Any], dict[str, int]]:
    """One throughput round with a console process attached (``cpus``: where the clients
    and the console run); the counts include the console's CPU seconds."""
    conn, child = benchlib.CTX.Pipe()
    proc = benchlib.CTX.Process(target=_console_main, args=(url, child, full, cpus), daemon=True)
    proc.start()
    assert conn.recv() == "ready"
    result = benchlib.run_client("throughput", url=url, clients=clients, seconds=seconds, cpus=cpus)
    conn.send("stop")
    counts: dict[str, Any] = conn.recv()
    counts["cpu_s"] = conn.recv()
    proc.join(10)
    return result, counts


def master_us(node: benchlib.Host, before: float, result: dict[str, Any]) -> float:
    """Node master CPU microseconds per request over a round (warm-up included)."""
    used = node.cpu_seconds()["master"] - before
    return used / max(result["n"], 1) * 1e6


LAYOUTS = {"split": ([0], [1]), "shared": (None, None)}


def run_layout(layout: str, args: argparse.Namespace, tmp: str) -> dict[str, float]:
    """Rounds of bare / full console / default console in one layout; best req/s of each."""
    node_cpus, other_cpus = LAYOUTS[layout]
    spec = {"tmp": tmp, "name": f"n-{layout}", "pool_size": args.pool, "cpus": node_cpus}
    node = benchlib.Host("node", spec)
    best = {"bare": 0.0, "full": 0.0, "default": 0.0}
    cost: dict[str, list[float]] = {"bare": [], "full": [], "default": []}
    load = {"url": node.url, "clients": args.clients, "seconds": args.seconds}
    try:
        for round_no in range(1, args.rounds + 1):
            for kind in ("bare", "full", "default"):
                before = node.cpu_seconds()["master"]
                if kind == "bare":
                    result = benchlib.run_client("throughput", **load, cpus=other_cpus)
                    extra = ""
                else:
                    result, counts = watched_round(
                        node.url, args.clients, args.seconds, kind == "full", other_cpus
                    )
                    extra = (
                        f" flows={counts['flows']} dropped={counts['dropped']} "
                        f"flow_bytes/flow={counts['bytes'] // max(counts['flows'], 1)} "
                        f"console_cpu={counts['cpu_s'] / result['seconds']:.0%}"
                    )
                cost[kind].append(master_us(node, before, result))
                best[kind] = max(best[kind], result["req_s"])
                print(
                    f"[{layout}] round {round_no} {kind:>7}: {benchlib.fmt(result)} "
                    f"master={cost[kind][-1]:.0f}us/req client_cpu={result['client_cpu']:.0%}"
                    + extra
                )
    finally:
        node.stop()
    print(
        f"[{layout}] master CPU per request (best): no console {min(cost['bare']):.0f} us | "
        f"full console {min(cost['full']):.0f} us | default console {min(cost['default']):.0f} us"
    )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pool", type=int, default=2)
    parser.add_argument("--layout", choices=["split", "shared", "both"], default="both")
    args = parser.parse_args()
    print(benchlib.machine())
    if args.layout != "shared" and len(os.sched_getaffinity(0)) < 2:
        parser.error("the split layout needs two CPUs; use --layout shared")
    layouts = ["split", "shared"] if args.layout == "both" else [args.layout]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for layout in layouts:
            results[layout] = run_layout(layout, args, tmp)
    for layout, best in results.items():
        print(
            f"[{layout}] best req/s: no console {best['bare']:,.0f} | "
            f"default console (200 flows/s, no payloads) {best['default']:,.0f} "
            f"(ratio {best['default'] / best['bare']:.3f}) | console at full flow rate "
            f"with payloads {best['full']:,.0f} (ratio {best['full'] / best['bare']:.3f}, "
            f"target >= 0.9)"
        )


if __name__ == "__main__":
    main()
