"""The qewd-console command on an install made for nodes only: a clear message, exit 2."""

from __future__ import annotations

import subprocess
import sys

from qewd_console.launcher import CONSOLE_LIBRARIES, missing_libraries
from tests.support import ROOT


def test_all_console_libraries_are_here_in_the_dev_install() -> None:
    """The dev install has the console extra, so nothing is missing."""
    assert missing_libraries() == []


def test_without_qt_the_command_names_the_extra_to_install() -> None:
    """With PySide6 and pyqtgraph not importable, the command says what to install and
    exits 2 before importing any of the console."""
    script = (
        "import sys\n"
        "sys.modules['PySide6'] = None\n"
        "sys.modules['pyqtgraph'] = None\n"
        "from qewd_console.launcher import main\n"
        "code = main([])\n"
        "assert 'qewd_console.app' not in sys.modules\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "needs PySide6, pyqtgraph" in done.stderr
    assert "pip install 'qewd-mesh[console]'" in done.stderr
    assert set(CONSOLE_LIBRARIES) >= {"PySide6", "pyqtgraph"}
