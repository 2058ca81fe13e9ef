"""Node and mesh configuration files (DESIGN section 9): reading, checking, resolving.

This module owns the TOML formats of a node file (``[node]``, ``[jwt]``, ``[store]``,
``[apps]``, ``[tls]``, inline ``[destinations.*]``/``[[routes]]`` or ``routes_file``)
and of a mesh file (a shared ``[jwt]`` and one ``[[node]]`` per node, with
``[node.apps]``, ``[node.destinations.NAME]``, ``[[node.routes]]``). It reads those
files and checks that named key and certificate files exist; it must not open sockets
or start anything.

Rules: unknown keys and bad values raise ``ConfigError(file, key, reason)`` whose key
is a dotted path (``node.pool_size``, ``node[1].port``, ``destinations.login.url``).
Route-map errors (``validate``, including cycles across a mesh file) stop loading too;
route warnings do not, but ``check_file`` lists them. Relative paths resolve against the
directory of the file that names them. ``port = 0`` means "pick a free port";
``http_port = 0`` means no REST face.
The sections ([jwt], [store], [tls], [apps]) and the table reader live in
``config_sections``; this module builds nodes and meshes and offers the entry points.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from node_runtime.config_sections import (
    NAME,
    Issue,
    JwtConfig,
    NumberRule,
    StoreConfig,
    Table,
    TlsConfig,
    read_apps,
    read_jwt,
    read_store,
    read_tls,
    read_toml,
)
from node_runtime.errors import ConfigError
from node_runtime.protocol.routes import MeshNodeInfo, Problem, RouteMap, RouteMapError, validate

__all__ = [
    "JwtConfig",
    "MeshConfig",
    "NodeConfig",
    "StoreConfig",
    "TlsConfig",
    "check_file",
    "load_any",
    "load_mesh_config",
    "load_node_config",
    "parse_mesh_config",
    "parse_node_config",
]

# Tables a node has besides [node]: top level in a node file, inside [[node]] in a mesh.
_SECTIONS = ("apps", "store", "tls", "destinations", "routes")
_NUMBERS: dict[str, NumberRule] = {
    "port": NumberRule(integer=True, low=0, high=65535),
    "http_port": NumberRule(integer=True, low=0, high=65535),
    "pool_size": NumberRule(integer=True, low=1, high=1024),
    "max_queue": NumberRule(integer=True, low=1),
    "recycle_after": NumberRule(integer=True, low=0),
    "max_message_bytes": NumberRule(integer=True, low=1024),
    "handler_timeout": NumberRule(integer=False, low=0, exclusive=True),
    "request_timeout": NumberRule(integer=False, low=0, exclusive=True),
    "idle_timeout": NumberRule(integer=False, low=0),
}
_NODE_KEYS = ("name", "host", "prefork", "data_dir", "routes_file", *_NUMBERS)


@dataclass(frozen=True, kw_only=True)
class NodeConfig:
    """Everything one node needs to start; ``source`` is the file it came from."""

    name: str
    data_dir: Path
    jwt: JwtConfig
    host: str = "127.0.0.1"
    port: int = 8080  # 0: pick a free port
    http_port: int = 0  # 0: no REST face
    pool_size: int = 2
    prefork: bool = False
    handler_timeout: float = 30.0
    request_timeout: float = 30.0
    max_queue: int = 20000
    idle_timeout: float = 3600.0  # seconds a worker may idle before it is stopped; 0 = never
    recycle_after: int = 0  # messages per worker before it is recycled; 0 = never
    max_message_bytes: int = 1048576
    apps: Mapping[str, str] = field(default_factory=dict)
    store: StoreConfig = field(default_factory=StoreConfig)
    tls: TlsConfig | None = None
    route_map: RouteMap = field(default_factory=RouteMap.empty)
    source: Path = Path("<memory>")

    def __post_init__(self) -> None:
        object.__setattr__(self, "apps", MappingProxyType(dict(self.apps)))

    def __getstate__(self) -> dict[str, Any]:
        # A mappingproxy cannot be pickled, and configs travel to worker processes.
        state = {item.name: getattr(self, item.name) for item in fields(self)}
        state["apps"] = dict(self.apps)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self.__post_init__()

    @property
    def url(self) -> str | None:
        """This node's ``/ws`` URL as peers write it, or None while its port is unknown (0)."""
        if self.port == 0:
            return None
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'wss' if self.tls else 'ws'}://{host}:{self.port}/ws"


@dataclass(frozen=True)
class MeshConfig:
    """A mesh file: the shared JWT settings and every node (each carrying that ``jwt``)."""

    jwt: JwtConfig
    nodes: tuple[NodeConfig, ...]
    source: Path

    def node(self, name: str) -> NodeConfig:
        """The node called ``name``; raises KeyError when there is none."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)


def _raise_first_error(issues: list[Issue]) -> None:
    for issue in issues:
        if issue.severity == "error":
            reason = issue.reason if issue.code == "E_CONFIG" else f"{issue.code}: {issue.reason}"
            raise ConfigError(issue.file, issue.key, reason)


def _route_issues(problems: list[Problem], file: str, prefix: str) -> list[Issue]:
    return [
        Issue(
            file,
            f"{prefix}{p.where}" if p.where else prefix.rstrip("."),
            p.message,
            p.code,
            p.severity,
        )
        for p in problems
    ]


def _read_route_map(node: Table, sections: Table, base: Path) -> tuple[RouteMap, str, str]:
    # The node's route map, and the file and key prefix its problems are reported under:
    # inline tables report as destinations.X / node[1].routes[0], a routes_file by itself.
    inline = {key: sections.data[key] for key in ("destinations", "routes") if key in sections.data}
    prefix = f"{sections.key}." if sections.key else ""
    file, data = sections.file, inline
    routes_path = node.path("routes_file", base, must_exist=True)
    if routes_path is not None:
        if inline:
            node.error("routes_file", "give routes_file or inline destinations/routes, not both")
        file, prefix = str(routes_path), ""
        data = read_toml(routes_path, node.issues) or {}
    elif "routes_file" in node.data:
        return RouteMap.empty(), file, prefix
    try:
        return RouteMap.from_dict(data), file, prefix
    except RouteMapError as exc:
        node.issues.extend(_route_issues(exc.problems, file, prefix))
        return RouteMap.empty(), file, prefix


def _read_node(
    node: Table, sections: Table, source: Path, jwt: JwtConfig | None
) -> tuple[NodeConfig | None, str, str]:
    base = source.parent.resolve()
    if node is sections:  # a mesh file's [[node]] holds its own sections
        node.only(
            (*_NODE_KEYS, *_SECTIONS), {"jwt": "the mesh's shared [jwt] applies to every node"}
        )
    else:
        misplaced = {key: f"[{key}] is a top-level table, not part of [node]" for key in _SECTIONS}
        node.only(_NODE_KEYS, {**misplaced, "jwt": "[jwt] is a top-level table"})
    kwargs: dict[str, Any] = {}
    for key, rule in _NUMBERS.items():
        value = node.number(key, rule)
        if value is not None:
            kwargs[key] = value
    name = node.text("name", pattern=NAME)
    if "name" not in node.data:
        node.error("name", "missing: every node needs a name")
    host = node.text("host")
    if host is not None:
        kwargs["host"] = host
    prefork = node.data.get("prefork", False)
    if not isinstance(prefork, bool):
        node.error("prefork", f"must be true or false, got {prefork!r}")
    data_dir = node.text("data_dir")
    kwargs["data_dir"] = (base / Path(data_dir or f"data/{name}").expanduser()).resolve()
    kwargs["apps"] = read_apps(sections.sub("apps"))
    kwargs["store"] = read_store(sections.sub("store"))
    kwargs["tls"] = read_tls(sections.sub("tls"), base)
    route_map, file, prefix = _read_route_map(node, sections, base)
    port, http_port = kwargs.get("port", 8080), kwargs.get("http_port", 0)
    if http_port and http_port == port:
        node.error("http_port", f"must differ from port ({port})")
    if name is None or jwt is None:
        return None, file, prefix
    config = NodeConfig(
        name=name, jwt=jwt, prefork=prefork is True, route_map=route_map, source=source, **kwargs
    )
    return config, file, prefix


def _collect_node(
    data: Mapping[str, Any], source: Path, env: Mapping[str, str], issues: list[Issue]
) -> NodeConfig | None:
    base = source.parent.resolve()
    top = Table(data, "", str(source), issues)
    top.only(("node", "jwt", *_SECTIONS), {"routes_file": "routes_file belongs in [node]"})
    node = top.sub("node")
    if node is None:
        if "node" not in data:
            top.error("node", "missing: a node file needs a [node] table")
        return None
    jwt = read_jwt(top.sub("jwt"), base, env)
    config, file, prefix = _read_node(node, top, source, jwt)
    if "jwt" not in data:
        top.error("jwt", "missing: a node needs the mesh's [jwt] (secret or secret_env)")
    if config is not None:
        problems = validate(config.route_map, node_name=config.name, node_url=config.url)
        issues.extend(_route_issues(problems, file, prefix))
    return config


def _collect_mesh(
    data: Mapping[str, Any], source: Path, env: Mapping[str, str], issues: list[Issue]
) -> MeshConfig | None:
    base = source.parent.resolve()
    top = Table(data, "", str(source), issues)
    top.only(("jwt", "node"))
    jwt = read_jwt(top.sub("jwt"), base, env)
    if "jwt" not in data:
        top.error("jwt", "missing: a mesh file needs a shared [jwt] (secret or secret_env)")
    entries = data.get("node")
    if not isinstance(entries, list) or not entries:
        top.error("node", "must be one or more [[node]] tables")
        return None
    nodes: list[tuple[NodeConfig, str, str]] = []
    taken: dict[tuple[str, str | float], str] = {}
    for index, entry in enumerate(entries):
        table = Table(entry, f"node[{index}]", str(source), issues)
        if not isinstance(entry, Mapping):
            table.error("", "must be a table")
            continue
        config, file, prefix = _read_node(table, table, source, jwt)
        if config is None:
            continue
        for key, value in (
            ("name", config.name),
            ("port", config.port),
            ("http_port", config.http_port),
        ):
            slot = ("name", value) if key == "name" else (config.host, value)
            if value and slot in taken:
                table.error(key, f"{value!r} is already used by {taken[slot]}")
            elif value:
                taken[slot] = table.at(key)
        nodes.append((config, file, prefix))
    mesh = {config.name: MeshNodeInfo(config.url, config.route_map) for config, _, _ in nodes}
    for config, file, prefix in nodes:
        problems = validate(config.route_map, node_name=config.name, mesh=mesh)
        issues.extend(_route_issues(problems, file, prefix))
    if jwt is None or not nodes:
        return None
    return MeshConfig(jwt=jwt, nodes=tuple(config for config, _, _ in nodes), source=source)


def _collect_any(
    path: Path, env: Mapping[str, str], issues: list[Issue]
) -> NodeConfig | MeshConfig | RouteMap | None:
    data = read_toml(path, issues)
    if data is None:
        return None
    if isinstance(data.get("node"), list):
        return _collect_mesh(data, path, env, issues)
    if "node" in data:
        return _collect_node(data, path, env, issues)
    if data and set(data) <= {"destinations", "routes"}:
        try:
            route_map = RouteMap.from_dict(data)
        except RouteMapError as exc:
            issues.extend(_route_issues(exc.problems, str(path), ""))
            return None
        issues.extend(_route_issues(validate(route_map), str(path), ""))
        return route_map
    reason = "not a node file ([node]), a mesh file ([[node]]) or a route map (destinations/routes)"
    issues.append(Issue(str(path), "(file)", reason))
    return None


def _finish(result: Any, issues: list[Issue]) -> Any:
    _raise_first_error(issues)
    assert result is not None, issues
    return result


def parse_node_config(
    data: Mapping[str, Any], source: Path, *, env: Mapping[str, str] | None = None
) -> NodeConfig:
    """A node config from a node file's structure; relative paths resolve beside ``source``."""
    issues: list[Issue] = []
    result = _collect_node(data, source, os.environ if env is None else env, issues)
    node: NodeConfig = _finish(result, issues)
    return node


def parse_mesh_config(
    data: Mapping[str, Any], source: Path, *, env: Mapping[str, str] | None = None
) -> MeshConfig:
    """A mesh config from a mesh file's structure (for the console's in-memory meshes)."""
    issues: list[Issue] = []
    result = _collect_mesh(data, source, os.environ if env is None else env, issues)
    mesh: MeshConfig = _finish(result, issues)
    return mesh


def load_node_config(path: str | Path, *, env: Mapping[str, str] | None = None) -> NodeConfig:
    """Read and check a node file (``[node]``); raises ConfigError naming file, key, reason."""
    source = Path(path)
    issues: list[Issue] = []
    data = read_toml(source, issues)
    if data is not None and isinstance(data.get("node"), list):
        raise ConfigError(str(source), "node", "this is a mesh file ([[node]]): load it as a mesh")
    environ = os.environ if env is None else env
    result = None if data is None else _collect_node(data, source, environ, issues)
    node: NodeConfig = _finish(result, issues)
    return node


def load_mesh_config(path: str | Path, *, env: Mapping[str, str] | None = None) -> MeshConfig:
    """Read and check a mesh file (``[jwt]`` and ``[[node]]``), cycles across it included."""
    source = Path(path)
    issues: list[Issue] = []
    data = read_toml(source, issues)
    environ = os.environ if env is None else env
    result = None if data is None else _collect_mesh(data, source, environ, issues)
    mesh: MeshConfig = _finish(result, issues)
    return mesh


def load_any(
    path: str | Path, *, env: Mapping[str, str] | None = None
) -> NodeConfig | MeshConfig | RouteMap:
    """A node file, mesh file or bare route map, told apart by content (``qewd-node check``)."""
    issues: list[Issue] = []
    result = _collect_any(Path(path), os.environ if env is None else env, issues)
    loaded: NodeConfig | MeshConfig | RouteMap = _finish(result, issues)
    return loaded


def check_file(
    path: str | Path, *, env: Mapping[str, str] | None = None, include_warnings: bool = True
) -> list[str]:
    """Every problem of a config or route-map file, one line each; empty when it is fine.

    A line reads ``FILE: KEY: error|warning CODE: reason``; config problems have code
    ``E_CONFIG``, route problems their ``R_*`` code. ``include_warnings=False`` keeps
    only errors (what ``qewd-node check`` should fail on).
    """
    issues: list[Issue] = []
    _collect_any(Path(path), os.environ if env is None else env, issues)
    return [
        f"{issue.file}: {issue.key}: {issue.severity} {issue.code}: {issue.reason}"
        for issue in issues
        if include_warnings or issue.severity == "error"
    ]
