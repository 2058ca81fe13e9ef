"""Where remembered tokens go: an OS keyring through the real ``keyring`` package, never
a plain-text file, else memory. The OS keyring itself (Secret Service, Keychain, ...)
cannot run on a headless test box, so a backend object stands in for it; everything
between it and the console is keyring's own code and ours."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked, PasswordDeleteError

from qewd_console.session.token_store import (
    SERVICE,
    KeyringTokenStore,
    MemoryTokenStore,
    default_token_store,
)


class DictKeyring(KeyringBackend):
    """An OS-like keyring held in a dict (priority as keyring gives OS stores)."""

    priority = 5.0

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class PlainFileKeyring(DictKeyring):
    """Stands for a file keyring (keyrings.alt's plain-text one has priority 0.5)."""

    priority = 0.5


class LockedKeyring(DictKeyring):
    """An OS keyring that is there but locked."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("locked")


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def test_os_keyring_keeps_tokens_by_url(restore_keyring: None) -> None:
    """With an OS keyring the store is persistent, and get/set/delete go through it."""
    backend = DictKeyring()
    keyring.set_keyring(backend)
    store = default_token_store()
    assert isinstance(store, KeyringTokenStore)
    assert store.persistent is True
    assert "DictKeyring" in store.description
    store.set("ws://10.0.0.5:8080", "tok-1")
    assert backend.items[(SERVICE, "ws://10.0.0.5:8080")] == "tok-1"
    assert store.get("ws://10.0.0.5:8080") == "tok-1"
    assert store.get("ws://10.0.0.6:8080") is None
    store.delete("ws://10.0.0.5:8080")
    store.delete("ws://10.0.0.5:8080")  # deleting what is not there is not an error
    assert store.get("ws://10.0.0.5:8080") is None


@pytest.mark.parametrize("backend", [fail.Keyring(), PlainFileKeyring(), LockedKeyring()])
def test_no_usable_os_keyring_means_memory(restore_keyring: None, backend: KeyringBackend) -> None:
    """keyring's fail backend, a plain-text file keyring and a locked keyring all leave
    tokens in memory, and the store says so."""
    keyring.set_keyring(backend)
    store = default_token_store()
    assert isinstance(store, MemoryTokenStore)
    assert store.persistent is False
    store.set("ws://h:1", "t")
    assert store.get("ws://h:1") == "t"
    if isinstance(backend, DictKeyring):
        assert backend.items == {}
