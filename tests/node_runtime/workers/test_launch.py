"""Child processes of our own modules: ``python -m`` normally, the app's own executable
with ``--qewd-module`` in a frozen console bundle (build_spec/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from node_runtime.workers.launch import FROZEN_FLAG, module_command, run_module_from_argv
from tests.support import ROOT

ENTRY = ROOT / "build_spec" / "qewd_console_entry.py"


def test_command_is_python_dash_m_unless_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """From an installed package: the interpreter with -m; frozen: the app with the flag."""
    assert module_command("pkg.mod", "7") == [sys.executable, "-m", "pkg.mod", "7"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert module_command("pkg.mod", "7") == [sys.executable, FROZEN_FLAG, "pkg.mod", "7"]


def test_bundle_entry_runs_the_named_module_as_main(tmp_path: Path) -> None:
    """The bundle's entry script, given the flag, runs that module as ``__main__`` with
    ``sys.argv`` as ``python -m`` sets it (the module's file, then the arguments),
    instead of starting the console."""
    out = tmp_path / "probe.json"
    done = subprocess.run(
        [sys.executable, str(ENTRY), FROZEN_FLAG, "tests.apps.argv_probe", str(out), "x y"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # a script's path is its own folder
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    probe = json.loads(out.read_text())
    assert probe["name"] == "__main__"
    assert probe["argv"] == [str(ROOT / "tests" / "apps" / "argv_probe.py"), str(out), "x y"]


def test_other_command_lines_are_left_to_the_console() -> None:
    """Without the flag nothing runs: the entry script goes on to the console."""
    assert run_module_from_argv(["qewd-console"]) is False
    assert run_module_from_argv(["qewd-console", "--attach", "ws://h:1"]) is False
    assert run_module_from_argv(["qewd-console", FROZEN_FLAG]) is False
