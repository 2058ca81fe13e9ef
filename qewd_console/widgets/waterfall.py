"""The hop-by-hop waterfall of one message, painted from its trace segments."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from qewd_console.session.waterfall import Segment, waterfall

KIND_COLOURS = {
    "queue": "#d29922",
    "handler": "#3fb950",
    "waiting": "#8b949e",
    "transit": "#58a6ff",
}
ROW_H = 22
LABEL_W = 170


class WaterfallView(QWidget):
    """Rows per node and per link; bars for queue, handler, waiting and transit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.segments: list[Segment] = []
        self.title = "select a flow to see its hops"
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_trace(self, title: str, trace: list[dict[str, Any]]) -> None:
        self.title = title
        self.segments = waterfall(trace)
        self.update()

    def rows(self) -> list[str]:
        seen: list[str] = []
        for segment in self.segments:
            if segment.row not in seen:
                seen.append(segment.row)
        return seen

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        painter.setPen(text)
        painter.drawText(8, 16, self.title)
        rows = self.rows()
        end = max((s.start_ms + s.length_ms for s in self.segments), default=0.0) or 1.0
        width = max(10.0, self.width() - LABEL_W - 70)
        scale = width / end
        for index, row in enumerate(rows):
            y = 28 + index * ROW_H
            painter.setPen(text)
            painter.drawText(QRectF(8, y, LABEL_W - 12, ROW_H), Qt.AlignmentFlag.AlignVCenter, row)
        for segment in self.segments:
            y = 28 + rows.index(segment.row) * ROW_H
            x = LABEL_W + segment.start_ms * scale
            w = max(2.0, segment.length_ms * scale)
            colour = QColor(KIND_COLOURS[segment.kind])
            painter.setPen(QPen(Qt.PenStyle.NoPen))
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(x, y + 4, w, ROW_H - 8), 3, 3)
            if segment.kind in ("handler", "transit") or segment.length_ms * scale > 50:
                painter.setPen(text)
                painter.drawText(
                    QRectF(x + w + 4, y, 80, ROW_H),
                    Qt.AlignmentFlag.AlignVCenter,
                    f"{segment.length_ms:.2f}",
                )
        legend_y = 28 + len(rows) * ROW_H + 6
        x = 8.0
        for kind, name in KIND_COLOURS.items():
            painter.setPen(QPen(Qt.PenStyle.NoPen))
            painter.setBrush(QColor(name))
            painter.drawRect(QRectF(x, legend_y + 4, 10, 10))
            painter.setPen(text)
            painter.drawText(int(x + 14), legend_y + 14, kind)
            x += 90
        painter.end()
