"""The error hierarchy of node_runtime: one root, few subclasses, each carrying data.

``LocalError`` means this program or its configuration was misused; ``RemoteError``
means a peer (client, node, worker) misbehaved or failed. Library exceptions are
translated into these at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations


class NodeError(Exception):
    """Root of every error raised on purpose by node_runtime."""

    def __init__(self, text: str, code: str = "E_HANDLER") -> None:
        super().__init__(text)
        self.text = text
        self.code = code


class HandlerError(NodeError):
    """Raised by an application handler to answer with an error and a code of its choice."""

    def __init__(self, text: str, code: str = "E_HANDLER") -> None:
        super().__init__(text, code)


class ConfigError(NodeError):
    """A configuration file is wrong: names the file, the key and the reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        super().__init__(f"{file}: {key}: {reason}", "E_CONFIG")
        self.file = file
        self.key = key
        self.reason = reason


class RemoteError(NodeError):
    """A peer sent something unusable or failed; carries the stable code to answer with."""
