"""Export of a capture to HAR 1.2 with Chrome's ``_webSocketMessages`` extension.

Owns the mapping: one HAR entry per exchange, a GET upgrade of the target's ``/ws``
answered 101, its request frame sent, then its intermediate messages and its final reply
received, as WebSocket messages. A capture keeps no time of its own for intermediates,
so they carry the final reply's time, in the order they came. It must not read or write
files (callers do).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from node_runtime.capture.format import Capture
from node_runtime.capture.recorder import endpoint_url


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def to_har(capture: Capture) -> dict[str, Any]:
    """The capture as a HAR document."""
    head = capture.header
    started = float(head.get("started", 0.0))
    url = endpoint_url(str(head.get("target", "ws://localhost")), "/ws")
    entries = []
    for entry in capture.entries:
        at = started + float(entry.get("t", 0.0))
        ms = float(entry.get("ms") or 0.0)
        request = entry["request"]
        sent = {k: v for k, v in request.items() if v is not None}
        done = at + ms / 1000.0
        frames = [
            {"type": request.get("type"), "id": request.get("id"), "finished": False, "message": m}
            for m in entry.get("intermediates") or []
        ]
        frames.append(
            {
                "type": request.get("type"),
                "id": request.get("id"),
                "finished": True,
                "message": entry.get("message"),
            }
        )
        entries.append(
            {
                "startedDateTime": _iso(at),
                "time": ms,
                "request": {
                    "method": "GET",
                    "url": url,
                    "httpVersion": "HTTP/1.1",
                    "headers": [],
                    "queryString": [],
                    "cookies": [],
                    "headersSize": -1,
                    "bodySize": 0,
                },
                "response": {
                    "status": 101,
                    "statusText": "Switching Protocols",
                    "httpVersion": "HTTP/1.1",
                    "headers": [],
                    "cookies": [],
                    "content": {"size": 0, "mimeType": "x-unknown"},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": 0,
                },
                "cache": {},
                "timings": {"send": 0, "wait": ms, "receive": 0},
                "_webSocketMessages": [
                    {"type": "send", "time": at, "opcode": 1, "data": json.dumps(sent)},
                    *(
                        {"type": "receive", "time": done, "opcode": 1, "data": json.dumps(f)}
                        for f in frames
                    ),
                ],
            }
        )
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "qewd-node capture", "version": str(head["version"])},
            "pages": [],
            "entries": entries,
        }
    }
