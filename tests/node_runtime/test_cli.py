"""``qewd-node`` as a user runs it: real processes, real files, real signals."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from node_runtime.meshrun import free_port
from node_runtime.protocol.tokens import TokenService, TokenSettings
from tests.support import ROOT, SECRET, Client, run, start_node_process, write_node_file

CLI = [sys.executable, "-m", "node_runtime.cli"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_sigterm_drains_in_flight_requests_and_exits_zero(tmp_path: Path) -> None:
    """SIGTERM during a slow request: the reply still arrives, then the node exits 0."""

    async def scenario() -> None:
        port = free_port()
        proc = await start_node_process(write_node_file(tmp_path, "n", port))
        async with Client.connect(f"ws://127.0.0.1:{port}/ws") as client:
            await client.register()
            await client.send_raw(
                json.dumps(
                    {
                        "type": "slow",
                        "id": 1,
                        "token": client.token,
                        "params": {"seconds": 1.0, "notify": True},
                    }
                )
            )
            started = await client.recv(timeout=10)
            assert started["finished"] is False
            proc.send_signal(signal.SIGTERM)
            reply = await client.recv(timeout=10)
            assert reply["message"]["slept"] is True
        assert await asyncio.wait_for(proc.wait(), 20) == 0

    run(scenario())


def test_token_command_prints_a_verifiable_role_token(tmp_path: Path) -> None:
    """`qewd-node token` prints a token with the asked role, signed with the mesh secret."""
    config = write_node_file(tmp_path, "n", 8080)
    result = _cli("token", "--config", str(config), "--role", "monitor", "--sub", "ann")
    assert result.returncode == 0, result.stderr
    claims = TokenService(TokenSettings(secret=SECRET)).verify(result.stdout.strip(), time.time())
    assert claims["role"] == "monitor"
    assert claims["sub"] == "ann"


def test_config_error_names_file_key_and_reason(tmp_path: Path) -> None:
    """A bad value makes `qewd-node run` exit 2 naming the file, the key and the reason."""
    config = (
        write_node_file(tmp_path, "n", 8080).read_text().replace("pool_size = 1", "pool_size = -3")
    )
    path = tmp_path / "bad.toml"
    path.write_text(config)
    result = _cli("run", str(path))
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert "node.pool_size" in result.stderr


def test_check_reports_route_problems_with_codes(tmp_path: Path) -> None:
    """`qewd-node check` lists route-map problems with their codes and exits 1."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[destinations.a]\nurl = "http://nowhere"\n\n[[routes]]\n'
        'application = "x"\ntypes = ["*"]\ndestination = "missing"\n'
    )
    result = _cli("check", str(routes))
    assert result.returncode == 1
    assert "R_BAD_URL" in result.stdout + result.stderr
    assert "R_UNKNOWN_DESTINATION" in result.stdout + result.stderr
    good = _cli("check", str(ROOT / "examples" / "mesh.toml"))
    assert good.returncode == 0, good.stdout + good.stderr


def test_help_lists_every_command() -> None:
    """`qewd-node --help` names run, mesh, token and check."""
    result = _cli("--help")
    assert result.returncode == 0
    for command in ("run", "mesh", "token", "check"):
        assert command in result.stdout
