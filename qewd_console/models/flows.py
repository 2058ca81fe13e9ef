"""Qt models over the session's flow ring: an append-only table and a filter proxy.

Rows are appended and evicted in batches on ``refresh`` (called from a timer), never one
signal per flow; the proxy filters by app, type, node and status.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from qewd_console.models.base import ColumnsModel, Index
from qewd_console.session.console import ConsoleSession, FlowRecord

COLUMNS = ("time", "app", "type", "node", "to", "status", "ms", "bytes")
MAX_ROWS = 2000


class FlowsModel(ColumnsModel):
    """The newest flows, oldest first; ``refresh`` pulls what arrived since last time."""

    def __init__(self, session: ConsoleSession, max_rows: int = MAX_ROWS) -> None:
        super().__init__()
        self.session = session
        self.max_rows = max_rows
        self._rows: deque[FlowRecord] = deque()
        self._next_seq = 0

    def refresh(self) -> int:
        """Append new flows and evict the oldest past the bound; returns rows added."""
        fresh = [record for _, record in self.session.flows.since(self._next_seq)]
        self._next_seq = self.session.flows.next_seq
        fresh = fresh[-self.max_rows :]
        if not fresh:
            return 0
        overflow = len(self._rows) + len(fresh) - self.max_rows
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for _ in range(overflow):
                self._rows.popleft()
            self.endRemoveRows()
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        self.endInsertRows()
        return len(fresh)

    def headers(self) -> tuple[str, ...]:
        return COLUMNS

    def row_total(self) -> int:
        return len(self._rows)

    def record(self, row: int) -> FlowRecord | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        flow = self._rows[index.row()].flow
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell(flow, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == "status" and not flow.get("ok"):
            return QColor("#d9534f")
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("ms", "bytes"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def cell(flow: dict[str, Any], column: str) -> str:
    """The text of one table cell."""
    if column == "time":
        stamp = flow.get("time")
        if isinstance(stamp, int | float):
            return (
                time.strftime("%H:%M:%S", time.localtime(stamp))
                + f".{int(stamp * 1000) % 1000:03d}"
            )
        return ""
    if column == "status":
        return "ok" if flow.get("ok") else str(flow.get("code") or "error")
    if column == "ms":
        ms = flow.get("ms")
        return f"{ms:.2f}" if isinstance(ms, int | float) else ""
    if column == "bytes":
        return f"{flow.get('request_bytes', 0)}/{flow.get('reply_bytes', 0)}"
    return str(flow.get(column, ""))


class FlowFilter(QSortFilterProxyModel):
    """Case-insensitive substring filters per field; status is "", "ok" or "error"."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {"app": "", "type": "", "node": "", "status": ""}

    def set_field(self, name: str, text: str) -> None:
        self.beginFilterChange()
        self.fields[name] = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802 - Qt's name
        model = self.sourceModel()
        if not isinstance(model, FlowsModel):
            return True
        record = model.record(source_row)
        if record is None:
            return False
        flow = record.flow
        for name in ("app", "type", "node"):
            wanted = self.fields[name]
            if wanted and wanted not in str(flow.get(name, "")).lower():
                return False
        status = self.fields["status"]
        return not (status == "ok" and not flow.get("ok")) and not (
            status == "error" and flow.get("ok")
        )
