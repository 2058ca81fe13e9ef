"""Where the demo mesh file and the demo applications are, and making them importable."""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path

from node_runtime.errors import NodeError


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
