"""A sample application for the chain in the demo mesh: audit records, then an archive."""

from __future__ import annotations

import time
from typing import Any


def record(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Appends an audit event at this node and returns its sequence number."""
    seq = ctx.store["audit"]["seq"].increment()
    ctx.store["audit"]["events"][seq].set_document(
        {"event": str((msg.get("params") or {}).get("event", "")), "at": time.time()}
    )
    return {"seq": seq, "node": ctx.node}


def archive(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Stores the params in the archive and returns where."""
    seq = ctx.store["archive"]["seq"].increment()
    return {"archived": seq, "node": ctx.node}


def echo(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Returns the params and the node that answered."""
    return {"echo": msg.get("params"), "node": ctx.node}


handlers = {"record": record, "archive": archive, "echo": echo}
