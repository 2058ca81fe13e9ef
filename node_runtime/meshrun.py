"""Running several nodes in one process: ``qewd-node mesh`` and the console's embedded mesh.

Owns start/stop order and *relocation*: a mesh file names fixed ports, and a developer's
machine may have them taken, so ``relocate`` moves every node to a free port and
rewrites every destination URL that pointed at a moved node. Nothing here decides
routing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import socket
from urllib.parse import urlsplit, urlunsplit

from node_runtime.config import MeshConfig
from node_runtime.master import Node
from node_runtime.protocol.routes import RouteMap


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _rewrite(route_map: RouteMap, moved: dict[tuple[str, int], int]) -> RouteMap:
    data = route_map.to_dict()
    for dest in data.get("destinations", {}).values():
        url = dest.get("url")
        if not url:
            continue
        parts = urlsplit(url)
        new_port = moved.get((parts.hostname or "", parts.port or 0))
        if new_port is not None:
            netloc = f"{parts.hostname}:{new_port}"
            dest["url"] = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return RouteMap.from_dict(data, version=route_map.version)


def relocate(mesh: MeshConfig) -> MeshConfig:
    """The same mesh with every node (and REST face) on a free port, URLs rewritten."""
    moved: dict[tuple[str, int], int] = {}
    ports: dict[str, tuple[int, int]] = {}
    for node in mesh.nodes:
        port = free_port(node.host)
        http_port = free_port(node.host) if node.http_port else 0
        moved[(node.host, node.port)] = port
        if node.host == "127.0.0.1":
            moved[("localhost", node.port)] = port
        ports[node.name] = (port, http_port)
    nodes = tuple(
        dataclasses.replace(
            node,
            port=ports[node.name][0],
            http_port=ports[node.name][1],
            route_map=_rewrite(node.route_map, moved),
        )
        for node in mesh.nodes
    )
    return dataclasses.replace(mesh, nodes=nodes)


async def start_mesh(mesh: MeshConfig, *, free_ports: bool = False) -> list[Node]:
    """Start every node of a mesh (relocated first if asked); stops those started on failure."""
    config = relocate(mesh) if free_ports else mesh
    started: list[Node] = []
    try:
        for node_config in config.nodes:
            node = Node(node_config)
            await node.start()
            started.append(node)
        await connect_mesh(started)
    except BaseException:
        await stop_mesh(started)
        raise
    return started


def freeze_startup_heap() -> None:
    """Call once a process has started (its nodes, or the console's window): what
    start-up built (modules, apps, config; in the console Qt wrappers, pyqtgraph, numpy)
    lives as long as the process, so it moves out of the cyclic GC's sight
    (``gc.freeze``). Full collections then walk only what came later: on a node under
    load 1-6 ms instead of 15-45 ms (bench_monitor), in the console instead of ~400 ms of
    event-loop time (bench_console) — pauses that fell on whatever was in flight."""
    gc.collect()
    gc.freeze()


async def connect_mesh(nodes: list[Node], timeout: float = 5.0) -> None:
    """Bring up links between nodes of one process now, instead of after a backoff.

    Nodes start one after another, so an early node's link to a later one has failed
    once and is waiting to retry; this retries at once and waits for those links.
    """
    urls = {node.url for node in nodes}
    await asyncio.gather(*(node.mesh.wait_links(urls, timeout) for node in nodes))


async def stop_mesh(nodes: list[Node], drain_timeout: float | None = None) -> None:
    """Stop nodes, entry nodes first so nothing new reaches the inner ones."""
    for node in nodes:
        await node.stop(drain_timeout=drain_timeout)
