"""Capture and replay from the console, over node_runtime's capture engine.

Owns the console-side state of one recording (stop switch, progress) and of replays;
the file format, recording and replay themselves live in ``node_runtime.capture``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from node_runtime.capture.format import read_capture
from node_runtime.capture.recorder import RecordResult, record
from node_runtime.capture.replay import ReplayReport, replay


@dataclass
class CaptureJob:
    """One recording in progress or done; ``stop`` ends it early."""

    path: Path
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    result: RecordResult | None = None


async def run_capture(
    job: CaptureJob, url: str, token: str, duration: float | None, *, redacted: bool = True
) -> RecordResult:
    """Record finished requests at ``url`` into ``job.path`` until duration or stop."""
    job.result = await record(
        url, token, job.path, duration=duration, stop=job.stop, redacted=redacted
    )
    return job.result


async def run_replay(
    path: Path, url: str, *, mode: str, speed: float, compare: bool
) -> ReplayReport:
    """Re-send a capture file's requests to ``url`` (registering for fresh tokens)."""
    capture = read_capture(path)
    return await replay(capture, url, mode=mode, speed=speed, compare=compare)
