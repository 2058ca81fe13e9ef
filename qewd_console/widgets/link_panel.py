"""The link details panel: one peer link's URL, state, RTT, reconnects, in-flight, sent, error.

Shows the link selected in the mesh graph, refreshed from the source node's mirror on
the window's redraw tick. Read-only; it never touches the network.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from qewd_console.session.console import ConsoleSession

FIELDS = (
    ("url", "URL"),
    ("state", "State"),
    ("rtt_ms", "RTT"),
    ("reconnects", "Reconnects"),
    ("in_flight", "In flight"),
    ("sent", "Sent"),
    ("error", "Last error"),
)


class LinkPanel(QWidget):
    """Details of the selected link (``show_link``); ``refresh`` follows its changes."""

    def __init__(self, session: ConsoleSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.src = ""
        self.url = ""
        self.title = QLabel("select a link in the graph")
        self.title.setObjectName("panelTitle")
        self.values: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, caption in FIELDS:
            label = QLabel("-")
            label.setWordWrap(True)
            label.setObjectName(f"link_{key}")
            self.values[key] = label
            form.addRow(caption, label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addStretch(1)

    def show_link(self, src: str, url: str) -> None:
        self.src, self.url = src, url
        self.refresh()

    def refresh(self) -> None:
        mirror = self.session.mirrors.get(self.src)
        if mirror is None:
            return
        target = self.session.node_for_url(self.url)
        self.title.setText(f"Link {mirror.label} → {target.label if target else self.url}")
        link = mirror.links.get(self.url, {})
        for key, label in self.values.items():
            label.setText(self.text(key, link.get(key)))
        colour = {"up": "#3fb950", "down": "#f85149"}.get(str(link.get("state")), "#d29922")
        self.values["state"].setStyleSheet(f"color: {colour}; font-weight: bold;")

    @staticmethod
    def text(key: str, value: object) -> str:
        if key == "rtt_ms":
            return f"{value:.3f} ms" if isinstance(value, int | float) else "-"
        if key == "error":
            return str(value) if value else "none"
        return "-" if value is None else str(value)
