"""The ``qewd-console`` entry point: arguments, QApplication, the qasync loop, excepthook.

The only module that knows qasync. It decides what to attach to (the embedded demo mesh
by default, or ``--attach`` URLs), owns start-up and orderly shutdown, and the
``--screenshot`` mode. Exit codes: 0 ok, 1 start-up failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from node_runtime.errors import NodeError
from node_runtime.meshrun import freeze_startup_heap
from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import Attachment, EmbeddedMesh
from qewd_console.session.traffic import TrafficGenerator
from qewd_console.widgets.main_window import MainWindow

log = logging.getLogger("qewd.console")
SCREENSHOT_AFTER = 8.0  # past worker warm-up, so latencies look like steady state


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="qewd-console",
        description="Desktop console for a QEWD mesh. With no arguments it starts the demo "
        "mesh inside the app and attaches to every node.",
    )
    parser.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="ws://HOST:PORT",
        help="attach to a running node (repeatable); pairs with --token",
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="JWT",
        help="admin or monitor token for the --attach at the same position "
        "(one token is reused for every --attach)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="render the main window after a few seconds of demo traffic, save it and exit",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=40.0,
        help="demo traffic rate in messages per second (default 40)",
    )
    parser.add_argument("--dark", action="store_true", help="start with the dark theme")
    parser.add_argument(
        "--no-traffic", action="store_true", help="do not start the demo traffic generator"
    )
    args = parser.parse_args(argv)
    if args.attach and not args.token:
        parser.error("--attach needs --token (an admin or monitor JWT)")
    if len(args.token) not in (0, 1, len(args.attach)):
        parser.error("give one --token for all, or one per --attach")
    return args


def attachments(args: argparse.Namespace) -> list[Attachment]:
    tokens = args.token if len(args.token) == len(args.attach) else args.token * len(args.attach)
    return [Attachment(url, token) for url, token in zip(args.attach, tokens, strict=True)]


def install_excepthook() -> None:
    """Show errors raised in slots instead of losing them (or aborting, as PySide6 may)."""

    def hook(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, trace))
        log.error("unhandled error: %s", text)
        app = QApplication.instance()
        window = (
            next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None)
            if app is not None
            else None
        )
        if window is not None:
            window.show_error(f"{kind.__name__}: {value}")
        else:
            sys.__excepthook__(kind, value, trace)

    sys.excepthook = hook


async def run_console(args: argparse.Namespace, app: QApplication) -> int:
    """Start the mesh (or attach), show the window, run until it closes."""
    session = ConsoleSession()
    mesh: EmbeddedMesh | None = None
    traffic: TrafficGenerator | None = None
    closed = asyncio.Event()
    connected = False  # lastWindowClosed -> closed, once the window exists
    try:
        if args.attach:
            targets = attachments(args)
        else:
            mesh = EmbeddedMesh()
            targets = await mesh.start()
            traffic = TrafficGenerator(mesh.entry_url, rate=args.rate)
        for target in targets:
            session.attach(target)
        window = MainWindow(session, traffic, dark=args.dark)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # nothing outlives the window
        app.lastWindowClosed.connect(closed.set)
        connected = True
        window.show()
        freeze_startup_heap()
        if traffic is not None and not args.no_traffic:
            window.set_traffic(True)
        if args.screenshot is not None:
            await asyncio.sleep(SCREENSHOT_AFTER)
            if not window.flows.select_last(min_hops=3):
                window.flows.select_last()
            await asyncio.sleep(0.3)  # let one redraw tick paint the selection
            if not window.grab().save(str(args.screenshot)):
                log.error("could not write %s", args.screenshot)
                return 1
            window.close()
        else:
            await closed.wait()
        return 0
    finally:
        gc.unfreeze()  # leave the interpreter as found (tests run the console in-process)
        if connected:
            app.lastWindowClosed.disconnect(closed.set)
        if traffic is not None:
            await traffic.close()
        await session.close()
        if mesh is not None:
            await mesh.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName("qewd")
    app.setApplicationName("qewd-console")
    app.setQuitOnLastWindowClosed(False)  # the coroutine decides when to stop, after cleanup
    install_excepthook()
    try:
        code: int = qasync.run(run_console(args, app))
    except NodeError as exc:
        if args.screenshot is None:
            QMessageBox.critical(None, "qewd-console", f"{exc.text} ({exc.code})")
        print(f"qewd-console: {exc.text} ({exc.code})", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
