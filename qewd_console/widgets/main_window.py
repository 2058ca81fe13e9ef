"""The main window: composes the views, runs the redraw timer, turns requests into ops.

Owns the ~25 fps redraw tick (every view refreshes from session state there, never per
message), keyboard shortcuts, the status bar and where errors are shown. Ops run as
session tasks; their outcome comes back to the view that asked.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDoubleSpinBox,
    QLabel,
    QMainWindow,
    QSplitter,
    QTabWidget,
)

from qewd_console.models.connections import ConnectionBook
from qewd_console.models.flows import FlowsModel
from qewd_console.plots.latency import LatencyPlots
from qewd_console.session.console import ConsoleSession
from qewd_console.session.embedded import Attachment
from qewd_console.session.monitor_client import MonitorError
from qewd_console.session.token_store import TokenStore, default_token_store
from qewd_console.session.traffic import TrafficGenerator
from qewd_console.session.ws_client import CallResult
from qewd_console.widgets.capture_control import CaptureControl
from qewd_console.widgets.capture_panel import CapturePanel
from qewd_console.widgets.composer import Composer
from qewd_console.widgets.connect_dialog import ConnectDialog
from qewd_console.widgets.flows_panel import FlowsPanel
from qewd_console.widgets.link_panel import LinkPanel
from qewd_console.widgets.mesh_graph import MeshGraph
from qewd_console.widgets.node_panel import NodePanel
from qewd_console.widgets.routes_editor import RoutesEditor
from qewd_console.widgets.theme import apply_theme

FRAME_MS = 40  # ~25 redraws a second, however fast the data comes
STATE_COLOURS = {"up": "#3fb950", "connecting": "#d29922", "down": "#f85149"}


class MainWindow(QMainWindow):
    """Graph and flows on the left; latency, node, routes and composer on the right."""

    def __init__(
        self,
        session: ConsoleSession,
        traffic: TrafficGenerator | None = None,
        dark: bool = False,
        *,
        settings: QSettings | None = None,
        tokens: TokenStore | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.settings = settings if settings is not None else QSettings()
        self.book = ConnectionBook(
            self.settings, tokens if tokens is not None else default_token_store()
        )
        self.connect_dialog: ConnectDialog | None = None
        self.traffic = traffic
        self.dark = dark
        self.selected = ""
        self._seen_version = -1
        self.setWindowTitle("QEWD Mesh console")
        self.resize(1500, 900)
        self.graph = MeshGraph(session, self.settings)
        self.flows_model = FlowsModel(session)
        self.flows = FlowsPanel(self.flows_model)
        self.plots = LatencyPlots(session)
        self.node_panel = NodePanel()
        self.link_panel = LinkPanel(session)
        self.routes = RoutesEditor()
        self.composer = Composer()
        self.left_tabs = QTabWidget()
        self.left_tabs.addTab(self.flows, "Flows")
        self.left_tabs.addTab(self.composer, "Composer")
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.graph)
        left.addWidget(self.left_tabs)
        left.setSizes([380, 520])
        self.right_tabs = QTabWidget()
        self.right_tabs.addTab(self.plots, "Latency")
        self.right_tabs.addTab(self.node_panel, "Node")
        self.right_tabs.addTab(self.routes, "Routes")
        self.capture = CapturePanel(Path(tempfile.gettempdir()))
        self.right_tabs.addTab(self.capture, "Capture/replay")
        self.right_tabs.addTab(self.link_panel, "Link")
        self.capture_control = CaptureControl(session, self.capture)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(self.right_tabs)
        main.setSizes([900, 600])
        self.setCentralWidget(main)
        self._menu()
        self._toolbar()
        self._status()
        self._shortcuts()
        self.graph.node_selected.connect(self.select_node)
        self.graph.link_selected.connect(self._link_selected)
        self.node_panel.resize_requested.connect(self._resize)
        self.node_panel.stop_requested.connect(self._stop_worker)
        self.routes.validate_requested.connect(self._validate)
        self.routes.apply_requested.connect(self._apply)
        self.composer.fire_requested.connect(self._fire)
        self.flows.payloads_toggled.connect(
            lambda on: session.spawn(session.set_payloads(on), "payloads")
        )
        session.listeners.append(self._session_event)
        self.set_dark(dark)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.slow_timer = QTimer(self)
        self.slow_timer.setInterval(500)
        self.slow_timer.timeout.connect(self._slow_tick)
        self.slow_timer.start()

    # -- construction ---------------------------------------------------------------

    def _menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.connect_action = QAction("&Connect…", self)
        self.connect_action.setShortcut(QKeySequence("Ctrl+N"))
        self.connect_action.triggered.connect(self.open_connect_dialog)
        file_menu.addAction(self.connect_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

    def _toolbar(self) -> None:
        bar = self.addToolBar("Main")
        bar.setMovable(False)
        self.traffic_action = QAction("▶ Traffic", self)
        self.traffic_action.setCheckable(True)
        self.traffic_action.setShortcut(QKeySequence("Ctrl+G"))
        self.traffic_action.setToolTip("Start/stop the demo traffic generator (Ctrl+G)")
        self.traffic_action.toggled.connect(self.set_traffic)
        self.traffic_action.setEnabled(self.traffic is not None)
        bar.addAction(self.traffic_action)
        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.5, 5000)
        self.rate.setSuffix(" msg/s")
        self.rate.setValue(self.traffic.rate if self.traffic else 20)
        self.rate.valueChanged.connect(self._rate)
        bar.addWidget(self.rate)
        bar.addSeparator()
        fit = QAction("Fit graph", self)
        fit.setShortcut(QKeySequence("Ctrl+0"))
        fit.triggered.connect(self.graph.fit)
        bar.addAction(fit)
        theme = QAction("Dark/light", self)
        theme.setShortcut(QKeySequence("Ctrl+T"))
        theme.triggered.connect(lambda: self.set_dark(not self.dark))
        bar.addAction(theme)

    def _status(self) -> None:
        self.connections = QLabel()
        self.connections.setTextFormat(Qt.TextFormat.RichText)
        self.rates = QLabel()
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #f85149;")
        status = self.statusBar()
        status.addWidget(self.connections)
        status.addWidget(self.error_label, 1)
        status.addPermanentWidget(self.rates)

    def _shortcuts(self) -> None:
        for number, (tabs, index) in enumerate(
            [
                (self.left_tabs, 0),
                (self.left_tabs, 1),
                (self.right_tabs, 0),
                (self.right_tabs, 1),
                (self.right_tabs, 2),
            ],
            start=1,
        ):
            QShortcut(
                QKeySequence(f"Ctrl+{number}"), self, lambda t=tabs, i=index: t.setCurrentIndex(i)
            )
        QShortcut(QKeySequence("Ctrl+F"), self, self._focus_filter)
        QShortcut(QKeySequence("Ctrl+P"), self, self.plots.pause_box.toggle)
        QShortcut(QKeySequence("Ctrl+Q"), self, self.close)

    def _focus_filter(self) -> None:
        self.left_tabs.setCurrentIndex(0)
        self.flows.filters["type"].setFocus()

    # -- ticking --------------------------------------------------------------------

    def tick(self) -> None:
        """One redraw: every view catches up with the session."""
        self.graph.refresh()
        self.flows.refresh()
        self.plots.refresh()
        if self.session.version != self._seen_version:
            self._seen_version = self.session.version
            mirror = self.session.mirrors.get(self.selected)
            self.node_panel.show_node(mirror)
            self.routes.show_node(mirror)
            self.link_panel.refresh()

    def _slow_tick(self) -> None:
        parts = []
        apps: dict[str, set[str]] = {}
        total_in = 0.0
        dropped = 0
        for mirror in self.session.mirrors.values():
            colour = STATE_COLOURS.get(mirror.state, "#8b949e")
            tip = f" ({mirror.error})" if mirror.error and mirror.state != "up" else ""
            parts.append(f"<span style='color:{colour}'>●</span> {mirror.label}{tip}")
            total_in += mirror.rates.get("in", 0.0)
            dropped += mirror.flows_dropped
            for app, types in (mirror.info.get("apps") or {}).items():
                apps.setdefault(app, set()).update(types)
        self.connections.setText("  ".join(parts))
        traffic = ""
        if self.traffic is not None:
            traffic = f"  ·  generator sent {self.traffic.sent}, errors {self.traffic.errors}"
        self.rates.setText(
            f"{total_in:.0f} msg/s in  ·  {len(self.session.flows)} flows kept"
            f"  ·  {dropped} dropped{traffic}"
        )
        self.capture.set_nodes([(m.key, m.label) for m in self.session.mirrors.values()])
        self.composer.set_nodes(
            [(m.key, m.label) for m in self.session.mirrors.values()],
            {app: sorted(types) for app, types in apps.items()},
        )
        if not self.selected and self.session.mirrors:
            self.select_node(next(iter(self.session.mirrors)))

    def _session_event(self, event: str, text: str) -> None:
        if event == "error":
            self.show_error(text)

    def show_error(self, text: str) -> None:
        self.error_label.setText(f"⚠ {text}")
        self.error_label.setToolTip("\n".join(self.session.errors))

    # -- selection ------------------------------------------------------------------

    def select_node(self, key: str) -> None:
        self.selected = key
        self._seen_version = -1
        mirror = self.session.mirrors.get(key)
        self.node_panel.show_node(mirror)
        self.routes.show_node(mirror)
        self.plots.show_node(key)
        index = self.composer.target.findData(key)
        if index >= 0:
            self.composer.target.setCurrentIndex(index)

    def _link_selected(self, src: str, url: str) -> None:
        self.link_panel.show_link(src, url)
        self.right_tabs.setCurrentWidget(self.link_panel)

    # -- connecting -----------------------------------------------------------------

    def open_connect_dialog(self) -> ConnectDialog:
        """File → Connect…: one dialog per window, reused."""
        if self.connect_dialog is None:
            self.connect_dialog = ConnectDialog(self.book, self)
            self.connect_dialog.connect_requested.connect(self._connect)
        self.connect_dialog.refresh()
        self.connect_dialog.open()
        return self.connect_dialog

    def _connect(self, url: str, token: str, label: str) -> None:
        dialog = self.connect_dialog
        assert dialog is not None

        async def run() -> None:
            try:
                mirror = await self.session.connect(Attachment(url, token))
            except MonitorError as exc:
                dialog.show_failure(f"{exc.text} ({exc.code})")
                return
            dialog.show_connected(url, token, label)
            self.statusBar().showMessage(f"attached to {url}", 5000)
            self.select_node(mirror.key)

        self.session.spawn(run(), "connect")

    # -- requests from views --------------------------------------------------------

    def set_traffic(self, on: bool) -> None:
        if self.traffic is None:
            return
        if on:
            self.traffic.start()
            self.traffic_action.setText("■ Traffic")
        else:
            self.session.spawn(self.traffic.stop(), "traffic.stop")
            self.traffic_action.setText("▶ Traffic")
        if self.traffic_action.isChecked() != on:
            self.traffic_action.setChecked(on)

    def _rate(self, value: float) -> None:
        if self.traffic is not None:
            self.traffic.rate = value

    def _resize(self, key: str, size: int) -> None:
        async def run() -> None:
            reply = await self.session.resize_pool(key, size)
            self.statusBar().showMessage(f"pool resized to {reply.get('size', size)}", 5000)

        self.session.spawn(run(), "pool.resize")

    def _stop_worker(self, key: str, pid: int) -> None:
        async def run() -> None:
            await self.session.stop_worker(key, pid)
            self.statusBar().showMessage(f"worker {pid} stopped", 5000)

        self.session.spawn(run(), "worker.stop")

    def _validate(self, key: str, route_map: dict[str, Any]) -> None:
        async def run() -> None:
            try:
                reply = await self.session.validate_routes(key, route_map)
            except MonitorError as exc:
                self.routes.show_failure(exc.code, exc.text, exc.reply)
                return
            self.routes.show_problems(
                list(reply.get("problems") or []), list(reply.get("diff") or [])
            )

        self.session.spawn(run(), "routes.validate")

    def _apply(self, key: str, route_map: dict[str, Any], version: int) -> None:
        async def run() -> None:
            try:
                reply = await self.session.apply_routes(key, route_map, version)
            except MonitorError as exc:
                self.routes.show_failure(exc.code, exc.text, exc.reply)
                return
            self.routes.show_applied(int(reply.get("version", version + 1)))

        self.session.spawn(run(), "routes.apply")

    def _fire(  # noqa: PLR0917 - the slot takes fire_requested's six arguments
        self, key: str, app: str, msg_type: str, params: dict[str, Any], count: int, rate: float
    ) -> None:
        async def run() -> None:
            try:
                await self.session.compose(
                    key,
                    app,
                    msg_type,
                    params,
                    count=count,
                    rate=rate,
                    on_result=self._composed,
                    on_intermediate=self.composer.show_intermediate,
                )
            except Exception as exc:
                self.composer.show_error(str(exc))
                raise

        self.session.spawn(run(), "compose")

    def _composed(self, result: CallResult) -> None:
        self.composer.show_result(result)

    # -- theme and shutdown ---------------------------------------------------------

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, dark)
        self.graph.set_dark(dark)
        self.plots.set_dark(dark)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.timer.stop()
        self.slow_timer.stop()
        if self._session_event in self.session.listeners:
            self.session.listeners.remove(self._session_event)
        super().closeEvent(event)
