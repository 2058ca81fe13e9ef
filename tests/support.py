"""Shared test support: scaled timeouts, in-process nodes on 127.0.0.1:0, a raw WS client.

Nodes run for real (real worker processes, real sockets); nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect

from node_runtime.config import NodeConfig, parse_node_config
from node_runtime.master import Node

T = TypeVar("T")
FACTOR = float(os.environ.get("QEWD_TEST_TIMEOUT_FACTOR", "1"))
SECRET = "test-secret-of-at-least-thirty-two-bytes!"
ROOT = Path(__file__).resolve().parent.parent


def scaled(seconds: float) -> float:
    """A timeout scaled by QEWD_TEST_TIMEOUT_FACTOR for slow machines."""
    return seconds * FACTOR


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run a coroutine in a fresh loop with an overall deadline."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, scaled(timeout))

    return asyncio.run(bounded())


def node_config(tmp_path: Path, name: str = "n1", **node: Any) -> NodeConfig:
    """A node config on a free port with the trials and clinic apps."""
    routes = node.pop("routes", None)
    tls = node.pop("tls", None)
    destinations = node.pop("destinations", None)
    apps = node.pop("apps", {"trials": "tests.apps.trials", "clinic": "qewd_examples.clinic"})
    table: dict[str, Any] = {
        "name": name,
        "port": 0,
        "pool_size": 1,
        "data_dir": str(tmp_path / name),
    }
    table.update(node)
    data: dict[str, Any] = {"node": table, "jwt": {"secret": SECRET}, "apps": apps}
    if destinations is not None:
        data["destinations"] = destinations
    if routes is not None:
        data["routes"] = routes
    if tls is not None:
        data["tls"] = tls
    return parse_node_config(data, ROOT / "tests" / f"{name}.toml")


@asynccontextmanager
async def running(config: NodeConfig) -> AsyncIterator[Node]:
    """A started node, stopped (quickly) afterwards."""
    node = Node(config)
    await node.start()
    try:
        yield node
    finally:
        await node.stop(drain_timeout=scaled(5))


class Client:
    """A raw protocol client: sends frames, collects replies by id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.token: str | None = None

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str, **kwargs: Any) -> AsyncIterator[Client]:
        async with connect(url, max_size=None, **kwargs) as ws:
            yield cls(ws)

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        data = await asyncio.wait_for(self.ws.recv(), scaled(timeout))
        frame: dict[str, Any] = json.loads(data)
        return frame

    async def register(self, application: str = "trials") -> str:
        reply = await self.call({"type": "ewd-register", "application": application}, token=False)
        token: str = reply["message"]["token"]
        self.token = token
        return token

    async def send_request(self, frame: dict[str, Any]) -> None:
        """Send a request with this client's token without waiting for its reply."""
        await self.ws.send(json.dumps({"token": self.token, **frame}))

    async def call(
        self, frame: dict[str, Any], *, token: bool = True, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send one request and return its final reply (intermediates are in 'between')."""
        frame = dict(frame)
        frame.setdefault("id", next(self.ids))
        if token and self.token and "token" not in frame:
            frame["token"] = self.token
        await self.ws.send(json.dumps(frame))
        between = []
        while True:
            reply = await self.recv(timeout)
            if reply.get("finished") is False:
                between.append(reply)
                continue
            reply["between"] = between
            return reply


def write_node_file(
    tmp_path: Path,
    name: str,
    port: int,
    extra: str = "",
    apps: str = 'trials = "tests.apps.trials"',
) -> Path:
    """A node config file on disk, for running ``qewd-node run`` as a real process."""
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[node]\nname = "{name}"\nport = {port}\npool_size = 1\n'
        f'data_dir = "{tmp_path / name}"\n\n[jwt]\nsecret = "{SECRET}"\n\n'
        f"[apps]\n{apps}\n\n{extra}\n"
    )
    return path


async def start_node_process(config: Path) -> asyncio.subprocess.Process:
    """Start ``qewd-node run CONFIG`` and wait for its 'node NAME: URL' line."""
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv" / "bin" / "qewd-node") if (ROOT / ".venv").exists() else "qewd-node",
        "run",
        str(config),
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), scaled(30))
    assert line.startswith(b"node "), line
    return proc


async def eventually(predicate: Any, timeout: float = 5.0, what: str = "condition") -> None:
    """Wait until ``predicate()`` is true, checking every few ms, or fail after ``timeout``.

    For state with no event to wait on (a counter in another object, a link's RTT);
    everything with an event or a reply is awaited directly instead.
    """
    deadline = asyncio.get_running_loop().time() + scaled(timeout)
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def own_replies_only(url: str, tag: int, count: int = 50) -> None:
    """One client sends ``count`` echo requests at once; each reply must come exactly once,
    to this client, with its own params (QEWD misdelivers these when forwarded)."""
    async with Client.connect(url) as client:
        await client.register()
        for i in range(count):
            await client.send_request({"type": "echo", "id": i, "params": {"tag": tag, "i": i}})
        seen: dict[int, int] = {}
        for _ in range(count):
            reply = await client.recv()
            assert reply["message"]["echo"] == {"tag": tag, "i": reply["id"]}
            seen[reply["id"]] = seen.get(reply["id"], 0) + 1
        assert seen == dict.fromkeys(range(count), 1)


def self_signed_certificate(folder: Path, name: str) -> dict[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost (it is its own CA), as PEM
    files in ``folder``; returns the ``[tls]`` table (cert, key, ca) that trusts it."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    addresses = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(addresses), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / f"{name}.pem"
    key_path = folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {"cert": str(cert_path), "key": str(key_path), "ca": str(cert_path)}


@asynccontextmanager
async def front_and_back(
    tmp_path: Path, routes: list[dict[str, Any]], **front: Any
) -> AsyncIterator[tuple[Node, Node]]:
    """Node "b", then node "a" whose destination "b" is it, with ``routes``; link up."""
    async with running(node_config(tmp_path, "b")) as back:
        config = node_config(
            tmp_path, "a", destinations={"b": {"url": back.url}}, routes=routes, **front
        )
        async with running(config) as front_node:
            await front_node.mesh.wait_links({back.url}, scaled(10))
            assert front_node.mesh.link_up(back.url)
            yield front_node, back
