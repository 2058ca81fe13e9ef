"""The node panel: identity, queue, workers (stop one) and pool resize for one node."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from qewd_console.models.tables import WorkersModel
from qewd_console.session.mirror import NodeMirror


class NodePanel(QWidget):
    """Shows the selected node; asks for changes through signals (the window runs them)."""

    resize_requested = Signal(str, int)
    stop_requested = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mirror: NodeMirror | None = None
        self.title = QLabel("select a node in the graph")
        self.title.setObjectName("panelTitle")
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.model = WorkersModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.pool_size_box = QSpinBox()
        self.pool_size_box.setRange(1, 1024)
        self.resize_button = resize = QPushButton("Resize pool")
        resize.clicked.connect(self._resize)
        self.stop_button = stop = QPushButton("Stop selected worker")
        stop.clicked.connect(self._stop)
        actions = QHBoxLayout()
        form = QFormLayout()
        form.addRow("Pool size", self.pool_size_box)
        actions.addLayout(form)
        actions.addWidget(resize)
        actions.addStretch(1)
        actions.addWidget(stop)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)

    def show_node(self, mirror: NodeMirror | None) -> None:
        changed = mirror is not self.mirror
        self.mirror = mirror
        if mirror is None:
            return
        if changed:
            self.pool_size_box.setValue(max(1, mirror.pool_size))
        self.title.setText(f"{mirror.label} — {mirror.state}")
        apps = ", ".join(sorted((mirror.info.get("apps") or {}).keys()))
        rates = mirror.rates
        self.facts.setText(
            f"{mirror.url}  ·  role {mirror.role or '?'}  ·  apps {apps or '-'}\n"
            f"queue {mirror.queue}  ·  busy {mirror.busy}/{mirror.pool_size}  ·  "
            f"in {rates.get('in', 0):.0f}/s  out {rates.get('out', 0):.0f}/s  "
            f"errors {rates.get('errors', 0):.1f}/s  ·  total {mirror.totals.get('messages', 0)}"
            + (f"\n{mirror.error}" if mirror.error else "")
        )
        self.model.set_rows(mirror.workers)

    def _resize(self) -> None:
        if self.mirror is not None:
            self.resize_requested.emit(self.mirror.key, self.pool_size_box.value())

    def _stop(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if self.mirror is None or not rows:
            return
        worker = self.model.row(rows[0].row())
        if worker is not None:
            self.stop_requested.emit(self.mirror.key, int(worker.get("pid", 0)))
