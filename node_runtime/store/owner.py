"""Lock owner tokens and the liveness test that lets a dead owner's lock be reclaimed.

This module owns the text a lock is held with — ``host|pid|start|nonce`` — and the
answer to "is the process that wrote this token still running?". ``start`` is the
process start time from /proc (Linux), so a pid reused by a newer process is not
mistaken for the dead owner. Owners on another host cannot be checked: they are
reported alive and their locks lapse only by lease expiry. It must not touch a store.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True)
class Owner:
    """The process a lock token names."""

    host: str
    pid: int
    start: str


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a process from /proc, None if it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself hold spaces and parentheses.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], fields[19]


def _start_time(pid: int) -> str:
    stat = _proc_stat(pid)
    return stat[1] if stat is not None else ""


def new_token() -> str:
    """A fresh token naming this process; unique per acquisition."""
    pid = os.getpid()
    return f"{socket.gethostname()}|{pid}|{_start_time(pid)}|{uuid.uuid4().hex}"


def parse_token(token: str) -> Owner | None:
    """The owner a token names, or None if the text is not a token of ours."""
    parts = token.split("|")
    if len(parts) != 4 or not parts[1].isdigit():
        return None
    return Owner(host=parts[0], pid=int(parts[1]), start=parts[2])


def owner_is_dead(token: str) -> bool:
    """True only when the token's process is certainly gone (same host, checked)."""
    owner = parse_token(token)
    if owner is None or owner.host != socket.gethostname():
        return False
    if owner.pid == os.getpid():
        return False
    if _PROC.is_dir():
        stat = _proc_stat(owner.pid)
        if stat is None:
            return True
        state, start = stat
        # A zombie has exited but is not yet reaped; a different start time is pid reuse.
        return state in ("Z", "X") or (bool(owner.start) and start != owner.start)
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
