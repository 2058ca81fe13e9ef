"""The console session: every attached node's mirror, the flow ring, ops and the composer.

Owns the set of monitor clients and what they report, the ring of recent flows, the
composer's /ws clients and history. Views learn of changes through plain listener
callbacks (``listeners``) and by polling ``version`` counters on a timer; nothing here
knows Qt. Ops return coroutines; callers schedule them through ``spawn``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from node_runtime.errors import NodeError
from node_runtime.tasks import TaskSet
from qewd_console.session.embedded import Attachment
from qewd_console.session.mirror import HISTORY_SECONDS, NodeMirror
from qewd_console.session.monitor_client import MonitorClient, MonitorError, probe
from qewd_console.session.ring import SeqRing
from qewd_console.session.ws_client import CallResult, WsClient

FLOW_CAPACITY = 5000
HISTORY = 100

Listener = Callable[[str, str], None]  # (event, node key)


@dataclass(slots=True)
class FlowRecord:
    """A flow event as received (lists made tuples), with the node key it came from."""

    source: str
    flow: dict[str, Any]


def frozen(value: Any) -> Any:
    """``value`` with every list turned into a tuple, recursively.

    The garbage collector stops tracking dicts and tuples that hold only atomic values,
    so thousands of kept flows cost it nothing; lists are always tracked, and with them
    every flow that holds one (measured: gen1/gen2 pauses were the console's worst lag).
    """
    if isinstance(value, dict):
        return {key: frozen(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    return value


class ConsoleSession:
    """All the console knows and can do; one per window."""

    def __init__(self) -> None:
        self.mirrors: dict[str, NodeMirror] = {}
        self.clients: dict[str, MonitorClient] = {}
        self.flows: SeqRing[FlowRecord] = SeqRing(FLOW_CAPACITY)
        self.history: deque[CallResult] = deque(maxlen=HISTORY)
        self.errors: deque[str] = deque(maxlen=50)
        self.listeners: list[Listener] = []
        self.version = 0  # bumped on any mirror change; views redraw when it moved
        self._ws_clients: dict[str, WsClient] = {}
        self._tasks = TaskSet("console")
        self.latency_history = HISTORY_SECONDS  # seconds kept, chosen by the user

    def set_latency_history(self, seconds: float) -> None:
        """Keep this many seconds of latency history for every node."""
        self.latency_history = seconds
        for mirror in self.mirrors.values():
            mirror.set_history(seconds)

    # -- attaching ------------------------------------------------------------------

    def attach(self, attachment: Attachment) -> NodeMirror:
        """Start watching a node; returns its (still empty) mirror."""
        key = attachment.url
        mirror = NodeMirror(key=key, history=self.latency_history)
        self.mirrors[key] = mirror
        client = MonitorClient(
            key,
            attachment.token,
            on_frame=lambda frame: self._frame(key, frame),
            on_state=lambda state, reason: self._state(key, state, reason),
        )
        self.clients[key] = client
        self._tasks.spawn(client.run(), f"monitor:{key}")
        return mirror

    async def connect(self, attachment: Attachment) -> NodeMirror:
        """Check the node answers with this token (raising ``MonitorError`` why not), attach.

        Attaching again to a URL already attached replaces its client (a new token).
        """
        attachment = Attachment(attachment.url.strip(), attachment.token.strip())
        await probe(attachment.url, attachment.token)
        await self.detach(attachment.url)
        return self.attach(attachment)

    async def detach(self, key: str) -> None:
        """Stop watching a node and forget its mirror."""
        client = self.clients.pop(key, None)
        self.mirrors.pop(key, None)
        if client is not None:
            await client.close()
            self._emit("detached", key)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run an op in the background; a NodeError becomes a reported error."""

        async def guarded() -> None:
            try:
                await coro
            except NodeError as exc:
                self.report(f"{name}: {exc.text} ({exc.code})")

        self._tasks.spawn(guarded(), name)

    def report(self, text: str) -> None:
        self.errors.append(text)
        self._emit("error", text)

    def _emit(self, event: str, key: str) -> None:
        self.version += 1
        for listener in list(self.listeners):
            listener(event, key)

    def _state(self, key: str, state: str, reason: str) -> None:
        mirror = self.mirrors.get(key)
        if mirror is None or state == "up":
            return  # "up" is declared by the snapshot
        mirror.state = state
        mirror.error = reason
        self._emit("state", key)

    def _frame(self, key: str, frame: dict[str, Any]) -> None:
        mirror = self.mirrors.get(key)
        if mirror is None:
            return  # detached while a frame was on its way
        kind = frame.get("kind")
        if kind in ("flow", "flows"):
            batch = frame.get("flows") if kind == "flows" else [frame.get("flow")]
            for flow in batch if isinstance(batch, list) else ():
                if isinstance(flow, dict):
                    self.flows.append(FlowRecord(key, frozen(flow)))
            return  # flows are polled by views, never announced one by one
        if frame.get("kind") == "reply":
            self.report(f"{mirror.label}: subscribe refused: {frame.get('error')}")
            return
        kind = mirror.apply(frame)
        self._emit(kind, key)

    # -- lookups --------------------------------------------------------------------

    def mirror_named(self, name: str) -> NodeMirror | None:
        return next((m for m in self.mirrors.values() if m.name == name), None)

    def node_for_url(self, url: str) -> NodeMirror | None:
        """The attached node whose /ws URL is ``url`` (peers name each other by URL)."""
        return next((m for m in self.mirrors.values() if url in (m.url, m.key)), None)

    # -- ops ------------------------------------------------------------------------

    def _client(self, key: str) -> MonitorClient:
        client = self.clients.get(key)
        if client is None:
            raise MonitorError(f"no node {key}", "E_NOT_FOUND")
        return client

    async def resize_pool(self, key: str, size: int) -> dict[str, Any]:
        return await self._client(key).request("pool.resize", size=size)

    async def stop_worker(self, key: str, pid: int) -> dict[str, Any]:
        return await self._client(key).request("worker.stop", pid=pid)

    async def validate_routes(self, key: str, route_map: dict[str, Any]) -> dict[str, Any]:
        return await self._client(key).request("routes.validate", map=route_map)

    async def apply_routes(
        self, key: str, route_map: dict[str, Any], if_version: int
    ) -> dict[str, Any]:
        return await self._client(key).request("routes.apply", map=route_map, if_version=if_version)

    async def set_payloads(self, on: bool) -> None:
        """Ask every node for payloads (admin only) and keep asking after reconnects."""
        for key, client in self.clients.items():
            client.subscription["payloads"] = on
            try:
                await client.request("subscribe", **client.subscription)
                self.mirrors[key].payloads = on
            except MonitorError as exc:
                client.subscription["payloads"] = False
                self.report(f"{self.mirrors[key].label}: payloads: {exc.text} ({exc.code})")
        self._emit("subscription", "")

    async def compose(
        self,
        key: str,
        app: str,
        msg_type: str,
        params: dict[str, Any],
        *,
        count: int = 1,
        rate: float = 10.0,
        on_result: Callable[[CallResult], None] | None = None,
        on_intermediate: Callable[[dict[str, Any]], None] | None = None,
    ) -> list[CallResult]:
        """Send a message ``count`` times at ``rate``/s to the node ``key``; record each."""
        mirror = self.mirrors.get(key)
        url = mirror.url if mirror else key
        client = self._ws_clients.get(url)
        if client is None:
            client = self._ws_clients[url] = WsClient(url)
        results: list[CallResult] = []
        pending: list[asyncio.Task[CallResult]] = []
        for index in range(count):
            if index:
                await asyncio.sleep(1.0 / max(rate, 0.1))
            pending.append(
                self._tasks.spawn(
                    client.call(app, msg_type, params, on_intermediate=on_intermediate),
                    f"compose:{msg_type}",
                )
            )
        for task in pending:
            result = await task
            results.append(result)
            self.history.appendleft(result)
            if on_result is not None:
                on_result(result)
        self._emit("history", key)
        return results

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
        for ws in self._ws_clients.values():
            await ws.close()
        await self._tasks.cancel_all()
