"""Benchmark: what a console watching a node costs the node's message throughput.

One node (pool 2) runs in its own host process and one load process (16 closed-loop
clients sending ``echo``) drives it without a pause for the whole measurement. A console
process is attached and detached in turn, in phases of ``--phase`` seconds that cycle
through ``none, full, none, default``:

* ``none``: no console attached to the node at all;
* ``full``: a console taking every flow with payloads (``max_rate`` 10000, ``payloads``
  on, admin token, ``batch`` on) and parsing every frame;
* ``default``: the desktop console's default subscription (200 flows/s, no payloads).

Each phase's throughput is counted from the load client's completion times (the first
0.3 s after a switch left out). Because the phases alternate every few seconds under one
continuous load, the shared machine's drifting load falls on all of them alike, which
separate runs compared best-of-N do not manage (their A/A spread here was +-15 %). The
ratios given are the pooled rate of a phase kind over the pooled rate of the ``none``
phases, and the median over cycles of each phase's rate over its neighbouring ``none``
phases. Target: full >= 0.9.

Two layouts of the processes on the CPUs, each run in turn:

* ``split``: the node (master and workers) alone on CPU 0, the load client and the
  console on CPU 1 — as in use, where the console runs on a desk, not on the server, so
  the ratio is what monitoring costs the node itself;
* ``shared``: every process free on every CPU, so the console's own work (receiving and
  parsing every flow) competes with the node for the same two cores.

Run: .venv/bin/python bench/bench_monitor.py [--phase 2] [--cycles 6] [--pool 2]
         [--layout split|shared|both]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import benchlib
from websockets.asyncio.client import connect

from node_runtime.protocol.tokens import TokenService, TokenSettings
from tests.support import SECRET

SETTLE = 0.3  # seconds after a switch left out of a phase's count
SUBSCRIPTIONS: dict[str, dict[str, Any]] = {
    "full": {"max_rate": 10000, "payloads": True, "batch": True},
    "default": {},
}
LAYOUTS = {"split": ([0], [1]), "shared": (None, None)}


# -- the console process ---------------------------------------------------------------


async def _watch(ws: Any, conn: Connection, kind: str) -> dict[str, Any]:
    """Read (and parse) every frame until told to detach; what was seen."""
    counts: dict[str, Any] = {"flows": 0, "dropped": 0, "bytes": 0}
    detach = asyncio.get_running_loop().run_in_executor(None, conn.recv)
    while not detach.done():
        try:
            data = await asyncio.wait_for(ws.recv(), 0.05)
        except TimeoutError:
            continue
        frame: dict[str, Any] = json.loads(data)
        if frame["kind"] == "flows":
            counts["flows"] += len(frame["flows"])
            counts["bytes"] += len(data)
            assert all("reply" in flow for flow in frame["flows"]) is (kind == "full")
        elif frame["kind"] == "flow":
            counts["flows"] += 1
            counts["bytes"] += len(data)
        elif frame["kind"] == "stats":
            counts["dropped"] += frame["flows_dropped"]
    return counts


async def _console(url: str, conn: Connection) -> None:
    """Attach with the subscription named by each command until ``quit``."""
    token = TokenService(TokenSettings(secret=SECRET)).issue_role(
        "admin", "bench", time.time(), 600
    )
    headers = {"Authorization": f"Bearer {token}"}
    monitor = url.removesuffix("/ws") + "/monitor"
    loop = asyncio.get_running_loop()
    while (kind := await loop.run_in_executor(None, conn.recv)) != "quit":
        cpu_begun = time.process_time()
        async with connect(monitor, additional_headers=headers, max_size=None) as ws:
            await ws.send(json.dumps({"op": "subscribe", "id": 1, **SUBSCRIPTIONS[kind]}))
            while json.loads(await ws.recv())["kind"] != "reply":
                pass
            conn.send(time.monotonic())
            counts = await _watch(ws, conn, kind)
        counts["cpu_s"] = time.process_time() - cpu_begun
        conn.send(counts)


def _console_main(url: str, conn: Connection, cpus: list[int] | None) -> None:
    benchlib.pin(cpus)
    asyncio.run(_console(url, conn))


# -- the orchestration -------------------------------------------------------------------


@dataclass
class Phase:
    """One phase of the run: its kind, window, and the node's master CPU over it."""

    kind: str
    start: float
    end: float
    master_cpu: float
    console: dict[str, Any] = field(default_factory=dict)
    requests: int = 0  # over the whole window
    counted: int = 0  # after the settling time

    @property
    def rate(self) -> float:
        """Requests per second after settling."""
        return self.counted / max(self.end - self.start - SETTLE, 1e-9)


def run_phases(node: benchlib.Host, console: Connection, args: argparse.Namespace) -> list[Phase]:
    """Cycle the console through the phases; the windows and CPU of each."""
    phases: list[Phase] = []
    for _ in range(args.cycles):
        for kind in ("none", "full", "none", "default"):
            if kind == "none":
                start = time.monotonic()
            else:
                console.send(kind)
                start = console.recv()
            cpu_begun = node.cpu_seconds()["master"]
            time.sleep(args.phase)
            end = time.monotonic()
            master_cpu = node.cpu_seconds()["master"] - cpu_begun
            phase = Phase(kind, start, end, master_cpu)
            if kind != "none":
                console.send("detach")
                phase.console = console.recv()
            phases.append(phase)
    return phases


def count_requests(phases: list[Phase], stamps: list[float]) -> None:
    """Fill in each phase's request counts from the client's completion times."""
    stamps = sorted(stamps)
    for phase in phases:
        first = bisect.bisect_left(stamps, phase.start)
        settled = bisect.bisect_left(stamps, phase.start + SETTLE)
        last = bisect.bisect_left(stamps, phase.end)
        phase.requests = last - first
        phase.counted = last - settled


def measure(layout: str, args: argparse.Namespace, tmp: str) -> dict[str, float]:
    """One layout: the phases under one continuous load, printed; the ratios."""
    node_cpus, other_cpus = LAYOUTS[layout]
    spec = {"tmp": tmp, "name": f"n-{layout}", "pool_size": args.pool, "cpus": node_cpus}
    node = benchlib.Host("node", spec)
    conn, child = benchlib.CTX.Pipe()
    console = benchlib.CTX.Process(
        target=_console_main, args=(node.url, child, other_cpus), daemon=True
    )
    console.start()
    try:
        seconds = args.cycles * 4 * args.phase + 2.0
        client = benchlib.start_client(
            "throughput",
            url=node.url,
            clients=args.clients,
            seconds=seconds,
            stamps=True,
            cpus=other_cpus,
        )
        time.sleep(1.5)  # connect, register and the client's own warm-up
        phases = run_phases(node, conn, args)
        result = benchlib.client_result(client)
        conn.send("quit")
    finally:
        console.join(10)
        node.stop()
    count_requests(phases, result["stamps"])
    return report(layout, phases, result)


def report(layout: str, phases: list[Phase], result: dict[str, Any]) -> dict[str, float]:
    """Print each cycle and the totals; the two ratios of each console kind."""
    for cycle in range(0, len(phases), 4):
        parts = [f"{p.kind} {p.rate:,.0f}" for p in phases[cycle : cycle + 4]]
        print(f"[{layout}] cycle {cycle // 4 + 1}: " + " | ".join(parts) + " req/s")
    ratios: dict[str, float] = {}
    none_rate = _pooled([p for p in phases if p.kind == "none"])
    for kind in ("none", "full", "default"):
        chosen = [p for p in phases if p.kind == kind]
        requests = sum(p.requests for p in chosen)
        master_us = sum(p.master_cpu for p in chosen) / max(requests, 1) * 1e6
        line = f"[{layout}] {kind:>7}: {_pooled(chosen):,.0f} req/s, master {master_us:.0f} us/req"
        if kind != "none":
            window = sum(p.end - p.start for p in chosen)
            flows = sum(p.console["flows"] for p in chosen)
            line += (
                f", console: {flows / window:,.0f} flows/s, "
                f"{sum(p.console['bytes'] for p in chosen) // max(flows, 1)} bytes/flow, "
                f"{sum(p.console['dropped'] for p in chosen)} dropped, "
                f"CPU {sum(p.console['cpu_s'] for p in chosen) / window:.0%} of a core"
            )
            neighbours = [
                phase.rate / statistics.mean([phases[i - 1].rate, phases[i + 1].rate])
                for i, phase in enumerate(phases)
                if phase.kind == kind and i + 1 < len(phases)
            ]
            ratios[kind] = _pooled(chosen) / none_rate
            ratios[f"{kind}_median"] = statistics.median(neighbours)
        print(line)
    print(
        f"[{layout}] load client: p50 {result['p50']:.3f} ms, p99 {result['p99']:.3f} ms "
        f"over the whole run, CPU {result['client_cpu']:.0%} of a core"
    )
    return ratios


def _pooled(phases: list[Phase]) -> float:
    return sum(p.counted for p in phases) / sum(p.end - p.start - SETTLE for p in phases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", type=float, default=2.0, help="seconds per phase")
    parser.add_argument("--cycles", type=int, default=6)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pool", type=int, default=2)
    parser.add_argument("--layout", choices=["split", "shared", "both"], default="both")
    args = parser.parse_args()
    if args.layout != "shared" and len(os.sched_getaffinity(0)) < 2:
        parser.error("the split layout needs two CPUs; use --layout shared")
    print(benchlib.machine())
    layouts = ["split", "shared"] if args.layout == "both" else [args.layout]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for layout in layouts:
            results[layout] = measure(layout, args, tmp)
    for layout, ratios in results.items():
        print(
            f"[{layout}] throughput with a console vs none: default subscription "
            f"{ratios['default']:.3f} (median per cycle {ratios['default_median']:.3f}) | "
            f"full flow rate with payloads {ratios['full']:.3f} "
            f"(median per cycle {ratios['full_median']:.3f}; target >= 0.9)"
        )


if __name__ == "__main__":
    main()
