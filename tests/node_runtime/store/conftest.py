"""Fixtures for the document store tests: a real redis-server, and a store per backend.

``store_options`` is the picklable ``open_store`` keyword set for one backend, so tests
can open further stores on the same database in this or in spawned processes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node_runtime.store import DocumentStore, open_store

# Every wait in these tests is multiplied by this, for slow or loaded machines.
TIMEOUT_FACTOR = float(os.environ.get("QEWD_TEST_TIMEOUT_FACTOR", "1"))


def scaled(seconds: float) -> float:
    """A test deadline scaled by QEWD_TEST_TIMEOUT_FACTOR."""
    return seconds * TIMEOUT_FACTOR


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of our own on a free loopback port, without persistence."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        pytest.skip("redis-server is not installed, so the redis backend cannot be tested")
    directory = tmp_path_factory.mktemp("redis")
    port = _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(directory)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()
    log: list[str] = []

    def drain() -> None:
        # Keep reading so the server never blocks on a full pipe; note when it is ready.
        assert server.stdout is not None
        for line in server.stdout:
            log.append(line)
            if "Ready to accept connections" in line:
                ready.set()
        ready.set()  # end of output: the server exited; the check below reports it

    reader = threading.Thread(target=drain, name="redis-server-log", daemon=True)
    reader.start()
    try:
        if not ready.wait(scaled(15)) or server.poll() is not None:
            pytest.fail("redis-server did not start:\n" + "".join(log))
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(scaled(15))
        reader.join(scaled(15))
        if server.stdout is not None:
            server.stdout.close()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store_options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """open_store keywords for a fresh, empty store on one backend."""
    if request.param == "sqlite":
        return {"backend": "sqlite", "path": str(tmp_path / "node" / "store.sqlite")}
    url = request.getfixturevalue("redis_url")
    return {"backend": "redis", "url": url, "namespace": f"test-{uuid.uuid4().hex[:12]}"}


@pytest.fixture
def store(store_options: dict[str, Any]) -> Iterator[DocumentStore]:
    """An open store on one backend, closed after the test."""
    opened = open_store(**store_options)
    yield opened
    opened.close()
