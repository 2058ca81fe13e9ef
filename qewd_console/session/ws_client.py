"""A client of a node's ``/ws`` endpoint (DESIGN section 3) for the composer and traffic.

Owns one socket, per-application session tokens (refreshed from every final reply) and
matching replies to requests by id. It must not know about Qt.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from node_runtime.errors import NodeError
from node_runtime.tasks import TaskSet

CALL_TIMEOUT = 30.0


@dataclass
class CallResult:
    """What one request produced: intermediates, the final reply, and its trace."""

    app: str
    type: str
    params: dict[str, Any]
    intermediates: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)
    ms: float = 0.0

    @property
    def ok(self) -> bool:
        message = self.final.get("message")
        return isinstance(message, dict) and "error" not in message

    @property
    def trace(self) -> list[dict[str, Any]]:
        trace = self.final.get("trace")
        return list(trace) if isinstance(trace, list) else []


class WsClient:
    """One connection to a node's /ws; ``call`` may be used concurrently."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._pending: dict[
            int, tuple[asyncio.Future[dict[str, Any]], Callable[[dict[str, Any]], None] | None]
        ] = {}
        self.tokens: dict[str, str] = {}
        self._tasks = TaskSet("ws-client")
        self._lock = asyncio.Lock()

    async def _connection(self) -> ClientConnection:
        async with self._lock:
            if self._ws is None:
                try:
                    self._ws = await connect(self.url, max_size=None, open_timeout=10)
                except (OSError, WebSocketException, TimeoutError) as exc:
                    raise NodeError(f"cannot reach {self.url}: {exc}", "E_PEER_DOWN") from exc
                self._tasks.spawn(self._read(self._ws), "read")
            return self._ws

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for data in ws:
                frame = json.loads(data)
                entry = self._pending.get(frame.get("id"))
                if entry is None:
                    continue
                future, on_intermediate = entry
                if frame.get("finished") is False:
                    if on_intermediate is not None:
                        on_intermediate(frame)
                elif not future.done():
                    future.set_result(frame)
        except (WebSocketException, ValueError):
            pass
        finally:
            self._ws = None
            for future, _ in self._pending.values():
                if not future.done():
                    future.set_exception(NodeError("connection lost", "E_PEER_DOWN"))

    async def _send(
        self,
        frame: dict[str, Any],
        on_intermediate: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        ws = await self._connection()
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (future, on_intermediate)
        try:
            await ws.send(json.dumps({**frame, "id": request_id}))
            return await asyncio.wait_for(future, CALL_TIMEOUT)
        except WebSocketException as exc:
            raise NodeError(f"connection lost: {exc}", "E_PEER_DOWN") from exc
        finally:
            self._pending.pop(request_id, None)

    async def token_for(self, app: str) -> str:
        """A session token for ``app``, registering on first use."""
        if app not in self.tokens:
            reply = await self._send({"type": "ewd-register", "application": app})
            message = reply.get("message") or {}
            if "token" not in message:
                raise NodeError(
                    str(message.get("error", "register refused")),
                    str(message.get("code", "E_NO_APP")),
                )
            self.tokens[app] = str(message["token"])
        return self.tokens[app]

    async def call(
        self,
        app: str,
        msg_type: str,
        params: dict[str, Any],
        *,
        on_intermediate: Callable[[dict[str, Any]], None] | None = None,
    ) -> CallResult:
        """Send one request with tracing on; returns when its final reply arrives."""
        result = CallResult(app, msg_type, params)
        token = await self.token_for(app)

        def collect(frame: dict[str, Any]) -> None:
            result.intermediates.append(frame)
            if on_intermediate is not None:
                on_intermediate(frame)

        loop = asyncio.get_running_loop()
        started = loop.time()
        result.final = await self._send(
            {"type": msg_type, "token": token, "params": params, "trace": True}, collect
        )
        result.ms = (loop.time() - started) * 1000
        message = result.final.get("message")
        if isinstance(message, dict) and isinstance(message.get("token"), str):
            self.tokens[app] = message["token"]
        return result

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        await self._tasks.cancel_all()
