"""The trials app with a changed ``echo`` handler, to show replay mismatches."""

from __future__ import annotations

from typing import Any

from tests.apps import trials


def echo(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {**trials.echo(msg, ctx), "changed": True}


handlers = {**trials.handlers, "echo": echo}
