"""The demo mesh started by the console, in a child process (``mesh_process``).

Owns the child's life: where its data lives (a temp dir), starting it, reading the
attachments it announces, and stopping it. The console reaches these nodes only through
/monitor and /ws like any others; this module hands back URLs and admin tokens.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from node_runtime.errors import NodeError
from node_runtime.workers.launch import module_command

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Attachment:
    """A node to attach to: its /ws URL and a token with role admin or monitor."""

    url: str
    token: str


class EmbeddedMesh:
    """The demo mesh: ``start`` returns an attachment per node, ``stop`` ends them."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self._own_dir: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="qewd-console-")
            data_dir = Path(self._own_dir.name)
        self.data_dir = data_dir
        self.attachments: list[Attachment] = []
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> list[Attachment]:
        # Popen returns at once; the Qt-driven loop need not support subprocess transports.
        self._process = subprocess.Popen(  # noqa: ASYNC220 - see above
            module_command("qewd_console.session.mesh_process", str(self.data_dir)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        stdout = self._process.stdout
        assert stdout is not None
        try:
            line = await asyncio.wait_for(asyncio.to_thread(stdout.readline), START_TIMEOUT)
        except TimeoutError as exc:
            await self.stop()
            raise NodeError("the demo mesh did not start in time", "E_TIMEOUT") from exc
        if not line:
            await self.stop()
            raise NodeError("the demo mesh failed to start (see its output)", "E_CONFIG")
        self.attachments = [Attachment(a["url"], a["token"]) for a in json.loads(line)]
        return self.attachments

    @property
    def entry_url(self) -> str:
        """The orchestrator's /ws (the first node of the file): where traffic goes."""
        return self.attachments[0].url

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()  # the child stops when its stdin closes
            try:
                await asyncio.to_thread(process.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
            if process.stdout is not None:
                process.stdout.close()
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None
