"""Capture from /monitor, replay to the same node and to a changed one, HAR export."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from node_runtime.capture.format import (
    REDACTED,
    Capture,
    CaptureWriter,
    header,
    read_capture,
)
from node_runtime.capture.har import to_har
from node_runtime.capture.recorder import record
from node_runtime.capture.replay import IGNORED_KEYS, replay
from node_runtime.tasks import TaskSet
from tests.node_runtime.monitor.console import role_token
from tests.support import ROOT, SECRET, Client, node_config, run, running

IGNORE = IGNORED_KEYS | {"pid"}
CHANGED_APPS = {"trials": "tests.node_runtime.capture.changed_app"}


async def _capture_traffic(node_url: str, out: Path) -> None:
    """Record three exchanges (echo, progress, refuse) made by a client."""
    ready = asyncio.Event()
    tasks = TaskSet("test")
    recording = tasks.spawn(
        record(node_url, role_token("admin"), out, ready=ready, max_entries=3), "record"
    )
    await ready.wait()
    async with Client.connect(node_url) as client:
        await client.register()
        await client.call({"type": "echo", "params": {"a": [1, 2]}})
        await client.call({"type": "progress", "params": {"steps": 2}})
        await client.call({"type": "refuse"})
    result = await recording
    assert result.entries == 3


def test_capture_keeps_real_tokens_only_when_asked(tmp_path: Path) -> None:
    """With ``redacted=False`` (``--keep-tokens``) the reply's session token is recorded
    as the client got it; by default the node never even sends it to the recorder."""

    async def scenario() -> tuple[str, dict[str, object]]:
        async with running(node_config(tmp_path)) as node:
            ready = asyncio.Event()
            tasks = TaskSet("test")
            recording = tasks.spawn(
                record(
                    node.url,
                    role_token("admin"),
                    tmp_path / "kept.jsonl",
                    ready=ready,
                    max_entries=1,
                    redacted=False,
                ),
                "record",
            )
            await ready.wait()
            async with Client.connect(node.url) as client:
                await client.register()
                reply = await client.call({"type": "echo", "params": 1})
            await recording
            return reply["message"]["token"], read_capture(tmp_path / "kept.jsonl").header

    token, head = run(scenario())
    entry = read_capture(tmp_path / "kept.jsonl").entries[0]
    assert entry["message"]["token"] == token
    assert head["redacted"] is False


def test_capture_has_header_and_redacted_tokens(tmp_path: Path) -> None:
    """A capture's first line is the header; replies' tokens are redacted by default."""

    async def scenario() -> None:
        async with running(node_config(tmp_path)) as node:
            await _capture_traffic(node.url, tmp_path / "c.jsonl")

    run(scenario())
    lines = (tmp_path / "c.jsonl").read_text().splitlines()
    head = json.loads(lines[0])
    assert (head["format"], head["version"], head["node"]) == ("qewd-capture", 1, "n1")
    capture = read_capture(tmp_path / "c.jsonl")
    assert [e["request"]["type"] for e in capture.entries] == ["echo", "progress", "refuse"]
    echo = capture.entries[0]
    assert echo["request"]["params"] == {"a": [1, 2]}
    assert echo["intermediates"] == []
    assert capture.entries[1]["intermediates"] == [{"step": 0}, {"step": 1}, {"note": "typed"}]
    assert echo["request"]["application"] in ("trials", None)
    assert echo["message"]["token"] == REDACTED
    assert capture.entries[2]["ok"] is False
    assert capture.entries[2]["code"] == "E_CUSTOM"


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    """Every complete line is read back; a half-written last line is skipped."""
    path = tmp_path / "t.jsonl"
    writer = CaptureWriter(path, header(target="ws://h:1", node="n", started=0.0, redacted=True))
    writer.add({"t": 0.1, "request": {"type": "echo"}, "message": {"x": 1}})
    with path.open("a") as raw:
        raw.write('{"t": 0.2, "request": {"ty')
    capture = read_capture(path)
    assert len(capture.entries) == 1
    assert capture.torn_tail is True
    writer.close()


def test_replay_same_node_matches_and_changed_handler_mismatches(tmp_path: Path) -> None:
    """Replay to the captured node finds no mismatch; a changed echo handler is reported."""

    async def scenario() -> None:
        out = tmp_path / "c.jsonl"
        async with running(node_config(tmp_path, "n1")) as node:
            await _capture_traffic(node.url, out)
            capture = read_capture(out)
            same = await replay(capture, node.url, secret=SECRET, compare=True, ignore=IGNORE)
            assert (same.sent, same.ok, same.errors, same.mismatches) == (3, 2, 1, [])
            burst = await replay(capture, node.url, compare=True, ignore=IGNORE, mode="burst")
            assert burst.mismatches == []
        changed = node_config(tmp_path / "other", "n1", apps=CHANGED_APPS)
        async with running(changed) as other:
            report = await replay(
                capture,
                other.url,
                secret=SECRET,
                compare=True,
                ignore=IGNORE,
                mode="timed",
                speed=50.0,
            )
            assert [m.type for m in report.mismatches] == ["echo"]
            assert report.mismatches[0].diff == ["message.changed: new (true)"]
            assert "mismatches 1" in report.summary()
            assert len(report.latencies_ms) == 3

    run(scenario())


def test_replay_cli_exit_codes(tmp_path: Path) -> None:
    """`qewd-node replay --compare` exits 0 on the same node and 1 with a mismatch."""

    async def cli(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "node_runtime.cli",
            "replay",
            *args,
            stdout=asyncio.subprocess.PIPE,
            cwd=str(ROOT),
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    async def scenario() -> None:
        out = tmp_path / "c.jsonl"
        async with running(node_config(tmp_path, "n1")) as node:
            await _capture_traffic(node.url, out)
            code, text = await cli(
                str(out), "--target", node.url, "--secret", SECRET, "--compare", "--ignore", "pid"
            )
            assert code == 0, text
            assert text.startswith("sent 3, ok 2, errors 1, mismatches 0")
        async with running(node_config(tmp_path / "o", "n1", apps=CHANGED_APPS)) as other:
            code, text = await cli(
                str(out),
                "--target",
                other.url.removesuffix("/ws"),
                "--compare",
                "--ignore",
                "pid",
                "--mode",
                "burst",
            )
            assert code == 1, text
            assert "message.changed: new (true)" in text

    run(scenario())


def test_har_export_has_websocket_messages() -> None:
    """Each exchange becomes a HAR entry with its sent frame, then its intermediates and
    its final reply received, in order."""
    capture = Capture(
        header=header(
            target="ws://127.0.0.1:8080", node="n", started=1_800_000_000.0, redacted=True
        ),
        entries=[
            {
                "t": 0.5,
                "ms": 2.0,
                "request": {"type": "echo", "params": 1, "id": 3},
                "message": {"echo": 1},
            },
            {
                "t": 0.7,
                "ms": 3.0,
                "request": {"type": "progress", "params": {"steps": 2}, "id": 4},
                "intermediates": [{"step": 0}, {"step": 1}],
                "message": {"done": True},
            },
        ],
    )
    har = to_har(capture)
    entry = har["log"]["entries"][0]
    assert entry["request"]["url"] == "ws://127.0.0.1:8080/ws"
    assert entry["response"]["status"] == 101
    sent, received = entry["_webSocketMessages"]
    assert json.loads(sent["data"]) == {"type": "echo", "params": 1, "id": 3}
    assert json.loads(received["data"])["message"] == {"echo": 1}
    assert received["time"] > sent["time"]
    progress = [json.loads(m["data"]) for m in har["log"]["entries"][1]["_webSocketMessages"]]
    assert [(f.get("finished"), f.get("message")) for f in progress[1:]] == [
        (False, {"step": 0}),
        (False, {"step": 1}),
        (True, {"done": True}),
    ]
    assert all(f["id"] == 4 for f in progress[1:])


def test_replay_follows_each_captured_session(tmp_path: Path) -> None:
    """A login then a request that needs it replay without mismatch: tokens chain per session."""

    async def scenario() -> None:
        out = tmp_path / "s.jsonl"
        async with running(node_config(tmp_path)) as node:
            ready = asyncio.Event()
            tasks = TaskSet("test")
            recording = tasks.spawn(
                record(node.url, role_token("admin"), out, ready=ready, max_entries=3), "rec"
            )
            await ready.wait()
            async with Client.connect(node.url) as client:
                await client.register()
                assert (await client.call({"type": "whoami"}))["message"]["authenticated"] is False
                client.token = (await client.call({"type": "login"}))["message"]["token"]
                assert (await client.call({"type": "whoami"}))["message"]["authenticated"] is True
            assert (await recording).entries == 3
            capture = read_capture(out)
            assert len({e["session"] for e in capture.entries}) == 1
            report = await replay(capture, node.url, secret=SECRET, compare=True, ignore=IGNORE)
            assert report.mismatches == []
            assert report.ok == 3

    run(scenario())
