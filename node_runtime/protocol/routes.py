"""The route map's public face (DESIGN section 5), and the balance decision per request.

Callers import everything about routes from here: the map and its entries
(``route_map``, ``route_entries``), problems and codes (``route_problems``), checks
(``route_validation``) and change summaries (``route_diff``). This module itself owns
one routing decision, the order in which a balance group's members are tried. Like
all of ``protocol`` it does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet

from node_runtime.protocol.route_diff import diff
from node_runtime.protocol.route_entries import (
    GROUP_MODES,
    WILDCARD,
    Destination,
    RestRoute,
    WsRoute,
)
from node_runtime.protocol.route_map import RouteMap
from node_runtime.protocol.route_problems import (
    PROBLEM_CODES,
    WARNING_CODES,
    Problem,
    RouteMapError,
)
from node_runtime.protocol.route_validation import MeshNodeInfo, validate

__all__ = [
    "GROUP_MODES",
    "PROBLEM_CODES",
    "WARNING_CODES",
    "WILDCARD",
    "Destination",
    "MeshNodeInfo",
    "Problem",
    "RestRoute",
    "RouteMap",
    "RouteMapError",
    "WsRoute",
    "choose_balance_member",
    "diff",
    "validate",
]


def choose_balance_member(
    group: Destination, available: Callable[[str], bool] | AbstractSet[str], counter: int
) -> list[str]:
    """The members of a balance group in the order to try them for one request.

    Round-robin: the rotation starts at ``counter`` (the caller increments it per
    request). Members that are up come first, in rotation order, then the down ones,
    so the caller fails over past a dead link and still has something to try.
    ``available`` is a predicate or the set of member names whose link is up.
    """
    members = list(group.members)
    if not members:
        return []
    start = counter % len(members)
    rotated = members[start:] + members[:start]
    is_up = available.__contains__ if isinstance(available, AbstractSet) else available
    up = [member for member in rotated if is_up(member)]
    down = [member for member in rotated if not is_up(member)]
    return up + down
