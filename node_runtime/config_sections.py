"""The sections of a node config: reading TOML tables into checked values.

This module owns the ``[jwt]``, ``[store]``, ``[tls]`` and ``[apps]`` formats and the
table reader that records every problem (file, dotted key, reason) instead of stopping
at the first, so ``check_file`` can list them all. It reads TOML files and checks that
named key and certificate files exist; it must not open sockets or start anything.
``node_runtime.config`` builds nodes and meshes from these pieces.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_LINE = re.compile(r"at line (\d+)")
_HMAC = frozenset({"HS256", "HS384", "HS512"})
_ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"})
_STORE_BACKENDS = ("sqlite", "redis")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class NumberRule(NamedTuple):
    """What a numeric key accepts: an integer or any number, and its bounds."""

    integer: bool
    low: float
    high: float | None = None
    exclusive: bool = False  # True: the value must be above ``low``, not equal to it


@dataclass(frozen=True)
class JwtConfig:
    """How tokens are signed and checked: one ``[jwt]`` for the whole mesh.

    HS256/384/512 take ``secret`` or ``secret_env`` (an environment variable, read at
    load: unset is an error). RS*/ES* need ``private_key_file``: every node mints
    tokens (its link token and each refreshed session token), so a public key alone
    cannot run a node; ``public_key_file`` is optional (derivable from the private key).
    """

    secret: str | None = field(default=None, repr=False)  # never printed (QEWD logged it)
    algorithm: str = "HS256"
    private_key_file: Path | None = None
    public_key_file: Path | None = None
    timeout: int = 1200
    issuer: str = "qewd-mesh"
    secret_env: str | None = None  # the variable ``secret`` was read from, if any


@dataclass(frozen=True)
class StoreConfig:
    """The document store backend: ``sqlite`` in data_dir (default) or ``redis`` at ``url``."""

    backend: str = "sqlite"
    url: str | None = None


@dataclass(frozen=True)
class TlsConfig:
    """Certificate and key for wss/https; ``ca`` verifies peers when set."""

    cert: Path
    key: Path
    ca: Path | None = None


@dataclass(frozen=True)
class Issue:
    """One problem found while reading; check_file lists them all, loading raises the first."""

    file: str
    key: str
    reason: str
    code: str = "E_CONFIG"
    severity: str = "error"


class Table:
    """One TOML table being read, knowing its dotted key, its file and where issues go."""

    def __init__(self, data: object, key: str, file: str, issues: list[Issue]) -> None:
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        self.key, self.file, self.issues = key, file, issues

    def at(self, name: str) -> str:
        """The dotted key of ``name`` in this table, as problems name it."""
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, reason: str) -> None:
        """Record a problem with key ``name`` of this table (the table itself for "")."""
        self.issues.append(Issue(self.file, self.at(name) if name else self.key, reason))

    def only(self, allowed: tuple[str, ...], hints: Mapping[str, str] | None = None) -> None:
        """Record every key not in ``allowed``, with a hint where one helps."""
        for key in self.data:
            if key not in allowed:
                hint = (hints or {}).get(key, f"expected one of {', '.join(allowed)}")
                self.error(key, f"unknown key; {hint}")

    def sub(self, name: str) -> Table | None:
        """The sub-table ``name``, or None when absent or not a table (recorded)."""
        if name not in self.data:
            return None
        if not isinstance(self.data[name], Mapping):
            self.error(name, f"must be a table, got {self.data[name]!r}")
            return None
        return Table(self.data[name], self.at(name), self.file, self.issues)

    def text(self, name: str, *, pattern: re.Pattern[str] | None = None) -> str | None:
        """A non-empty string value, or None when absent or bad (recorded)."""
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(name, f"must be a non-empty string, got {value!r}")
            return None
        if pattern is not None and not pattern.match(value):
            self.error(name, f"{value!r} may hold only letters, digits, '_' and '-'")
            return None
        return value

    def number(self, name: str, rule: NumberRule) -> float | None:
        """A number within ``rule``'s bounds, or None when absent or bad (recorded)."""
        integer, low, high, exclusive = rule
        value = self.data.get(name)
        kind = "an integer" if integer else "a number"
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (integer and not isinstance(value, int))
        ):
            self.error(name, f"must be {kind}, got {value!r}")
            return None
        if (value <= low if exclusive else value < low) or (high is not None and value > high):
            bound = f"> {low:g}" if exclusive else f">= {low:g}"
            span = f"between {low:g} and {high:g}" if high is not None else bound
            self.error(name, f"must be {span}, got {value!r}")
            return None
        return value

    def path(self, name: str, base: Path, *, must_exist: bool) -> Path | None:
        """A path resolved against ``base`` (the naming file's directory), or None."""
        text = self.text(name)
        if text is None:
            return None
        resolved = (base / Path(text).expanduser()).resolve()
        if must_exist and not resolved.is_file():
            self.error(name, f"file not found: {resolved}")
            return None
        return resolved


def read_jwt(table: Table | None, base: Path, env: Mapping[str, str]) -> JwtConfig | None:
    """The ``[jwt]`` table, or None when absent (the caller decides whether that is wrong)."""
    if table is None:
        return None
    table.only(
        (
            "secret",
            "secret_env",
            "algorithm",
            "private_key_file",
            "public_key_file",
            "timeout",
            "issuer",
        )
    )
    algorithm = table.text("algorithm") or "HS256"
    kwargs: dict[str, Any] = {"algorithm": algorithm}
    if algorithm in _HMAC:
        for name in ("private_key_file", "public_key_file"):
            if name in table.data:
                table.error(name, f"key files are for RS*/ES* algorithms, not {algorithm}")
        secret, secret_env = table.text("secret"), table.text("secret_env")
        if secret is not None and secret_env is not None:
            table.error("secret_env", "give secret or secret_env, not both")
        elif secret_env is not None:
            kwargs["secret"], kwargs["secret_env"] = env.get(secret_env), secret_env
            if not kwargs["secret"]:
                table.error("secret_env", f"environment variable {secret_env} is not set")
        elif secret is not None:
            kwargs["secret"] = secret
        elif "secret" not in table.data:
            table.error("secret", f"missing: {algorithm} needs secret or secret_env")
    elif algorithm in _ASYMMETRIC:
        for name in ("secret", "secret_env"):
            if name in table.data:
                table.error(name, f"{algorithm} signs with key files, not a shared secret")
        kwargs["private_key_file"] = table.path("private_key_file", base, must_exist=True)
        kwargs["public_key_file"] = table.path("public_key_file", base, must_exist=True)
        if "private_key_file" not in table.data:
            table.error("private_key_file", "missing: every node signs tokens with it")
    else:
        table.error(
            "algorithm", f"{algorithm!r} is not one of {', '.join(sorted(_HMAC | _ASYMMETRIC))}"
        )
    timeout = table.data.get("timeout", 1200)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        table.error("timeout", f"must be a whole number of seconds > 0, got {timeout!r}")
    kwargs["timeout"] = timeout
    kwargs["issuer"] = table.text("issuer") or "qewd-mesh"
    return JwtConfig(**kwargs)


def read_store(table: Table | None) -> StoreConfig:
    """The ``[store]`` table; sqlite in data_dir when absent."""
    if table is None:
        return StoreConfig()
    table.only(("backend", "url"))
    backend = table.text("backend") or "sqlite"
    url = table.text("url")
    if backend not in _STORE_BACKENDS:
        table.error("backend", f"{backend!r} is not one of {', '.join(_STORE_BACKENDS)}")
    elif backend == "sqlite" and url is not None:
        table.error("url", "sqlite keeps its file in data_dir; url is for backend = 'redis'")
    elif url is not None and not url.startswith(_REDIS_SCHEMES):
        table.error("url", f"{url!r} must start with {', '.join(_REDIS_SCHEMES)}")
    return StoreConfig(backend=backend, url=url)


def read_tls(table: Table | None, base: Path) -> TlsConfig | None:
    """The ``[tls]`` table, or None (plain ws/http) when absent."""
    if table is None:
        return None
    table.only(("cert", "key", "ca"))
    cert = table.path("cert", base, must_exist=True)
    key = table.path("key", base, must_exist=True)
    ca = table.path("ca", base, must_exist=True)
    for name in ("cert", "key"):
        if name not in table.data:
            table.error(name, "missing: [tls] needs cert and key")
    return TlsConfig(cert=cert, key=key, ca=ca) if cert and key else None


def read_apps(table: Table | None) -> dict[str, str]:
    """The ``[apps]`` table: application name -> importable module name."""
    apps: dict[str, str] = {}
    if table is None:
        return apps
    for name, module in table.data.items():
        if not NAME.match(name):
            table.error(name, "an application name is letters, digits, '_' or '-'")
        elif not isinstance(module, str) or not all(
            part.isidentifier() for part in module.split(".")
        ):
            table.error(name, f"must be an importable module name, got {module!r}")
        else:
            apps[name] = module
    return apps


def read_toml(path: Path, issues: list[Issue]) -> dict[str, Any] | None:
    """A TOML file's tables, or None after recording why it cannot be read (with its line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(Issue(str(path), "(file)", f"cannot read: {exc}"))
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _LINE.search(str(exc))
        issues.append(Issue(str(path), f"line {line.group(1)}" if line else "(file)", str(exc)))
        return None
