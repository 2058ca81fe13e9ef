"""Runs what the capture/replay panel asks for: recording, HAR export, replay with progress.

Owns the running capture job and turns panel signals into session tasks; results and
errors go back to the panel (never only to a log). The engine is ``node_runtime.capture``
reached through ``qewd_console.session.capture``.
"""

from __future__ import annotations

from pathlib import Path

from node_runtime.errors import NodeError
from qewd_console.session.capture import CaptureJob, export_har, run_capture, run_replay
from qewd_console.session.console import ConsoleSession
from qewd_console.widgets.capture_panel import CapturePanel


class CaptureControl:
    """Connects one ``CapturePanel`` to the session."""

    def __init__(self, session: ConsoleSession, panel: CapturePanel) -> None:
        self.session = session
        self.panel = panel
        self.job: CaptureJob | None = None
        panel.capture_requested.connect(self.capture)
        panel.stop_requested.connect(self.stop)
        panel.replay_requested.connect(self.replay)
        panel.har_requested.connect(self.export)

    def capture(self, key: str, file: str, seconds: float) -> None:
        client = self.session.clients.get(key)
        if client is None:
            self.panel.show_text(f"capture failed: no node {key}")
            return
        job = self.job = CaptureJob(Path(file))

        async def run() -> None:
            try:
                result = await run_capture(job, key, client.token, seconds or None)
            except (NodeError, OSError) as exc:
                self.panel.show_text(f"capture failed: {exc}")
                return
            self.panel.show_text(
                f"recorded {result.entries} exchanges at {result.node} into {result.path}"
                f" ({result.dropped} dropped by the node's rate cap)"
            )

        self.session.spawn(run(), "capture")

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop.set()

    def export(self, file: str, har_file: str) -> None:
        try:
            count = export_har(Path(file), Path(har_file))
        except (NodeError, OSError) as exc:
            self.panel.show_text(f"HAR export failed: {exc}")
            return
        self.panel.show_text(f"exported {count} exchanges to {har_file}")

    def replay(  # noqa: PLR0917 - the slot takes replay_requested's six arguments
        self, key: str, file: str, mode: str, speed: float, compare: bool, secret: str
    ) -> None:
        mirror = self.session.mirrors.get(key)
        url = mirror.url if mirror else key

        async def run() -> None:
            try:
                report = await run_replay(
                    Path(file),
                    url,
                    mode=mode,
                    speed=speed,
                    compare=compare,
                    secret=secret or None,
                    on_progress=self.panel.show_progress,
                )
            except (NodeError, OSError) as exc:
                self.panel.show_text(f"replay failed: {exc}")
                return
            self.panel.show_mismatches(report.mismatches)
            self.panel.show_text(
                f"replay to {mirror.label if mirror else url}:\n" + report.summary()
            )

        self.session.spawn(run(), "replay")
