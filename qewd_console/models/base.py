"""The part every flat table model of the console shares: row count, column count and
horizontal header from a fixed tuple of column names. Subclasses say how many rows they
hold and what their columns are called; cells stay theirs."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


class ColumnsModel(QAbstractTableModel):
    """A flat table whose header is ``headers()``."""

    def headers(self) -> tuple[str, ...]:
        """The column names, left to right."""
        raise NotImplementedError

    def row_total(self) -> int:
        """How many rows the model holds."""
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else self.row_total()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(self.headers())

    def headerData(  # noqa: N802 - Qt's name
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        names = self.headers()
        return names[section] if 0 <= section < len(names) else None
