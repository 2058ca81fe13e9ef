"""Console -> node ops of ``/monitor``: each op gets exactly one ``reply`` with its ``id``.

Owns what ``subscribe``, ``snapshot``, ``routes.validate``, ``routes.apply``,
``pool.resize`` and ``worker.stop`` do, and the role rule (changes need ``admin``).
It must not send anything but replies and the frames an op promises (a fresh
snapshot, a ``routes`` broadcast after an apply).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from node_runtime.monitor.subscription import SubscribeError, parse_subscribe
from node_runtime.protocol.codes import ErrorCode
from node_runtime.protocol.routes import Problem, RouteMap, RouteMapError, diff, validate

if TYPE_CHECKING:
    from node_runtime.monitor.hub import MonitorHub, Session

# Monitor-only reply codes (not client protocol codes).
E_CONFLICT = "E_CONFLICT"
E_BAD_ROUTES = "E_BAD_ROUTES"
E_NOT_FOUND = "E_NOT_FOUND"
MAX_POOL_SIZE = 1024

Reply = dict[str, Any]
OpHandler = Callable[["MonitorHub", "Session", dict[str, Any]], Awaitable[Reply]]


class OpRefusedError(Exception):
    """An op answered with ``ok: false``; ``extra`` adds fields to the reply."""

    def __init__(self, code: str, text: str, **extra: Any) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.extra = extra


def _problem_dict(problem: Problem) -> dict[str, str]:
    return {
        "code": problem.code,
        "severity": problem.severity,
        "where": problem.where,
        "message": problem.message,
    }


def _need_admin(session: Session) -> None:
    if session.role != "admin":
        raise OpRefusedError(ErrorCode.FORBIDDEN, "monitor tokens are read-only")


def _parse_map(hub: MonitorHub, op: dict[str, Any]) -> tuple[RouteMap | None, list[Problem]]:
    """The op's ``map`` and every problem of it (parse errors or validation)."""
    if "map" not in op:
        raise OpRefusedError(ErrorCode.BAD_MESSAGE, "this op needs a 'map'")
    try:
        new_map = RouteMap.from_dict(op["map"])
    except RouteMapError as exc:
        problems = list(exc.problems)
        if not problems:
            raise OpRefusedError(E_BAD_ROUTES, exc.text) from exc
        return None, problems
    return new_map, validate(new_map, node_name=hub.node.name, node_url=hub.node.url)


async def _subscribe(hub: MonitorHub, session: Session, op: dict[str, Any]) -> Reply:
    try:
        subscription = parse_subscribe(op, session.role)
    except SubscribeError as exc:
        raise OpRefusedError(exc.code, exc.text) from exc
    hub.flush_flows()  # flows that finished under the old subscription are judged by it
    session.resubscribe(subscription, time.monotonic())
    return {"subscription": subscription.to_dict()}


async def _snapshot(hub: MonitorHub, session: Session, op: dict[str, Any]) -> Reply:
    return {"then": hub.snapshot(session)}


async def _validate(hub: MonitorHub, session: Session, op: dict[str, Any]) -> Reply:
    new_map, problems = _parse_map(hub, op)
    lines = diff(hub.node.route_map, new_map) if new_map is not None else []
    return {"problems": [_problem_dict(p) for p in problems], "diff": lines}


async def _apply(hub: MonitorHub, session: Session, op: dict[str, Any]) -> Reply:
    _need_admin(session)
    if_version = op.get("if_version")
    if isinstance(if_version, bool) or not isinstance(if_version, int):
        raise OpRefusedError(ErrorCode.BAD_MESSAGE, "routes.apply needs an integer 'if_version'")
    current = hub.node.route_map.version
    if if_version != current:
        raise OpRefusedError(
            E_CONFLICT, f"the route map is at version {current}, not {if_version}", version=current
        )
    new_map, problems = _parse_map(hub, op)
    errors = [p for p in problems if p.is_error]
    if new_map is None or errors:
        raise OpRefusedError(
            E_BAD_ROUTES,
            f"the route map has {len(errors) or len(problems)} error(s)",
            problems=[_problem_dict(p) for p in problems],
        )
    applied = hub.node.apply_routes(new_map)
    return {"version": applied.version, "broadcast": hub.routes_frame()}


async def _resize(hub: MonitorHub, session: Session, op: dict[str, Any]) -> Reply:
    _need_admin(session)
    size = op.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_POOL_SIZE:
        raise OpRefusedError(ErrorCode.BAD_MESSAGE, f"size must be an integer 1..{MAX_POOL_SIZE}")
    await hub.node.pool.resize(size)
    return {"size": size}


async def _stop_worker(hub: MonitorHub, session: Session, op: dict[str, Any]) -> Reply:
    _need_admin(session)
    pid = op.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int):
        raise OpRefusedError(ErrorCode.BAD_MESSAGE, "worker.stop needs an integer 'pid'")
    if not hub.node.pool.stop_worker(pid):
        raise OpRefusedError(E_NOT_FOUND, f"no worker with pid {pid}")
    return {"pid": pid}


OPS: dict[str, OpHandler] = {
    "subscribe": _subscribe,
    "snapshot": _snapshot,
    "routes.validate": _validate,
    "routes.apply": _apply,
    "pool.resize": _resize,
    "worker.stop": _stop_worker,
}


async def handle_op(hub: MonitorHub, session: Session, data: str | bytes) -> None:
    """Answer one console frame with exactly one reply (and what the op promises)."""
    op_id: Any = None
    then: dict[str, Any] | None = None
    broadcast: dict[str, Any] | None = None
    try:
        try:
            op = json.loads(data)
        except ValueError as exc:
            raise OpRefusedError(ErrorCode.BAD_MESSAGE, "the frame is not JSON") from exc
        if not isinstance(op, dict):
            raise OpRefusedError(ErrorCode.BAD_MESSAGE, "an op must be a JSON object")
        op_id = op.get("id")
        handler = OPS.get(str(op.get("op")))
        if handler is None:
            raise OpRefusedError(ErrorCode.BAD_MESSAGE, f"unknown op {op.get('op')!r}")
        result = await handler(hub, session, op)
        then = result.pop("then", None)
        broadcast = result.pop("broadcast", None)
        reply: Reply = {"kind": "reply", "id": op_id, "ok": True, **result}
    except OpRefusedError as exc:
        reply = {
            "kind": "reply",
            "id": op_id,
            "ok": False,
            "code": str(exc.code),
            "error": exc.text,
            **exc.extra,
        }
    session.send(reply)
    if then is not None:
        session.send(then)
    if broadcast is not None:  # after the reply, so the asker sees its answer first
        hub.broadcast(broadcast)
