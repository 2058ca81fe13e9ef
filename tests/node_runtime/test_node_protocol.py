"""The client protocol of one node over real WebSockets with real worker processes."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from node_runtime.protocol.tokens import TokenService, TokenSettings
from tests.support import SECRET, Client, node_config, own_replies_only, run, running


def test_register_and_echo_refreshes_token(tmp_path: Path) -> None:
    """A registered client gets its reply by id with a refreshed token and a duration."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node, Client.connect(node.url) as client:
            first = await client.register()
            reply = await client.call({"type": "echo", "params": {"a": 1}, "id": "a7"})
            assert reply["id"] == "a7"
            assert reply["finished"] is True
            assert reply["message"]["echo"] == {"a": 1}
            service = TokenService(TokenSettings(secret=SECRET))
            refreshed = service.verify(reply["message"]["token"], time.time())
            assert refreshed["exp"] >= service.verify(first, time.time())["exp"]
            assert reply["ms"] >= 0

    run(scenario())


def test_bad_input_gets_codes_and_connection_survives(tmp_path: Path) -> None:
    """Non-JSON, non-objects, odd fields and deep nesting get their codes on one connection."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node, Client.connect(node.url) as client:
            await client.register()
            await client.send_raw("not json{")
            assert (await client.recv())["message"]["code"] == "E_BAD_JSON"
            await client.send_raw("[1, 2]")
            assert (await client.recv())["message"]["code"] == "E_BAD_MESSAGE"
            for frame in (
                {"type": 5},
                {"type": "echo", "id": {"x": 1}},
                {"type": "echo", "trace": "yes"},
                {"type": "echo", "token": 7},
            ):
                await client.send_raw(json.dumps(frame))
                assert (await client.recv())["message"]["code"] == "E_BAD_MESSAGE"
            deep = "[" * 200 + "]" * 200
            await client.send_raw('{"type":"echo","id":9,"params":' + deep + "}")
            reply = await client.recv()
            assert reply["message"]["code"] == "E_BAD_MESSAGE"
            assert reply["id"] == 9
            await client.send_raw('{"type":"echo","params":' + "[" * 200_000 + "]" * 200_000 + "}")
            assert (await client.recv())["message"]["code"] == "E_BAD_MESSAGE"
            ok = await client.call({"type": "echo", "params": 1})
            assert ok["message"]["echo"] == 1

    run(scenario())


def test_token_errors(tmp_path: Path) -> None:
    """Missing, tampered and expired tokens are refused with distinct codes."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node, Client.connect(node.url) as client:
            token = await client.register()
            reply = await client.call({"type": "echo"}, token=False)
            assert reply["message"]["code"] == "E_NO_TOKEN"
            head, body, sig = token.split(".")
            tampered = f"{head}.{body[:-2]}AA.{sig}"
            reply = await client.call({"type": "echo", "token": tampered})
            assert reply["message"]["code"] == "E_BAD_TOKEN"
            service = TokenService(TokenSettings(secret=SECRET, session_timeout=10))
            old = service.issue_session("trials", time.time() - 3600)
            reply = await client.call({"type": "echo", "token": old})
            assert reply["message"]["code"] == "E_TOKEN_EXPIRED"

    run(scenario())


def test_reregister_rebinds_a_reconnected_client(tmp_path: Path) -> None:
    """A token from an earlier connection re-registers on a new one and works there."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            async with Client.connect(node.url) as first:
                token = await first.register()
            async with Client.connect(node.url) as second:
                reply = await second.call({"type": "ewd-reregister", "token": token}, token=False)
                assert reply["message"]["ok"] is True
                second.token = reply["message"]["token"]
                assert (await second.call({"type": "echo", "params": 2}))["message"]["echo"] == 2

    run(scenario())


def test_application_and_handler_errors(tmp_path: Path) -> None:
    """Unknown apps and types, handler exceptions and HandlerError codes reach the client."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node, Client.connect(node.url) as client:
            reply = await client.call({"type": "ewd-register", "application": "nope"}, token=False)
            assert reply["message"]["code"] == "E_NO_APP"
            await client.register()
            assert (await client.call({"type": "nope"}))["message"]["code"] == "E_NO_HANDLER"
            before = (await client.call({"type": "echo"}))["message"]["pid"]
            crash = await client.call({"type": "crash"})
            assert crash["message"]["code"] == "E_HANDLER"
            assert "boom" in crash["message"]["error"]
            assert (await client.call({"type": "echo"}))["message"]["pid"] == before
            refused = await client.call({"type": "refuse"})
            assert refused["message"] == {"error": "not today", "code": "E_CUSTOM"}
            forbidden = await client.call({"type": "forbidden"})
            assert forbidden["message"]["code"] == "E_FORBIDDEN"
            odd = await client.call({"type": "echo", "application": "clinic"})
            assert odd["message"]["code"] == "E_FORBIDDEN"
            bad = await client.call({"type": "notJson"})
            assert bad["message"]["code"] == "E_HANDLER"

    run(scenario())


def test_intermediate_messages_then_one_final(tmp_path: Path) -> None:
    """ctx.send gives finished:false frames with the request's id before the final one."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node, Client.connect(node.url) as client:
            await client.register()
            reply = await client.call({"type": "progress", "params": {"steps": 3}, "id": "p"})
            assert [m["message"] for m in reply["between"]][:3] == [
                {"step": 0},
                {"step": 1},
                {"step": 2},
            ]
            assert reply["between"][3]["type"] == "progressNote"
            assert all(m["id"] == "p" for m in reply["between"])
            assert reply["message"]["done"] == 3

    run(scenario())


def test_session_claims_flow_into_token_and_secrets_are_sealed(tmp_path: Path) -> None:
    """A handler's session changes reach the next request; secret claims are not readable."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node, Client.connect(node.url) as client:
            await client.register()
            login = await client.call({"type": "login"})
            client.token = login["message"]["token"]
            assert "swordfish" not in _payload(client.token)
            who = await client.call({"type": "whoami"})
            assert who["message"]["authenticated"] is True
            assert who["message"]["secret_word"] == "swordfish"

    run(scenario())


def _payload(token: str) -> str:
    import base64

    body = token.split(".")[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_worker_death_and_timeout_recover(tmp_path: Path) -> None:
    """os._exit, SIGKILL and a hung handler each answer once, and the next request works."""

    async def scenario() -> None:
        config = node_config(tmp_path, handler_timeout=0.5)
        async with running(config) as node, Client.connect(node.url) as client:
            await client.register()
            first = (await client.call({"type": "echo"}))["message"]["pid"]
            assert (await client.call({"type": "die"}))["message"]["code"] == "E_WORKER_DIED"
            second = (await client.call({"type": "echo"}))["message"]["pid"]
            assert second != first
            assert (await client.call({"type": "sigkill"}))["message"]["code"] == "E_WORKER_DIED"
            hung = await client.call({"type": "slow", "params": {"seconds": 30}})
            assert hung["message"]["code"] == "E_TIMEOUT"
            third = (await client.call({"type": "echo"}))["message"]["pid"]
            assert third not in (first, second)

    run(scenario())


def test_queue_bound_gives_busy(tmp_path: Path) -> None:
    """Past max_queue a request is refused with E_BUSY while earlier ones complete."""

    async def scenario() -> None:
        config = node_config(tmp_path, max_queue=1, prefork=True)
        async with running(config) as node, Client.connect(node.url) as client:
            await client.register()
            for i in range(3):
                await client.send_raw(
                    json.dumps(
                        {"type": "slow", "id": i, "token": client.token, "params": {"seconds": 0.3}}
                    )
                )
            replies = {r["id"]: r for r in [await client.recv() for _ in range(3)]}
            assert replies[2]["message"]["code"] == "E_BUSY"
            assert replies[0]["message"]["slept"] is True
            assert replies[1]["message"]["slept"] is True

    run(scenario())


def test_request_deadline_answers_queued_work(tmp_path: Path) -> None:
    """A request waiting past request_timeout gets E_TIMEOUT exactly once."""

    async def scenario() -> None:
        config = node_config(tmp_path, request_timeout=1.0, handler_timeout=5.0)
        async with running(config) as node, Client.connect(node.url) as client:
            await client.register()
            reply = await client.call({"type": "slow", "params": {"seconds": 1.6}, "id": "s"})
            assert reply["message"]["code"] == "E_TIMEOUT"
            # The echo queues behind the slow handler; its reply must be the next frame,
            # so the slow handler's late result produced no second reply.
            late = await client.call({"type": "echo", "params": "after"}, timeout=5)
            assert late["message"]["echo"] == "after"
            assert late["between"] == []

    run(scenario())


def test_oversize_reply_and_frame(tmp_path: Path) -> None:
    """A reply over the limit is E_TOO_LARGE; an inbound frame over it closes with 1009."""

    async def scenario() -> None:
        config = node_config(tmp_path, max_message_bytes=100_000)
        async with running(config) as node, Client.connect(node.url) as client:
            await client.register()
            big = await client.call({"type": "huge", "params": {"bytes": 200_000}})
            assert big["message"]["code"] == "E_TOO_LARGE"
            await client.send_raw(json.dumps({"type": "echo", "params": "x" * 200_000}))
            with pytest.raises(ConnectionClosed) as info:
                await client.recv()
            assert info.value.rcvd is not None
            assert info.value.rcvd.code == 1009

    run(scenario())


def test_concurrent_same_type_requests_are_never_misdelivered(tmp_path: Path) -> None:
    """Four clients x 50 concurrent echo requests each get exactly their own replies."""

    async def scenario() -> None:
        async with running(node_config(tmp_path, pool_size=2)) as node:
            await asyncio.gather(*(own_replies_only(node.url, tag) for tag in range(4)))

    run(scenario())


def test_store_is_atomic_across_two_workers(tmp_path: Path) -> None:
    """200 increments through a pool of 2 workers give 200 distinct values and a total of 200."""

    async def scenario() -> None:
        config = node_config(tmp_path, pool_size=2, prefork=True)
        async with running(config) as node, Client.connect(node.url) as client:
            await client.register()
            for i in range(200):
                await client.send_raw(json.dumps({"type": "count", "id": i, "token": client.token}))
            replies = [await client.recv() for _ in range(200)]
            values = sorted(r["message"]["value"] for r in replies)
            assert values == list(range(1, 201))
            assert len({r["message"]["pid"] for r in replies}) == 2

    run(scenario())


def test_on_worker_start_hook_runs_in_each_worker(tmp_path: Path) -> None:
    """An application's on_worker_start(ctx) runs in the worker before its first message."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node, Client.connect(node.url) as client:
            await client.register()
            assert (await client.call({"type": "hooked"}))["message"]["hook_ran_here"] is True

    run(scenario())
