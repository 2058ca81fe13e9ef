"""Latency plots: RTT per link and p50/p99 per route, bounded history, coalesced redraw.

One curve per link or route, created once and fed with ``setData`` from ``refresh``,
which the window calls on its redraw timer but which redraws only when new points came
(at most ``MAX_HZ``); ``paused`` freezes the picture.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from qewd_console.session.console import ConsoleSession
from qewd_console.session.mirror import MAX_HISTORY_SECONDS, MIN_HISTORY_SECONDS
from qewd_console.session.ring import TimeSeries

MAX_HZ = 4.0  # plot redraws a second at most: the data moves about once a second
PALETTE = [
    "#58a6ff",
    "#3fb950",
    "#d29922",
    "#f85149",
    "#bc8cff",
    "#39c5cf",
    "#ff7b72",
    "#e3b341",
    "#7ee787",
    "#a5d6ff",
]


class LatencyPlots(QWidget):
    """Two stacked plots with a pause switch."""

    def __init__(self, session: ConsoleSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.paused = False
        self.redraws = 0  # plot redraws done, for the console benchmark
        self._drawn: tuple[object, ...] = ()
        self._drawn_at = 0.0
        self.pause_box = QCheckBox("Pause plots (Ctrl+P)")
        self.pause_box.toggled.connect(self._pause)
        self.history_box = QSpinBox()
        self.history_box.setRange(int(MIN_HISTORY_SECONDS), int(MAX_HISTORY_SECONDS))
        self.history_box.setSingleStep(30)
        self.history_box.setSuffix(" s")
        self.history_box.setValue(int(session.latency_history))
        self.history_box.setToolTip("How much latency history to keep and show")
        self.history_box.valueChanged.connect(self.set_history)
        header = QHBoxLayout()
        header.addWidget(QLabel("Latency history"))
        header.addWidget(self.history_box)
        header.addStretch(1)
        header.addWidget(self.pause_box)
        self.links_plot = pg.PlotWidget(title="Link RTT (ms)")
        self.routes_plot = pg.PlotWidget(title="Route latency p50 / p99 (ms)")
        for plot in (self.links_plot, self.routes_plot):
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.addLegend(
                offset=(5, 5), labelTextSize="8pt", colCount=2, brush=pg.mkBrush(128, 128, 128, 40)
            )
            plot.setLabel("bottom", "seconds ago")
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setXRange(-session.latency_history, 0, padding=0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.links_plot, 1)
        layout.addWidget(self.routes_plot, 1)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.node_key = ""

    def _pause(self, on: bool) -> None:
        self.paused = on

    def set_history(self, seconds: int) -> None:
        """Keep and show ``seconds`` of history (older points are dropped as they age)."""
        self.session.set_latency_history(float(seconds))
        for plot in (self.links_plot, self.routes_plot):
            plot.setXRange(-float(seconds), 0, padding=0)
        self._drawn = ()  # redraw on the next tick

    def _curve(
        self, plot: pg.PlotWidget, key: str, label: str | None, colour: str, dashed: bool = False
    ) -> pg.PlotDataItem:
        curve = self.curves.get(key)
        if curve is None:
            style = pg.QtCore.Qt.PenStyle.DashLine if dashed else pg.QtCore.Qt.PenStyle.SolidLine
            curve = plot.plot(name=label, pen=pg.mkPen(colour, width=2, style=style))
            self.curves[key] = curve
        return curve

    @staticmethod
    def _set(curve: pg.PlotDataItem, series: TimeSeries, now: float) -> None:
        x = np.fromiter(series.times, dtype=float, count=len(series)) - now
        y = np.fromiter(series.values, dtype=float, count=len(series))
        curve.setData(x, y)

    def show_node(self, key: str) -> None:
        """Plot route latency as seen at this node (where its requests arrive)."""
        if key == self.node_key:
            return
        self.node_key = key
        for name in [k for k in self.curves if k.startswith("route:")]:
            self.routes_plot.removeItem(self.curves.pop(name))
        mirror = self.session.mirrors.get(key)
        label = mirror.label if mirror else key
        self.routes_plot.setTitle(f"Route latency at {label}: p50 solid, p99 dashed (ms)")

    def _data_signature(self) -> tuple[object, ...]:
        """What the plots show depends on: the newest point of every series, the node."""
        parts: list[object] = [self.node_key]
        for mirror in self.session.mirrors.values():
            parts += [(url, s.last_time) for url, s in mirror.link_rtt.items()]
            parts += [(r, s.last_time) for r, s in mirror.route_p50.items()]
        return tuple(parts)

    def refresh(self) -> None:
        """Redraw when new points came (stats arrive ~1/s a node), at most ``MAX_HZ``.

        Redrawing at the window's frame rate with unchanged data only re-rendered the axes
        (profiled at ~8 ms a plot a tick: the console's largest cost under load).
        """
        if self.paused or not self.isVisible():
            return
        now = time.time()
        signature = self._data_signature()
        if signature == self._drawn or now - self._drawn_at < 1.0 / MAX_HZ:
            return
        self._drawn, self._drawn_at = signature, now
        self.redraws += 1
        links = 0
        for mirror in self.session.mirrors.values():
            for url, series in mirror.link_rtt.items():
                target = self.session.node_for_url(url)
                label = f"{mirror.label}→{target.label if target else url}"
                colour = PALETTE[links % len(PALETTE)]
                links += 1
                self._set(
                    self._curve(self.links_plot, f"link:{mirror.key}:{url}", label, colour),
                    series,
                    now,
                )
        selected = self.session.mirrors.get(self.node_key)
        if selected is None:
            return
        for index, (route, series) in enumerate(sorted(selected.route_p50.items())):
            colour = PALETTE[index % len(PALETTE)]
            self._set(
                self._curve(self.routes_plot, f"route:p50:{route}", route, colour), series, now
            )
            self._set(
                self._curve(self.routes_plot, f"route:p99:{route}", None, colour, True),
                selected.route_p99[route],
                now,
            )

    def set_dark(self, dark: bool) -> None:
        for plot in (self.links_plot, self.routes_plot):
            plot.setBackground("#0d1117" if dark else "#ffffff")
