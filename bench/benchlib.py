"""Shared parts of the benchmark scripts: machine facts, node host processes, WS load clients.

Layout of every network benchmark: the orchestrating process starts each server (a node,
or a raw ``websockets`` echo server) in its own *host process* and the load generator in
another *client process*, so the client never shares an event loop with what it
measures. Processes use the ``spawn`` start method.
"""

from __future__ import annotations

import asyncio
import cProfile
import itertools
import json
import multiprocessing as mp
import os
import platform
import pstats
import ssl
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # workers import tests.apps.trials relative to the cwd

from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import ServerConnection, serve  # noqa: E402

from node_runtime.config import parse_node_config  # noqa: E402
from node_runtime.master import Node  # noqa: E402
from node_runtime.meshrun import freeze_startup_heap  # noqa: E402
from tests.support import SECRET  # noqa: E402

CTX = mp.get_context("spawn")
ECHO_PARAMS = {"text": "hello", "n": 1}


def machine() -> str:
    """One line describing the machine and interpreter."""
    load = os.getloadavg()
    return (
        f"cpus={os.cpu_count()} python={platform.python_version()} "
        f"({platform.python_implementation()}) {platform.machine()} "
        f"load1={load[0]:.2f} date={time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
    )


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100.0 * len(ordered)) - 1))
    return ordered[index]


def summary_ms(samples: list[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean in ms of a list of seconds."""
    ms = [s * 1000.0 for s in samples]
    return {
        "p50": pct(ms, 50),
        "p90": pct(ms, 90),
        "p99": pct(ms, 99),
        "max": max(ms),
        "mean": statistics.fmean(ms),
    }


# -- server host processes -------------------------------------------------------------


def _node_data(spec: dict[str, Any]) -> Any:
    name = spec["name"]
    table = {
        "name": name,
        "port": 0,
        "pool_size": spec.get("pool_size", int(os.environ.get("BENCH_POOL", "1"))),
        "data_dir": str(Path(spec["tmp"]) / name),
        "prefork": True,
    }
    data: dict[str, Any] = {
        "node": table,
        "jwt": {"secret": SECRET},
        "apps": {"trials": "tests.apps.trials"},
    }
    if spec.get("next_url"):
        data["destinations"] = {"next": {"url": spec["next_url"]}}
        data["routes"] = [{"application": "trials", "types": ["echo"], "destination": "next"}]
    if spec.get("tls"):
        data["tls"] = spec["tls"]
    return parse_node_config(data, Path(spec["tmp"]) / f"{name}.toml")


async def _host_node(spec: dict[str, Any], conn: Connection) -> None:
    node = Node(_node_data(spec))
    await node.start()
    for link in node.mesh.links.values():
        if not await link.wait_up(30.0):
            raise RuntimeError(f"link to {link.url} did not come up: {link.last_error}")
    freeze_startup_heap()  # as qewd-node run does
    conn.send(node.url)
    await _serve_until_stop(conn, spec)
    await node.stop(drain_timeout=2.0)


async def _host_raw_echo(spec: dict[str, Any], conn: Connection) -> None:
    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, max_size=None, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        conn.send(f"ws://127.0.0.1:{port}/ws")
        await _serve_until_stop(conn, spec)


async def _serve_until_stop(conn: Connection, spec: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "stop":
            return
        if command == "profile-start":
            profiler = cProfile.Profile()
            profiler.enable()
        elif command == "profile-stop":
            profiler.disable()
            out = Path(spec["tmp"]) / f"profile-{spec.get('name', 'raw')}.txt"
            with out.open("w") as handle:
                stats = pstats.Stats(profiler, stream=handle)
                stats.sort_stats("tottime").print_stats(25)
            conn.send(str(out))


def pin(cpus: list[int] | None) -> None:
    """Keep this process (and the processes it starts) on ``cpus``; None leaves it free."""
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)


def _host_main(kind: str, spec: dict[str, Any], conn: Connection) -> None:
    os.chdir(ROOT)
    pin(spec.get("cpus"))
    target = _host_node if kind == "node" else _host_raw_echo
    asyncio.run(target(spec, conn))


class Host:
    """A server in its own process; ``url`` once it is listening."""

    def __init__(self, kind: str, spec: dict[str, Any]) -> None:
        self.conn, child = CTX.Pipe()
        self.proc = CTX.Process(target=_host_main, args=(kind, spec, child), daemon=True)
        self.proc.start()
        if not self.conn.poll(60):
            raise RuntimeError(f"{kind} host did not start")
        self.url: str = self.conn.recv()

    def profile(self, start: bool) -> str | None:
        """Start or stop cProfile inside the host; stop returns the report's path."""
        self.conn.send("profile-start" if start else "profile-stop")
        return None if start else str(self.conn.recv())

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user+sys) used so far by the host process and by its worker children."""
        return {
            "master": _cpu(self.proc.pid or 0),
            "workers": sum(_cpu(pid) for pid in _children(self.proc.pid or 0)),
        }

    def stop(self) -> None:
        """Stop the server and wait for its process."""
        self.conn.send("stop")
        self.proc.join(15)
        if self.proc.is_alive():
            self.proc.kill()


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_share(hosts: list[Host], before: list[dict[str, float]], wall: float) -> str:
    """Per-host CPU use (fraction of one core) since ``before``."""
    parts = []
    for host, old in zip(hosts, before, strict=True):
        now = host.cpu_seconds()
        parts.append(
            f"master {(now['master'] - old['master']) / wall:.0%} + workers "
            f"{(now['workers'] - old['workers']) / wall:.0%}"
        )
    return "; ".join(parts)


# -- the load client (runs in its own process) -----------------------------------------


def client_ssl(ca: str | None) -> ssl.SSLContext | None:
    """A client context trusting ``ca`` (None for plain ws)."""
    return ssl.create_default_context(cafile=ca) if ca else None


async def _register(ws: Any) -> str:
    await ws.send(json.dumps({"type": "ewd-register", "application": "trials", "id": 0}))
    reply = json.loads(await ws.recv())
    return str(reply["message"]["token"]) if "message" in reply else ""


async def _one(ws: Any, token: str, seq: int) -> None:
    await ws.send(json.dumps({"type": "echo", "id": seq, "params": ECHO_PARAMS, "token": token}))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("finished") is False:
            continue
        message = reply.get("message")
        if isinstance(message, dict) and "error" in message:
            raise RuntimeError(f"error reply: {reply}")
        return


async def latency(url: str, count: int, ca: str | None = None) -> dict[str, Any]:
    """Concurrency 1: one connection, one request at a time; latency percentiles."""
    async with connect(url, max_size=None, compression=None, ssl=client_ssl(ca)) as ws:
        token = await _register(ws)
        for seq in range(min(200, count)):  # warm-up
            await _one(ws, token, seq)
        samples = []
        begun = time.perf_counter()
        for seq in range(count):
            started = time.perf_counter()
            await _one(ws, token, seq)
            samples.append(time.perf_counter() - started)
        wall = time.perf_counter() - begun
    return {"n": count, "req_s": count / wall, **summary_ms(samples)}


async def throughput(
    url: str, clients: int, seconds: float, ca: str | None = None, stamps: bool = False
) -> dict[str, Any]:
    """``clients`` connections, each with one request in flight (closed loop), for ``seconds``.

    With ``stamps`` the result also lists when each request finished (``time.monotonic``,
    one clock for every process of the machine), so a caller can cut the run into phases.
    """
    samples: list[float] = []
    finished: list[float] = []
    stop_at = 0.0

    async def worker(ws: Any, token: str) -> None:
        seq = itertools.count()
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await _one(ws, token, next(seq))
            samples.append(time.perf_counter() - started)
            if stamps:
                finished.append(time.monotonic())

    sockets = [
        await connect(url, max_size=None, compression=None, ssl=client_ssl(ca))
        for _ in range(clients)
    ]
    try:
        tokens = [await _register(ws) for ws in sockets]
        stop_at = time.perf_counter() + 0.5  # warm-up
        await asyncio.gather(*(worker(ws, t) for ws, t in zip(sockets, tokens, strict=True)))
        samples.clear()
        finished.clear()
        begun = time.perf_counter()
        stop_at = begun + seconds
        cpu_begun = time.process_time()
        await asyncio.gather(*(worker(ws, t) for ws, t in zip(sockets, tokens, strict=True)))
        wall = time.perf_counter() - begun
        client_cpu = (time.process_time() - cpu_begun) / wall
    finally:
        for ws in sockets:
            await ws.close()
    return {
        "n": len(samples),
        "clients": clients,
        "seconds": wall,
        "req_s": len(samples) / wall,
        "client_cpu": client_cpu,
        **summary_ms(samples),
        **({"stamps": finished} if stamps else {}),
    }


async def fresh_connections(url: str, count: int, ca: str | None = None) -> dict[str, Any]:
    """``count`` requests, each on a brand-new connection (TCP + TLS + WS handshake)."""
    async with connect(url, compression=None, ssl=client_ssl(ca)) as ws:
        token = await _register(ws)
    samples = []
    begun = time.perf_counter()
    for seq in range(count):
        started = time.perf_counter()
        async with connect(url, compression=None, ssl=client_ssl(ca)) as ws:
            await _one(ws, token, seq)
        samples.append(time.perf_counter() - started)
    wall = time.perf_counter() - begun
    return {"n": count, "req_s": count / wall, **summary_ms(samples)}


def _client_main(kind: str, args: dict[str, Any], conn: Connection) -> None:
    os.chdir(ROOT)
    pin(args.pop("cpus", None))
    target = {"latency": latency, "throughput": throughput, "fresh": fresh_connections}[kind]
    try:
        conn.send(asyncio.run(target(**args)))
    except Exception as exc:
        conn.send({"error": f"{type(exc).__name__}: {exc}"})


def start_client(kind: str, **args: Any) -> tuple[Any, Connection]:
    """Start one load pattern in a fresh client process (``cpus=[...]`` keeps that
    process on those CPUs); ``client_result`` waits for its figures."""
    conn, child = CTX.Pipe()
    proc = CTX.Process(target=_client_main, args=(kind, args, child), daemon=True)
    proc.start()
    return proc, conn


def client_result(started: tuple[Any, Connection]) -> dict[str, Any]:
    """The figures of a client process from ``start_client``, once it has finished."""
    proc, conn = started
    result: dict[str, Any] = conn.recv()
    proc.join(10)
    if "error" in result:
        raise RuntimeError(result["error"])
    return result


def run_client(kind: str, **args: Any) -> dict[str, Any]:
    """Run one load pattern in a fresh client process and return its figures."""
    return client_result(start_client(kind, **args))


def fmt(result: dict[str, Any]) -> str:
    """A one-line rendering of a latency/throughput result."""
    return (
        f"n={result['n']} req/s={result['req_s']:,.0f} p50={result['p50']:.3f}ms "
        f"p90={result['p90']:.3f}ms p99={result['p99']:.3f}ms max={result['max']:.2f}ms"
    )
