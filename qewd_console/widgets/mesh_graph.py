"""The mesh graph: nodes (health, pool load, queue), links (state, RTT) and message dots.

Reads session mirrors and the flow ring on a timer. A fixed pool of dot items is reused
for animation, so the item count never depends on traffic. Layout is layered from the
entry nodes and stable: a node keeps its place, and where the user dragged it. Dragged
places are saved in QSettings under the set of node names, and restored when the same
set of nodes is seen again (the next start of the same mesh).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QSettings, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QStyle,
    QStyleOptionGraphicsItem,
    QWidget,
)

from qewd_console.session.console import ConsoleSession

HEALTH = {"ok": QColor("#3fb950"), "warn": QColor("#d29922"), "bad": QColor("#f85149")}
DOTS = 80
DOTS_PER_LINK_TICK = 3
NODE_W, NODE_H = 150.0, 68.0
LAYOUT_GROUP = "graph_layouts"


def layout_key(names: set[str]) -> str:
    """Settings key of a set of node names: order-free, and free of the ``/`` and ``\\``
    that QSettings reads as group separators (names may hold anything)."""
    digest = hashlib.sha256(json.dumps(sorted(names)).encode()).hexdigest()[:20]
    return f"{LAYOUT_GROUP}/{digest}"


def latency_colour(rtt: float | None) -> QColor:
    if rtt is None:
        return QColor("#8b949e")
    if rtt < 1.0:
        return QColor("#3fb950")
    if rtt < 10.0:
        return QColor("#d29922")
    return QColor("#f85149")


class NodeItem(QGraphicsRectItem):
    """A node box: name, health border, pool load bar and queue depth."""

    def __init__(self, key: str) -> None:
        super().__init__(-NODE_W / 2, -NODE_H / 2, NODE_W, NODE_H)
        self.key = key
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
        )
        self.setZValue(2)
        self.title = QGraphicsSimpleTextItem(self)
        font = QFont()
        font.setBold(True)
        self.title.setFont(font)
        self.detail = QGraphicsSimpleTextItem(self)
        self.load_bar = QGraphicsRectItem(self)
        self.load_back = QGraphicsRectItem(-NODE_W / 2 + 8, NODE_H / 2 - 10, NODE_W - 16, 5, self)
        self.load_back.setBrush(QColor(128, 128, 128, 60))
        self.load_back.setPen(QPen(Qt.PenStyle.NoPen))
        self.load_bar.setPen(QPen(Qt.PenStyle.NoPen))

    def show_state(
        self, title: str, health: str, load: float, *, detail: str, fill: QColor, text: QColor
    ) -> None:
        self.title.setText(title)
        self.title.setBrush(text)
        self.detail.setText(detail)
        self.detail.setBrush(text)
        self.title.setPos(-NODE_W / 2 + 8, -NODE_H / 2 + 6)
        self.detail.setPos(-NODE_W / 2 + 8, -NODE_H / 2 + 23)
        width = 3.0 if self.isSelected() else 2.0
        self.setPen(QPen(HEALTH[health], width))
        self.setBrush(fill)
        self.load_bar.setRect(-NODE_W / 2 + 8, NODE_H / 2 - 10, (NODE_W - 16) * load, 5)
        self.load_bar.setBrush(HEALTH["warn"] if load > 0.8 else QColor("#58a6ff"))


@dataclass
class Dot:
    item: QGraphicsEllipseItem
    src: str = ""
    dst: str = ""
    progress: float = 1.0


class LinkItem(QGraphicsLineItem):
    """A link between two node boxes; selectable, labelled with RTT."""

    def __init__(self, src: str, dst: str, url: str) -> None:
        super().__init__()
        self.src, self.dst, self.url = src, dst, url
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.label = QGraphicsSimpleTextItem()
        self.label.setZValue(1)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        # A selected link is drawn thicker (in refresh); Qt's dashed bounding box around a
        # diagonal line would only look like two phantom links.
        option.state &= ~QStyle.StateFlag.State_Selected
        super().paint(painter, option, widget)


class MeshGraph(QGraphicsView):
    """The graph view; ``node_selected``/``link_selected`` report what the user clicked."""

    node_selected = Signal(str)
    link_selected = Signal(str, str)

    def __init__(
        self, session: ConsoleSession, settings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self._restored_for: frozenset[str] = frozenset()
        self.paints = 0  # viewport paint events, for the console benchmark
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumSize(420, 260)
        self.nodes: dict[str, NodeItem] = {}
        self.links: dict[tuple[str, str], LinkItem] = {}
        self.dots = [Dot(self._dot()) for _ in range(DOTS)]
        self._flow_seq = 0
        self.dark = False
        self.scene().selectionChanged.connect(self._selection)

    def _dot(self) -> QGraphicsEllipseItem:
        item = QGraphicsEllipseItem(-4, -4, 8, 8)
        item.setBrush(QColor("#58a6ff"))
        item.setPen(QPen(Qt.PenStyle.NoPen))
        item.setZValue(3)
        item.setVisible(False)
        self.scene().addItem(item)
        return item

    def _selection(self) -> None:
        for item in self.scene().selectedItems():
            if isinstance(item, NodeItem):
                self.node_selected.emit(item.key)
            elif isinstance(item, LinkItem):
                self.link_selected.emit(item.src, item.url)

    def _depths(self) -> dict[str, int]:
        targets = {dst for (_, dst) in self.links}
        keys = list(self.session.mirrors)
        roots = [k for k in keys if k not in targets] or keys[:1]
        depth = dict.fromkeys(roots, 0)
        frontier = list(roots)
        while frontier:
            nxt = []
            for src in frontier:
                for a, b in self.links:
                    if a == src and b not in depth:
                        depth[b] = depth[src] + 1
                        nxt.append(b)
            frontier = nxt
        return depth

    def refresh(self) -> None:
        """Sync items with the mirrors and advance the dots (called ~25 times a second)."""
        session = self.session
        changed = self._forget_detached()
        for key, mirror in session.mirrors.items():
            for url in mirror.links:
                target = session.node_for_url(url)
                if target is not None and (key, target.key) not in self.links:
                    item = LinkItem(key, target.key, url)
                    self.links[(key, target.key)] = item
                    self.scene().addItem(item)
                    self.scene().addItem(item.label)
                    changed = True
        for key in session.mirrors:
            if key not in self.nodes:
                self.nodes[key] = NodeItem(key)
                self.scene().addItem(self.nodes[key])
                changed = True
        if changed:
            self._relayout()
        self._restore_layout()
        fill = QColor("#161b22") if self.dark else QColor("#ffffff")
        text = QColor("#e6edf3") if self.dark else QColor("#1f2328")
        for key, node_item in self.nodes.items():
            mirror = session.mirrors[key]
            rate = mirror.rates.get("in", 0.0)
            detail = (
                f"{mirror.state}  {mirror.busy}/{mirror.pool_size} busy\n"
                f"queue {mirror.queue}  {rate:.0f} msg/s"
            )
            node_item.show_state(
                mirror.label, mirror.health, mirror.load, detail=detail, fill=fill, text=text
            )
        for (src, dst), link_item in self.links.items():
            link = session.mirrors[src].links.get(link_item.url, {})
            a, b = self.nodes[src].pos(), self.nodes[dst].pos()
            link_item.setLine(a.x(), a.y(), b.x(), b.y())
            rtt = link.get("rtt_ms")
            up = link.get("state") == "up"
            pen = QPen(
                latency_colour(rtt if isinstance(rtt, int | float) else None),
                3.0 if link_item.isSelected() else 2.0,
            )
            if not up:
                pen.setStyle(Qt.PenStyle.DashLine)
                pen.setColor(HEALTH["bad"])
            link_item.setPen(pen)
            label = f"{rtt:.2f} ms" if isinstance(rtt, int | float) else str(link.get("state", ""))
            link_item.label.setText(label)
            link_item.label.setBrush(text)
            mid = (a + b) / 2
            link_item.label.setPos(mid.x() - 20, mid.y() - 18)
        self._animate()

    def _relayout(self) -> None:
        """Columns by hops from the entry nodes; each column centred on its parents."""
        depths = self._depths()
        columns: dict[int, list[str]] = {}
        for key in self.nodes:
            columns.setdefault(depths.get(key, 0), []).append(key)
        for depth in sorted(columns):
            keys = columns[depth]
            parents = [
                self.nodes[a].pos().y()
                for (a, b) in self.links
                if b in keys and depths.get(a, 0) < depth
            ]
            centre = sum(parents) / len(parents) if parents else 0.0
            for row, key in enumerate(keys):
                item = self.nodes[key]
                if item.data(0) != "placed":
                    item.setPos(depth * 240.0, centre + (row - (len(keys) - 1) / 2) * 95.0)
        self.fit()

    def fit(self) -> None:
        rect = self.scene().itemsBoundingRect().adjusted(-30, -30, 30, 30)
        self.setSceneRect(rect)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit()

    def _animate(self) -> None:
        """Advance running dots; start a few new ones per link from recent flows (sampled)."""
        for dot in self.dots:
            if dot.progress < 1.0:
                dot.progress = min(1.0, dot.progress + 0.08)
                a, b = self.nodes[dot.src].pos(), self.nodes[dot.dst].pos()
                dot.item.setPos(a + (b - a) * dot.progress)
                dot.item.setVisible(dot.progress < 1.0)
        fresh = self.session.flows.since(self._flow_seq)
        self._flow_seq = self.session.flows.next_seq
        started: dict[tuple[str, str], int] = {}
        free = iter([d for d in self.dots if d.progress >= 1.0])
        for _, record in reversed(fresh[-200:]):
            trace = record.flow.get("trace") or []
            src = record.source
            for hop in trace[1:2]:
                target = self.session.mirror_named(str(hop.get("node", "")))
                if target is None or (src, target.key) not in self.links:
                    continue
                pair = (src, target.key)
                if started.get(pair, 0) >= DOTS_PER_LINK_TICK:
                    continue
                spare = next(free, None)
                if spare is None:
                    return
                dot = spare
                started[pair] = started.get(pair, 0) + 1
                dot.src, dot.dst, dot.progress = src, target.key, 0.0
                dot.item.setPos(self.nodes[src].pos())
                dot.item.setVisible(True)

    def _forget_detached(self) -> bool:
        """Drop items of nodes no longer attached; True if any went."""
        gone = [key for key in self.nodes if key not in self.session.mirrors]
        for key in gone:
            self.scene().removeItem(self.nodes.pop(key))
        for pair in [p for p in self.links if p[0] in gone or p[1] in gone]:
            link = self.links.pop(pair)
            self.scene().removeItem(link.label)
            self.scene().removeItem(link)
        if gone:
            for dot in self.dots:
                dot.progress = 1.0
                dot.item.setVisible(False)
        return bool(gone)

    def _names(self) -> dict[str, str] | None:
        """Node name -> key, once every attached node has told its name."""
        mirrors = self.session.mirrors.values()
        if not mirrors or any(not m.name for m in mirrors):
            return None
        return {m.name: m.key for m in mirrors}

    def _restore_layout(self) -> None:
        names = self._names()
        if names is None or frozenset(names) == self._restored_for:
            return
        self._restored_for = frozenset(names)
        saved = self.settings.value(layout_key(set(names)), "")
        try:
            places = json.loads(str(saved)) if saved else {}
        except ValueError:
            return  # a damaged entry: keep the computed layout
        for name, xy in places.items() if isinstance(places, dict) else ():
            item = self.nodes.get(names.get(name, ""))
            if item is not None and isinstance(xy, list) and len(xy) == 2:
                item.setPos(QPointF(float(xy[0]), float(xy[1])))
                item.setData(0, "placed")
        if places:
            self.fit()

    def save_layout(self) -> None:
        """Remember every node's place under this set of names."""
        names = self._names()
        if names is None:
            return
        places = {
            name: [self.nodes[key].pos().x(), self.nodes[key].pos().y()]
            for name, key in names.items()
            if key in self.nodes
        }
        self.settings.setValue(layout_key(set(names)), json.dumps(places))
        self.settings.sync()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        placed = False
        for item in self.scene().selectedItems():
            if isinstance(item, NodeItem):
                item.setData(0, "placed")  # the user placed it: layout leaves it there
                placed = True
        super().mouseReleaseEvent(event)
        if placed:
            self.save_layout()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        self.paints += 1
        super().paintEvent(event)

    def select_key(self, key: str) -> None:
        item = self.nodes.get(key)
        if item is not None:
            self.scene().clearSelection()
            item.setSelected(True)

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self.setBackgroundBrush(QBrush(QColor("#0d1117") if dark else QColor("#f6f8fa")))
