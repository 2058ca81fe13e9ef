"""The capture file format (DESIGN section 8): JSON Lines, a header then one exchange a line.

Owns the header and entry shapes, token redaction, the crash-safe writer (each line goes
out in one write and is flushed, so every complete line survives a crash) and the
reader (which ignores a torn last line). It must not talk to nodes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from node_runtime.errors import NodeError
from node_runtime.monitor.flow_json import REDACTED

FORMAT = "qewd-capture"
VERSION = 1
TOKEN_KEYS = frozenset({"token", "authorization"})


class CaptureFileError(NodeError):
    """A capture file cannot be read: names the file, line and reason."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}", "E_CAPTURE")


def redact(value: Any) -> Any:
    """A copy of ``value`` with every token-like key's value replaced."""
    if isinstance(value, dict):
        return {
            k: REDACTED if str(k).lower() in TOKEN_KEYS else redact(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def header(*, target: str, node: str, started: float, redacted: bool) -> dict[str, Any]:
    """Line 1 of a capture file."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "target": target,
        "node": node,
        "started": started,
        "redacted": redacted,
    }


def entry_from_flow(flow: dict[str, Any], started: float, *, redacted: bool) -> dict[str, Any]:
    """One exchange from a ``flow`` event that carries its request and reply."""
    request = dict(flow.get("request") or {})
    reply = flow.get("reply")
    entry = {
        "t": round(float(flow.get("time", started)) - started, 6),
        "node": flow.get("node", ""),
        "session": flow.get("session", ""),
        "from": flow.get("from", ""),
        "to": flow.get("to", ""),
        "request": {
            "type": request.get("type", flow.get("type")),
            "application": request.get("application") or flow.get("app"),
            "params": request.get("params"),
            "id": request.get("id", flow.get("id")),
        },
        "intermediates": list(flow.get("intermediates") or []),
        "message": reply,
        "ok": bool(flow.get("ok")),
        "code": flow.get("code", ""),
        "ms": flow.get("ms"),
        "trace": flow.get("trace", []),
    }
    return redact(entry) if redacted else entry


class CaptureWriter:
    """Appends lines; each line is one ``write`` followed by a flush (and fsync on close)."""

    def __init__(self, path: Path, head: dict[str, Any]) -> None:
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self.count = 0
        self._write(head)

    def _write(self, obj: dict[str, Any]) -> None:
        self._file.write(json.dumps(obj, separators=(",", ":")) + "\n")
        self._file.flush()

    def add(self, entry: dict[str, Any]) -> None:
        """Append one exchange."""
        self._write(entry)
        self.count += 1

    def close(self) -> None:
        """Flush to disk and close."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


@dataclass
class Capture:
    """A capture file read back: its header and exchanges in order."""

    header: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)
    torn_tail: bool = False


def read_capture(path: Path) -> Capture:
    """Read a capture; a last line without its newline (a crash mid-write) is ignored."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    torn = bool(lines and lines[-1])
    complete = lines[:-1]
    if not complete:
        raise CaptureFileError(str(path), 1, "no complete header line")
    try:
        head = json.loads(complete[0])
    except ValueError as exc:
        raise CaptureFileError(str(path), 1, f"header is not JSON: {exc}") from exc
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise CaptureFileError(str(path), 1, f"not a {FORMAT} file")
    if head.get("version") != VERSION:
        raise CaptureFileError(str(path), 1, f"unsupported version {head.get('version')!r}")
    capture = Capture(header=head, torn_tail=torn)
    for number, line in enumerate(complete[1:], start=2):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise CaptureFileError(str(path), number, f"not JSON: {exc}") from exc
        if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
            raise CaptureFileError(str(path), number, "not an exchange")
        capture.entries.append(entry)
    return capture
