"""wss:// links with certificate verification against the configured CA."""

from __future__ import annotations

import ssl
from pathlib import Path

from tests.support import Client, node_config, run, running, scaled, self_signed_certificate

ROUTES = [{"application": "trials", "types": ["echo"], "destination": "far"}]


def test_forwarding_over_verified_wss_link(tmp_path: Path) -> None:
    """A node with [tls] serves wss; a peer trusting its CA forwards over a wss link."""

    async def scenario() -> None:
        far_tls = self_signed_certificate(tmp_path, "far")
        async with running(node_config(tmp_path, "far", tls=far_tls)) as far:
            assert far.url.startswith("wss://")
            near_tls = {**self_signed_certificate(tmp_path, "near"), "ca": far_tls["ca"]}
            config = node_config(
                tmp_path,
                "near",
                tls=near_tls,
                routes=ROUTES,
                destinations={"far": {"url": far.url}},
            )
            async with running(config) as near:
                assert await near.mesh.links[far.url].wait_up(scaled(5))
                client_ssl = ssl.create_default_context(cafile=near_tls["cert"])
                async with Client.connect(near.url, ssl=client_ssl) as client:
                    await client.register()
                    reply = await client.call({"type": "echo", "params": "secure"})
                    assert reply["message"] == {**reply["message"], "node": "far", "echo": "secure"}

    run(scenario())


def test_link_refuses_a_peer_signed_by_another_ca(tmp_path: Path) -> None:
    """A link whose CA does not vouch for the peer stays down and requests get E_PEER_DOWN."""

    async def scenario() -> None:
        far_tls = self_signed_certificate(tmp_path, "far")
        async with running(node_config(tmp_path, "far", tls=far_tls)) as far:
            stranger = self_signed_certificate(tmp_path, "stranger")
            config = node_config(
                tmp_path,
                "near",
                tls=stranger,
                routes=ROUTES,
                destinations={"far": {"url": far.url}},
            )
            async with running(config) as near:
                link = near.mesh.links[far.url]
                assert not await link.wait_up(scaled(1))
                assert "CERTIFICATE_VERIFY_FAILED" in link.last_error
                client_ssl = ssl.create_default_context(cafile=stranger["cert"])
                async with Client.connect(near.url, ssl=client_ssl) as client:
                    await client.register()
                    reply = await client.call({"type": "echo"})
                    assert reply["message"]["code"] == "E_PEER_DOWN"

    run(scenario())
