"""Human-readable differences between two route maps, shown by the console before applying.

This module owns how a change to a route map is described: one line per destination or
route added (``+``), removed (``-``) or changed (``~``), and a line when the order of
routes that both maps hold changes (order matters: the first matching route wins).
A WebSocket route is identified by its application and types, a REST route by its
method and path; a changed destination of the same route is a change, not a remove and
an add. It must not do I/O or judge the maps (that is ``route_validation``).
"""

from __future__ import annotations

from node_runtime.protocol.route_entries import Destination, RestRoute, WsRoute
from node_runtime.protocol.route_map import RouteMap

_RouteKey = tuple[str, str]


def describe_destination(dest: Destination) -> str:
    """A destination in a few words: its URL (and application), or its mode and members."""
    if dest.url is not None:
        suffix = f" as {dest.application}" if dest.application else ""
        return f"{dest.url}{suffix}"
    return f"{dest.mode} of [{', '.join(dest.members)}]"


def describe_route(route: WsRoute | RestRoute) -> str:
    """A route without its destination: ``clinic login,getPatient`` or ``GET /api/x``."""
    if isinstance(route, WsRoute):
        return f"{route.application} {','.join(route.types)}"
    return f"{route.method.upper()} {route.path}"


def _key(route: WsRoute | RestRoute) -> _RouteKey:
    return ("ws" if isinstance(route, WsRoute) else "rest", describe_route(route))


def diff(old: RouteMap, new: RouteMap) -> list[str]:
    """The changes that turn ``old`` into ``new``, one line each; empty when they route alike."""
    lines: list[str] = []
    for name, dest in old.destinations.items():
        if name not in new.destinations:
            lines.append(f"- destination {name}: {describe_destination(dest)}")
    for name, dest in new.destinations.items():
        before = old.destinations.get(name)
        if before is None:
            lines.append(f"+ destination {name}: {describe_destination(dest)}")
        elif before != dest:
            lines.append(
                f"~ destination {name}: {describe_destination(before)}"
                f" -> {describe_destination(dest)}"
            )
    for kind_old, kind_new in ((old.ws_routes, new.ws_routes), (old.rest_routes, new.rest_routes)):
        lines += _route_lines(kind_old, kind_new)
    return lines


def _route_lines(
    old_routes: tuple[WsRoute, ...] | tuple[RestRoute, ...],
    new_routes: tuple[WsRoute, ...] | tuple[RestRoute, ...],
) -> list[str]:
    old_by_key: dict[_RouteKey, WsRoute | RestRoute] = {}
    for route in old_routes:
        old_by_key.setdefault(_key(route), route)
    new_by_key: dict[_RouteKey, WsRoute | RestRoute] = {}
    for route in new_routes:
        new_by_key.setdefault(_key(route), route)
    lines: list[str] = []
    for key, route in old_by_key.items():
        if key not in new_by_key:
            lines.append(f"- route {key[1]} -> {route.destination}")
    for key, route in new_by_key.items():
        before = old_by_key.get(key)
        if before is None:
            lines.append(f"+ route {key[1]} -> {route.destination}")
        elif before.destination != route.destination:
            lines.append(f"~ route {key[1]}: {before.destination} -> {route.destination}")
    old_order = [key for key in old_by_key if key in new_by_key]
    new_order = [key for key in new_by_key if key in old_by_key]
    if old_order != new_order:
        listed = "; ".join(key[1] for key in new_order)
        lines.append(f"~ route order (first match wins): {listed}")
    return lines
