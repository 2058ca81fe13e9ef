"""The REST face of real nodes: local handlers, forwarding, tokens, errors, health, metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from node_runtime.master import Node
from node_runtime.meshrun import free_port
from tests.support import Client, front_and_back, node_config, run, running, scaled


async def http(
    method: str,
    url: str,
    *,
    token: str | None = None,
    authorization: str | None = None,
    **kwargs: Any,
) -> tuple[int, Any]:
    """One HTTP request; the JSON body (or the text when it is not JSON) and the status."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if authorization is not None:
        headers["Authorization"] = authorization
    timeout = aiohttp.ClientTimeout(total=scaled(20))
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(method, url, headers=headers, **kwargs) as response,
    ):
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``condition`` holds (checked on each loop turn), bounded."""
    deadline = time.monotonic() + scaled(timeout)
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


def base(node: Node) -> str:
    """The node's REST base URL."""
    assert node.rest_server is not None
    return f"http://127.0.0.1:{node.rest_server.port}"


def test_local_handler_gets_path_variables_query_body_and_headers(tmp_path: Path) -> None:
    """A local rest handler sees args, query, body and headers and answers JSON with a token."""

    async def scenario() -> None:
        async with running(node_config(tmp_path, http_port=free_port())) as node:
            token = node.tokens.issue_session("trials", time.time())
            status, body = await http("GET", f"{base(node)}/api/trial/42?x=1&y=a&y=b", token=token)
            assert status == 200
            assert body["id"] == "42"
            assert body["query"] == {"x": "1", "y": ["a", "b"]}
            assert (body["method"], body["path"], body["node"]) == ("GET", "/api/trial/42", "n1")
            assert node.tokens.verify(body["token"], time.time())["application"] == "trials"
            status, body = await http(
                "POST",
                f"{base(node)}/api/echo",
                token=token,
                json={"a": [1, 2]},
                headers={"X-Trial": "yes"},
            )
            assert status == 200
            assert (body["body"], body["header"]) == ({"a": [1, 2]}, "yes")

    run(scenario())


def test_token_rules(tmp_path: Path) -> None:
    """Missing, unusable and tampered tokens get 401 with codes; public handlers need none."""

    async def scenario() -> None:
        async with running(node_config(tmp_path, http_port=free_port())) as node:
            url = f"{base(node)}/api/trial/1"
            status, body = await http("GET", url)
            assert (status, body["code"]) == (401, "E_NO_TOKEN")
            status, body = await http("GET", url, authorization="Basic abc")
            assert (status, body["code"]) == (401, "E_BAD_TOKEN")
            head, claims, sig = node.tokens.issue_session("trials", time.time()).split(".")
            status, body = await http("GET", url, token=f"{head}.{claims[:-2]}AA.{sig}")
            assert (status, body["code"]) == (401, "E_BAD_TOKEN")
            assert set(body) == {"error", "code"}
            status, body = await http("GET", f"{base(node)}/api/public/ping")
            assert (status, body) == (200, {"pong": True, "node": "n1"})

    run(scenario())


def test_request_errors_map_to_http_status(tmp_path: Path) -> None:
    """Unknown paths are 404 E_NO_ROUTE, bad JSON 400, and a HandlerError 400 with its code."""

    async def scenario() -> None:
        async with running(node_config(tmp_path, http_port=free_port())) as node:
            token = node.tokens.issue_session("trials", time.time())
            status, body = await http("GET", f"{base(node)}/api/nothing/here", token=token)
            assert (status, body["code"]) == (404, "E_NO_ROUTE")
            status, body = await http("DELETE", f"{base(node)}/api/trial/1", token=token)
            assert (status, body["code"]) == (404, "E_NO_ROUTE")
            status, body = await http(
                "POST", f"{base(node)}/api/echo", token=token, data=b"{not json"
            )
            assert (status, body["code"]) == (400, "E_BAD_JSON")
            status, body = await http("GET", f"{base(node)}/api/refuse", token=token)
            assert (status, body) == (400, {"error": "not today", "code": "E_CUSTOM"})

    run(scenario())


def test_forwarded_rest_runs_on_the_destination(tmp_path: Path) -> None:
    """A REST route sends the request over the link; the destination runs it as REST."""

    async def scenario() -> None:
        routes = [{"path": "/api/trial/:id", "method": "GET", "destination": "b"}]
        async with front_and_back(tmp_path, routes, http_port=free_port()) as (a, b):
            token = a.tokens.issue_session("trials", time.time())
            status, body = await http("GET", f"{base(a)}/api/trial/7?q=z", token=token)
            assert status == 200
            assert (body["id"], body["node"], body["query"]) == ("7", "b", {"q": "z"})
            assert "token" in body
            status, body = await http("GET", f"{base(a)}/api/trial/7")
            assert (status, body["code"]) == (401, "E_NO_TOKEN")
            # Not on a route: runs on a itself.
            status, body = await http("POST", f"{base(a)}/api/echo", json=1, token=token)
            assert (status, body["node"]) == (200, "a")
            assert a.stats.messages[("trials", "GET /api/trial/:id")] == 1
            assert b.stats.messages[("trials", "GET /api/trial/:id")] == 1

    run(scenario())


def test_only_node_links_may_send_ewd_rest(tmp_path: Path) -> None:
    """A plain client sending an ewd-rest frame is refused with E_FORBIDDEN."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node, Client.connect(node.url) as client:
            await client.register()
            reply = await client.call(
                {"type": "ewd-rest", "params": {"method": "GET", "path": "/api/trial/1"}}
            )
            assert reply["message"]["code"] == "E_FORBIDDEN"

    run(scenario())


def test_peer_down_is_503(tmp_path: Path) -> None:
    """A REST route whose link is down answers 503 E_PEER_DOWN at once."""

    async def scenario() -> None:
        config = node_config(
            tmp_path,
            "a",
            http_port=free_port(),
            destinations={"b": {"url": f"ws://127.0.0.1:{free_port()}/ws"}},
            routes=[{"path": "/api/trial/:id", "method": "GET", "destination": "b"}],
        )
        async with running(config) as a:
            token = a.tokens.issue_session("trials", time.time())
            status, body = await http("GET", f"{base(a)}/api/trial/7", token=token)
            assert (status, body["code"]) == (503, "E_PEER_DOWN")

    run(scenario())


def test_healthz_is_ok_then_503_while_draining(tmp_path: Path) -> None:
    """/healthz answers 200 while serving and 503 while a stop drains in-flight requests."""

    async def scenario() -> None:
        node = Node(node_config(tmp_path, http_port=free_port()))
        await node.start()
        try:
            status, body = await http("GET", f"{base(node)}/healthz")
            assert status == 200
            assert (body["status"], body["node"]) == ("ok", "n1")
            token = node.tokens.issue_session("trials", time.time())
            slow = asyncio.create_task(http("GET", f"{base(node)}/api/slow?seconds=1", token=token))
            await until(lambda: node.in_flight == 1)
            stopping = asyncio.create_task(node.stop(drain_timeout=scaled(10)))
            await until(lambda: node.draining)
            status, body = await http("GET", f"{base(node)}/healthz")
            assert (status, body["status"]) == (503, "draining")
            status, body = await http("GET", f"{base(node)}/api/trial/1", token=token)
            assert (status, body["code"]) == (429, "E_BUSY")
            status, body = await slow  # the in-flight request finished during the drain
            assert (status, body["slept"]) == (200, True)
            await stopping
        finally:
            if not node.draining:
                await node.stop(drain_timeout=scaled(5))

    run(scenario())


def test_metrics_after_traffic(tmp_path: Path) -> None:
    """/metrics shows pool gauges, messages and errors by app/type, latency and link state."""

    async def scenario() -> None:
        routes = [{"path": "/api/trial/:id", "method": "GET", "destination": "b"}]
        async with front_and_back(tmp_path, routes, http_port=free_port()) as (a, b):
            token = a.tokens.issue_session("trials", time.time())
            for _ in range(2):
                assert (await http("GET", f"{base(a)}/api/trial/1", token=token))[0] == 200
            assert (await http("GET", f"{base(a)}/api/refuse", token=token))[0] == 400
            assert (await http("GET", f"{base(a)}/nowhere"))[0] == 404
            status, text = await http("GET", f"{base(a)}/metrics")
            assert status == 200
            lines = set(text.splitlines())
            assert 'qewd_up{node="a"} 1' in lines
            assert 'qewd_pool_size{node="a"} 1' in lines
            assert 'qewd_queue_length{node="a"} 0' in lines
            assert 'qewd_workers_busy{node="a"} 0' in lines
            assert 'qewd_messages_total{app="trials",type="GET /api/trial/:id"} 2' in lines
            assert 'qewd_messages_total{app="trials",type="GET /api/refuse"} 1' in lines
            assert (
                'qewd_errors_total{app="trials",type="GET /api/refuse",code="E_CUSTOM"} 1' in lines
            )
            assert 'qewd_errors_total{app="",type="ewd-rest",code="E_NO_ROUTE"} 1' in lines
            assert any(
                line.startswith(
                    'qewd_request_duration_ms{app="trials",type="GET /api/trial/:id",'
                    'quantile="0.99"} '
                )
                for line in lines
            )
            assert f'qewd_link_up{{url="{b.url}"}} 1' in lines
            assert f'qewd_link_state{{url="{b.url}",state="up"}} 1' in lines
            assert f'qewd_link_sent_total{{url="{b.url}"}} 2' in lines
            assert "# TYPE qewd_link_rtt_ms gauge" in lines

    run(scenario())
