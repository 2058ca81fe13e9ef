"""Forwarding: carrying a call over persistent links to the destination its route names.

Owns the set of ``PeerLink``s (one per destination URL), the forwarded frame (user JWT
unchanged, ``via``, shrinking deadline, trace flag), relaying intermediates, and the
group modes: ``balance`` (one member, fail over on E_PEER_DOWN) and ``all`` (fan out,
per-member results, a member never stalls the group). Routing *decisions* come from
the pure route map; this module only carries them out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

from node_runtime.calls import Call
from node_runtime.protocol.codes import ErrorCode
from node_runtime.protocol.messages import Request, is_error
from node_runtime.protocol.routes import Destination, RouteMap, choose_balance_member
from node_runtime.protocol.trace import is_hop_list
from node_runtime.tasks import TaskSet
from node_runtime.transport.links import PeerDown, PeerLink

log = logging.getLogger("qewd.mesh")

_dumps = json.dumps
# A fan-out answers with what it has a little before the caller's deadline, so that
# one silent member is reported as timed out instead of failing the whole call.
GROUP_MARGIN = 0.9
# The longest a retired link waits for its in-flight calls before it closes anyway.
RETIRE_WAIT = 300.0


class Mesh:
    """The node's outbound side: links by URL and the forwarding of calls."""

    def __init__(
        self,
        *,
        node: str,
        token_factory: Callable[[], str],
        ssl_context: ssl.SSLContext | None,
        max_size: int,
        on_link_change: Callable[[PeerLink], None],
    ) -> None:
        self.node = node
        self._token_factory = token_factory
        self._ssl = ssl_context
        self._max_size = max_size
        self._on_link_change = on_link_change
        self.links: dict[str, PeerLink] = {}
        self._retiring: set[PeerLink] = set()
        self._tasks = TaskSet("mesh")
        self._rotation = 0

    # -- links --------------------------------------------------------------------------

    def sync_links(self, route_map: RouteMap) -> None:
        """Open a link for every URL the map names; close links no longer named."""
        wanted = route_map.leaf_urls()
        for url in sorted(wanted - self.links.keys()):
            link = PeerLink(
                url,
                token_factory=self._token_factory,
                on_change=self._on_link_change,
                ssl_context=self._ssl if url.startswith("wss:") else None,
                max_size=self._max_size,
            )
            self.links[url] = link
            link.start()
        for url in sorted(self.links.keys() - wanted):
            link = self.links.pop(url)
            link.retire()
            self._retiring.add(link)
            self._tasks.spawn(self._close_when_idle(link), f"retire:{url}")

    async def _close_when_idle(self, link: PeerLink) -> None:
        # Calls already sent on a link the new map no longer names finish on it (their
        # deadlines bound the wait); then it closes.
        await link.wait_idle(RETIRE_WAIT)
        await link.close()
        self._retiring.discard(link)

    async def close(self) -> None:
        """Close every link, retiring ones included."""
        await self._tasks.cancel_all()
        for link in [*self.links.values(), *self._retiring]:
            await link.close()
        self.links.clear()
        self._retiring.clear()

    async def wait_links(self, urls: set[str], timeout: float) -> None:
        """Retry links to ``urls`` now and wait (bounded) until they are up."""
        links = [link for url, link in self.links.items() if url in urls]
        for link in links:
            link.retry_now()
        await asyncio.gather(*(link.wait_up(timeout) for link in links))

    def link_up(self, url: str | None) -> bool:
        """True when the link to ``url`` is up."""
        link = self.links.get(url or "")
        return link is not None and link.state == "up"

    # -- forwarding ---------------------------------------------------------------------

    def forward(self, call: Call, request: Request, dest: Destination, route_map: RouteMap) -> None:
        """Carry ``call`` to ``dest`` (a leaf or a group)."""
        call.destination = dest.name
        if not dest.is_group:
            self._to_leaf(call, request, dest, on_final=None)
        elif dest.mode == "all":
            self._fan_out(call, request, dest, route_map)
        else:
            self._balance(call, request, dest, route_map)

    def _frame(self, call: Call, request: Request, dest: Destination) -> dict[str, Any]:
        frame: dict[str, Any] = {
            "type": request.type,
            "token": request.token,
            "application": dest.application or call.app,
            "via": [*request.via, self.node],
            "deadline": max(round(call.remaining() * 1000.0, 1), 0.0),
        }
        if request.params is not None:
            frame["params"] = request.params
        if call.trace:
            frame["trace"] = True
        return frame

    def _to_leaf(
        self,
        call: Call,
        request: Request,
        dest: Destination,
        on_final: Callable[[dict[str, Any], float], None] | None,
        relay: bool = True,
    ) -> None:
        """Send to one leaf; the final reply finishes ``call`` or goes to ``on_final``.

        Intermediate messages are relayed to the caller when ``relay`` (a fan-out does
        not relay them: several members would interleave their progress).
        """
        link = self.links.get(dest.url or "")
        sent_at = time.perf_counter()

        def on_reply(frame: dict[str, Any]) -> None:
            message = frame.get("message")
            if frame.get("finished") is False:
                if relay:
                    call.intermediate(_dumps(message), frame.get("type"))
                return
            waited = (time.perf_counter() - sent_at) * 1000.0
            if on_final is not None:
                on_final(frame, waited)
                return
            call.next_ms = waited
            hops = frame.get("trace")
            if is_hop_list(hops):
                call.next_hops = hops
            self._finish_from(call, message)

        if link is None:
            on_reply(_down_frame(f"no link to {dest.url}"))
            return
        try:
            link_id = link.request(self._frame(call, request, dest), on_reply)
        except PeerDown as exc:
            on_reply(_down_frame(exc.text))
            return
        # On the caller's deadline, stop waiting on this link (for every member tried).
        earlier = call.cancel_hook

        def forget() -> None:
            link.forget(link_id)
            if earlier is not None:
                earlier()

        call.cancel_hook = forget

    def _finish_from(self, call: Call, message: Any) -> None:
        if is_error(message):
            call.fail(
                str(message["code"]),
                str(message["error"]),
                **{k: v for k, v in message.items() if k not in ("code", "error")},
            )
        else:
            call.succeed(_dumps(message, separators=(",", ":")))

    def _balance(
        self, call: Call, request: Request, group: Destination, route_map: RouteMap
    ) -> None:
        self._rotation += 1
        members = choose_balance_member(
            group, lambda name: self.link_up(route_map.destinations[name].url), self._rotation
        )
        order = [m for name in members for m in route_map.leaves(name)]

        def attempt(index: int) -> None:
            if index >= len(order):
                call.fail(ErrorCode.PEER_DOWN, f"every member of {group.name!r} is down")
                return
            leaf = order[index]

            def on_final(frame: dict[str, Any], waited: float) -> None:
                message = frame.get("message")
                if (
                    is_error(message)
                    and message.get("code") == ErrorCode.PEER_DOWN
                    and call.remaining() > 0
                ):
                    attempt(index + 1)
                    return
                call.destination = leaf.name
                call.next_ms = waited
                hops = frame.get("trace")
                if is_hop_list(hops):
                    call.next_hops = hops
                self._finish_from(call, message)

            self._to_leaf(call, request, leaf, on_final)

        attempt(0)

    def _fan_out(
        self, call: Call, request: Request, group: Destination, route_map: RouteMap
    ) -> None:
        leaves = route_map.leaves(group.name)
        results: dict[str, Any] = {}
        traces: dict[str, Any] = {}
        started = time.perf_counter()

        timer: asyncio.TimerHandle | None = None

        def complete() -> None:
            if timer is not None:
                timer.cancel()
            if call.done:
                return
            for leaf in leaves:
                results.setdefault(
                    leaf.name,
                    {"error": f"no reply from {leaf.name} in time", "code": ErrorCode.TIMEOUT},
                )
            call.next_ms = (time.perf_counter() - started) * 1000.0
            if call.trace:
                call.next_hops = [
                    {
                        "node": f"{group.name}[all]",
                        "members": traces,
                        "total_ms": round(call.next_ms, 3),
                        "queue_ms": 0.0,
                        "handler_ms": 0.0,
                        "next_ms": 0.0,
                    }
                ]
            token = None
            for value in results.values():
                if isinstance(value, dict) and "token" in value:
                    member_token = value.pop("token")
                    token = token or member_token
            failures = [v for v in results.values() if is_error(v)]
            if failures and len(failures) == len(results):
                codes = {str(v["code"]) for v in failures}
                code = codes.pop() if len(codes) == 1 else ErrorCode.PEER_DOWN
                call.fail(code, f"every member of {group.name!r} failed", results=results)
                return
            body: dict[str, Any] = {"results": results}
            if token is not None:
                body["token"] = token
            call.succeed(_dumps(body, separators=(",", ":")))

        def member_done(name: str) -> Callable[[dict[str, Any], float], None]:
            def on_final(frame: dict[str, Any], waited: float) -> None:
                results[name] = frame.get("message")
                hops = frame.get("trace")
                if is_hop_list(hops):
                    traces[name] = hops
                if len(results) == len(leaves):
                    complete()

            return on_final

        if not leaves:
            call.fail(ErrorCode.NO_ROUTE, f"group {group.name!r} has no members")
            return
        timer = asyncio.get_running_loop().call_later(
            max(call.remaining() * GROUP_MARGIN, 0.0), complete
        )
        for leaf in leaves:
            self._to_leaf(call, request, leaf, member_done(leaf.name), relay=False)


def _down_frame(why: str) -> dict[str, Any]:
    return {"finished": True, "message": {"error": why, "code": ErrorCode.PEER_DOWN}}
