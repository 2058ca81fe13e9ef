"""Recording a capture from any node's ``/monitor`` (library API and ``qewd-node capture``).

Owns one console connection that subscribes with payloads at the highest flow rate and
turns each ``flow`` event into a capture line. It must not change the node (it sends
only ``subscribe``). Needs an admin token: payloads are admin-only.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from node_runtime.capture.format import CaptureWriter, entry_from_flow, header
from node_runtime.errors import NodeError
from node_runtime.monitor.subscription import MAX_MAX_RATE
from node_runtime.tasks import TaskSet


def endpoint_url(target: str, path: str) -> str:
    """``target`` (``ws://host:port`` with or without a path) pointed at ``path``."""
    parts = urlsplit(target)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass
class RecordResult:
    """What a recording produced."""

    path: Path
    node: str
    entries: int
    dropped: int


async def record(
    target: str,
    token: str,
    out: Path,
    *,
    duration: float | None = None,
    stop: asyncio.Event | None = None,
    redacted: bool = True,
    filters: dict[str, Any] | None = None,
    ready: asyncio.Event | None = None,
    max_entries: int | None = None,
) -> RecordResult:
    """Record finished requests at ``target`` into ``out`` until ``duration`` or ``stop``.

    ``max_entries`` ends it after that many exchanges. ``ready`` is set once the
    subscription is in place (so callers can start traffic).
    """
    headers = {"Authorization": f"Bearer {token}"}
    loop = asyncio.get_running_loop()
    deadline = None if duration is None else loop.time() + duration
    async with connect(
        endpoint_url(target, "/monitor"), additional_headers=headers, max_size=None
    ) as ws:
        snapshot = json.loads(await ws.recv())
        node = str(snapshot.get("node", {}).get("name", ""))
        await ws.send(
            json.dumps(
                {
                    "op": "subscribe",
                    "id": "capture",
                    "payloads": True,
                    "tokens": not redacted,
                    "max_rate": MAX_MAX_RATE,
                    "filters": filters or {},
                }
            )
        )
        started = time.time()
        writer = CaptureWriter(
            out, header(target=target, node=node, started=started, redacted=redacted)
        )
        dropped = 0
        tasks = TaskSet("capture")
        if stop is not None:
            tasks.spawn(_close_when(stop, ws), "stop")
        try:
            while True:
                left = None if deadline is None else deadline - loop.time()
                if left is not None and left <= 0:
                    break
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), left))
                except (TimeoutError, ConnectionClosed):
                    break
                kind = frame.get("kind")
                if kind == "flow":
                    writer.add(entry_from_flow(frame["flow"], started, redacted=redacted))
                    if max_entries is not None and writer.count >= max_entries:
                        break
                elif kind == "stats":
                    dropped += int(frame.get("flows_dropped", 0))
                elif kind == "reply" and frame.get("id") == "capture":
                    if not frame.get("ok"):
                        raise NodeError(
                            f"subscribe refused: {frame.get('error')}", str(frame.get("code"))
                        )
                    if ready is not None:
                        ready.set()
        finally:
            writer.close()
            await tasks.cancel_all()
    return RecordResult(path=out, node=node, entries=writer.count, dropped=dropped)


async def _close_when(stop: asyncio.Event, ws: ClientConnection) -> None:
    await stop.wait()
    await ws.close()
