"""The composer: build a message, fire it once or N times, see replies, path and history.

It only emits ``fire_requested``; the window hands that to the session and feeds the
results back through ``show_result``/``show_intermediate``.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from qewd_console.session.waterfall import path_of
from qewd_console.session.ws_client import CallResult

MAX_HISTORY_ROWS = 100
REDACTED = "…"  # session tokens are long and secret-ish: not shown


def parse_params(text: str) -> tuple[dict[str, Any] | None, str]:
    """The params object, or None and what is wrong (with line and column)."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        return None, f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if not isinstance(value, dict):
        return None, "params must be a JSON object"
    return value, ""


class Composer(QWidget):
    """Application, type, params, target; fire; results and history."""

    fire_requested = Signal(str, str, str, dict, int, float)  # key, app, type, params, n, rate

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = QComboBox()
        self.app.setEditable(True)
        self.app.currentTextChanged.connect(self._app_changed)
        self.type = QComboBox()
        self.type.setEditable(True)
        self.target = QComboBox()
        self.params = QPlainTextEdit('{\n  "text": "hello mesh"\n}')
        self.params.setObjectName("jsonEditor")
        self.params.textChanged.connect(self._check)
        self.params_error = QLabel()
        self.params_error.setObjectName("errorLabel")
        self.count = QSpinBox()
        self.count.setRange(1, 100000)
        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.1, 5000)
        self.rate.setValue(10)
        self.rate.setSuffix(" /s")
        self.fire = QPushButton("Fire (Ctrl+Return)")
        self.fire.setObjectName("primary")
        self.fire.clicked.connect(self._fire)
        QShortcut(QKeySequence("Ctrl+Return"), self, self._fire)
        form = QFormLayout()
        form.addRow("Target node", self.target)
        form.addRow("Application", self.app)
        form.addRow("Type", self.type)
        form.addRow("Params (JSON)", self.params)
        form.addRow("", self.params_error)
        repeat = QHBoxLayout()
        repeat.addWidget(QLabel("times"))
        repeat.addWidget(self.count)
        repeat.addWidget(QLabel("at"))
        repeat.addWidget(self.rate)
        repeat.addStretch(1)
        repeat.addWidget(self.fire)
        form.addRow(repeat)
        left = QWidget()
        left.setLayout(form)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("intermediate messages, the final reply and its path")
        self.history = QListWidget()
        self.history.currentRowChanged.connect(self._history_row)
        self.results: list[CallResult] = []
        right = QSplitter()
        right.addWidget(self.output)
        right.addWidget(self.history)
        right.setSizes([420, 300])
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([380, 720])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self.apps: dict[str, list[str]] = {}

    def set_nodes(self, nodes: list[tuple[str, str]], apps: dict[str, list[str]]) -> None:
        """Offer these (key, name) targets and application types, keeping the choices."""
        if [self.target.itemData(i) for i in range(self.target.count())] != [k for k, _ in nodes]:
            current = self.target.currentData()
            self.target.clear()
            for key, name in nodes:
                self.target.addItem(name, key)
            index = self.target.findData(current)
            self.target.setCurrentIndex(max(index, 0))
        if apps != self.apps:
            self.apps = apps
            current = self.app.currentText()
            self.app.clear()
            self.app.addItems(sorted(apps))
            self.app.setCurrentText(current or "clinic")
            self._app_changed(self.app.currentText())

    def _app_changed(self, app: str) -> None:
        current = self.type.currentText()
        self.type.clear()
        self.type.addItems(self.apps.get(app, []))
        self.type.setCurrentText(current or "echo")

    def _check(self) -> bool:
        _, problem = parse_params(self.params.toPlainText())
        self.params_error.setText(problem)
        self.params.setProperty("invalid", bool(problem))
        self.params.style().unpolish(self.params)
        self.params.style().polish(self.params)
        self.fire.setEnabled(not problem)
        return not problem

    def _fire(self) -> None:
        params, _ = parse_params(self.params.toPlainText())
        if params is None or not self.target.currentData():
            return
        self.output.setPlainText(
            f"→ {self.app.currentText()}/{self.type.currentText()} "
            f"to {self.target.currentText()}, {self.count.value()} time(s)\n"
        )
        self.fire_requested.emit(
            self.target.currentData(),
            self.app.currentText(),
            self.type.currentText(),
            params,
            self.count.value(),
            self.rate.value(),
        )

    def show_intermediate(self, frame: dict[str, Any]) -> None:
        self.output.appendPlainText(
            "intermediate: " + json.dumps(frame.get("message"), default=str)
        )

    def show_result(self, result: CallResult) -> None:
        self.results.insert(0, result)
        del self.results[MAX_HISTORY_ROWS:]
        status = "ok" if result.ok else "error"
        self.history.insertItem(0, f"{result.app}/{result.type}  {status}  {result.ms:.1f} ms")
        while self.history.count() > MAX_HISTORY_ROWS:
            self.history.takeItem(self.history.count() - 1)
        self.output.appendPlainText(describe(result))

    def _history_row(self, row: int) -> None:
        if 0 <= row < len(self.results):
            self.output.setPlainText(describe(self.results[row]))

    def show_error(self, text: str) -> None:
        self.output.appendPlainText(f"error: {text}")


def describe(result: CallResult) -> str:
    """A readable account of one call: intermediates, final reply and path."""
    lines = [f"{result.app}/{result.type} params {json.dumps(result.params)}"]
    lines += [
        f"  intermediate: {json.dumps(f.get('message'), default=str)}" for f in result.intermediates
    ]
    message = dict(result.final.get("message") or {})
    if "token" in message:
        message["token"] = REDACTED
    lines.append(
        f"  final ({'ok' if result.ok else 'error'}, {result.ms:.2f} ms): "
        + json.dumps(message, indent=2, default=str, ensure_ascii=False)
    )
    lines.append(f"  path: {' → '.join(path_of(result.trace)) or '(no trace)'}")
    return "\n".join(lines) + "\n"
