"""Capture, HAR export and replay from the console, over node_runtime's capture engine.

Owns the console-side state of one recording (stop switch) and replay progress: the
engine's ``replay`` reports only at the end, so the console replays a capture in slices
(each through ``replay``) and reports after each slice; ``timed`` slices start at their
original offset, so the pacing is kept. The file format, recording and replay themselves
live in ``node_runtime.capture``. No Qt.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from node_runtime.capture.format import Capture, read_capture
from node_runtime.capture.har import to_har
from node_runtime.capture.recorder import RecordResult, record
from node_runtime.capture.replay import ReplayReport, replay

SLICES = 50  # progress steps of a replay; each slice is one engine call (one connection)

Progress = Callable[[int, int], None]  # (done, total)


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


def export_har(path: Path, har_path: Path) -> int:
    """Write the capture at ``path`` as HAR 1.2 to ``har_path``; returns the entry count."""
    capture = read_capture(path)
    har_path.write_text(json.dumps(to_har(capture), indent=1), encoding="utf-8")
    return len(capture.entries)


def _merge(total: ReplayReport, part: ReplayReport, offset: int) -> None:
    total.sent += part.sent
    total.ok += part.ok
    total.errors += part.errors
    total.latencies_ms += part.latencies_ms
    total.mismatches += [replace(m, index=m.index + offset) for m in part.mismatches]


async def run_replay(
    path: Path,
    url: str,
    *,
    mode: str,
    speed: float,
    compare: bool,
    secret: str | None = None,
    on_progress: Progress | None = None,
) -> ReplayReport:
    """Re-send a capture's requests to ``url``; tokens minted from ``secret`` if given.

    Without a secret the engine registers (``ewd-register``) for session tokens.
    ``on_progress(done, total)`` is called before the first and after every slice.
    """
    capture = read_capture(path)
    entries = capture.entries
    total = ReplayReport(compared=compare)
    size = max(1, -(-len(entries) // SLICES))
    loop = asyncio.get_running_loop()
    started = loop.time()
    if on_progress is not None:
        on_progress(0, len(entries))
    for offset in range(0, len(entries), size):
        chunk = entries[offset : offset + size]
        if mode == "timed":
            first = float(chunk[0].get("t", 0.0))
            delay = started + first / speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            chunk = [{**e, "t": float(e.get("t", 0.0)) - first} for e in chunk]
        part = await replay(
            Capture(capture.header, chunk),
            url,
            secret=secret,
            mode=mode,
            speed=speed,
            compare=compare,
        )
        _merge(total, part, offset)
        if on_progress is not None:
            on_progress(offset + len(chunk), len(entries))
    total.mismatches.sort(key=lambda m: m.index)
    return total
