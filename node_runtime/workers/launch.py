"""Starting one of our own modules as a child process, from an installed package or from
a frozen (PyInstaller) console bundle.

An interpreter runs ``python -m module``. A frozen bundle has no ``-m``: its executable
is the app itself, so children are started as ``app --qewd-module module ...`` and the
bundle's entry script hands such a command line to ``run_module_from_argv`` before
anything else (``build_spec/``). Nodes start their workers this way; the console starts
its embedded mesh this way.
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence

FROZEN_FLAG = "--qewd-module"


def module_command(module: str, *args: str) -> list[str]:
    """The command line that runs ``module`` as ``__main__`` with ``args``."""
    if getattr(sys, "frozen", False):
        return [sys.executable, FROZEN_FLAG, module, *args]
    return [sys.executable, "-m", module, *args]


def run_module_from_argv(argv: Sequence[str]) -> bool:
    """Run the module a frozen bundle's command line names, as ``python -m`` would (its
    ``sys.argv``: the module's file, then its arguments); False if it names none."""
    if len(argv) < 3 or argv[1] != FROZEN_FLAG:
        return False
    module = argv[2]
    sys.argv = [module, *argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return True
