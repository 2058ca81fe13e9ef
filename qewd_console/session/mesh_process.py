"""The demo mesh's own process: ``python -m qewd_console.session.mesh_process DATA_DIR``.

Starts the demo mesh on free ports with its data under DATA_DIR, prints one JSON line
(``[{"url": ..., "token": ...}, ...]``, admin tokens) and runs until its stdin closes or
it gets SIGTERM/SIGINT, then stops the nodes. A process of its own, so the window's
painting never adds to the nodes' latencies and a crash of either spares the other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path

from node_runtime.config import load_mesh_config
from node_runtime.meshrun import freeze_startup_heap, start_mesh, stop_mesh
from qewd_console.session.paths import demo_mesh_file

TOKEN_TTL = 86400


async def serve(data_dir: Path) -> None:
    mesh = load_mesh_config(demo_mesh_file())
    nodes = tuple(dataclasses.replace(n, data_dir=data_dir / n.name) for n in mesh.nodes)
    running = await start_mesh(dataclasses.replace(mesh, nodes=nodes), free_ports=True)
    freeze_startup_heap()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_reader(sys.stdin.fileno(), stop.set)  # readable means closed: nothing is sent
    now = time.time()
    attachments = [
        {"url": node.url, "token": node.tokens.issue_role("admin", "console", now, TOKEN_TTL)}
        for node in running
    ]
    sys.stdout.write(json.dumps(attachments) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await stop_mesh(running, drain_timeout=2.0)


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
