"""A test application whose handlers misbehave on purpose: sleep, raise, die, hang."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from node_runtime import HandlerError


def echo(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"echo": msg.get("params"), "node": ctx.node, "pid": os.getpid()}


def slow(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    params = msg.get("params") or {}
    if params.get("notify"):
        ctx.send({"started": True})
    time.sleep(float(params.get("seconds", 0.2)))
    return {"slept": True, "pid": os.getpid()}


def crash(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    raise ValueError("boom")


def refuse(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    raise HandlerError("not today", code="E_CUSTOM")


def die(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    os._exit(3)


def sigkill(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def progress(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    steps = int((msg.get("params") or {}).get("steps", 3))
    for step in range(steps):
        ctx.send({"step": step})
    ctx.send({"note": "typed"}, type="progressNote")
    return {"done": steps}


def login(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    ctx.session["authenticated"] = True
    ctx.session["secret_word"] = "swordfish"
    ctx.session.make_secret("secret_word")
    return {"ok": True}


def whoami(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {
        "authenticated": ctx.session.get("authenticated", False),
        "secret_word": ctx.session.get("secret_word"),
    }


def count(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    node = ctx.store["counters"]["hits"]
    with node.lock(timeout=10):
        value = node.value or 0
        node.value = value + 1
    return {"value": ctx.store["counters"]["atomic"].increment(), "pid": os.getpid()}


def huge(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"blob": "x" * int((msg.get("params") or {}).get("bytes", 2_000_000))}


def not_json(msg: dict[str, Any], ctx: Any) -> Any:
    return {"value": object()}


def forbidden(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"reached": True}


def before_handler(msg: dict[str, Any], ctx: Any) -> bool:
    return msg.get("type") != "forbidden"


handlers = {
    "echo": echo,
    "slow": slow,
    "crash": crash,
    "refuse": refuse,
    "die": die,
    "sigkill": sigkill,
    "progress": progress,
    "login": login,
    "whoami": whoami,
    "count": count,
    "huge": huge,
    "notJson": not_json,
    "forbidden": forbidden,
}


def rest_item(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {
        "id": msg["args"]["id"],
        "query": msg["query"],
        "node": ctx.node,
        "method": msg["method"],
        "path": msg["path"],
        "authenticated": ctx.session.get("authenticated", False),
    }


def rest_echo(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"body": msg["body"], "header": msg["headers"].get("x-trial"), "node": ctx.node}


def rest_refuse(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    raise HandlerError("not today", code="E_CUSTOM")


def rest_ping(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"pong": True, "node": ctx.node}


def rest_slow(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    time.sleep(float(msg["query"].get("seconds", "0.2")))
    return {"slept": True}


rest = {
    "GET /api/trial/:id": rest_item,
    "GET /api/slow": rest_slow,
    "POST /api/echo": rest_echo,
    "GET /api/refuse": rest_refuse,
    "GET /api/public/ping": rest_ping,
}

rest_public = {"GET /api/public/ping"}


def on_worker_start(ctx: Any) -> None:
    ctx.store["started"][os.getpid()].value = ctx.node


def hooked(msg: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"hook_ran_here": ctx.store["started"][os.getpid()].value == ctx.node}


handlers["hooked"] = hooked
