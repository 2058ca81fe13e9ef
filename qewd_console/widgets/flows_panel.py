"""The flows table with its filters, the payload view and the selected flow's waterfall."""

from __future__ import annotations

import json

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from qewd_console.models.flows import FlowFilter, FlowsModel
from qewd_console.session.waterfall import path_of
from qewd_console.widgets.waterfall import WaterfallView


class FlowsPanel(QWidget):
    """Filter bar, table (newest at the bottom, follows unless a row is selected), details."""

    payloads_toggled = Signal(bool)

    def __init__(self, model: FlowsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = FlowFilter()
        self.proxy.setSourceModel(model)
        bar = QHBoxLayout()
        self.filters: dict[str, QLineEdit] = {}
        for name in ("app", "type", "node"):
            edit = QLineEdit()
            edit.setPlaceholderText(f"filter {name}")
            edit.setClearButtonEnabled(True)
            edit.textChanged.connect(lambda text, n=name: self.proxy.set_field(n, text))
            self.filters[name] = edit
            bar.addWidget(edit)
        self.status = QComboBox()
        self.status.addItems(["all", "ok", "error"])
        self.status.currentTextChanged.connect(
            lambda text: self.proxy.set_field("status", "" if text == "all" else text)
        )
        bar.addWidget(self.status)
        self.follow = QCheckBox("Follow")
        self.follow.setChecked(True)
        bar.addWidget(self.follow)
        self.payloads = QCheckBox("Payloads")
        self.payloads.setToolTip("Ask nodes for reply bodies (admin tokens only)")
        self.payloads.toggled.connect(self.payloads_toggled)
        bar.addWidget(self.payloads)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setAlternatingRowColors(True)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.waterfall = WaterfallView()
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("flow details and payload")
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.waterfall)
        lower.addWidget(self.detail)
        lower.setSizes([600, 300])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setSizes([300, 200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

    def refresh(self) -> None:
        added = self.model.refresh()
        if added and self.follow.isChecked():
            self.table.scrollToBottom()

    def select_last(self, min_hops: int = 1) -> bool:
        """Select the newest visible flow with a trace of at least ``min_hops`` hops."""
        for row in range(self.proxy.rowCount() - 1, -1, -1):
            record = self.model.record(self.proxy.mapToSource(self.proxy.index(row, 0)).row())
            if record is not None and len(record.flow.get("trace") or []) >= min_hops:
                self.follow.setChecked(False)
                self.table.selectRow(row)
                self.table.scrollTo(self.proxy.index(row, 0))
                return True
        return False

    def _selected(self, selected: QItemSelection, _old: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        self.follow.setChecked(False)
        record = self.model.record(self.proxy.mapToSource(indexes[0]).row())
        if record is None:
            return
        flow = record.flow
        trace = list(flow.get("trace") or [])
        title = (
            f"{flow.get('app')}/{flow.get('type')} at {flow.get('node')}: "
            f"{flow.get('ms', 0):.2f} ms via {' → '.join(path_of(trace)) or '?'}"
        )
        self.waterfall.show_trace(title, trace)
        shown = {k: v for k, v in flow.items() if k != "trace"}
        if "reply" not in flow:
            shown["reply"] = "(payloads off: tick Payloads to receive reply bodies)"
        self.detail.setPlainText(json.dumps(shown, indent=2, default=str))
