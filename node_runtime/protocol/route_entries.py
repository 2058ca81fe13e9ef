"""The entries of a route map: destinations and routes, and reading them from TOML/JSON.

This module owns the three entry records (``Destination``, ``WsRoute``, ``RestRoute``)
and the structural reading of the ``destinations`` table and the ``routes`` list, which
reports ``R_BAD_FIELD`` problems: missing, unknown or mistyped keys. It must not judge
values that are well-formed (URLs, modes, paths: that is ``route_validation``) and must
not do I/O.

Destination names are TOML bare keys (letters, digits, ``_``, ``-``) so that a problem's
``where`` (``destinations.NAME.url``) stays unambiguous. A group without ``mode`` is
``"all"``, QEWD's only kind of group. A route is a WebSocket route when it has
``application``/``types`` and a REST route when it has ``method``/``path``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from node_runtime.protocol.route_problems import Problem

GROUP_MODES: frozenset[str] = frozenset({"all", "balance"})
WILDCARD = "*"
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Destination:
    """A named target: a leaf node (``url``) or a group of other destinations (``members``)."""

    name: str
    url: str | None = None
    application: str | None = None
    members: tuple[str, ...] = ()
    mode: str | None = None

    @property
    def is_group(self) -> bool:
        """True for a group (members and a mode), False for a leaf with a URL."""
        return self.url is None


@dataclass(frozen=True)
class WsRoute:
    """Send messages of ``application`` whose type is in ``types`` (or any, ``"*"``)."""

    application: str
    types: tuple[str, ...]
    destination: str
    # Position in the source ``routes`` list, so problems point at the line the user
    # wrote; -1 when built in code. Not part of equality: it is provenance, not meaning.
    index: int = field(default=-1, compare=False, repr=False)


@dataclass(frozen=True)
class RestRoute:
    """Send ``method`` requests whose path matches the template ``path`` to ``destination``."""

    method: str
    path: str
    destination: str
    index: int = field(default=-1, compare=False, repr=False)


def _bad(where: str, message: str) -> Problem:
    return Problem.of("R_BAD_FIELD", where, message)


def _text(value: object, where: str, what: str, problems: list[Problem]) -> str | None:
    # A non-empty string, or None after recording why not.
    if isinstance(value, str) and value.strip():
        return value
    problems.append(_bad(where, f"{what} must be a non-empty string, got {value!r}"))
    return None


def _text_list(value: object, where: str, problems: list[Problem]) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        problems.append(_bad(where, f"must be a list of strings, got {value!r}"))
        return None
    items: list[str] = []
    for position, item in enumerate(value):
        text = _text(item, f"{where}[{position}]", "each entry", problems)
        if text is None:
            return None
        if text in items:
            problems.append(_bad(f"{where}[{position}]", f"{text!r} is listed twice"))
            return None
        items.append(text)
    return tuple(items)


def _unknown_keys(entry: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> list[Problem]:
    expected = ", ".join(allowed)
    return [
        _bad(f"{where}.{key}", f"unknown key; expected {expected}")
        for key in entry
        if key not in allowed
    ]


def parse_destinations(raw: object, problems: list[Problem]) -> dict[str, Destination]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(_bad("destinations", "must be a table of named destinations"))
        return {}
    parsed: dict[str, Destination] = {}
    for name, entry in raw.items():
        where = f"destinations.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(_bad(where, "a name is letters, digits, '_' or '-'"))
        elif not isinstance(entry, Mapping):
            problems.append(_bad(where, "must be a table with url (a node) or members (a group)"))
        else:
            dest = _parse_destination(name, entry, where, problems)
            if dest is not None:
                parsed[name] = dest
    return parsed


def _parse_destination(
    name: str, entry: Mapping[Any, Any], where: str, problems: list[Problem]
) -> Destination | None:
    if "url" in entry and "members" in entry:
        problems.append(_bad(where, "has url and members: a node has a url, a group members"))
        return None
    if "members" in entry:
        found = _unknown_keys(entry, ("members", "mode"), where)
        problems.extend(found)
        members = _text_list(entry["members"], f"{where}.members", problems)
        mode = entry.get("mode", "all")
        if not isinstance(mode, str):
            problems.append(_bad(f"{where}.mode", f"must be a string, got {mode!r}"))
            return None
        if found or members is None:
            return None
        return Destination(name=name, members=members, mode=mode)
    if "url" in entry:
        found = _unknown_keys(entry, ("url", "application"), where)
        problems.extend(found)
        url = _text(entry["url"], f"{where}.url", "url", problems)
        application = None
        if "application" in entry:
            application = _text(
                entry["application"], f"{where}.application", "application", problems
            )
            if application is None:
                return None
        if found or url is None:
            return None
        return Destination(name=name, url=url, application=application)
    problems.append(_bad(where, "needs url (a node) or members (a group)"))
    return None


def parse_routes(raw: object, problems: list[Problem]) -> tuple[list[WsRoute], list[RestRoute]]:
    ws_routes: list[WsRoute] = []
    rest_routes: list[RestRoute] = []
    if raw is None:
        return ws_routes, rest_routes
    if not isinstance(raw, list):
        problems.append(_bad("routes", "must be a list of route tables ([[routes]])"))
        return ws_routes, rest_routes
    for index, entry in enumerate(raw):
        where = f"routes[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(_bad(where, "must be a table"))
            continue
        is_rest = "path" in entry or "method" in entry
        is_ws = "application" in entry or "types" in entry
        if is_rest and is_ws:
            problems.append(
                _bad(where, "mixes application/types (WebSocket) with method/path (REST)")
            )
        elif is_ws:
            ws_route = _parse_ws_route(entry, index, where, problems)
            if ws_route is not None:
                ws_routes.append(ws_route)
        elif is_rest:
            rest_route = _parse_rest_route(entry, index, where, problems)
            if rest_route is not None:
                rest_routes.append(rest_route)
        else:
            problems.append(
                _bad(where, "needs application and types (WebSocket) or method and path (REST)")
            )
    return ws_routes, rest_routes


def _required(entry: Mapping[Any, Any], key: str, where: str, problems: list[Problem]) -> object:
    if key not in entry:
        problems.append(_bad(f"{where}.{key}", "missing"))
        return None
    return entry[key]


def _parse_ws_route(
    entry: Mapping[Any, Any], index: int, where: str, problems: list[Problem]
) -> WsRoute | None:
    found = _unknown_keys(entry, ("application", "types", "destination"), where)
    problems.extend(found)
    before = len(problems)
    application = _required(entry, "application", where, problems)
    types = _required(entry, "types", where, problems)
    destination = _required(entry, "destination", where, problems)
    if len(problems) > before:
        return None
    app_text = _text(application, f"{where}.application", "application", problems)
    type_list = _text_list(types, f"{where}.types", problems)
    if type_list == ():
        problems.append(_bad(f"{where}.types", "must name at least one type, or '*'"))
    dest_text = _text(destination, f"{where}.destination", "destination", problems)
    if found or app_text is None or not type_list or dest_text is None:
        return None
    return WsRoute(application=app_text, types=type_list, destination=dest_text, index=index)


def _parse_rest_route(
    entry: Mapping[Any, Any], index: int, where: str, problems: list[Problem]
) -> RestRoute | None:
    found = _unknown_keys(entry, ("method", "path", "destination"), where)
    problems.extend(found)
    before = len(problems)
    method = _required(entry, "method", where, problems)
    path = _required(entry, "path", where, problems)
    destination = _required(entry, "destination", where, problems)
    if len(problems) > before:
        return None
    method_text = _text(method, f"{where}.method", "method", problems)
    path_text = _text(path, f"{where}.path", "path", problems)
    dest_text = _text(destination, f"{where}.destination", "destination", problems)
    if found or method_text is None or path_text is None or dest_text is None:
        return None
    return RestRoute(method=method_text, path=path_text, destination=dest_text, index=index)
