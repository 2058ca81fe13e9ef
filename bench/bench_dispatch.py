"""Benchmark: master <-> worker dispatch (WorkerPool alone) and client echo over /ws.

(a) WorkerPool driven directly, queue kept full, 1 and 2 prefork workers, msg/s; against
    a raw socketpair ping-pong (length-prefixed pickle) between two processes.
(b) client echo over /ws through a node vs a raw ``websockets`` echo server: c=1 latency
    and c=16 throughput (16 connections, one request in flight each). Server and client
    run in separate processes.

Run: .venv/bin/python bench/bench_dispatch.py [--seconds 5] [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import socket
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

from node_runtime.loading import worker_init
from node_runtime.workers.pool import Job, JobResult, WorkerPool
from tests.support import node_config

QEWD_1W, QEWD_2W = 10_417.0, 19_194.0
QEWD_C1_P50, QEWD_C16 = 0.59, 3_236.0
HEADER = struct.Struct("!I")


def echo_payload(seq: int) -> dict[str, Any]:
    return {
        "app": "trials",
        "msg": {
            "type": "echo",
            "params": dict(benchlib.ECHO_PARAMS),
            "id": seq,
            "application": "trials",
        },
        "session": None,
    }


async def pool_run(
    init: dict[str, Any], workers: int, seconds: float, in_flight: int
) -> dict[str, Any]:
    """Keep ``in_flight`` jobs submitted for ``seconds``; count completions."""
    pool = WorkerPool(
        init=init, size=workers, handler_timeout=30.0, max_queue=in_flight * 2, prefork=True
    )
    await pool.start()
    done_count = 0
    failed = 0
    max_queue = 0
    stop_at = 0.0
    finished = asyncio.Event()
    outstanding = 0
    seq = 0

    def on_done(result: JobResult) -> None:
        nonlocal done_count, failed, outstanding, max_queue
        outstanding -= 1
        if result.ok:
            done_count += 1
        else:
            failed += 1
        if time.perf_counter() < stop_at:
            submit()
        elif outstanding == 0:
            finished.set()

    def submit() -> None:
        nonlocal outstanding, seq
        seq += 1
        outstanding += 1
        pool.submit(Job(echo_payload(seq), on_done))

    # warm-up second, then the measured window
    for phase, length in (("warm", 1.0), ("measure", seconds)):
        done_count = failed = 0
        finished.clear()
        begun = time.perf_counter()
        stop_at = begun + length
        for _ in range(in_flight):
            submit()
        max_queue = len(pool.queue)
        await finished.wait()
        wall = time.perf_counter() - begun
        if phase == "measure":
            result = {
                "workers": workers,
                "done": done_count,
                "failed": failed,
                "seconds": wall,
                "msg_s": done_count / wall,
                "split": [w.handled for w in pool.workers.values()],
                "queue_at_start": max_queue,
            }
    await pool.close()
    return result


def _raw_peer(sock: socket.socket) -> None:
    buffer = bytearray()
    reply_text = '{"echo":{"text":"hello","n":1},"node":"n1","pid":1}'
    while True:
        while len(buffer) < 4 or len(buffer) < 4 + HEADER.unpack_from(buffer)[0]:
            chunk = sock.recv(1 << 16)
            if not chunk:
                return
            buffer += chunk
        (length,) = HEADER.unpack_from(buffer)
        message = pickle.loads(bytes(buffer[4 : 4 + length]))  # noqa: S301 - our own process
        del buffer[: 4 + length]
        body = pickle.dumps(("done", message[1], reply_text, 0.01), pickle.HIGHEST_PROTOCOL)
        sock.sendall(HEADER.pack(len(body)) + body)


def raw_pipe(seconds: float) -> dict[str, Any]:
    """Blocking ping-pong over a socketpair with a forked peer, one message at a time."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        ours.close()
        _raw_peer(theirs)
        os._exit(0)
    theirs.close()
    count = 0
    buffer = bytearray()
    begun = time.perf_counter()
    stop_at = begun + seconds
    while time.perf_counter() < stop_at:
        body = pickle.dumps(("run", count, echo_payload(count)), pickle.HIGHEST_PROTOCOL)
        ours.sendall(HEADER.pack(len(body)) + body)
        while len(buffer) < 4 or len(buffer) < 4 + HEADER.unpack_from(buffer)[0]:
            buffer += ours.recv(1 << 16)
        (length,) = HEADER.unpack_from(buffer)
        pickle.loads(bytes(buffer[4 : 4 + length]))  # noqa: S301 - our own process
        del buffer[: 4 + length]
        count += 1
    wall = time.perf_counter() - begun
    ours.close()
    os.waitpid(pid, 0)
    return {"done": count, "seconds": wall, "msg_s": count / wall}


def part_a(tmp: Path, seconds: float, in_flight: int) -> None:
    print(
        f"\n(a) WorkerPool dispatch: prefork, queue kept at {in_flight} in flight, "
        f"{seconds:g} s per run after 1 s warm-up; handler trials.echo, session=None"
    )
    init = worker_init(node_config(tmp, "pool"))
    raw = raw_pipe(seconds)
    print(
        f"  raw socketpair ping-pong (pickle, fork peer): {raw['msg_s']:,.0f} msg/s "
        f"({raw['done']} in {raw['seconds']:.2f} s)"
    )
    for workers, qewd in ((1, QEWD_1W), (2, QEWD_2W)):
        got = asyncio.run(pool_run(init, workers, seconds, in_flight))
        print(
            f"  WorkerPool {workers} worker(s): {got['msg_s']:,.0f} msg/s "
            f"({got['done']} ok, {got['failed']} failed, {got['seconds']:.2f} s, "
            f"split {got['split']})  vs raw {got['msg_s'] / raw['msg_s']:.2f}x  "
            f"vs QEWD ewd-qoper8 {qewd:,.0f}: {got['msg_s'] / qewd:.2f}x"
        )


def part_b(tmp: Path, requests: int, seconds: float, pool_size: int) -> None:
    print(
        f"\n(b) client echo over /ws: node (pool_size={pool_size}, prefork) vs raw websockets "
        f"echo server; server and client in separate processes; c=1: {requests} requests "
        f"on one connection; c=16: 16 connections each with one request in flight, "
        f"{seconds:g} s after 0.5 s warm-up"
    )
    raw = benchlib.Host("raw", {"tmp": str(tmp)})
    node = benchlib.Host("node", {"tmp": str(tmp), "name": "n1", "pool_size": pool_size})
    try:
        results: dict[str, dict[str, Any]] = {}
        for label, host in (("raw", raw), ("node", node)):
            results[label + " c=1"] = benchlib.run_client("latency", url=host.url, count=requests)
            before = [host.cpu_seconds()]
            begun = time.perf_counter()
            results[label + " c=16"] = benchlib.run_client(
                "throughput", url=host.url, clients=16, seconds=seconds
            )
            cpu = benchlib.cpu_share([host], before, time.perf_counter() - begun)
            print(
                f"  CPU during {label} c=16 (share of one core): client "
                f"{results[label + ' c=16']['client_cpu']:.0%}; server {cpu}"
            )
        for label, result in results.items():
            print(f"  {label:10} {benchlib.fmt(result)}")
        n1, r1 = results["node c=1"], results["raw c=1"]
        n16, r16 = results["node c=16"], results["raw c=16"]
        print(
            f"  node/raw: c=1 p50 {n1['p50'] / r1['p50']:.2f}x, "
            f"c=16 req/s {n16['req_s'] / r16['req_s']:.2f}x"
        )
        print(
            f"  vs QEWD local (HTTP, keep-alive): c=1 p50 {n1['p50']:.3f} vs {QEWD_C1_P50} ms "
            f"({n1['p50'] / QEWD_C1_P50:.2f}x); c=16 {n16['req_s']:,.0f} vs {QEWD_C16:,.0f} "
            f"req/s ({n16['req_s'] / QEWD_C16:.2f}x)"
        )
    finally:
        node.stop()
        raw.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=2000)
    parser.add_argument("--pool-size", type=int, default=1)
    parser.add_argument("--only", choices=("a", "b"))
    args = parser.parse_args()
    print(f"bench_dispatch  {benchlib.machine()}")
    print(f"params: {vars(args)}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "a"):
            part_a(Path(tmp), args.seconds, args.in_flight)
        if args.only in (None, "b"):
            part_b(Path(tmp), args.requests, args.seconds, args.pool_size)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
