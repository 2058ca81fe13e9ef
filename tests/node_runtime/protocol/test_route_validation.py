"""Tests of route-map validation: every problem code, and routing cycles across a mesh."""

from __future__ import annotations

from typing import Any

import pytest

from node_runtime.protocol.routes import (
    PROBLEM_CODES,
    MeshNodeInfo,
    Problem,
    RouteMap,
    RouteMapError,
    validate,
)

A_URL = "ws://127.0.0.1:9001/ws"
B_URL = "ws://127.0.0.1:9002/ws"
C_URL = "ws://127.0.0.1:9003/ws"


def leaf(url: str = A_URL, **extra: str) -> dict[str, Any]:
    return {"url": url, **extra}


def ws(app: str, types: list[str], destination: str) -> dict[str, Any]:
    return {"application": app, "types": types, "destination": destination}


def rest(method: str, path: str, destination: str) -> dict[str, Any]:
    return {"method": method, "path": path, "destination": destination}


def problems_of(data: dict[str, Any], **kwargs: Any) -> list[Problem]:
    """Structural problems if from_dict refuses the data, else validate's findings."""
    try:
        route_map = RouteMap.from_dict(data)
    except RouteMapError as exc:
        return exc.problems
    return validate(route_map, **kwargs)


def codes(problems: list[Problem]) -> set[str]:
    return {problem.code for problem in problems}


# One small map per code that triggers it, with the ``where`` the problem must name.
TRIGGERS: dict[str, tuple[dict[str, Any], str]] = {
    "R_BAD_FIELD": ({"destinations": {"x": {"url": A_URL, "port": 1}}}, "destinations.x.port"),
    "R_UNKNOWN_DESTINATION": (
        {"destinations": {"x": leaf()}, "routes": [ws("a", ["t"], "nope")]},
        "routes[0].destination",
    ),
    "R_EMPTY_GROUP": (
        {"destinations": {"g": {"members": []}}, "routes": [ws("a", ["t"], "g")]},
        "destinations.g.members",
    ),
    "R_SELF_GROUP": (
        {"destinations": {"g": {"members": ["g"]}}, "routes": [ws("a", ["t"], "g")]},
        "destinations.g.members",
    ),
    "R_BAD_MODE": (
        {
            "destinations": {"x": leaf(), "g": {"members": ["x"], "mode": "random"}},
            "routes": [ws("a", ["t"], "g")],
        },
        "destinations.g.mode",
    ),
    "R_DUPLICATE_ROUTE": (
        {"destinations": {"x": leaf()}, "routes": [ws("a", ["t"], "x"), ws("a", ["t"], "x")]},
        "routes[1]",
    ),
    "R_SHADOWED_ROUTE": (
        {"destinations": {"x": leaf()}, "routes": [ws("a", ["*"], "x"), ws("a", ["t"], "x")]},
        "routes[1]",
    ),
    "R_BAD_URL": (
        {"destinations": {"x": leaf("http://h:1/ws")}, "routes": [ws("a", ["t"], "x")]},
        "destinations.x.url",
    ),
    "R_SELF_LINK": (
        {"destinations": {"x": leaf(A_URL)}, "routes": [ws("a", ["t"], "x")]},
        "destinations.x.url",
    ),
    "R_BAD_PATH": (
        {"destinations": {"x": leaf()}, "routes": [rest("GET", "api/x", "x")]},
        "routes[0].path",
    ),
    "R_BAD_METHOD": (
        {"destinations": {"x": leaf()}, "routes": [rest("FETCH", "/api/x", "x")]},
        "routes[0].method",
    ),
    "R_UNUSED_DESTINATION": ({"destinations": {"x": leaf()}}, "destinations.x"),
}


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_each_code_is_triggered_by_a_small_map(code: str) -> None:
    """Each problem code is reported, at the expected place, for a map made to break it."""
    data, where = TRIGGERS[code]
    found = [p for p in problems_of(data, node_url=A_URL) if p.code == code]
    assert found, problems_of(data, node_url=A_URL)
    assert found[0].where == where


def test_every_documented_code_has_a_trigger() -> None:
    """Every code in PROBLEM_CODES is exercised here or by the cycle and TOML tests."""
    assert set(PROBLEM_CODES) == {*TRIGGERS, "R_CYCLE", "R_BAD_TOML"}


def test_bad_toml_is_a_problem_with_its_line() -> None:
    """Unparsable route-map text raises R_BAD_TOML naming the source and the line."""
    with pytest.raises(RouteMapError) as caught:
        RouteMap.from_toml_text("[destinations.x]\nurl = \n", source="editor")
    (problem,) = caught.value.problems
    assert (problem.code, problem.where) == ("R_BAD_TOML", "editor")
    assert "line 2" in problem.message


def test_severities_follow_the_documented_rule() -> None:
    """Shadowed routes and unused destinations are warnings; everything else is an error."""
    shadowed = problems_of(TRIGGERS["R_SHADOWED_ROUTE"][0])
    assert [p.severity for p in shadowed] == ["warning"]
    unknown = problems_of(TRIGGERS["R_UNKNOWN_DESTINATION"][0])
    assert {p.severity for p in unknown if p.code == "R_UNKNOWN_DESTINATION"} == {"error"}
    assert not shadowed[0].is_error


def test_a_sound_map_has_no_problems() -> None:
    """A map with a leaf, a balance group and both kinds of route validates clean."""
    data = {
        "destinations": {
            "w1": leaf(B_URL),
            "w2": leaf(C_URL, application="svc"),
            "pool": {"members": ["w1", "w2"], "mode": "balance"},
        },
        "routes": [
            ws("clinic", ["login"], "w1"),
            ws("clinic", ["*"], "pool"),
            rest("GET", "/api/patient/:id", "pool"),
        ],
    }
    assert problems_of(data, node_url=A_URL) == []


def test_structural_errors_are_all_reported_at_once() -> None:
    """from_dict lists every structural problem, not just the first."""
    data = {
        "destinations": {"a b": leaf(), "x": {"url": A_URL, "members": ["y"]}, "y": "nope"},
        "routes": [{"application": "a"}, {"path": "/x", "method": "GET", "types": ["t"]}, 3],
        "extra": 1,
    }
    wheres = {p.where for p in problems_of(data)}
    assert wheres == {
        "extra",
        "destinations.a b",
        "destinations.x",
        "destinations.y",
        "routes[0].types",
        "routes[0].destination",
        "routes[1]",
        "routes[2]",
    }
    assert codes(problems_of(data)) == {"R_BAD_FIELD"}


@pytest.mark.parametrize(
    "url",
    [
        "ws://h/ws",
        "ws://h:0/ws",
        "ws://h:99999/ws",
        "ws://:80/ws",
        "tcp://h:80",
        "ws://u:p@h:80/ws",
        "ws://h:80/ws?x=1",
        "ws://h :80/ws",
    ],
)
def test_malformed_urls_are_bad(url: str) -> None:
    """URLs without port or host, with other schemes, credentials or queries are R_BAD_URL."""
    data = {"destinations": {"x": leaf(url)}, "routes": [ws("a", ["t"], "x")]}
    assert codes(problems_of(data)) == {"R_BAD_URL"}


def test_self_link_matches_despite_case_and_trailing_slash() -> None:
    """A destination URL differing from the node's only in host case or a '/' is a self link."""
    data = {"destinations": {"x": leaf("WS://LocalHost:9001/ws/")}, "routes": [ws("a", ["t"], "x")]}
    assert codes(problems_of(data, node_url="ws://localhost:9001/ws")) == {"R_SELF_LINK"}


def test_group_loop_through_nesting_is_self_group() -> None:
    """A group that reaches itself through another group is reported with the loop path."""
    data = {
        "destinations": {"g": {"members": ["h"]}, "h": {"members": ["g"]}},
        "routes": [ws("a", ["t"], "g")],
    }
    found = [p for p in problems_of(data) if p.code == "R_SELF_GROUP"]
    assert [p.message for p in found] == [
        "group contains itself: g -> h -> g",
        "group contains itself: h -> g -> h",
    ]


@pytest.mark.parametrize(
    ("routes", "code"),
    [
        ([ws("a", ["*"], "x"), ws("a", ["*"], "x")], "R_DUPLICATE_ROUTE"),
        ([ws("a", ["t", "t"], "x")], "R_BAD_FIELD"),
        ([ws("a", ["*", "t"], "x")], "R_SHADOWED_ROUTE"),
        ([rest("GET", "/a/:id", "x"), rest("get", "/a/:key", "x")], "R_DUPLICATE_ROUTE"),
        ([rest("GET", "/a/:id", "x"), rest("GET", "/a/b", "x")], "R_SHADOWED_ROUTE"),
    ],
)
def test_duplicate_and_shadowed_variants(routes: list[dict[str, Any]], code: str) -> None:
    """Repeated wildcards, repeated types, and REST templates of one shape are caught."""
    data = {"destinations": {"x": leaf()}, "routes": routes}
    assert codes(problems_of(data)) == {code}


@pytest.mark.parametrize(
    "routes",
    [
        [ws("a", ["t"], "x"), ws("a", ["*"], "x")],
        [ws("a", ["*"], "x"), ws("b", ["t"], "x")],
        [rest("GET", "/a/b", "x"), rest("GET", "/a/:id", "x")],
        [rest("GET", "/a/:id", "x"), rest("POST", "/a/b", "x")],
        [rest("GET", "/a/:id", "x"), rest("GET", "/a/:id/c", "x")],
    ],
)
def test_specific_before_general_is_fine(routes: list[dict[str, Any]]) -> None:
    """Exact before '*', other applications, other methods and longer paths do not clash."""
    assert problems_of({"destinations": {"x": leaf()}, "routes": routes}) == []


@pytest.mark.parametrize("path", ["/a//b", "/a/", "/a/:", "/a/:id/:id", "/a?x=1", "/a/:1x"])
def test_bad_path_templates(path: str) -> None:
    """Empty segments, unnamed, repeated or non-identifier variables and queries are bad."""
    data = {"destinations": {"x": leaf()}, "routes": [rest("GET", path, "x")]}
    assert codes(problems_of(data)) == {"R_BAD_PATH"}


def node_map(*routes: dict[str, Any], **destinations: dict[str, Any]) -> RouteMap:
    return RouteMap.from_dict({"destinations": destinations, "routes": list(routes)})


def three_node_mesh(c_routes: RouteMap) -> dict[str, MeshNodeInfo]:
    """a sends clinic/* to b; b sends clinic/login to c; c is given."""
    return {
        "a": MeshNodeInfo(A_URL, node_map(ws("clinic", ["*"], "b"), b=leaf(B_URL))),
        "b": MeshNodeInfo(B_URL, node_map(ws("clinic", ["login"], "c"), c=leaf(C_URL))),
        "c": MeshNodeInfo(C_URL, c_routes),
    }


def test_cycle_across_three_nodes_is_reported_from_the_node_checked() -> None:
    """A route at c back to a closes a -> b -> c -> a for the type that takes that path."""
    c_map = node_map(ws("clinic", ["*"], "a"), a=leaf(A_URL))
    mesh = three_node_mesh(c_map)
    found = validate(c_map, node_name="c", mesh=mesh)
    assert [(p.code, p.where, p.message) for p in found] == [
        ("R_CYCLE", "routes[0]", "routing cycle c -> a -> b -> c for clinic/login")
    ]
    from_a = validate(mesh["a"].route_map, node_name="a", mesh=mesh)
    assert [p.message for p in from_a] == ["routing cycle a -> b -> c -> a for clinic/login"]


def test_whole_mesh_check_reports_each_cycle_once() -> None:
    """Without node_name the mesh is checked as given, each cycle once, naming its node."""
    mesh = three_node_mesh(node_map(ws("clinic", ["*"], "a"), a=leaf(A_URL)))
    found = validate(RouteMap.empty(), mesh=mesh)
    assert [(p.where, p.message) for p in found] == [
        ("mesh.a.routes[0]", "routing cycle a -> b -> c -> a for clinic/login")
    ]


def test_no_cycle_when_the_last_hop_handles_locally() -> None:
    """A chain a -> b -> c that ends in local handling is no cycle."""
    mesh = three_node_mesh(RouteMap.empty())
    for name, info in mesh.items():
        assert validate(info.route_map, node_name=name, mesh=mesh) == []


def test_application_rewrite_is_followed() -> None:
    """A leaf's application changes what the next node routes: the cycle exists only then."""
    a_map = node_map(ws("clinic", ["t"], "b"), b=leaf(B_URL, application="svc"))
    mesh = {"a": MeshNodeInfo(A_URL, a_map)}
    back = node_map(ws("svc", ["t"], "a"), a=leaf(A_URL))
    mesh["b"] = MeshNodeInfo(B_URL, back)
    assert codes(validate(a_map, node_name="a", mesh=mesh)) == {"R_CYCLE"}
    mesh["b"] = MeshNodeInfo(B_URL, node_map(ws("clinic", ["t"], "a"), a=leaf(A_URL)))
    assert validate(a_map, node_name="a", mesh=mesh) == []


def test_cycle_through_a_group_member() -> None:
    """Every member of a group may be taken, so a loop through one member is a cycle."""
    a_map = node_map(
        ws("clinic", ["*"], "pool"),
        pool={"members": ["b", "c"], "mode": "balance"},
        b=leaf(B_URL),
        c=leaf(C_URL),
    )
    mesh = {
        "a": MeshNodeInfo(A_URL, a_map),
        "b": MeshNodeInfo(B_URL, RouteMap.empty()),
        "c": MeshNodeInfo(C_URL, node_map(ws("clinic", ["*"], "a"), a=leaf(A_URL))),
    }
    found = validate(a_map, node_name="a", mesh=mesh)
    assert [p.message for p in found] == ["routing cycle a -> c -> a for clinic/*"]


def test_candidate_map_replaces_the_node_entry() -> None:
    """Validating a new map for a node checks cycles with that map, not the one in mesh."""
    mesh = three_node_mesh(RouteMap.empty())
    candidate = node_map(ws("clinic", ["login"], "a"), a=leaf(A_URL))
    assert codes(validate(candidate, node_name="c", mesh=mesh)) == {"R_CYCLE"}


def test_mesh_url_of_the_node_enables_self_link() -> None:
    """The node's URL is taken from mesh when node_url is not given."""
    own = node_map(ws("clinic", ["t"], "me"), me=leaf("ws://127.0.0.1:9001/ws/"))
    mesh = {"a": MeshNodeInfo(A_URL, own)}
    assert codes(validate(own, node_name="a", mesh=mesh)) == {"R_SELF_LINK", "R_CYCLE"}


def test_route_map_error_carries_every_problem() -> None:
    """RouteMapError's text names the first problem and counts the rest; code E_BAD_ROUTES."""
    with pytest.raises(RouteMapError) as caught:
        RouteMap.from_dict({"destinations": 1, "routes": 2})
    error = caught.value
    assert error.code == "E_BAD_ROUTES"
    assert len(error.problems) == 2
    assert "(and 1 more)" in str(error)
