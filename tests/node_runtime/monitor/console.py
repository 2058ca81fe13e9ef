"""A raw ``/monitor`` client for tests: mint role tokens, send ops, wait for frame kinds."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from node_runtime.protocol.tokens import TokenService, TokenSettings
from tests.support import SECRET, scaled


def role_token(role: str) -> str:
    """A token with ``role`` signed with the test secret."""
    service = TokenService(TokenSettings(secret=SECRET))
    return service.issue_role(role, role, time.time(), 3600)


def monitor_url(node_url: str) -> str:
    """The /monitor URL of a node given its /ws URL."""
    return node_url.removesuffix("/ws") + "/monitor"


class Console:
    """One console connection: frames kept in order, ops answered by id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.seen: list[dict[str, Any]] = []

    @classmethod
    @asynccontextmanager
    async def open(
        cls, node_url: str, role: str = "admin", *, max_queue: int | None = 16
    ) -> AsyncIterator[Console]:
        """A console connection; ``max_queue``: frames its client buffers before it stops
        reading the socket (websockets' own bound)."""
        headers = {"Authorization": f"Bearer {role_token(role)}"}
        async with connect(
            monitor_url(node_url), additional_headers=headers, max_size=None, max_queue=max_queue
        ) as ws:
            yield cls(ws)

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        return await self._recv_within(scaled(timeout))

    async def _recv_within(self, seconds: float) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), seconds))
        self.seen.append(frame)
        return frame

    async def wait_for(
        self, test: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The next frame passing ``test`` (earlier frames stay in ``seen``)."""
        deadline = asyncio.get_running_loop().time() + scaled(timeout)
        while True:
            left = deadline - asyncio.get_running_loop().time()
            frame = await self._recv_within(max(left, 0.01))
            if test(frame):
                return frame

    async def kind(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        return await self.wait_for(lambda f: f.get("kind") == kind, timeout)

    async def op(self, name: str, **fields: Any) -> dict[str, Any]:
        op_id = next(self.ids)
        await self.ws.send(json.dumps({"op": name, "id": op_id, **fields}))
        return await self.wait_for(lambda f: f.get("kind") == "reply" and f.get("id") == op_id)
