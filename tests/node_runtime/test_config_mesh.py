"""Tests of mesh files, of telling file kinds apart (load_any) and of check_file's report."""

from __future__ import annotations

from pathlib import Path

import pytest

from node_runtime.config import (
    MeshConfig,
    NodeConfig,
    check_file,
    load_any,
    load_mesh_config,
    parse_mesh_config,
)
from node_runtime.errors import ConfigError
from node_runtime.protocol.routes import RouteMap

MESH = """
[jwt]
secret = "mesh-secret"
timeout = 300

[[node]]
name = "a"
port = 9101
[node.apps]
clinic = "qewd_examples.clinic"
[node.destinations.b]
url = "ws://127.0.0.1:9102/ws"
[[node.routes]]
application = "clinic"
types = ["*"]
destination = "b"

[[node]]
name = "b"
port = 9102
data_dir = "../elsewhere/b"
[node.destinations.c]
url = "ws://127.0.0.1:9103/ws"
application = "login-service"
[[node.routes]]
application = "clinic"
types = ["login"]
destination = "c"

[[node]]
name = "c"
port = 9103
[node.store]
backend = "redis"
"""

# A route at c that sends login-service back to a closes a -> b -> c -> a.
CYCLE_AT_C = """[node.destinations.a]
url = "ws://127.0.0.1:9101/ws"
[[node.routes]]
application = "login-service"
types = ["*"]
destination = "a"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_mesh_file_loads_every_node_with_the_shared_jwt(tmp_path: Path) -> None:
    """Each [[node]] becomes a NodeConfig carrying the mesh's [jwt] and its own sections."""
    path = write(tmp_path, "mesh.toml", MESH)
    mesh = load_mesh_config(path)
    assert [node.name for node in mesh.nodes] == ["a", "b", "c"]
    assert mesh.jwt.secret == "mesh-secret"
    assert all(node.jwt is mesh.jwt for node in mesh.nodes)
    a, b, c = mesh.nodes
    assert dict(a.apps) == {"clinic": "qewd_examples.clinic"}
    assert a.data_dir == (tmp_path / "data" / "a").resolve()
    assert b.data_dir == (tmp_path / "../elsewhere/b").resolve()
    assert b.route_map.destinations["c"].application == "login-service"
    assert c.store.backend == "redis"
    assert mesh.node("b") is b
    assert (mesh.source, a.source) == (path, path)
    with pytest.raises(KeyError):
        mesh.node("zz")


def test_cycle_across_a_mesh_file_stops_loading(tmp_path: Path) -> None:
    """A routing cycle through three nodes of a mesh file is a ConfigError with R_CYCLE."""
    path = write(tmp_path, "mesh.toml", MESH + CYCLE_AT_C)
    with pytest.raises(ConfigError) as caught:
        load_mesh_config(path)
    assert caught.value.key == "node[0].routes[0]"
    assert "R_CYCLE" in caught.value.reason
    assert "a -> b -> c -> a" in caught.value.reason


def test_check_file_reports_a_cycle_where_messages_return(tmp_path: Path) -> None:
    """The cycle is reported at a only: from b or c the message ends at a, handled locally."""
    path = write(tmp_path, "mesh.toml", MESH + CYCLE_AT_C)
    assert check_file(path) == [
        f"{path}: node[0].routes[0]: error R_CYCLE: "
        "routing cycle a -> b -> c -> a for clinic/login",
    ]


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ('[[node]]\nname = "a"\nport = 9999\n', "node[3].name", "'a' is already used by node[0]"),
        ('[[node]]\nname = "d"\nport = 9102\n', "node[3].port", "already used by node[1].port"),
        ('[[node]]\nname = "d"\nport = 0\nhttp_port = 9101\n', "node[3].http_port", "already"),
        ('[[node]]\nname = "d"\n[node.jwt]\nsecret = "x"\n', "node[3].jwt", "shared [jwt]"),
        ('[[node]]\nname = "d"\npool_size = 0\n', "node[3].pool_size", "between 1 and"),
        (
            '[[node]]\nname = "d"\n[[node.routes]]\nmethod = "GET"\n',
            "node[3].routes[0].path",
            "R_BAD_FIELD",
        ),
        ("[store]\nbackend = 'sqlite'\n", "store", "unknown key"),
    ],
)
def test_bad_mesh_files_name_the_node(tmp_path: Path, extra: str, key: str, reason: str) -> None:
    """Errors in a mesh file name the node by index: node[3].port and the like."""
    path = write(tmp_path, "mesh.toml", MESH + extra)
    with pytest.raises(ConfigError) as caught:
        load_mesh_config(path)
    assert (caught.value.file, caught.value.key) == (str(path), key)
    assert reason in caught.value.reason


def test_mesh_needs_nodes_and_jwt(tmp_path: Path) -> None:
    """A mesh file without [[node]] tables, or without [jwt], is refused."""
    with pytest.raises(ConfigError) as caught:
        load_mesh_config(write(tmp_path, "m1.toml", '[jwt]\nsecret = "s"\n'))
    assert caught.value.key == "node"
    with pytest.raises(ConfigError) as caught:
        load_mesh_config(write(tmp_path, "m2.toml", '[[node]]\nname = "a"\n'))
    assert caught.value.key == "jwt"


def test_parse_mesh_config_in_memory_with_free_ports(tmp_path: Path) -> None:
    """The console's in-memory meshes: ports 0, no URLs yet, nodes still checked."""
    data = {
        "jwt": {"secret_env": "MESH_SECRET"},
        "node": [{"name": "x", "port": 0}, {"name": "y", "port": 0}],
    }
    mesh = parse_mesh_config(data, tmp_path / "demo.toml", env={"MESH_SECRET": "m"})
    assert [node.url for node in mesh.nodes] == [None, None]
    assert mesh.jwt.secret == "m"


def test_load_any_tells_kinds_apart(tmp_path: Path) -> None:
    """load_any returns a MeshConfig, NodeConfig or RouteMap according to the content."""
    mesh = write(tmp_path, "mesh.toml", MESH)
    node = write(tmp_path, "node.toml", '[node]\nname = "n"\n[jwt]\nsecret = "s"\n')
    routes = write(
        tmp_path,
        "routes.toml",
        '[destinations.x]\nurl = "ws://h:1/ws"\n'
        '[[routes]]\napplication = "a"\ntypes = ["t"]\ndestination = "x"\n',
    )
    assert isinstance(load_any(mesh), MeshConfig)
    assert isinstance(load_any(node), NodeConfig)
    assert isinstance(load_any(routes), RouteMap)
    other = write(tmp_path, "other.toml", "title = 'x'\n")
    with pytest.raises(ConfigError) as caught:
        load_any(other)
    assert "not a node file" in caught.value.reason


def test_check_file_reports_everything_at_once(tmp_path: Path) -> None:
    """check_file lists every problem of a node file, each naming file, key, code, reason."""
    text = (
        '[node]\nname = "n"\npool_size = -1\nport = "x"\n[jwt]\nsecret = "s"\n'
        '[destinations.spare]\nurl = "ws://h:1/ws"\n'
        '[[routes]]\napplication = "a"\ntypes = ["t"]\ndestination = "gone"\n'
    )
    path = write(tmp_path, "node.toml", text)
    lines = check_file(path)
    assert lines == [
        f"{path}: node.port: error E_CONFIG: must be an integer, got 'x'",
        f"{path}: node.pool_size: error E_CONFIG: must be between 1 and 1024, got -1",
        f"{path}: routes[0].destination: error R_UNKNOWN_DESTINATION: "
        "destination 'gone' is not defined under [destinations]",
        f"{path}: destinations.spare: warning R_UNUSED_DESTINATION: "
        "no route or group uses 'spare' (its link is still opened)",
    ]
    assert len(check_file(path, include_warnings=False)) == 3


def test_check_file_on_a_sound_file_is_empty(tmp_path: Path) -> None:
    """A sound mesh file has nothing to report."""
    assert check_file(write(tmp_path, "mesh.toml", MESH)) == []


def test_check_file_on_a_route_map_and_bad_toml(tmp_path: Path) -> None:
    """A bare route map is validated; TOML syntax errors name their line."""
    routes = write(tmp_path, "r.toml", '[destinations.x]\nurl = "ftp://h:1"\n')
    assert check_file(routes, include_warnings=False) == [
        f"{routes}: destinations.x.url: error R_BAD_URL: URL 'ftp://h:1' must start with "
        "ws:// or wss://"
    ]
    broken = write(tmp_path, "b.toml", "[node]\nname = \n")
    (line,) = check_file(broken)
    assert line.startswith(f"{broken}: line 2: error E_CONFIG: ")
