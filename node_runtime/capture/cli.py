"""``qewd-node capture``, ``qewd-node replay`` and ``qewd-node har``.

Owns argument parsing and printing for the capture tools; the work is in
``recorder``, ``replay`` and ``har``. Exit codes as ``qewd-node``: 0 ok, 1 mismatches
(with ``--compare``), 2 usage or unreadable file, 3 could not connect.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from websockets.exceptions import InvalidStatus, InvalidURI

from node_runtime.capture.format import read_capture
from node_runtime.capture.har import to_har
from node_runtime.capture.recorder import record
from node_runtime.capture.replay import IGNORED_KEYS, MODES, replay


def add_capture_commands(sub: Any) -> None:
    """Register the capture, replay and har sub-commands."""
    cap = sub.add_parser("capture", help="record finished requests from a node's /monitor")
    cap.add_argument("--target", required=True, help="the node, ws://host:port")
    cap.add_argument("--token", required=True, help="an admin token (payloads are admin-only)")
    cap.add_argument("--out", type=Path, required=True, help="capture file (JSON Lines)")
    cap.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds to record (default: until interrupted)",
    )
    cap.add_argument(
        "--keep-tokens",
        action="store_true",
        help="do not redact tokens (they are redacted by default)",
    )
    cap.add_argument("--har", type=Path, default=None, help="also write a HAR export here")

    rep = sub.add_parser("replay", help="re-send a capture's requests to a node")
    rep.add_argument("file", type=Path, help="capture file (JSON Lines)")
    rep.add_argument("--target", required=True, help="the node, ws://host:port")
    who = rep.add_mutually_exclusive_group()
    who.add_argument("--secret", help="mesh secret: mint a session token per application")
    who.add_argument("--token", help="use this session token for every request")
    rep.add_argument("--mode", choices=MODES, default="sync")
    rep.add_argument("--speed", type=float, default=1.0, help="timed mode speed factor")
    rep.add_argument(
        "--compare",
        action="store_true",
        help="compare replies with the captured ones; exit 1 on mismatches",
    )
    rep.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="KEY",
        help="also ignore this key when comparing (repeatable)",
    )
    rep.add_argument("--timeout", type=float, default=30.0, help="seconds per reply")

    har = sub.add_parser("har", help="export a capture to HAR (_webSocketMessages)")
    har.add_argument("file", type=Path, help="capture file (JSON Lines)")
    har.add_argument("--out", type=Path, required=True, help="HAR file to write")


def _write_har(source: Path, out: Path) -> None:
    out.write_text(json.dumps(to_har(read_capture(source)), indent=1), encoding="utf-8")


def run_capture_command(args: argparse.Namespace) -> int:
    """Run a capture, replay or har sub-command."""
    try:
        if args.command == "capture":
            result = asyncio.run(
                record(
                    args.target,
                    args.token,
                    args.out,
                    duration=args.duration,
                    redacted=not args.keep_tokens,
                )
            )
            print(
                f"captured {result.entries} exchange(s) from node {result.node} into "
                f"{result.path}; {result.dropped} flow(s) dropped by the node's rate cap"
            )
            if args.har is not None:
                _write_har(args.out, args.har)
            return 0
        if args.command == "har":
            _write_har(args.file, args.out)
            return 0
        if args.command == "replay":
            capture = read_capture(args.file)
            report = asyncio.run(
                replay(
                    capture,
                    args.target,
                    secret=args.secret,
                    token=args.token,
                    mode=args.mode,
                    speed=args.speed,
                    compare=args.compare,
                    timeout=args.timeout,
                    ignore=IGNORED_KEYS | set(args.ignore),
                )
            )
            print(report.summary())
            return 1 if args.compare and report.mismatches else 0
    except FileNotFoundError as exc:
        print(f"qewd-node: {exc}", file=sys.stderr)
        return 2
    except (OSError, InvalidStatus, InvalidURI) as exc:
        print(f"qewd-node: cannot reach {getattr(args, 'target', '')}: {exc}", file=sys.stderr)
        return 3
    return 2
