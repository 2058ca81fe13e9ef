"""Problems found in a route map: stable codes, their severities, and the error that carries them.

This module owns the table of route-map problem codes (shown by the console inline and by
``qewd-node check``) and the ``Problem`` record. It must not decide what is a problem:
parsing (``routes``) and checking (``route_validation``) do that.

Severity rule: a problem is an *error* when the map would misroute or fail at run time
(an unknown destination, a cycle, a bad URL); it is a *warning* when the map works but
something in it has no effect (a route that can never match, a destination nothing
uses). Errors stop a map from being applied or a node from starting; warnings do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from node_runtime.errors import NodeError

Severity = Literal["error", "warning"]

# Code -> what it means. The codes are a contract: the console and scripts match on them.
PROBLEM_CODES: dict[str, str] = {
    "R_BAD_FIELD": "structure: a key is missing, unknown, or has the wrong type or form",
    "R_BAD_TOML": "the route map text is not valid TOML",
    "R_UNKNOWN_DESTINATION": "a route or a group member names a destination that does not exist",
    "R_EMPTY_GROUP": "a group destination has no members",
    "R_SELF_GROUP": "a group contains itself, directly or through nested groups",
    "R_BAD_MODE": "a group's mode is not 'all' (fan-out) or 'balance' (one member per request)",
    "R_DUPLICATE_ROUTE": "the same application/type or method/path is routed twice",
    "R_SHADOWED_ROUTE": "a route can never match: an earlier route catches everything it would",
    "R_BAD_URL": "a destination URL is not ws:// or wss:// with a host and a port, or is malformed",
    "R_SELF_LINK": "a destination URL points at this node itself",
    "R_CYCLE": "messages for an application/type can come back to a node they already passed",
    "R_BAD_PATH": "a REST path template does not start with '/', has an empty segment or "
    "a bad or repeated :variable",
    "R_BAD_METHOD": "a REST route's method is not an HTTP method the REST face serves",
    "R_UNUSED_DESTINATION": "no route and no group refers to this destination",
}

# Codes that describe a map that works but contains something without effect.
WARNING_CODES: frozenset[str] = frozenset({"R_SHADOWED_ROUTE", "R_UNUSED_DESTINATION"})


@dataclass(frozen=True)
class Problem:
    """One finding about a route map: a stable code, a sentence, and where it is.

    ``where`` is a dotted path into the map's TOML/JSON structure, such as
    ``routes[2]``, ``routes[0].types[1]`` or ``destinations.login.url``.
    """

    code: str
    message: str
    where: str
    severity: Severity = "error"

    @classmethod
    def of(cls, code: str, where: str, message: str) -> Problem:
        """A problem whose severity follows from its code (see ``WARNING_CODES``)."""
        assert code in PROBLEM_CODES, code
        severity: Severity = "warning" if code in WARNING_CODES else "error"
        return cls(code=code, message=message, where=where, severity=severity)

    @property
    def is_error(self) -> bool:
        """True when this problem must stop the map from being applied."""
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.severity} {self.code}: {self.message}"


class RouteMapError(NodeError):
    """A route map cannot be built or applied; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        first = str(problems[0]) if problems else "invalid route map"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}", "E_BAD_ROUTES")
        self.problems = list(problems)
