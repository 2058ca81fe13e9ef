"""The route-map editor: table and TOML views, inline problems, diff, guarded apply.

The table view edits destinations and routes row by row (add, remove, edit cells); each
edit rewrites the TOML text, and each text edit that parses refills the tables, so the
two views always show one map. Validation codes appear on the row they concern.

Apply is offered only after a validation of exactly the current text found no errors,
and carries the version the map was loaded at, so a concurrent change is a conflict the
user sees, never a silent overwrite. Network work happens in the window via signals.
"""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from qewd_console.models.route_tables import (
    DestinationRowsModel,
    EditableRowsModel,
    RouteRowsModel,
)
from qewd_console.session.mirror import NodeMirror


def map_to_toml(route_map: dict[str, Any]) -> str:
    return tomli_w.dumps({k: v for k, v in route_map.items() if v not in (None, {}, [])})


def toml_to_map(text: str) -> tuple[dict[str, Any] | None, str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, str(exc)
    data.setdefault("destinations", {})
    data.setdefault("routes", [])
    return data, ""


class RoutesEditor(QWidget):
    """Edits the selected node's route map."""

    validate_requested = Signal(str, dict)
    apply_requested = Signal(str, dict, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = ""
        self.loaded_version = 0
        self.remote_version = 0
        self.validated_text: str | None = None
        self.title = QLabel("select a node to edit its route map")
        self.title.setObjectName("panelTitle")
        self._syncing = False
        self.model = RouteRowsModel()
        self.destinations = DestinationRowsModel()
        self.table = self._table(self.model)
        self.destination_table = self._table(self.destinations)
        tables = QSplitter(Qt.Orientation.Vertical)
        tables.addWidget(self._section("Destinations", self.destination_table))
        tables.addWidget(self._section("Routes (first match wins)", self.table))
        self.text = QPlainTextEdit()
        self.text.setObjectName("jsonEditor")
        self.text.textChanged.connect(self._edited)
        self.views = QTabWidget()
        self.views.addTab(tables, "Table")
        self.views.addTab(self.text, "TOML")
        self.problems = QTreeWidget()
        self.problems.setHeaderLabels(["code", "severity", "where", "message"])
        self.problems.setRootIsDecorated(False)
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setPlaceholderText("diff against the node's map appears after Validate")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("statusMessage")
        reload_button = QPushButton("Reload from node")
        reload_button.clicked.connect(self.reload)
        validate = QPushButton("Validate && diff")
        validate.clicked.connect(self._validate)
        self.apply = QPushButton("Apply")
        self.apply.setObjectName("primary")
        self.apply.setEnabled(False)
        self.apply.clicked.connect(self._apply)
        buttons = QHBoxLayout()
        buttons.addWidget(reload_button)
        buttons.addStretch(1)
        buttons.addWidget(validate)
        buttons.addWidget(self.apply)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.problems)
        lower.addWidget(self.diff)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.views)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.mirror: NodeMirror | None = None

    def _table(self, model: EditableRowsModel) -> QTableView:
        table = QTableView()
        table.setModel(model)
        table.verticalHeader().setVisible(False)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)  # problems: codes can be long
        model.edited.connect(self._table_edited)
        return table

    def _section(self, title: str, table: QTableView) -> QWidget:
        add = QPushButton("+ Add")
        add.setToolTip("add a row below the selected one (or at the end)")
        add.clicked.connect(lambda: self.add_row(table))
        remove = QPushButton("- Remove")
        remove.clicked.connect(lambda: self.remove_rows(table))
        header = QHBoxLayout()
        header.addWidget(QLabel(title))
        header.addStretch(1)
        header.addWidget(add)
        header.addWidget(remove)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(table)
        return box

    @staticmethod
    def add_row(table: QTableView) -> None:
        model = table.model()
        rows = table.selectionModel().selectedRows()
        at = rows[-1].row() + 1 if rows else model.rowCount()
        model.insertRows(at, 1)
        table.selectRow(at)

    @staticmethod
    def remove_rows(table: QTableView) -> None:
        for index in sorted(table.selectionModel().selectedRows(), key=lambda i: -i.row()):
            table.model().removeRows(index.row(), 1)

    def table_map(self) -> dict[str, Any]:
        return {"destinations": self.destinations.to_map(), "routes": self.model.to_list()}

    def _table_edited(self) -> None:
        """A cell or row changed: the text follows (without refilling the tables)."""
        self._syncing = True
        try:
            self.text.setPlainText(map_to_toml(self.table_map()))
        finally:
            self._syncing = False

    def _fill_tables(self, route_map: dict[str, Any]) -> None:
        self.model.set_rows(list(route_map.get("routes") or []))
        self.destinations.set_map(dict(route_map.get("destinations") or {}))

    def show_node(self, mirror: NodeMirror | None) -> None:
        """Load a node's map when the user picks another node (edits stay otherwise)."""
        if mirror is None:
            return
        if mirror.key != self.key:
            self.mirror = mirror
            self.key = mirror.key
            self.reload()
        elif mirror.routes_version != self.remote_version:
            self.remote_version = mirror.routes_version  # tell once per change, not per tick
            if mirror.routes_version != self.loaded_version:
                self.message.setText(
                    f"The node's map is now version {mirror.routes_version} "
                    f"(you loaded {self.loaded_version}). Reload to see it."
                )

    def reload(self) -> None:
        if self.mirror is None:
            return
        self.loaded_version = self.remote_version = self.mirror.routes_version
        self.title.setText(f"Routes of {self.mirror.label} — version {self.loaded_version}")
        self.text.setPlainText(map_to_toml(self.mirror.routes_map))
        self._fill_tables(self.mirror.routes_map)
        self.problems.clear()
        self.diff.clear()
        self.message.setText("")

    def _edited(self) -> None:
        self.apply.setEnabled(self.validated_text == self.text.toPlainText())
        if self._syncing:
            for model in (self.model, self.destinations):
                model.set_problems([])  # the rows changed: old codes may point elsewhere
            return
        route_map, _ = toml_to_map(self.text.toPlainText())
        if route_map is not None:
            self._fill_tables(route_map)

    def _validate(self) -> None:
        route_map, problem = toml_to_map(self.text.toPlainText())
        if route_map is None:
            self.show_problems(
                [{"code": "R_BAD_TOML", "severity": "error", "where": "text", "message": problem}],
                [],
            )
            return
        self.validated_text = None
        self.message.setText("validating…")
        self.validate_requested.emit(self.key, route_map)

    def show_problems(self, problems: list[dict[str, Any]], diff: list[str]) -> None:
        """Show a validation result; Apply becomes possible if nothing is an error."""
        self.problems.clear()
        for problem in problems:
            item = QTreeWidgetItem(
                [str(problem.get(k, "")) for k in ("code", "severity", "where", "message")]
            )
            if problem.get("severity") == "error":
                item.setForeground(0, QColor("#f85149"))
            self.problems.addTopLevelItem(item)
        self.model.set_problems(problems)
        self.destinations.set_problems(problems)
        self.diff.setPlainText("\n".join(diff) if diff else "(no changes)")
        self._colour_diff()
        errors = [p for p in problems if p.get("severity") == "error"]
        ok = not errors
        self.validated_text = self.text.toPlainText() if ok else None
        self.apply.setEnabled(ok)
        self.message.setText(
            "valid: review the diff, then Apply"
            if ok
            else f"{len(errors)} error(s): fix them before applying"
        )

    def _colour_diff(self) -> None:
        cursor = QTextCursor(self.diff.document())
        block = self.diff.document().begin()
        while block.isValid():
            fmt = QTextCharFormat()
            if block.text().startswith("+"):
                fmt.setForeground(QColor("#3fb950"))
            elif block.text().startswith("-"):
                fmt.setForeground(QColor("#f85149"))
            else:
                block = block.next()
                continue
            cursor.setPosition(block.position())
            cursor.setPosition(
                block.position() + block.length() - 1, QTextCursor.MoveMode.KeepAnchor
            )
            cursor.setCharFormat(fmt)
            block = block.next()

    def _apply(self) -> None:
        route_map, _ = toml_to_map(self.text.toPlainText())
        if route_map is not None:
            self.message.setText("applying…")
            self.apply_requested.emit(self.key, route_map, self.loaded_version)

    def show_applied(self, version: int) -> None:
        self.loaded_version = self.remote_version = version
        self.validated_text = None
        self.apply.setEnabled(False)
        self.message.setText(f"applied: the node now runs version {version}")

    def show_failure(self, code: str, text: str, reply: dict[str, Any]) -> None:
        if code == "E_CONFLICT":
            self.message.setText(
                f"Conflict: the node's map changed to version {reply.get('version')} since "
                f"you loaded version {self.loaded_version}. Reload, redo your edit, apply again."
            )
        elif code == "E_BAD_ROUTES":
            self.show_problems(list(reply.get("problems") or []), [])
            self.message.setText("the node refused the map: see the problems above")
        else:
            self.message.setText(f"{code}: {text}")
        self.apply.setEnabled(False)
