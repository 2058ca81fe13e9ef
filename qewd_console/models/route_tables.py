"""Editable table models of a route map: destinations and routes, with problems per row.

Owns turning cells into map entries and back (``types``/``members`` as comma lists; empty
optional cells leave the key out) and placing validation problems on the row their
``where`` names (``routes[2].destination``, ``destinations.far.url``, with an optional
``mesh.NODE.`` prefix). Views edit through Qt's API; ``edited`` says the map changed.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from qewd_console.models.base import ColumnsModel, Index

PROBLEMS = "problems"
ERROR_COLOUR = QColor("#f85149")
WARNING_COLOUR = QColor("#d29922")
ROUTE_WHERE = re.compile(r"^(?:mesh\.[^.]+\.)?routes\[(\d+)\]")
DESTINATION_WHERE = re.compile(r"^(?:mesh\.[^.]+\.)?destinations\.([^.\[]+)")


class EditableRowsModel(ColumnsModel):
    """Rows of dicts; the last column shows the problem codes found on each row."""

    edited = Signal()
    columns: tuple[str, ...] = ()
    list_columns: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.problems: dict[int, list[dict[str, Any]]] = {}

    # -- contents -------------------------------------------------------------------

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Replace every row (from the text view or the node); problems no longer apply."""
        if rows == self.rows and not self.problems:
            return
        self.beginResetModel()
        self.rows = [dict(row) for row in rows]
        self.problems = {}
        self.endResetModel()

    def set_problems(self, problems: list[dict[str, Any]]) -> None:
        """Put each problem on the row its ``where`` names (others are not shown here)."""
        self.problems = {}
        for problem in problems:
            row = self.row_of(str(problem.get("where", "")))
            if row is not None and 0 <= row < len(self.rows):
                self.problems.setdefault(row, []).append(problem)
        if self.rows:
            column = len(self.columns)
            self.dataChanged.emit(self.index(0, column), self.index(len(self.rows) - 1, column))

    def row_of(self, where: str) -> int | None:
        raise NotImplementedError

    def cell(self, row: dict[str, Any], column: str) -> str:
        value = row.get(column)
        if value is None:
            return ""
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return str(value)

    def parse(self, column: str, text: str) -> Any:
        text = text.strip()
        if column in self.list_columns:
            return [part.strip() for part in text.split(",") if part.strip()]
        return text

    # -- Qt -------------------------------------------------------------------------

    def headers(self) -> tuple[str, ...]:
        return (*self.columns, PROBLEMS)

    def row_total(self) -> int:
        return len(self.rows)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() < len(self.columns):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, column = index.row(), index.column()
        if column == len(self.columns):
            found = self.problems.get(row, [])
            if role == Qt.ItemDataRole.DisplayRole:
                return ", ".join(str(p.get("code", "")) for p in found)
            if role == Qt.ItemDataRole.ToolTipRole and found:
                return "\n".join(
                    f"{p.get('code')} {p.get('where')}: {p.get('message')}" for p in found
                )
            if role == Qt.ItemDataRole.ForegroundRole and found:
                errors = any(p.get("severity") == "error" for p in found)
                return ERROR_COLOUR if errors else WARNING_COLOUR
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self.cell(self.rows[row], self.columns[column])
        if role == Qt.ItemDataRole.BackgroundRole and row in self.problems:
            return QColor(248, 81, 73, 40)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802 - Qt's name
        if (
            role != Qt.ItemDataRole.EditRole
            or not index.isValid()
            or not 0 <= index.row() < len(self.rows)
            or index.column() >= len(self.columns)
        ):
            return False
        column = self.columns[index.column()]
        parsed = self.parse(column, str(value))
        row = self.rows[index.row()]
        if parsed in ("", []):
            row.pop(column, None)
        else:
            row[column] = parsed
        self.dataChanged.emit(index, index)
        self.edited.emit()
        return True

    def insertRows(self, row: int, count: int, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802 - Qt's signature
        if parent.isValid() or count < 1 or not 0 <= row <= len(self.rows):
            return False
        self.beginInsertRows(QModelIndex(), row, row + count - 1)
        self.rows[row:row] = [self.blank(row + n) for n in range(count)]
        self.problems = {}
        self.endInsertRows()
        self.edited.emit()
        return True

    def removeRows(self, row: int, count: int, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802 - Qt's signature
        if parent.isValid() or count < 1 or row < 0 or row + count > len(self.rows):
            return False
        self.beginRemoveRows(QModelIndex(), row, row + count - 1)
        del self.rows[row : row + count]
        self.problems = {}
        self.endRemoveRows()
        self.edited.emit()
        return True

    def blank(self, position: int) -> dict[str, Any]:
        return {}


class RouteRowsModel(EditableRowsModel):
    """The ``routes`` list, in order (first match wins)."""

    columns = ("application", "types", "path", "method", "destination")
    list_columns = frozenset({"types"})

    def row_of(self, where: str) -> int | None:
        match = ROUTE_WHERE.match(where)
        return int(match.group(1)) if match else None

    def blank(self, position: int) -> dict[str, Any]:
        return {"application": "app", "types": ["*"], "destination": ""}

    def to_list(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.rows]


class DestinationRowsModel(EditableRowsModel):
    """The ``destinations`` table: a node (``url``) or a group (``members`` and ``mode``)."""

    columns = ("name", "url", "members", "mode")
    list_columns = frozenset({"members"})

    def row_of(self, where: str) -> int | None:
        match = DESTINATION_WHERE.match(where)
        if match is None:
            return None
        return next(
            (i for i, row in enumerate(self.rows) if row.get("name") == match.group(1)), None
        )

    def blank(self, position: int) -> dict[str, Any]:
        names = {row.get("name") for row in self.rows}
        number = next(n for n in range(1, len(names) + 2) if f"dest{n}" not in names)
        return {"name": f"dest{number}", "url": "ws://127.0.0.1:8081/ws"}

    def set_map(self, destinations: dict[str, Any]) -> None:
        self.set_rows([{"name": name, **dict(entry)} for name, entry in destinations.items()])

    def to_map(self) -> dict[str, Any]:
        return {
            str(row["name"]): {k: v for k, v in row.items() if k != "name"}
            for row in self.rows
            if row.get("name")
        }
