"""The traffic generator: a mix of clinic and audit messages at a chosen rate.

Owns the mix and the pacing; it sends through a ``WsClient`` like any other client and
bounds the requests in flight so a slow mesh slows it rather than piling up.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from node_runtime.errors import NodeError
from node_runtime.tasks import TaskSet
from qewd_console.session.ws_client import WsClient

MAX_IN_FLIGHT = 64
LOGIN_ATTEMPTS = 10
MIX: list[tuple[str, str, int]] = [  # (app, type, weight)
    ("clinic", "echo", 3),
    ("clinic", "getPatient", 4),
    ("clinic", "savePatient", 1),
    ("audit", "record", 2),
    ("audit", "archive", 1),
]


class TrafficGenerator:
    """Sends ``rate`` messages a second while running; counts what came back."""

    def __init__(self, url: str, rate: float = 20.0, seed: int | None = None) -> None:
        self.client = WsClient(url)
        self.rate = rate
        self.sent = 0
        self.errors = 0
        self.last_error = ""
        self._random = random.Random(seed)
        self._tasks = TaskSet("traffic")
        self._runner: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._patients: list[int] = []

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    def start(self) -> None:
        if not self.running:
            self._runner = self._tasks.spawn(self._run(), "pace")

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            self._runner = None

    async def close(self) -> None:
        await self.stop()
        await self._tasks.cancel_all()
        await self.client.close()

    def _pick(self) -> tuple[str, str, dict[str, Any]]:
        apps = [(app, kind) for app, kind, weight in MIX for _ in range(weight)]
        app, kind = self._random.choice(apps)
        if kind == "getPatient":
            if not self._patients:
                kind = "savePatient"
            else:
                return app, kind, {"id": self._random.choice(self._patients)}
        if kind == "savePatient":
            name = self._random.choice(["Ada", "Bob", "Cy", "Dee", "Eve"])
            return app, kind, {"patient": {"name": name, "age": self._random.randint(1, 99)}}
        if kind in ("record", "archive"):
            return app, kind, {"event": f"demo-{self.sent}"}
        return app, kind, {"n": self.sent}

    async def _login(self) -> None:
        """Log in, retrying while the mesh's links come up (a fresh mesh may say E_PEER_DOWN)."""
        for attempt in range(LOGIN_ATTEMPTS):
            try:
                result = await self.client.call(
                    "clinic", "login", {"username": "ann", "password": "nna"}
                )
            except NodeError as exc:
                self.last_error = exc.text
            else:
                if result.ok:
                    return
                message = result.final.get("message") or {}
                self.last_error = f"login: {message.get('error')} ({message.get('code')})"
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        raise NodeError(f"demo login failed: {self.last_error}", "E_LOGIN")

    async def _run(self) -> None:
        await self._login()
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            await self._slots.acquire()
            self._tasks.spawn(self._one(*self._pick()), "send")
            self.sent += 1
            next_at += 1.0 / max(self.rate, 0.1)
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            next_at = max(next_at, loop.time() - 1.0)  # after a stall, do not burst

    async def _one(self, app: str, kind: str, params: dict[str, Any]) -> None:
        try:
            result = await self.client.call(app, kind, params)
            if not result.ok:
                self.errors += 1
            elif kind == "savePatient":
                new_id = (result.final.get("message") or {}).get("id")
                if isinstance(new_id, int) and len(self._patients) < 1000:
                    self._patients.append(new_id)
        except NodeError as exc:
            self.errors += 1
            self.last_error = exc.text
        finally:
            self._slots.release()
