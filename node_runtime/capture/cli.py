"""``qewd-node capture`` and ``qewd-node replay`` (filled in with the capture feature)."""

from __future__ import annotations

import argparse
from typing import Any


def add_capture_commands(sub: Any) -> None:
    """Register the capture and replay sub-commands."""


def run_capture_command(args: argparse.Namespace) -> int:
    """Run a capture or replay sub-command."""
    return 2
