"""Random bad input on one connection: every frame is answered once, the node carries on."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from tests.support import Client, node_config, run, running

FIELDS = ("type", "id", "token", "params", "application", "trace", "via", "deadline")


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randint(-(2**70), 2**70)
    if kind == 3:
        return rng.random() * 1e6
    if kind == 4:
        return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(12)))
    if kind == 5:
        return rng.choice(["echo", "ewd-register", "ewd-reregister", "", "x" * 300])
    if kind == 6:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(FIELDS): _value(rng, depth + 1) for _ in range(rng.randrange(4))}


def _frame(rng: random.Random, token: str) -> str:
    choice = rng.randrange(4)
    if choice == 0:  # not JSON
        return rng.choice(["{", "}", "nul", '{"type":', "\x00\x01", "[1,", "1e999999"])
    if choice == 1:  # JSON, not an object
        return json.dumps(_value(rng))
    frame = {field: _value(rng) for field in rng.sample(FIELDS, rng.randrange(len(FIELDS)))}
    if choice == 3:  # mostly right, one field odd
        frame.update({"type": "echo", "token": token})
        frame[rng.choice(FIELDS)] = _value(rng)
    frame["id"] = "probe"  # so the reply can be told apart (odd types still answer once)
    return json.dumps(frame)


def test_random_frames_each_get_one_reply_and_the_connection_survives(tmp_path: Path) -> None:
    """400 random malformed or odd frames each get exactly one final reply; echo still works."""

    async def scenario() -> None:
        rng = random.Random(20261204)
        async with running(node_config(tmp_path)) as node, Client.connect(node.url) as client:
            token = await client.register()
            for _ in range(400):
                await client.send_raw(_frame(rng, token))
                reply = await client.recv()
                while reply.get("finished") is False:
                    reply = await client.recv()
                assert reply["finished"] is True
                message = reply["message"]
                assert isinstance(message, dict)
                if "error" in message:
                    assert message["code"].startswith("E_")
            ok = await client.call({"type": "echo", "params": "alive"})
            assert ok["message"]["echo"] == "alive"

    run(scenario(), timeout=120)
