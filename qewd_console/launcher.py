"""The ``qewd-console`` command: makes sure the console's own libraries are installed
before importing the app, so an install made for nodes only (``pip install qewd-mesh``,
no Qt) says what to add instead of failing with a traceback. Nothing else."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

# What the console needs beyond the node runtime: the ``console`` extra.
CONSOLE_LIBRARIES = ("PySide6", "qasync", "pyqtgraph", "numpy")


def missing_libraries() -> list[str]:
    """The console libraries this interpreter cannot import."""
    return [name for name in CONSOLE_LIBRARIES if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console, or exit 2 naming what is missing and how to add it."""
    missing = missing_libraries()
    if missing:
        print(
            f"qewd-console: the console needs {', '.join(missing)}, which this installation "
            "lacks (an install for nodes only); add the console extra: "
            "pip install 'qewd-mesh[console]' (from a source tree: pip install '.[console]')",
            file=sys.stderr,
        )
        return 2
    from qewd_console.app import main as run_app  # noqa: PLC0415 - only once checked

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
