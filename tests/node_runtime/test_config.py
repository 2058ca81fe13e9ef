"""Tests of node config files: values, defaults, path resolution, JWT secrets, route maps,
and errors that name file, key and reason."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from node_runtime.config import NodeConfig, load_node_config, parse_node_config
from node_runtime.errors import ConfigError
from node_runtime.protocol.routes import RouteMap

NODE = '[node]\nname = "n1"\nport = 8081\n'
JWT = '[jwt]\nsecret = "s3cret"\n'

FULL = """
[node]
name = "orchestrator"
host = "127.0.0.2"
port = 8080
http_port = 8090
pool_size = 4
prefork = true
handler_timeout = 5
request_timeout = 7.5
max_queue = 100
idle_timeout = 0
recycle_after = 1000
max_message_bytes = 65536
data_dir = "state/orch"

[jwt]
secret_env = "QEWD_TEST_SECRET"
timeout = 600
issuer = "tests"

[store]
backend = "redis"
url = "redis://127.0.0.1:6379/0"

[apps]
clinic = "qewd_examples.clinic"

[tls]
cert = "certs/node.pem"
key = "certs/node.key"

[destinations.login]
url = "wss://127.0.0.1:8081/ws"
application = "login-service"

[[routes]]
application = "clinic"
types = ["login"]
destination = "login"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_full_node_file(tmp_path: Path) -> None:
    """Every key of DESIGN section 9 is read; relative paths resolve beside the file."""
    conf_dir = tmp_path / "conf"
    write(conf_dir, "certs/node.pem", "cert")
    write(conf_dir, "certs/node.key", "key")
    path = write(conf_dir, "node.toml", FULL)
    config = load_node_config(path, env={"QEWD_TEST_SECRET": "from-env"})
    assert (config.name, config.host, config.port, config.http_port) == (
        "orchestrator",
        "127.0.0.2",
        8080,
        8090,
    )
    assert (config.pool_size, config.prefork, config.max_queue) == (4, True, 100)
    assert (config.handler_timeout, config.request_timeout, config.idle_timeout) == (5, 7.5, 0)
    assert (config.recycle_after, config.max_message_bytes) == (1000, 65536)
    assert config.data_dir == (conf_dir / "state/orch").resolve()
    assert config.jwt.secret == "from-env"
    assert config.jwt.secret_env == "QEWD_TEST_SECRET"
    assert (config.jwt.timeout, config.jwt.issuer, config.jwt.algorithm) == (600, "tests", "HS256")
    assert (config.store.backend, config.store.url) == ("redis", "redis://127.0.0.1:6379/0")
    assert dict(config.apps) == {"clinic": "qewd_examples.clinic"}
    assert config.tls is not None
    assert config.tls.cert == (conf_dir / "certs/node.pem").resolve()
    assert config.tls.ca is None
    assert config.url == "wss://127.0.0.2:8080/ws"
    assert config.route_map.ws_destination("clinic", "login") is not None
    assert config.source == path


def test_defaults(tmp_path: Path) -> None:
    """A minimal node file gets the documented defaults, data_dir = data/<name> beside it."""
    config = load_node_config(write(tmp_path, "n.toml", NODE + JWT))
    defaults = NodeConfig(name="n1", data_dir=config.data_dir, jwt=config.jwt)
    assert config.data_dir == (tmp_path / "data" / "n1").resolve()
    assert (config.host, config.http_port, config.pool_size) == ("127.0.0.1", 0, 2)
    assert (config.handler_timeout, config.request_timeout) == (30.0, 30.0)
    assert (config.max_queue, config.idle_timeout, config.recycle_after) == (20000, 3600.0, 0)
    assert config.max_message_bytes == defaults.max_message_bytes == 1048576
    assert (config.store.backend, config.tls, config.jwt.timeout) == ("sqlite", None, 1200)
    assert config.route_map == RouteMap.empty()


def test_config_pickles(tmp_path: Path) -> None:
    """A node config pickles (workers get it) and comes back equal with read-only apps."""
    text = NODE + JWT + '[apps]\nclinic = "qewd_examples.clinic"\n'
    config = load_node_config(write(tmp_path, "n.toml", text))
    copied: NodeConfig = pickle.loads(pickle.dumps(config))  # noqa: S301 - bytes made here
    assert copied == config
    with pytest.raises(TypeError):
        copied.apps["x"] = "y"  # type: ignore[index]


def test_port_zero_means_pick_a_free_port(tmp_path: Path) -> None:
    """port = 0 is allowed and leaves the node's URL unknown until it is bound."""
    config = load_node_config(write(tmp_path, "n.toml", '[node]\nname = "n"\nport = 0\n' + JWT))
    assert config.port == 0
    assert config.url is None


def test_secret_is_not_in_repr(tmp_path: Path) -> None:
    """The JWT secret never appears in a config's repr (QEWD printed it in logs)."""
    config = load_node_config(write(tmp_path, "n.toml", NODE + JWT))
    assert "s3cret" not in repr(config)


def test_routes_file_resolves_beside_the_config(tmp_path: Path) -> None:
    """routes_file is read relative to the config file's directory."""
    write(
        tmp_path,
        "maps/routes.toml",
        '[destinations.x]\nurl = "ws://127.0.0.1:9000/ws"\n\n'
        '[[routes]]\napplication = "a"\ntypes = ["*"]\ndestination = "x"\n',
    )
    path = write(tmp_path, "n.toml", NODE + 'routes_file = "maps/routes.toml"\n' + JWT)
    config = load_node_config(path)
    assert config.route_map.leaf_urls() == {"ws://127.0.0.1:9000/ws"}


def test_asymmetric_keys_resolve(tmp_path: Path) -> None:
    """RS256 takes key files, resolved beside the config; the public key is optional."""
    write(tmp_path, "keys/private.pem", "k")
    text = NODE + '[jwt]\nalgorithm = "RS256"\nprivate_key_file = "keys/private.pem"\n'
    config = load_node_config(write(tmp_path, "n.toml", text))
    assert config.jwt.private_key_file == (tmp_path / "keys/private.pem").resolve()
    assert (config.jwt.public_key_file, config.jwt.secret) == (None, None)


def test_parse_node_config_from_memory(tmp_path: Path) -> None:
    """parse_node_config takes a node file's structure and a source for relative paths."""
    data = {"node": {"name": "mem", "port": 0, "data_dir": "d"}, "jwt": {"secret": "x"}}
    config = parse_node_config(data, tmp_path / "virtual.toml")
    assert config.data_dir == (tmp_path / "d").resolve()
    with pytest.raises(ConfigError) as caught:
        parse_node_config({"node": {"name": "mem", "pool_size": 0}}, tmp_path / "virtual.toml")
    assert (caught.value.key, caught.value.file) == (
        "node.pool_size",
        str(tmp_path / "virtual.toml"),
    )
    with pytest.raises(ConfigError) as caught:
        parse_node_config({"node": {"name": "mem"}}, tmp_path / "virtual.toml")
    assert caught.value.key == "jwt"


# (file text, key the error must name, words the reason must contain)
BAD_NODE_FILES: list[tuple[str, str, str]] = [
    (NODE + "pool_size = -2\n" + JWT, "node.pool_size", "between 1 and 1024, got -2"),
    ('[node]\nname = "n"\nport = 70000\n' + JWT, "node.port", "between 0 and 65535"),
    ('[node]\nname = "n"\nport = "8080"\n' + JWT, "node.port", "must be an integer"),
    (NODE + "handler_timeout = 0\n" + JWT, "node.handler_timeout", "must be > 0"),
    (NODE + "max_queue = 1.5\n" + JWT, "node.max_queue", "must be an integer"),
    (NODE + 'prefork = "yes"\n' + JWT, "node.prefork", "true or false"),
    (NODE + "colour = 1\n" + JWT, "node.colour", "unknown key"),
    (NODE + JWT + "[logging]\nlevel = 1\n", "logging", "unknown key"),
    (NODE + "[node.apps]\nx = 'm'\n" + JWT, "node.apps", "top-level table"),
    ("[node]\nport = 1\n" + JWT, "node.name", "missing"),
    ('[node]\nname = "my node"\n' + JWT, "node.name", "letters, digits"),
    (NODE + "http_port = 8081\n" + JWT, "node.http_port", "must differ from port"),
    (NODE, "jwt", "missing"),
    (NODE + '[jwt]\nsecret_env = "QEWD_UNSET_FOR_TESTS"\n', "jwt.secret_env", "not set"),
    (NODE + '[jwt]\nsecret = "a"\nsecret_env = "B"\n', "jwt.secret_env", "not both"),
    (NODE + '[jwt]\nsecret = "a"\nalgorithm = "none"\n', "jwt.algorithm", "is not one of"),
    (NODE + '[jwt]\nalgorithm = "ES256"\n', "jwt.private_key_file", "missing"),
    (NODE + '[jwt]\nsecret = "a"\ntimeout = -5\n', "jwt.timeout", "> 0"),
    (NODE + JWT + '[store]\nbackend = "mongo"\n', "store.backend", "'mongo' is not one of"),
    (NODE + JWT + '[store]\nurl = "redis://h/0"\n', "store.url", "backend = 'redis'"),
    (NODE + JWT + '[store]\nbackend = "redis"\nurl = "http://h"\n', "store.url", "redis://"),
    (NODE + JWT + '[tls]\ncert = "none.pem"\nkey = "none.key"\n', "tls.cert", "file not found"),
    (NODE + JWT + '[tls]\nca = "x"\n', "tls.ca", "file not found"),
    (NODE + JWT + '[apps]\nclinic = "1bad.module"\n', "apps.clinic", "importable module"),
    (NODE + JWT + "[apps\n", "line 6", "line 6"),
    (NODE + 'routes_file = "missing.toml"\n' + JWT, "node.routes_file", "file not found"),
    (
        NODE + JWT + '[[routes]]\napplication = "a"\ntypes = ["t"]\ndestination = "x"\n',
        "routes[0].destination",
        "R_UNKNOWN_DESTINATION",
    ),
    (
        NODE + JWT + '[destinations.x]\nurl = "ws://127.0.0.1:8081/ws"\n'
        '[[routes]]\napplication = "a"\ntypes = ["t"]\ndestination = "x"\n',
        "destinations.x.url",
        "R_SELF_LINK",
    ),
    (NODE + JWT + '[destinations.x]\nurl = "ws://h/ws"\n', "destinations.x.url", "R_BAD_URL"),
    (NODE + JWT + "[destinations.x]\nurl = 5\n", "destinations.x.url", "R_BAD_FIELD"),
    (
        NODE + 'routes_file = "r.toml"\n' + "[jwt]\nsecret = 's'\n" + "[destinations.y]\n"
        'url = "ws://h:1/ws"\n',
        "node.routes_file",
        "not both",
    ),
]


@pytest.mark.parametrize(("text", "key", "reason"), BAD_NODE_FILES)
def test_bad_node_files_name_file_key_and_reason(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    """Each bad value raises ConfigError naming the file, the dotted key and the reason."""
    write(tmp_path, "r.toml", "")
    path = write(tmp_path, "node.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_node_config(path, env={})
    error = caught.value
    assert (error.file, error.key) == (str(path), key), error
    assert reason in error.reason
    assert str(error).startswith(f"{path}: {key}: ")
    assert error.code == "E_CONFIG"


def test_error_in_routes_file_names_that_file(tmp_path: Path) -> None:
    """A problem inside routes_file is reported against the routes file and its key."""
    routes = write(tmp_path, "routes.toml", "[destinations.x]\nurl = 'ws://h:1/ws'\nmode = 1\n")
    path = write(tmp_path, "n.toml", NODE + 'routes_file = "routes.toml"\n' + JWT)
    with pytest.raises(ConfigError) as caught:
        load_node_config(path)
    assert (caught.value.file, caught.value.key) == (str(routes.resolve()), "destinations.x.mode")


def test_missing_file(tmp_path: Path) -> None:
    """A config file that cannot be read is a ConfigError naming it."""
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as caught:
        load_node_config(path)
    assert caught.value.file == str(path)
    assert "cannot read" in caught.value.reason


def test_mesh_file_is_not_a_node_file(tmp_path: Path) -> None:
    """load_node_config refuses a mesh file and says so."""
    path = write(tmp_path, "mesh.toml", JWT + '[[node]]\nname = "a"\n')
    with pytest.raises(ConfigError) as caught:
        load_node_config(path)
    assert caught.value.key == "node"
    assert "mesh file" in caught.value.reason


def test_route_warnings_do_not_stop_loading(tmp_path: Path) -> None:
    """An unused destination is only a warning: the node still loads."""
    text = NODE + JWT + '[destinations.spare]\nurl = "ws://127.0.0.1:9000/ws"\n'
    config = load_node_config(write(tmp_path, "n.toml", text))
    assert "spare" in config.route_map.destinations
