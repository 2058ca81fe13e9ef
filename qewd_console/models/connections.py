"""Remembered connections: URL and label in QSettings, tokens in a ``TokenStore``.

Owns the ``connections`` array in the settings. It must never write a token to the
settings file: tokens go to the token store (OS keyring, or memory for the session).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings

from qewd_console.session.token_store import TokenStore

GROUP = "connections"


@dataclass(frozen=True)
class Remembered:
    """A connection the user made before."""

    url: str
    label: str


class ConnectionBook:
    """The list of remembered connections, most recent first."""

    def __init__(self, settings: QSettings, tokens: TokenStore) -> None:
        self.settings = settings
        self.tokens = tokens

    def entries(self) -> list[Remembered]:
        count = self.settings.beginReadArray(GROUP)
        found = []
        for index in range(count):
            self.settings.setArrayIndex(index)
            url = str(self.settings.value("url", ""))
            if url:
                found.append(Remembered(url, str(self.settings.value("label", "") or "")))
        self.settings.endArray()
        return found

    def _write(self, entries: list[Remembered]) -> None:
        self.settings.remove(GROUP)
        self.settings.beginWriteArray(GROUP, len(entries))
        for index, entry in enumerate(entries):
            self.settings.setArrayIndex(index)
            self.settings.setValue("url", entry.url)
            self.settings.setValue("label", entry.label)
        self.settings.endArray()
        self.settings.sync()

    def remember(self, url: str, label: str, token: str) -> None:
        """Put ``url`` first in the list; its token goes to the token store only."""
        rest = [e for e in self.entries() if e.url != url]
        self._write([Remembered(url, label), *rest])
        self.tokens.set(url, token)

    def forget(self, url: str) -> None:
        self._write([e for e in self.entries() if e.url != url])
        self.tokens.delete(url)

    def token(self, url: str) -> str | None:
        return self.tokens.get(url)
