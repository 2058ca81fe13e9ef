"""Small read-only table models: workers of a node, replay mismatches. Few rows each."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from qewd_console.models.base import ColumnsModel, Index


class RowsModel(ColumnsModel):
    """A read-only table of dict rows with fixed columns; ``set_rows`` replaces them."""

    columns: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        if rows == self._rows:
            return
        if len(rows) == len(self._rows):
            self._rows = [dict(r) for r in rows]
            if rows:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1)
                )
            return
        self.beginResetModel()
        self._rows = [dict(r) for r in rows]
        self.endResetModel()

    def headers(self) -> tuple[str, ...]:
        return self.columns

    def row_total(self) -> int:
        return len(self._rows)

    def row(self, index: int) -> dict[str, Any] | None:
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role != Qt.ItemDataRole.DisplayRole
            or not index.isValid()
            or not 0 <= index.row() < len(self._rows)
        ):
            return None
        return self.text(self._rows[index.row()], self.columns[index.column()])

    def text(self, row: dict[str, Any], column: str) -> str:
        value = row.get(column, "")
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


class WorkersModel(RowsModel):
    """Worker processes of one node."""

    columns = ("pid", "state", "busy", "handled", "memory")

    def text(self, row: dict[str, Any], column: str) -> str:
        if column == "memory":
            memory = row.get("memory")
            return f"{memory / 1048576:.1f} MiB" if isinstance(memory, int | float) else ""
        if column == "busy":
            return "yes" if row.get("busy") else "no"
        return super().text(row, column)


class MismatchesModel(RowsModel):
    """Replies of a replay that differ from the capture: entry number, type, diff lines."""

    columns = ("entry", "type", "diff")

    def text(self, row: dict[str, Any], column: str) -> str:
        if column == "diff":
            return " · ".join(str(line) for line in row.get("diff") or [])
        return super().text(row, column)
