"""Tests of the route map: structure both ways, first-match routing, REST templates,
group flattening, balance ordering and diffs."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from node_runtime.protocol.routes import (
    Destination,
    RestRoute,
    RouteMap,
    RouteMapError,
    WsRoute,
    choose_balance_member,
    diff,
)

DESIGN_EXAMPLE = """
[destinations.login]
url = "ws://127.0.0.1:8081/ws"
application = "login-service"
[destinations.stores]
members = ["store1", "store2"]
mode = "all"
[destinations.store1]
url = "ws://127.0.0.1:8082/ws"
[destinations.store2]
url = "ws://127.0.0.1:8083/ws"

[[routes]]
application = "clinic"
types = ["login", "getPatient"]
destination = "login"

[[routes]]
path = "/api/patient/:id"
method = "GET"
destination = "login"

[[routes]]
application = "clinic"
types = ["*"]
destination = "stores"
"""


def example() -> RouteMap:
    return RouteMap.from_toml_text(DESIGN_EXAMPLE)


def test_design_example_parses() -> None:
    """The route map of DESIGN section 5 parses into leaves, a group and both route kinds."""
    route_map = example()
    assert route_map.destinations["login"] == Destination(
        "login", url="ws://127.0.0.1:8081/ws", application="login-service"
    )
    assert route_map.destinations["stores"].is_group
    assert route_map.destinations["stores"].members == ("store1", "store2")
    assert route_map.ws_routes[0] == WsRoute("clinic", ("login", "getPatient"), "login")
    assert route_map.rest_routes == (RestRoute("GET", "/api/patient/:id", "login"),)


def test_dict_round_trip_keeps_order_and_interleaving() -> None:
    """to_dict gives back the structure from_dict read, routes in their source order."""
    route_map = example()
    data = route_map.to_dict()
    assert [route.get("path", route.get("types")) for route in data["routes"]] == [
        ["login", "getPatient"],
        "/api/patient/:id",
        ["*"],
    ]
    assert RouteMap.from_dict(data) == route_map


def test_toml_text_round_trip() -> None:
    """to_toml_text is TOML that from_toml_text reads back into an equal map."""
    route_map = example()
    assert RouteMap.from_toml_text(route_map.to_toml_text()) == route_map


def test_group_without_mode_is_fan_out() -> None:
    """A group that names no mode is 'all', QEWD's only kind of group."""
    route_map = RouteMap.from_dict({"destinations": {"g": {"members": ["x"]}}})
    assert route_map.destinations["g"].mode == "all"


def test_map_is_immutable_and_copies_its_input() -> None:
    """Changing the dict a map was built from does not change the map, nor can it be set."""
    destinations = {"x": Destination("x", url="ws://h:1/ws")}
    route_map = RouteMap(destinations)
    destinations["y"] = Destination("y", url="ws://h:2/ws")
    assert list(route_map.destinations) == ["x"]
    with pytest.raises(TypeError):
        route_map.destinations["z"] = destinations["y"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        route_map.version = 3  # type: ignore[misc]


def test_map_survives_pickle_and_deepcopy() -> None:
    """A map pickles (to reach worker processes) and copies, staying equal and read-only."""
    route_map = example().with_version(3)
    route_map.ws_destination("clinic", "login")  # fills the look-up cache first
    pickled: RouteMap = pickle.loads(pickle.dumps(route_map))  # noqa: S301 - bytes made here
    for copied in (pickled, copy.deepcopy(route_map)):
        assert copied == route_map
        assert copied.where_of(copied.rest_routes[0]) == "routes[1]"
        assert copied.ws_destination("clinic", "x") == route_map.destinations["stores"]
        with pytest.raises(TypeError):
            copied.destinations["z"] = route_map.destinations["login"]  # type: ignore[index]


def test_with_version_and_empty() -> None:
    """with_version changes only the version; an empty map routes nothing."""
    route_map = example().with_version(7)
    assert route_map.version == 7
    assert route_map.with_version(0) == example()
    empty = RouteMap.empty()
    assert empty.ws_destination("clinic", "login") is None
    assert empty.rest_match("GET", "/api/x") is None
    assert empty.leaf_urls() == set()


def test_first_match_wins_exact_before_wildcard() -> None:
    """An exact route listed before '*' takes its types; '*' takes every other type."""
    route_map = example()
    assert route_map.ws_destination("clinic", "login") == route_map.destinations["login"]
    assert route_map.ws_destination("clinic", "anything") == route_map.destinations["stores"]
    assert route_map.ws_destination("other-app", "login") is None


def test_wildcard_first_catches_everything() -> None:
    """A '*' route listed first wins even over a later exact route for the same type."""
    route_map = RouteMap.from_dict(
        {
            "destinations": {"a": {"url": "ws://h:1/ws"}, "b": {"url": "ws://h:2/ws"}},
            "routes": [
                {"application": "app", "types": ["*"], "destination": "a"},
                {"application": "app", "types": ["t"], "destination": "b"},
            ],
        }
    )
    route = route_map.ws_route("app", "t")
    assert route is not None
    assert route.destination == "a"


def test_first_of_two_exact_routes_wins() -> None:
    """With the same type routed twice, the earlier route is the one used."""
    route_map = RouteMap(
        {"a": Destination("a", url="ws://h:1/ws"), "b": Destination("b", url="ws://h:2/ws")},
        ws_routes=(WsRoute("app", ("t",), "b"), WsRoute("app", ("t", "u"), "a")),
    )
    assert route_map.ws_destination("app", "t") == route_map.destinations["b"]
    assert route_map.ws_destination("app", "u") == route_map.destinations["a"]


def rest_map(*templates: tuple[str, str]) -> RouteMap:
    routes = [{"method": m, "path": p, "destination": "x"} for m, p in templates]
    return RouteMap.from_dict({"destinations": {"x": {"url": "ws://h:1/ws"}}, "routes": routes})


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/patient/42", ("/api/patient/:id", {"id": "42"})),
        ("get", "/api/patient/42/", ("/api/patient/:id", {"id": "42"})),
        ("GET", "/api/patient/42/visit/7", ("/api/patient/:id/visit/:v", {"id": "42", "v": "7"})),
        ("POST", "/api/patient", ("/api/patient", {})),
        ("GET", "/api/patient", None),
        ("GET", "/api/patient/42/visit", None),
        ("GET", "/API/patient/42", None),
        ("GET", "/api/patient//visit/7", None),
        ("GET", "/", ("/", {})),
    ],
)
def test_rest_template_matching(
    method: str, path: str, expected: tuple[str, dict[str, str]] | None
) -> None:
    """Segments match exactly, ':var' binds one non-empty segment, a trailing '/' is ignored."""
    route_map = rest_map(
        ("GET", "/api/patient/:id"),
        ("GET", "/api/patient/:id/visit/:v"),
        ("POST", "/api/patient"),
        ("GET", "/"),
    )
    match = route_map.rest_match(method, path)
    if expected is None:
        assert match is None
    else:
        assert match is not None
        assert (match[0].path, match[1]) == expected


def test_rest_first_match_wins() -> None:
    """Of two templates matching a path, the earlier one is used."""
    route_map = rest_map(("GET", "/api/:kind/list"), ("GET", "/api/patient/list"))
    match = route_map.rest_match("GET", "/api/patient/list")
    assert match is not None
    assert match == (route_map.rest_routes[0], {"kind": "patient"})


def test_leaves_flatten_nested_groups_once_each() -> None:
    """leaves flattens nested groups in order, lists a leaf once, survives self-reference."""
    route_map = RouteMap.from_dict(
        {
            "destinations": {
                "a": {"url": "ws://h:1/ws"},
                "b": {"url": "ws://h:2/ws"},
                "inner": {"members": ["b", "a", "outer"]},
                "outer": {"members": ["a", "inner", "missing"]},
            }
        }
    )
    assert [leaf.name for leaf in route_map.leaves("outer")] == ["a", "b"]
    assert [leaf.name for leaf in route_map.leaves("a")] == ["a"]
    with pytest.raises(KeyError):
        route_map.leaves("nope")


def test_leaf_urls_are_distinct() -> None:
    """Two destinations on one URL share one link: leaf_urls lists the URL once."""
    route_map = RouteMap.from_dict(
        {
            "destinations": {
                "a": {"url": "ws://h:1/ws"},
                "b": {"url": "ws://h:1/ws", "application": "other"},
                "c": {"url": "ws://h:2/ws"},
                "g": {"members": ["a", "c"]},
            }
        }
    )
    assert route_map.leaf_urls() == {"ws://h:1/ws", "ws://h:2/ws"}


POOL = Destination("pool", members=("w1", "w2", "w3"), mode="balance")


@pytest.mark.parametrize(
    ("counter", "up", "expected"),
    [
        (0, {"w1", "w2", "w3"}, ["w1", "w2", "w3"]),
        (1, {"w1", "w2", "w3"}, ["w2", "w3", "w1"]),
        (5, {"w1", "w2", "w3"}, ["w3", "w1", "w2"]),
        (1, {"w1", "w3"}, ["w3", "w1", "w2"]),
        (0, {"w3"}, ["w3", "w1", "w2"]),
        (2, set(), ["w3", "w1", "w2"]),
    ],
)
def test_balance_order_round_robin_up_first(
    counter: int, up: set[str], expected: list[str]
) -> None:
    """Rotation starts at counter mod size; members that are up come before those down."""
    assert choose_balance_member(POOL, up, counter) == expected


def test_balance_accepts_a_predicate_and_empty_groups() -> None:
    """available may be a predicate; an empty group gives nothing to try."""
    assert choose_balance_member(POOL, lambda name: name != "w1", 0) == ["w2", "w3", "w1"]
    assert choose_balance_member(Destination("e", members=(), mode="balance"), set(), 3) == []


def test_diff_lists_added_removed_and_changed() -> None:
    """diff names each destination and route added, removed or changed, and order changes."""
    old = example()
    data: dict[str, Any] = old.to_dict()
    data["destinations"]["login"]["url"] = "ws://127.0.0.1:9999/ws"
    del data["destinations"]["store2"]
    data["destinations"]["stores"]["members"] = ["store1"]
    data["destinations"]["audit"] = {"url": "ws://127.0.0.1:8084/ws"}
    data["routes"][2]["destination"] = "audit"
    data["routes"].append({"method": "POST", "path": "/api/audit", "destination": "audit"})
    data["routes"].insert(0, data["routes"].pop(2))
    new = RouteMap.from_dict(data)
    assert diff(old, new) == [
        "- destination store2: ws://127.0.0.1:8083/ws",
        "~ destination login: ws://127.0.0.1:8081/ws as login-service"
        " -> ws://127.0.0.1:9999/ws as login-service",
        "~ destination stores: all of [store1, store2] -> all of [store1]",
        "+ destination audit: ws://127.0.0.1:8084/ws",
        "~ route clinic *: stores -> audit",
        "~ route order (first match wins): clinic *; clinic login,getPatient",
        "+ route POST /api/audit -> audit",
    ]


def test_diff_of_equal_maps_is_empty() -> None:
    """Maps that route alike have no differences, whatever their versions."""
    assert diff(example(), example().with_version(4)) == []
    assert diff(RouteMap.empty(), RouteMap.empty()) == []


def test_diff_of_removed_route() -> None:
    """A removed route is listed with the destination it used to go to."""
    old = example()
    data = old.to_dict()
    del data["routes"][1]
    assert diff(old, RouteMap.from_dict(data)) == ["- route GET /api/patient/:id -> login"]


def test_structural_error_for_a_non_table() -> None:
    """A map that is not a table is refused with R_BAD_FIELD."""
    with pytest.raises(RouteMapError) as caught:
        RouteMap.from_dict(["not", "a", "table"])
    assert [p.code for p in caught.value.problems] == ["R_BAD_FIELD"]
