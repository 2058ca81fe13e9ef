"""TLS contexts for wss:// and https:// from the ``[tls]`` table.

The server presents ``cert``/``key``; links verify peers against ``ca`` (or the
system store when no CA is given). Nothing here is used without ``[tls]``.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from node_runtime.config import TlsConfig


def server_context(tls: TlsConfig | None) -> ssl.SSLContext | None:
    """A server context presenting the node's certificate, or None without TLS."""
    if tls is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls.cert), str(tls.key))
    return context


def client_context(tls: TlsConfig | None) -> ssl.SSLContext | None:
    """A client context verifying peers against ``ca``, or None without TLS."""
    if tls is None:
        return None
    context = ssl.create_default_context(cafile=str(tls.ca) if tls.ca else None)
    context.check_hostname = True
    return context
