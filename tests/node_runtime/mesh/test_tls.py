"""wss:// links with certificate verification against the configured CA."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import Client, node_config, run, running, scaled

ROUTES = [{"application": "trials", "types": ["echo"], "destination": "far"}]


def _certificate(tmp_path: Path, name: str) -> dict[str, str]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA), written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = tmp_path / f"{name}.pem"
    key_path = tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {"cert": str(cert_path), "key": str(key_path), "ca": str(cert_path)}


def test_forwarding_over_verified_wss_link(tmp_path: Path) -> None:
    """A node with [tls] serves wss; a peer trusting its CA forwards over a wss link."""

    async def scenario() -> None:
        far_tls = _certificate(tmp_path, "far")
        async with running(node_config(tmp_path, "far", tls=far_tls)) as far:
            assert far.url.startswith("wss://")
            near_tls = {**_certificate(tmp_path, "near"), "ca": far_tls["ca"]}
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
        far_tls = _certificate(tmp_path, "far")
        async with running(node_config(tmp_path, "far", tls=far_tls)) as far:
            stranger = _certificate(tmp_path, "stranger")
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
