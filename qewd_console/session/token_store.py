"""Where the console keeps tokens of remembered connections: the OS keyring, or memory.

Owns the choice of store and the keyring calls. Tokens never go to plain-text settings:
with the ``keyring`` package and a usable backend they go to the OS keyring, otherwise
they live only in this process (``persistent`` is False so the UI can say so). No Qt.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Protocol

SERVICE = "qewd-console"


class TokenStore(Protocol):
    """A place for tokens keyed by node URL."""

    @property
    def persistent(self) -> bool:
        """True if tokens outlive this process."""
        ...

    @property
    def description(self) -> str: ...

    def get(self, url: str) -> str | None: ...

    def set(self, url: str, token: str) -> None: ...

    def delete(self, url: str) -> None: ...


class MemoryTokenStore:
    """Tokens for this session only."""

    persistent = False
    description = "tokens are kept in memory for this session only (no usable OS keyring)"

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}

    def get(self, url: str) -> str | None:
        return self._tokens.get(url)

    def set(self, url: str, token: str) -> None:
        self._tokens[url] = token

    def delete(self, url: str) -> None:
        self._tokens.pop(url, None)


class KeyringTokenStore:
    """Tokens in the OS keyring through the ``keyring`` package."""

    persistent = True

    def __init__(self, keyring: ModuleType) -> None:
        self._keyring = keyring
        self.description = (
            f"tokens are kept in the OS keyring ({type(keyring.get_keyring()).__name__})"
        )

    def get(self, url: str) -> str | None:
        value = self._keyring.get_password(SERVICE, url)
        return value if isinstance(value, str) else None

    def set(self, url: str, token: str) -> None:
        self._keyring.set_password(SERVICE, url, token)

    def delete(self, url: str) -> None:
        try:
            self._keyring.delete_password(SERVICE, url)
        except Exception:
            return


def default_token_store() -> TokenStore:
    """The OS keyring if ``keyring`` imports and its backend works; else memory."""
    try:
        keyring = importlib.import_module("keyring")
        backend = keyring.get_keyring()
        if float(getattr(backend, "priority", 0)) <= 0:
            return MemoryTokenStore()  # keyring's "fail"/null backends have priority 0
        keyring.get_password(SERVICE, "probe")  # a locked or broken backend raises here
    except Exception:
        return MemoryTokenStore()
    return KeyringTokenStore(keyring)
