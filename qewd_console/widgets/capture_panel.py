"""The capture/replay panel: record a node's traffic to a file, replay it anywhere."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class CapturePanel(QWidget):
    """Asks for captures and replays by signal; shows progress and summaries."""

    capture_requested = Signal(str, str, float)  # node key, file, seconds (0 = until stop)
    stop_requested = Signal()
    replay_requested = Signal(str, str, str, float, bool)  # key, file, mode, speed, compare

    def __init__(self, default_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = QComboBox()
        self.target = QComboBox()
        self.file = QLineEdit(str(default_dir / "capture.jsonl"))
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(browse)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0, 3600)
        self.duration.setValue(10)
        self.duration.setSuffix(" s  (0 = until Stop)")
        self.record = QPushButton("Record")
        self.record.setObjectName("primary")
        self.record.clicked.connect(self._record)
        self.stop = QPushButton("Stop")
        self.stop.setEnabled(False)
        self.stop.clicked.connect(self.stop_requested)
        self.mode = QComboBox()
        self.mode.addItems(["sync", "timed", "burst"])
        self.speed = QDoubleSpinBox()
        self.speed.setRange(0.1, 100)
        self.speed.setValue(1)
        self.speed.setSuffix(" x")
        self.compare = QCheckBox("Compare replies with the capture")
        self.compare.setChecked(True)
        self.replay = QPushButton("Replay")
        self.replay.clicked.connect(self._replay)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("capture and replay summaries")
        form = QFormLayout()
        form.addRow("Capture file", file_row)
        form.addRow("Record at node", self.source)
        form.addRow("Duration", self.duration)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record)
        buttons.addWidget(self.stop)
        buttons.addStretch(1)
        form.addRow(buttons)
        form.addRow("Replay to node", self.target)
        form.addRow("Mode", self.mode)
        form.addRow("Speed (timed)", self.speed)
        form.addRow(self.compare)
        form.addRow(self.replay)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.output, 1)

    def set_nodes(self, nodes: list[tuple[str, str]]) -> None:
        for box in (self.source, self.target):
            if [box.itemData(i) for i in range(box.count())] != [k for k, _ in nodes]:
                box.clear()
                for key, name in nodes:
                    box.addItem(name, key)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Capture file", self.file.text(), "Captures (*.jsonl)"
        )
        if path:
            self.file.setText(path)

    def _record(self) -> None:
        if self.source.currentData():
            self.busy(True, "recording")
            self.capture_requested.emit(
                self.source.currentData(), self.file.text(), self.duration.value()
            )

    def _replay(self) -> None:
        if self.target.currentData():
            self.busy(True, "replaying")
            self.replay_requested.emit(
                self.target.currentData(),
                self.file.text(),
                self.mode.currentText(),
                self.speed.value(),
                self.compare.isChecked(),
            )

    def busy(self, on: bool, what: str = "") -> None:
        """Show long work as an indeterminate progress bar; lock the buttons meanwhile."""
        self.progress.setRange(0, 0 if on else 1)
        self.progress.setFormat(what)
        self.record.setEnabled(not on)
        self.replay.setEnabled(not on)
        self.stop.setEnabled(on and what == "recording")

    def show_text(self, text: str) -> None:
        self.busy(False)
        self.output.appendPlainText(text)
