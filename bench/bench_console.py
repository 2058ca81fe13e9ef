"""Benchmark: the desktop console's responsiveness while the demo mesh carries >= 2,000 msg/s.

The console process runs the real ``MainWindow`` (offscreen) attached to the embedded demo
mesh (its own child process, as in the app) with the traffic generator on; extra load
comes from closed-loop clients in a separate process sending ``clinic``/``echo`` to the
orchestrator's ``/ws``. Measured in the console process:

* event-loop lag: a 10 ms precise QTimer records how late each tick fires (p50/p99/max);
* redraws per second: the window's redraw ticks that ran, and the graph viewport's paints;
* memory: RSS from /proc/self/statm once a second; slope by least squares over the run
  after the first 10 s (warm-up), in MB/min;
* mesh load: the sum of every node's ``rates.in`` from the monitor stats, and the load
  clients' own req/s.

Targets: lag p99 <= 50 ms, >= 20 redraws/s, memory flat. Results are appended to
bench/RESULTS.md under "## bench_console.py".

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_console.py [--seconds 60]
     [--minutes 5] [--clients 24] [--rate 400] [--no-append]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import benchlib
import qasync
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication
from websockets.asyncio.client import connect

from node_runtime.meshrun import freeze_startup_heap
from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import EmbeddedMesh
from qewd_console.session.traffic import TrafficGenerator
from qewd_console.widgets.main_window import MainWindow

PROBE_MS = 10
LAG_TARGET_MS = 50.0
REDRAW_TARGET = 20.0
WARM_UP = 10.0
PAGE = os.sysconf("SC_PAGE_SIZE")
RESULTS = benchlib.ROOT / "bench" / "RESULTS.md"


# -- load clients (separate process) ---------------------------------------------------


async def _load(url: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` connections, one clinic/echo in flight each, for ``seconds``."""
    done = 0
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done, errors
        async with connect(url, max_size=None, compression=None) as ws:
            await ws.send(json.dumps({"type": "ewd-register", "application": "clinic"}))
            token = json.loads(await ws.recv())["message"]["token"]
            for seq in itertools.count():
                if time.perf_counter() > stop_at:
                    return
                frame = {"type": "echo", "id": seq, "params": {"n": seq}, "token": token}
                await ws.send(json.dumps(frame))
                while True:
                    reply = json.loads(await ws.recv())
                    if reply.get("finished") is not False:
                        break
                message = reply.get("message")
                if isinstance(message, dict) and "error" in message:
                    errors += 1
                else:
                    done += 1

    begun = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - begun
    return {"done": done, "errors": errors, "req_s": done / wall}


def _load_main(url: str, clients: int, seconds: float, conn: Connection) -> None:
    try:
        conn.send(asyncio.run(_load(url, clients, seconds)))
    except Exception as exc:
        conn.send({"error": f"{type(exc).__name__}: {exc}"})


# -- probes in the console process -----------------------------------------------------


class Probes:
    """Event-loop lag, redraw counts, RSS and mesh rate, sampled during the run."""

    def __init__(self, window: MainWindow, session: ConsoleSession) -> None:
        self.window = window
        self.session = session
        self.lateness_ms: list[float] = []
        self.ticks = 0
        self.tick_ms: list[float] = []
        self.cpu_started = time.process_time()
        self.rss: list[tuple[float, float]] = []  # (seconds since start, MB)
        self.mesh_rates: list[float] = []
        self.started = time.perf_counter()
        self._last = self.started
        self.gc_ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._gc_begun = 0.0
        gc.callbacks.append(self._gc)
        self.lag = QTimer()
        self.lag.setTimerType(Qt.TimerType.PreciseTimer)
        self.lag.setInterval(PROBE_MS)
        self.lag.timeout.connect(self._lag_tick)
        self.sample = QTimer()
        self.sample.setInterval(1000)
        self.sample.timeout.connect(self._sample)
        original_tick = window.tick

        def counted_tick() -> None:
            begun = time.perf_counter()
            original_tick()
            self.tick_ms.append((time.perf_counter() - begun) * 1000.0)
            self.ticks += 1

        window.timer.timeout.disconnect()
        window.timer.timeout.connect(counted_tick)

    def start(self) -> None:
        for times in self.gc_ms.values():
            times.clear()
        self.started = self._last = time.perf_counter()
        self.cpu_started = time.process_time()
        self.ticks = 0
        self.tick_ms.clear()
        self.window.graph.paints = 0
        self.window.plots.redraws = 0
        self.lag.start()
        self.sample.start()

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_begun = time.perf_counter()
        else:
            self.gc_ms[info["generation"]].append((time.perf_counter() - self._gc_begun) * 1e3)

    def stop(self) -> None:
        gc.callbacks.remove(self._gc)
        self.lag.stop()
        self.sample.stop()

    def _lag_tick(self) -> None:
        now = time.perf_counter()
        self.lateness_ms.append(max(0.0, (now - self._last) * 1000.0 - PROBE_MS))
        self._last = now

    def _sample(self) -> None:
        with open("/proc/self/statm", encoding="ascii") as statm:
            rss_pages = int(statm.read().split()[1])
        elapsed = time.perf_counter() - self.started
        self.rss.append((elapsed, rss_pages * PAGE / 1048576))
        self.mesh_rates.append(sum(m.rates.get("in", 0.0) for m in self.session.mirrors.values()))


def slope_mb_per_min(points: list[tuple[float, float]], since: float = WARM_UP) -> float:
    """Least-squares slope of RSS over time, from ``since`` seconds on."""
    usable = [(t, mb) for t, mb in points if t >= since] or points
    if len(usable) < 2:
        return 0.0
    mean_t = statistics.fmean(t for t, _ in usable)
    mean_m = statistics.fmean(m for _, m in usable)
    num = sum((t - mean_t) * (m - mean_m) for t, m in usable)
    den = sum((t - mean_t) ** 2 for t, _ in usable) or 1.0
    return num / den * 60.0


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    session = ConsoleSession()
    mesh = EmbeddedMesh(tmp / "mesh")
    targets = await mesh.start()
    traffic = TrafficGenerator(mesh.entry_url, rate=args.rate, seed=1)
    settings = QSettings(str(tmp / "console.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, traffic, settings=settings)
    probes = Probes(window, session)
    try:
        for target in targets:
            session.attach(target)
        window.show()
        freeze_startup_heap()  # as the app does
        window.set_traffic(True)
        await asyncio.sleep(3.0)  # nodes up, workers warm
        conn, child = benchlib.CTX.Pipe()
        load = benchlib.CTX.Process(
            target=_load_main, args=(mesh.entry_url, args.clients, args.seconds, child), daemon=True
        )
        load.start()
        probes.start()
        result = await asyncio.to_thread(conn.recv)
        await asyncio.to_thread(load.join, 10)
        probes.stop()
        wall = time.perf_counter() - probes.started
        cpu = (time.process_time() - probes.cpu_started) / wall
        if "error" in result:
            raise RuntimeError(result["error"])
        return {
            "wall": wall,
            "load": result,
            "generator": {"sent": traffic.sent, "errors": traffic.errors},
            "lag_p50": benchlib.pct(probes.lateness_ms, 50),
            "lag_p99": benchlib.pct(probes.lateness_ms, 99),
            "lag_max": max(probes.lateness_ms),
            "lag_n": len(probes.lateness_ms),
            "ticks_s": probes.ticks / wall,
            "tick_p50": benchlib.pct(probes.tick_ms, 50),
            "tick_p99": benchlib.pct(probes.tick_ms, 99),
            "cpu": cpu,
            "gc": {
                gen: (len(times), max(times, default=0.0), sum(times))
                for gen, times in probes.gc_ms.items()
            },
            "paints_s": window.graph.paints / wall,
            "plots_s": window.plots.redraws / wall,
            "rss_first": probes.rss[0][1],
            "rss_last": probes.rss[-1][1],
            "rss_max": max(mb for _, mb in probes.rss),
            "slope": slope_mb_per_min(probes.rss),
            # Once the bounded buffers are full (120 s of plot history, 5,000 flows),
            # memory should stop growing: the slope over the second half shows that.
            "slope_late": slope_mb_per_min(probes.rss, since=max(WARM_UP, wall / 2)),
            "mesh_in_median": statistics.median(probes.mesh_rates[3:] or probes.mesh_rates),
            "flows_kept": len(session.flows),
        }
    finally:
        window.close()
        await traffic.close()
        await session.close()
        await mesh.stop()


def report(args: argparse.Namespace, r: dict[str, Any]) -> str:
    lag_ok = "met" if r["lag_p99"] <= LAG_TARGET_MS else "MISSED"
    draw_ok = "met" if r["ticks_s"] >= REDRAW_TARGET else "MISSED"
    return "\n".join(
        [
            f"Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_console.py "
            f"--seconds {args.seconds:g} --clients {args.clients} --rate {args.rate:g}`",
            f"Machine: {benchlib.machine()}",
            "",
            f"* mesh load: median sum of nodes' `rates.in` {r['mesh_in_median']:,.0f} msg/s; "
            f"load clients {r['load']['req_s']:,.0f} req/s ({args.clients} closed-loop clinic/"
            f"echo to the orchestrator, {r['load']['errors']} errors) + generator "
            f"{r['generator']['sent']:,} sent at {args.rate:g}/s (forwarded mix)",
            f"* event-loop lag (10 ms precise QTimer, n={r['lag_n']:,}): p50 "
            f"{r['lag_p50']:.1f} ms, p99 {r['lag_p99']:.1f} ms, max {r['lag_max']:.1f} ms "
            f"— target p99 <= 50 ms: {lag_ok}",
            f"* redraws: {r['ticks_s']:.1f} window ticks/s (graph+flows+plots each tick), "
            f"{r['paints_s']:.1f} graph viewport paints/s — target >= 20/s: {draw_ok}; "
            f"latency plots redrawn {r['plots_s']:.1f}/s (only when new stats points came, "
            f"<= 4/s); one tick's work p50 {r['tick_p50']:.1f} ms p99 {r['tick_p99']:.1f} ms",
            f"* console process CPU: {r['cpu'] * 100:.0f} % of one core "
            f"(the box has {os.cpu_count()} cores shared with the mesh and the load clients)",
            "* garbage collections (count, longest, total ms) by generation: "
            + ", ".join(
                f"gen{gen} {n} / {longest:.1f} / {total:.0f}"
                for gen, (n, longest, total) in r["gc"].items()
            ),
            f"* memory (RSS, /proc/self/statm each 1 s): {r['rss_first']:.0f} → "
            f"{r['rss_last']:.0f} MB (max {r['rss_max']:.0f}); slope after {WARM_UP:g} s "
            f"warm-up {r['slope']:+.2f} MB/min over {r['wall']:.0f} s; over the second half "
            f"(buffers full) {r['slope_late']:+.2f} MB/min",
            f"* flows kept in the ring at the end: {r['flows_kept']:,} (bounded at 5,000)",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--minutes", type=float, help="run this many minutes (overrides)")
    parser.add_argument("--clients", type=int, default=24, help="closed-loop load clients")
    parser.add_argument("--rate", type=float, default=400.0, help="traffic generator msg/s")
    parser.add_argument("--no-append", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    if args.minutes:
        args.seconds = args.minutes * 60.0
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        result = qasync.run(run(args, Path(tmp)))
    text = report(args, result)
    print(text)
    if not args.no_append:
        existing = RESULTS.read_text(encoding="utf-8")
        heading = "## bench_console.py"
        stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        block = f"\n### Run at {stamp}\n\n{text}\n"
        if heading not in existing:
            block = f"\n{heading}\n" + block
        RESULTS.write_text(existing.rstrip("\n") + "\n" + block, encoding="utf-8")


if __name__ == "__main__":
    main()
