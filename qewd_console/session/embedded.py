"""The demo mesh run inside the console: load the shipped file, start it on free ports.

Owns where the demo's data lives (a temp dir) and making the example applications
importable by the nodes' worker processes. The console still reaches these nodes only
through /monitor and /ws; this module hands back URLs and admin tokens, nothing else.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from node_runtime.config import load_mesh_config
from node_runtime.errors import NodeError
from node_runtime.master import Node
from node_runtime.meshrun import start_mesh, stop_mesh

TOKEN_TTL = 86400


@dataclass(frozen=True)
class Attachment:
    """A node to attach to: its /ws URL and a token with role admin or monitor."""

    url: str
    token: str


def demo_mesh_file() -> Path:
    return Path(str(resources.files("qewd_console") / "resources" / "demo_mesh.toml"))


def examples_root() -> Path:
    """The directory holding the ``examples`` package (the repository root).

    The demo's applications are ``examples.apps.clinic`` and ``examples.apps.audit``,
    which live beside ``qewd_console`` in the source tree, not inside the package.
    """
    root = Path(__file__).resolve().parents[2]
    if not (root / "examples" / "apps" / "clinic.py").is_file():
        raise NodeError(f"the demo applications are not at {root}/examples/apps", "E_CONFIG")
    return root


def make_importable(root: Path) -> None:
    """Put ``root`` on sys.path and PYTHONPATH (inherited by worker processes)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(root) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(root), *paths])


class EmbeddedMesh:
    """The demo mesh: ``start`` returns an attachment per node, ``stop`` ends them."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self._own_dir: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="qewd-console-")
            data_dir = Path(self._own_dir.name)
        self.data_dir = data_dir
        self.nodes: list[Node] = []

    async def start(self) -> list[Attachment]:
        make_importable(examples_root())
        mesh = load_mesh_config(demo_mesh_file())
        nodes = tuple(
            dataclasses.replace(node, data_dir=self.data_dir / node.name)
            for node in mesh.nodes)
        self.nodes = await start_mesh(dataclasses.replace(mesh, nodes=nodes),
                                      free_ports=True)
        now = time.time()
        return [Attachment(node.url, node.tokens.issue_role("admin", "console", now, TOKEN_TTL))
                for node in self.nodes]

    @property
    def entry_url(self) -> str:
        """The orchestrator's /ws: where the traffic generator sends."""
        return self.nodes[0].url

    async def stop(self) -> None:
        await stop_mesh(self.nodes, drain_timeout=2.0)
        self.nodes = []
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None
