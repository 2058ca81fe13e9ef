"""The capture/replay panel: record a node's traffic, export HAR, replay it anywhere.

Views and requests only (by signal); ``CaptureControl`` runs them and reports back here:
progress (determinate during replay), summaries, and the table of mismatches with diffs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from node_runtime.capture.replay import Mismatch
from qewd_console.models.tables import MismatchesModel


class CapturePanel(QWidget):
    """Asks for captures and replays by signal; shows progress and summaries."""

    capture_requested = Signal(str, str, float)  # node key, file, seconds (0 = until stop)
    stop_requested = Signal()
    replay_requested = Signal(str, str, str, float, bool, str)  # key, file, mode, speed,
    # compare, secret ("" = register for session tokens)
    har_requested = Signal(str, str)  # capture file, HAR file

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
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("mesh JWT secret: mint fresh tokens (empty: register)")
        self.har = QPushButton("Export HAR…")
        self.har.setToolTip("write the capture file as HAR 1.2 (_webSocketMessages)")
        self.har.clicked.connect(self._export)
        self.replay = QPushButton("Replay")
        self.replay.clicked.connect(self._replay)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("capture and replay summaries")
        self.mismatches = MismatchesModel()
        self.mismatch_table = QTableView()
        self.mismatch_table.setModel(self.mismatches)
        self.mismatch_table.verticalHeader().setVisible(False)
        self.mismatch_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.mismatch_table.horizontalHeader().setStretchLastSection(True)
        self.mismatch_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.mismatch_table.selectionModel().selectionChanged.connect(self._mismatch_selected)
        self.mismatch_diff = QPlainTextEdit()
        self.mismatch_diff.setReadOnly(True)
        self.mismatch_diff.setPlaceholderText("select a mismatch to see its diff")
        form = QFormLayout()
        form.addRow("Capture file", file_row)
        form.addRow("Record at node", self.source)
        form.addRow("Duration", self.duration)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record)
        buttons.addWidget(self.stop)
        buttons.addStretch(1)
        buttons.addWidget(self.har)
        form.addRow(buttons)
        form.addRow("Replay to node", self.target)
        form.addRow("Mode", self.mode)
        form.addRow("Speed (timed)", self.speed)
        form.addRow("Token secret", self.secret)
        form.addRow(self.compare)
        form.addRow(self.replay)
        results = QSplitter()
        results.addWidget(self.mismatch_table)
        results.addWidget(self.mismatch_diff)
        lower = QSplitter(Qt.Orientation.Vertical)
        lower.addWidget(self.output)
        lower.addWidget(results)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(lower, 1)

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
                self.secret.text().strip(),
            )

    def _export(self) -> None:
        source = Path(self.file.text())
        path, _ = QFileDialog.getSaveFileName(
            self, "Export HAR", str(source.with_suffix(".har")), "HAR (*.har)"
        )
        if path:
            self.har_requested.emit(str(source), path)

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

    def show_progress(self, done: int, total: int) -> None:
        """Determinate progress of a replay: ``done`` of ``total`` requests answered."""
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat("replaying %v/%m (%p%)")

    def show_mismatches(self, mismatches: Sequence[Mismatch]) -> None:
        self.mismatches.set_rows([{**asdict(m), "entry": m.index} for m in mismatches])
        self.mismatch_diff.setPlainText(
            f"{len(mismatches)} mismatch(es)" if mismatches else "no mismatches"
        )

    def _mismatch_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        row = self.mismatches.row(rows[0].row()) if rows else None
        if row is not None:
            self.mismatch_diff.setPlainText(
                f"#{row['entry']} {row['type']}\n" + "\n".join(str(d) for d in row["diff"])
            )
