"""Semantic checks of a route map, alone and across the known mesh (DESIGN section 5).

This module owns ``validate``: every check a well-formed map must pass before it is
applied, each reported as a ``Problem`` with a stable code (see ``route_problems``).
It must not do I/O and must not change the map; it only reads it.

Cycle check: with ``mesh`` (node name -> URL and route map) it follows every
application/type a node routes, through groups (every member of a fan-out or a balance
group may be taken) and application rewrites (a leaf's ``application``), from node to
node by URL. A message that can arrive again at a node it has passed is a cycle, the
same condition the runtime answers with ``E_HOP_LIMIT``. Destinations outside the mesh
end the walk. Types no route names are probed as one stand-in type, shown as ``*``.
REST routes are not followed: a forwarded REST request runs at the node it reaches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from node_runtime.protocol.route_entries import GROUP_MODES, WILDCARD
from node_runtime.protocol.route_map import RouteMap
from node_runtime.protocol.route_paths import (
    HTTP_METHODS,
    Segments,
    covers,
    split_template,
    template_problems,
    template_shape,
)
from node_runtime.protocol.route_problems import Problem

# Upper bound on hops explored by the cycle check, so a pathological mesh of wide
# fan-out groups cannot make validation run for minutes; real meshes use a tiny part.
_CYCLE_HOP_BUDGET = 200_000


@dataclass(frozen=True)
class MeshNodeInfo:
    """What validation knows of one node of the mesh: its ``/ws`` URL and its route map."""

    url: str | None
    route_map: RouteMap


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a link target, or None when it is a usable ws/wss URL."""
    if any(char.isspace() for char in url):
        return f"URL {url!r} contains whitespace"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"URL {url!r} is malformed: {exc}"
    if parts.scheme not in ("ws", "wss"):
        return f"URL {url!r} must start with ws:// or wss://"
    if not parts.hostname:
        return f"URL {url!r} has no host"
    if port is None or port == 0:
        return f"URL {url!r} needs an explicit port (1-65535)"
    if parts.username is not None or parts.password is not None:
        return f"URL {url!r} must not carry credentials: links authenticate with a node JWT"
    if parts.query or parts.fragment:
        return f"URL {url!r} must not have a query or fragment"
    return None


def normalise_url(url: str) -> str | None:
    """A comparable form of a usable URL (case of scheme and host, trailing '/'), else None."""
    if url_problem(url) is not None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host.lower()}:{parts.port}{parts.path.rstrip('/')}"


def validate(
    route_map: RouteMap,
    *,
    node_name: str | None = None,
    node_url: str | None = None,
    mesh: Mapping[str, MeshNodeInfo] | None = None,
) -> list[Problem]:
    """Every problem of ``route_map``, errors and warnings, in a stable order.

    ``node_url`` (or the URL ``mesh`` holds for ``node_name``) enables ``R_SELF_LINK``.
    With ``mesh``, ``R_CYCLE`` is checked: given ``node_name``, the map is taken as that
    node's (replacing its entry in ``mesh``) and cycles through that node are reported
    against its routes; without ``node_name`` every cycle of ``mesh`` is reported once,
    ``where`` naming the node (``mesh.NODE.routes[i]``).
    """
    own_url = node_url
    if own_url is None and mesh is not None and node_name is not None and node_name in mesh:
        own_url = mesh[node_name].url
    problems = _destination_problems(route_map, own_url)
    problems += _ws_route_problems(route_map)
    problems += _rest_route_problems(route_map)
    problems += _unused_destination_problems(route_map)
    if mesh is not None:
        problems += _cycle_problems(route_map, node_name, own_url, mesh)
    return problems


def _destination_problems(route_map: RouteMap, own_url: str | None) -> list[Problem]:
    problems: list[Problem] = []
    own_key = normalise_url(own_url) if own_url else None
    for name, dest in route_map.destinations.items():
        where = f"destinations.{name}"
        if dest.url is not None:
            reason = url_problem(dest.url)
            if reason is not None:
                problems.append(Problem.of("R_BAD_URL", f"{where}.url", reason))
            elif own_key is not None and normalise_url(dest.url) == own_key:
                problems.append(
                    Problem.of(
                        "R_SELF_LINK",
                        f"{where}.url",
                        f"{dest.url} is this node's own URL: the node would forward to itself",
                    )
                )
            continue
        if dest.mode not in GROUP_MODES:
            problems.append(
                Problem.of(
                    "R_BAD_MODE", f"{where}.mode", f"mode {dest.mode!r} must be 'all' or 'balance'"
                )
            )
        if not dest.members:
            problems.append(Problem.of("R_EMPTY_GROUP", f"{where}.members", "group has no members"))
        for member in dest.members:
            if member not in route_map.destinations:
                problems.append(
                    Problem.of(
                        "R_UNKNOWN_DESTINATION",
                        f"{where}.members",
                        f"member {member!r} is not a destination",
                    )
                )
        loop = _group_loop(route_map, name)
        if loop is not None:
            problems.append(
                Problem.of(
                    "R_SELF_GROUP",
                    f"{where}.members",
                    f"group contains itself: {' -> '.join(loop)}",
                )
            )
    return problems


def _group_loop(route_map: RouteMap, start: str) -> list[str] | None:
    # A path of nested groups from ``start`` back to itself, if there is one.
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        dest = route_map.destinations.get(name)
        if dest is None or not dest.is_group:
            continue
        for member in dest.members:
            if member == start:
                return [*path, member]
            if member not in seen:
                seen.add(member)
                stack.append((member, [*path, member]))
    return None


def _unknown_route_destination(route_map: RouteMap, destination: str, where: str) -> list[Problem]:
    if destination in route_map.destinations:
        return []
    message = f"destination {destination!r} is not defined under [destinations]"
    return [Problem.of("R_UNKNOWN_DESTINATION", f"{where}.destination", message)]


def _ws_route_problems(route_map: RouteMap) -> list[Problem]:
    problems: list[Problem] = []
    exact_seen: dict[tuple[str, str], str] = {}
    wildcard_seen: dict[str, str] = {}
    for route in route_map.ws_routes:
        where = route_map.where_of(route)
        app = route.application
        problems += _unknown_route_destination(route_map, route.destination, where)
        if WILDCARD in route.types and len(route.types) > 1:
            problems.append(
                Problem.of(
                    "R_SHADOWED_ROUTE",
                    f"{where}.types",
                    "types listed beside '*' have no effect: '*' already matches them",
                )
            )
        for route_type in route.types:
            if route_type == WILDCARD:
                if app in wildcard_seen:
                    problems.append(
                        Problem.of(
                            "R_DUPLICATE_ROUTE",
                            where,
                            f"{app}/* is already routed by {wildcard_seen[app]}",
                        )
                    )
                else:
                    wildcard_seen[app] = where
            elif (app, route_type) in exact_seen:
                problems.append(
                    Problem.of(
                        "R_DUPLICATE_ROUTE",
                        where,
                        f"{app}/{route_type} is already routed by {exact_seen[(app, route_type)]}",
                    )
                )
            elif app in wildcard_seen and WILDCARD not in route.types:
                problems.append(
                    Problem.of(
                        "R_SHADOWED_ROUTE",
                        where,
                        f"{app}/{route_type} can never match: {wildcard_seen[app]} ({app}/*) "
                        "catches it first",
                    )
                )
            else:
                exact_seen[(app, route_type)] = where
    return problems


def _rest_route_problems(route_map: RouteMap) -> list[Problem]:
    problems: list[Problem] = []
    earlier: list[tuple[str, Segments, str, str]] = []  # method, template, path, where
    for route in route_map.rest_routes:
        where = route_map.where_of(route)
        problems += _unknown_route_destination(route_map, route.destination, where)
        method = route.method.upper()
        if method not in HTTP_METHODS:
            allowed = ", ".join(sorted(HTTP_METHODS))
            problems.append(
                Problem.of(
                    "R_BAD_METHOD", f"{where}.method", f"{route.method!r} is not one of {allowed}"
                )
            )
            continue
        reasons = template_problems(route.path)
        if reasons:
            problems.extend(Problem.of("R_BAD_PATH", f"{where}.path", text) for text in reasons)
            continue
        template = split_template(route.path)
        for prior_method, prior, prior_path, prior_where in earlier:
            if prior_method != method:
                continue
            if template_shape(prior) == template_shape(template):
                problems.append(
                    Problem.of(
                        "R_DUPLICATE_ROUTE",
                        where,
                        f"{method} {route.path} is already routed by {prior_where} "
                        f"({method} {prior_path})",
                    )
                )
                break
            if covers(prior, template):
                problems.append(
                    Problem.of(
                        "R_SHADOWED_ROUTE",
                        where,
                        f"{method} {route.path} can never match: {prior_where} "
                        f"({method} {prior_path}) matches every such path first",
                    )
                )
                break
        earlier.append((method, template, route.path, where))
    return problems


def _unused_destination_problems(route_map: RouteMap) -> list[Problem]:
    used = {route.destination for route in route_map.ws_routes}
    used |= {route.destination for route in route_map.rest_routes}
    for dest in route_map.destinations.values():
        used.update(dest.members)
    return [
        Problem.of(
            "R_UNUSED_DESTINATION",
            f"destinations.{name}",
            f"no route or group uses {name!r} (its link is still opened)",
        )
        for name in route_map.destinations
        if name not in used
    ]


class _MeshWalk:
    """Follows messages from node to node through the mesh's route maps, by URL."""

    def __init__(self, nodes: Mapping[str, MeshNodeInfo]) -> None:
        self.nodes = nodes
        self.by_url: dict[str, str] = {}
        for name, info in nodes.items():
            key = normalise_url(info.url) if info.url else None
            if key is not None:
                self.by_url.setdefault(key, name)
        self.hops_left = _CYCLE_HOP_BUDGET

    def hops(self, node: str, application: str, message_type: str) -> list[tuple[str, str]]:
        """The mesh nodes (and the application they see) a message at ``node`` goes to."""
        route_map = self.nodes[node].route_map
        route = route_map.ws_route(application, message_type)
        if route is None or route.destination not in route_map.destinations:
            return []
        hops: list[tuple[str, str]] = []
        for leaf in route_map.leaves(route.destination):
            key = normalise_url(leaf.url) if leaf.url else None
            target = self.by_url.get(key) if key is not None else None
            if target is not None:
                hops.append((target, leaf.application or application))
        return hops

    def cycles_from(
        self, start: str, application: str, message_type: str
    ) -> Iterator[tuple[str, ...]]:
        """Every simple path by which a message entering ``start`` comes back to it."""
        stack: list[tuple[str, str, tuple[str, ...]]] = [(start, application, (start,))]
        while stack:
            node, app, path = stack.pop()
            for next_node, next_app in self.hops(node, app, message_type):
                self.hops_left -= 1
                if self.hops_left < 0:
                    return
                if next_node == start:
                    yield (*path, start)
                elif next_node not in path:
                    stack.append((next_node, next_app, (*path, next_node)))


def _cycle_problems(
    route_map: RouteMap,
    node_name: str | None,
    own_url: str | None,
    mesh: Mapping[str, MeshNodeInfo],
) -> list[Problem]:
    nodes = dict(mesh)
    if node_name is not None:
        nodes[node_name] = MeshNodeInfo(own_url, route_map)
    walk = _MeshWalk(nodes)
    named_types = {
        route_type
        for info in nodes.values()
        for route in info.route_map.ws_routes
        for route_type in route.types
        if route_type != WILDCARD
    }
    probe_types = [*sorted(named_types), WILDCARD]
    starts = [node_name] if node_name is not None else sorted(nodes)
    # (start node, where, cycle path, application) -> the types that take that path.
    found: dict[tuple[str, str, tuple[str, ...], str], list[str]] = {}
    for start in starts:
        start_map = nodes[start].route_map
        for app in dict.fromkeys(route.application for route in start_map.ws_routes):
            for probe in probe_types:
                route = start_map.ws_route(app, probe)
                if route is None:
                    continue
                where = start_map.where_of(route)
                if node_name is None:
                    where = f"mesh.{start}.{where}"
                for path in walk.cycles_from(start, app, probe):
                    if node_name is None and start != min(path[:-1]):
                        continue  # reported from the cycle's first node by name instead
                    types = found.setdefault((start, where, path, app), [])
                    if probe not in types:
                        types.append(probe)
    problems: list[Problem] = []
    for (start, where, path, app), types in found.items():
        route = nodes[start].route_map.ws_route(app, types[0])
        shown = types
        if WILDCARD in types and route is not None:
            # A wildcard route: name only its own listed types and '*' for the rest.
            shown = [t for t in types if t in route.types or t == WILDCARD]
        problems.append(
            Problem.of(
                "R_CYCLE",
                where,
                f"routing cycle {' -> '.join(path)} for {app}/{','.join(shown)}",
            )
        )
    return problems
