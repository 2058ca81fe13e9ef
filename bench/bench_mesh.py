"""Benchmark: forwarding through the mesh.

(a) per-hop overhead: echo direct to a node vs through 1, 2, 3 forwarding hops (a chain of
    nodes, each in its own process, each routing trials/echo to the next), against the raw
    ``websockets`` echo RTT. Target: each hop adds at most 2x the raw RTT at p50.
(b) persistent wss:// connection vs a new TLS connection per request (TCP + TLS + WS
    handshake each), same node, self-signed certificate; plus the forwarded call over a
    persistent wss link between two TLS nodes.
(c) forwarded (1 hop) c=1 p50 and c=16 req/s vs QEWD's forwarded REST -> MS figures.

Run: .venv/bin/python bench/bench_mesh.py [--requests 2000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib

from tests.support import self_signed_certificate

QEWD_FWD_P50, QEWD_FWD_C16 = 1.25, 1_855.0


def chain(
    tmp: Path,
    hops: int,
    prefix: str,
    tls: dict[str, str] | None = None,
) -> list[benchlib.Host]:
    """Start ``hops + 1`` nodes, last first; the first is the one clients talk to."""
    hosts: list[benchlib.Host] = []
    next_url = None
    for index in reversed(range(hops + 1)):
        spec: dict[str, Any] = {
            "tmp": str(tmp),
            "name": f"{prefix}{index}",
            "next_url": next_url,
            "tls": tls,
        }
        host = benchlib.Host("node", spec)
        hosts.insert(0, host)
        next_url = host.url
    return hosts


def stop_all(hosts: list[benchlib.Host]) -> None:
    for host in hosts:
        host.stop()


def part_a(tmp: Path, requests: int) -> None:
    print(
        f"\n(a) per-hop overhead, c=1, {requests} requests on one connection after 200 warm-up;"
        f" every node in its own process, pool_size=1 prefork"
    )
    raw = benchlib.Host("raw", {"tmp": str(tmp)})
    hosts = chain(tmp, 3, "h")
    try:
        raw_rtt = benchlib.run_client("latency", url=raw.url, count=requests)
        print(f"  raw websockets echo: {benchlib.fmt(raw_rtt)}")
        direct: dict[str, Any] | None = None
        for hops in range(4):
            # the client talks to node h(3-hops), which is `hops` forwards from h3 (local)
            got = benchlib.run_client("latency", url=hosts[3 - hops].url, count=requests)
            if direct is None:
                direct = got
                print(f"  direct (0 hops):     {benchlib.fmt(got)}")
                continue
            per_hop = (got["p50"] - direct["p50"]) / hops
            verdict = "MET" if per_hop <= 2 * raw_rtt["p50"] else "MISSED"
            print(
                f"  {hops} hop(s):           {benchlib.fmt(got)}  per-hop p50 +{per_hop:.3f}ms"
                f" = {per_hop / raw_rtt['p50']:.2f}x raw RTT (target <= 2x: {verdict})"
            )
    finally:
        stop_all(hosts)
        raw.stop()


def part_b(tmp: Path, requests: int) -> None:
    print(
        f"\n(b) TLS: persistent wss connection vs new TLS connection per request "
        f"({requests} requests each; ECDSA P-256 self-signed cert, TLS defaults of ssl)"
    )
    tls = self_signed_certificate(tmp, "bench")
    hosts = chain(tmp, 1, "t", tls=tls)
    try:
        leaf = hosts[1].url
        persistent = benchlib.run_client("latency", url=leaf, count=requests, ca=tls["ca"])
        fresh = benchlib.run_client("fresh", url=leaf, count=max(requests // 4, 200), ca=tls["ca"])
        forwarded = benchlib.run_client("latency", url=hosts[0].url, count=requests, ca=tls["ca"])
        print(f"  persistent wss, direct:        {benchlib.fmt(persistent)}")
        print(f"  fresh TLS conn per request:    {benchlib.fmt(fresh)}")
        print(
            f"  forwarded over wss link (1 hop, client->t0 wss persistent, t0->t1 link): "
            f"{benchlib.fmt(forwarded)}"
        )
        print(
            f"  fresh/persistent per request: p50 {fresh['p50'] / persistent['p50']:.1f}x, "
            f"throughput {persistent['req_s'] / fresh['req_s']:.1f}x"
        )
        print(
            f"  a hop over a fresh TLS connection would cost about {fresh['p50']:.3f} ms; "
            f"the persistent wss hop adds {forwarded['p50'] - persistent['p50']:.3f} ms "
            f"({fresh['p50'] / max(forwarded['p50'] - persistent['p50'], 1e-9):.1f}x less)"
        )
    finally:
        stop_all(hosts)


def part_c(tmp: Path, requests: int, seconds: float, profile: bool) -> None:
    print(
        f"\n(c) forwarded throughput and latency, 1 hop (ws), c=1 {requests} requests; c=16: "
        f"16 connections each with one request in flight, {seconds:g} s"
    )
    hosts = chain(tmp, 1, "f")
    try:
        c1 = benchlib.run_client("latency", url=hosts[0].url, count=requests)
        before = [host.cpu_seconds() for host in hosts]
        begun = time.perf_counter()
        c16 = benchlib.run_client("throughput", url=hosts[0].url, clients=16, seconds=seconds)
        cpu = benchlib.cpu_share(hosts, before, time.perf_counter() - begun)
        p50_ok = "MET" if c1["p50"] <= QEWD_FWD_P50 else "MISSED"
        tp_ok = "MET" if c16["req_s"] >= 2 * QEWD_FWD_C16 else "MISSED"
        print(f"  c=1:  {benchlib.fmt(c1)}")
        print(f"  c=16: {benchlib.fmt(c16)}")
        print(
            f"  CPU during c=16 (share of one core; {benchlib.os.cpu_count()} cores): client "
            f"{c16['client_cpu']:.0%}; f0 {cpu.split('; ')[0]}; f1 {cpu.split('; ')[1]}"
        )
        print(
            f"  vs QEWD forwarded: c=1 p50 {c1['p50']:.3f} vs {QEWD_FWD_P50} ms "
            f"(target <= 1.25: {p50_ok}); c=16 {c16['req_s']:,.0f} vs {QEWD_FWD_C16:,.0f} "
            f"req/s = {c16['req_s'] / QEWD_FWD_C16:.2f}x (target >= 2x: {tp_ok})"
        )
        if profile:
            for host in hosts:
                host.profile(True)
            benchlib.run_client("throughput", url=hosts[0].url, clients=16, seconds=seconds)
            for host in hosts:
                path = host.profile(False)
                print(f"  cProfile of {host.url} master during c=16 (tottime top 25): {path}")
                if path:
                    print(Path(path).read_text())
    finally:
        stop_all(hosts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--only", choices=("a", "b", "c"))
    parser.add_argument("--profile", action="store_true", help="cProfile the masters in (c)")
    args = parser.parse_args()
    print(f"bench_mesh  {benchlib.machine()}")
    print(f"params: {vars(args)}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if args.only in (None, "a"):
            part_a(tmp, args.requests)
        if args.only in (None, "b"):
            part_b(tmp, args.requests)
        if args.only in (None, "c"):
            part_c(tmp, args.requests, args.seconds, args.profile)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
