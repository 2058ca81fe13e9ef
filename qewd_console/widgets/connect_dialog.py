"""File → Connect…: attach to a running node by URL and token; reconnect in one click.

Owns the form, the list of remembered connections and where connection errors show (in
the dialog, under the form). It asks for the connection by signal; the window does the
network work and answers with ``show_failure`` or ``show_connected``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qewd_console.models.connections import ConnectionBook
from qewd_console.session.monitor_client import check_url

URL_ROLE = Qt.ItemDataRole.UserRole


class ConnectDialog(QDialog):
    """Asks for a node URL and an admin or monitor token."""

    connect_requested = Signal(str, str, str)  # url, token, label

    def __init__(self, book: ConnectionBook, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.book = book
        self.setWindowTitle("Connect to a node")
        self.setMinimumWidth(520)
        self.url = QLineEdit()
        self.url.setPlaceholderText("ws://127.0.0.1:8080")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("admin or monitor JWT (qewd-node token …)")
        self.label = QLineEdit()
        self.label.setPlaceholderText("optional name for the list")
        self.storage = QLabel(book.tokens.description)
        self.storage.setWordWrap(True)
        self.storage.setObjectName("statusMessage")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #f85149;")
        self.remembered = QListWidget()
        self.remembered.setToolTip("click to reconnect")
        self.remembered.itemClicked.connect(self._reconnect)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setObjectName("primary")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self._connect)
        self.forget_button = QPushButton("Forget selected")
        self.forget_button.clicked.connect(self._forget)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("URL", self.url)
        form.addRow("Token", self.token)
        form.addRow("Label", self.label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.forget_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.connect_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Remembered connections (click to reconnect):"))
        layout.addWidget(self.remembered, 1)
        layout.addLayout(form)
        layout.addWidget(self.storage)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.remembered.clear()
        for entry in self.book.entries():
            known = self.book.token(entry.url) is not None
            text = f"{entry.label}  —  {entry.url}" if entry.label else entry.url
            item = QListWidgetItem(text if known else f"{text}  (token needed)")
            item.setData(URL_ROLE, entry.url)
            item.setData(Qt.ItemDataRole.UserRole + 1, entry.label)
            self.remembered.addItem(item)

    def _connect(self) -> None:
        url, token = self.url.text().strip(), self.token.text().strip()
        reason = check_url(url)
        if reason:
            self.show_failure(f"bad URL: {reason}")
            return
        if not token:
            self.show_failure("a token is needed (role admin or monitor)")
            return
        self.busy(True)
        self.connect_requested.emit(url, token, self.label.text().strip())

    def _reconnect(self, item: QListWidgetItem) -> None:
        url = str(item.data(URL_ROLE))
        self.url.setText(url)
        self.label.setText(str(item.data(Qt.ItemDataRole.UserRole + 1) or ""))
        token = self.book.token(url)
        if token is None:
            self.token.clear()
            self.token.setFocus()
            self.show_failure("no token kept for this node: paste one and press Connect")
            return
        self.token.setText(token)
        self._connect()

    def _forget(self) -> None:
        item = self.remembered.currentItem()
        if item is not None:
            self.book.forget(str(item.data(URL_ROLE)))
            self.refresh()

    def busy(self, on: bool) -> None:
        self.connect_button.setEnabled(not on)
        self.remembered.setEnabled(not on)
        if on:
            self.error.setStyleSheet("")
            self.error.setText("connecting…")

    def show_failure(self, text: str) -> None:
        """An error in the dialog itself (401, refused, bad URL …)."""
        self.busy(False)
        self.error.setStyleSheet("color: #f85149;")
        self.error.setText(f"⚠ {text}")

    def show_connected(self, url: str, token: str, label: str) -> None:
        """Remember the connection (token to the token store) and close."""
        self.busy(False)
        self.book.remember(url, label, token)
        self.error.setText("")
        self.refresh()
        self.accept()
