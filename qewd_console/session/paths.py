"""Where the demo mesh file is (its applications are the installed ``qewd_examples``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_mesh_file() -> Path:
    return Path(str(resources.files("qewd_console") / "resources" / "demo_mesh.toml"))
