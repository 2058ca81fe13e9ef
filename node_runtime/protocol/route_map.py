"""The route map (DESIGN section 5): where each application/type or REST path is sent.

This module owns ``RouteMap``: the immutable whole, its TOML/JSON structure (``from_dict``
with structural checks, ``to_dict``, TOML text both ways) and the pure look-ups the master
makes for each message. It must not do I/O: no files, sockets, asyncio or clock.
Entries and their parsing live in ``route_entries``, checks in ``route_validation``.

Routing rules, as the master applies them:

* WebSocket routes are tried in file order; a route matches when its application
  equals the message's and its ``types`` hold the message's type or ``"*"``. The
  first match wins, so a ``"*"`` route placed before an exact route for the same
  application hides it (``validate`` reports ``R_SHADOWED_ROUTE``). No match means
  the message is handled locally.
* REST routes are tried in file order too, methods compared case-insensitively; see
  ``route_paths`` for template matching.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType
from typing import Any

import tomli_w

from node_runtime.protocol.route_entries import (
    WILDCARD,
    Destination,
    RestRoute,
    WsRoute,
    parse_destinations,
    parse_routes,
)
from node_runtime.protocol.route_paths import match_segments, split_template
from node_runtime.protocol.route_problems import Problem, RouteMapError


@dataclass(frozen=True)
class RouteMap:
    """An immutable route map; ``version`` guards live updates against lost writes."""

    destinations: Mapping[str, Destination] = field(default_factory=dict)
    ws_routes: tuple[WsRoute, ...] = ()
    rest_routes: tuple[RestRoute, ...] = ()
    version: int = 0

    def __post_init__(self) -> None:
        # Copy into read-only containers so a caller's dict or list cannot change the map.
        object.__setattr__(self, "destinations", MappingProxyType(dict(self.destinations)))
        object.__setattr__(self, "ws_routes", tuple(self.ws_routes))
        object.__setattr__(self, "rest_routes", tuple(self.rest_routes))

    def __getstate__(self) -> dict[str, Any]:
        # A mappingproxy cannot be pickled, and maps travel to worker processes.
        state = {item.name: getattr(self, item.name) for item in fields(self)}
        state["destinations"] = dict(self.destinations)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self.__post_init__()

    @classmethod
    def empty(cls) -> RouteMap:
        """A map with no destinations and no routes: everything is handled locally."""
        return cls()

    @classmethod
    def from_dict(cls, data: object, version: int = 0) -> RouteMap:
        """Build a map from ``{"destinations": {...}, "routes": [...]}``.

        Raises ``RouteMapError`` listing every structural problem (``R_BAD_FIELD``).
        Values that are well-formed but wrong (a bad URL, an unknown destination) are
        left for ``validate``, so an editor can show all of them at once.
        """
        problems: list[Problem] = []
        if not isinstance(data, Mapping):
            raise RouteMapError(
                [Problem.of("R_BAD_FIELD", "", "a route map is a table of destinations/routes")]
            )
        for key in data:
            if key not in ("destinations", "routes"):
                problems.append(
                    Problem.of(
                        "R_BAD_FIELD", str(key), "unknown key; expected destinations, routes"
                    )
                )
        destinations = parse_destinations(data.get("destinations"), problems)
        ws_routes, rest_routes = parse_routes(data.get("routes"), problems)
        if problems:
            raise RouteMapError(problems)
        return cls(destinations, tuple(ws_routes), tuple(rest_routes), version)

    @classmethod
    def from_toml_text(cls, text: str, source: str = "<text>", version: int = 0) -> RouteMap:
        """Parse TOML text (a routes file, or the console's text view) into a map."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RouteMapError([Problem.of("R_BAD_TOML", source, str(exc))]) from exc
        return cls.from_dict(data, version)

    def to_dict(self) -> dict[str, Any]:
        """The JSON/TOML structure of the map; ``from_dict(m.to_dict()) == m``."""
        destinations: dict[str, Any] = {}
        for name, dest in self.destinations.items():
            if dest.is_group:
                destinations[name] = {"members": list(dest.members), "mode": dest.mode or "all"}
            else:
                leaf: dict[str, Any] = {"url": dest.url}
                if dest.application is not None:
                    leaf["application"] = dest.application
                destinations[name] = leaf
        routes: list[dict[str, Any]] = []
        for route in self.routes_in_order():
            if isinstance(route, WsRoute):
                routes.append(
                    {
                        "application": route.application,
                        "types": list(route.types),
                        "destination": route.destination,
                    }
                )
            else:
                routes.append(
                    {"method": route.method, "path": route.path, "destination": route.destination}
                )
        return {"destinations": destinations, "routes": routes}

    def to_toml_text(self) -> str:
        """The map as TOML text, as a routes file would hold it."""
        return tomli_w.dumps(self.to_dict())

    def with_version(self, version: int) -> RouteMap:
        """The same map under another version number."""
        return RouteMap(self.destinations, self.ws_routes, self.rest_routes, version)

    def routes_in_order(self) -> list[WsRoute | RestRoute]:
        """All routes as the ``routes`` list holds them: source order, else WebSocket first."""
        unplaced = len(self.ws_routes) + len(self.rest_routes)
        combined: list[WsRoute | RestRoute] = [*self.ws_routes, *self.rest_routes]
        ordered = sorted(
            enumerate(combined),
            key=lambda item: (item[1].index if item[1].index >= 0 else unplaced, item[0]),
        )
        return [route for _, route in ordered]

    def where_of(self, route: WsRoute | RestRoute) -> str:
        """The ``routes[i]`` path of a route of this map, for problem reports."""
        if route.index >= 0:
            return f"routes[{route.index}]"
        for position, candidate in enumerate(self.routes_in_order()):
            if candidate is route:
                return f"routes[{position}]"
        return "routes[?]"

    @cached_property
    def _ws_lookup(self) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
        # First route index per exact (application, type) and per application's "*".
        exact: dict[tuple[str, str], int] = {}
        wildcard: dict[str, int] = {}
        for position, route in enumerate(self.ws_routes):
            for route_type in route.types:
                if route_type == WILDCARD:
                    wildcard.setdefault(route.application, position)
                else:
                    exact.setdefault((route.application, route_type), position)
        return exact, wildcard

    def ws_route(self, application: str, type: str) -> WsRoute | None:
        """The first route matching this application and type, or None (handle locally).

        The type ``"*"`` stands for a type no route names: only wildcard routes match it.
        """
        exact, wildcard = self._ws_lookup
        candidates = [
            position
            for position in (exact.get((application, type)), wildcard.get(application))
            if position is not None
        ]
        return self.ws_routes[min(candidates)] if candidates else None

    def ws_destination(self, application: str, type: str) -> Destination | None:
        """The destination of the first route matching this application and type, or None."""
        route = self.ws_route(application, type)
        return None if route is None else self.destinations.get(route.destination)

    @cached_property
    def _rest_templates(self) -> tuple[tuple[str, tuple[str, ...], RestRoute], ...]:
        return tuple(
            (route.method.upper(), split_template(route.path), route) for route in self.rest_routes
        )

    def rest_match(self, method: str, path: str) -> tuple[RestRoute, dict[str, str]] | None:
        """The first REST route matching the request, with its path variables, or None."""
        wanted = method.upper()
        segments = split_template(path)
        for route_method, template, route in self._rest_templates:
            if route_method != wanted:
                continue
            bound = match_segments(template, segments)
            if bound is not None:
                return route, bound
        return None

    def leaf_urls(self) -> set[str]:
        """The distinct URLs of all leaf destinations: one persistent link is kept per URL."""
        return {dest.url for dest in self.destinations.values() if dest.url is not None}

    def leaves(self, name: str) -> list[Destination]:
        """The leaves a destination stands for, nested groups flattened, each once, in order.

        Unknown members and groups that contain themselves are skipped (``validate``
        reports them). Modes of nested groups are not applied here. Raises ``KeyError``
        for an unknown ``name``.
        """
        if name not in self.destinations:
            raise KeyError(name)
        found: dict[str, Destination] = {}
        self._collect_leaves(name, found, set())
        return list(found.values())

    def _collect_leaves(self, name: str, found: dict[str, Destination], open_: set[str]) -> None:
        dest = self.destinations.get(name)
        if dest is None or name in open_:
            return
        if not dest.is_group:
            found.setdefault(name, dest)
            return
        open_.add(name)
        for member in dest.members:
            self._collect_leaves(member, found, open_)
        open_.discard(name)
