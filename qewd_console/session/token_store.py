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


# keyring's own backends for OS stores (Secret Service, KWallet, macOS Keychain, Windows
# Credential Locker) have priority 1 or more; below that are its "fail" and "null"
# backends (0) and file keyrings such as keyrings.alt's plain-text one (0.5), which would
# put tokens in a readable file: no better than settings, so not used.
MIN_PRIORITY = 1.0


def _first_backend(backend: object) -> object:
    """The backend that would store a token: a chain's first, else the backend itself."""
    chained = getattr(backend, "backends", None)
    if isinstance(chained, list) and chained:
        return chained[0]
    return backend


def default_token_store() -> TokenStore:
    """The OS keyring if ``keyring`` imports and its backend is a real OS store that
    works; else memory."""
    try:
        keyring = importlib.import_module("keyring")
        backend = _first_backend(keyring.get_keyring())
        if float(getattr(backend, "priority", 0)) < MIN_PRIORITY:
            return MemoryTokenStore()
        keyring.get_password(SERVICE, "probe")  # a locked or broken backend raises here
    except Exception:
        return MemoryTokenStore()
    return KeyringTokenStore(keyring)
