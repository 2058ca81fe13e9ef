"""What a node loads from its config before it runs: applications, token settings, and the
start-up message of its worker processes.

Owns importing application modules in the master (to learn their handler types and REST
keys, and to turn a bad module name into a config error at start-up), reading JWT key
files, and the search path that makes application modules importable in the master and
in every worker. It starts nothing.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from node_runtime.config import NodeConfig
from node_runtime.errors import ConfigError
from node_runtime.protocol.tokens import TokenSettings


def token_settings(config: NodeConfig) -> TokenSettings:
    """Token settings from the ``[jwt]`` table (key files read here, at the edge)."""
    jwt = config.jwt
    private = jwt.private_key_file.read_bytes() if jwt.private_key_file else None
    public = jwt.public_key_file.read_bytes() if jwt.public_key_file else None
    return TokenSettings(
        algorithm=jwt.algorithm,
        secret=jwt.secret,
        private_key_pem=private,
        public_key_pem=public,
        issuer=jwt.issuer,
        session_timeout=jwt.timeout,
    )


class LoadedApp:
    """What the master knows of an application module: its handler types and REST routes."""

    def __init__(self, name: str, module_name: str) -> None:
        self.name = name
        self.module_name = module_name
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise ConfigError("apps", name, f"cannot import {module_name!r}: {exc}") from exc
        handlers = getattr(module, "handlers", {})
        rest = getattr(module, "rest", {})
        if not isinstance(handlers, dict) or not isinstance(rest, dict):
            raise ConfigError("apps", name, f"{module_name}.handlers and .rest must be dicts")
        self.types = frozenset(str(k) for k in handlers)
        self.rest = tuple(str(k) for k in rest)


def app_search_path(config: NodeConfig) -> list[str]:
    """Where application modules are looked up: the working folder and the config's."""
    here = str(config.source.parent.resolve()) if config.source else os.getcwd()
    return [os.getcwd(), here]


def extend_search_path(config: NodeConfig) -> None:
    """Make the config's application modules importable in this process."""
    # Appended, never prepended: a folder of the config file must not shadow installed
    # packages (a tests/node_runtime/ beside a config would otherwise replace
    # node_runtime itself in this process and in spawned children).
    for entry in app_search_path(config):
        if entry not in sys.path:
            sys.path.append(entry)


def load_apps(config: NodeConfig) -> dict[str, LoadedApp]:
    """Import every application of the config (errors name the app and the reason)."""
    extend_search_path(config)
    return {name: LoadedApp(name, module) for name, module in config.apps.items()}


def worker_init(config: NodeConfig) -> dict[str, Any]:
    """The ``init`` message a worker process gets first: everything it needs to run."""
    store = config.store
    store_args: dict[str, Any] = {"backend": store.backend}
    if store.backend == "sqlite":
        store_args["path"] = str(Path(config.data_dir) / "store.sqlite")
    else:
        store_args["url"] = store.url
    return {
        "node": config.name,
        "apps": dict(config.apps),
        "store": store_args,
        "tokens": dataclasses.asdict(token_settings(config)),
        "sys_path": app_search_path(config),
        "max_message_bytes": config.max_message_bytes,
    }
