"""Light and dark themes: the qss files in resources/ and a matching palette."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def stylesheet(name: str) -> str:
    return (resources.files("qewd_console") / "resources" / f"{name}.qss").read_text("utf-8")


def apply_theme(app: QApplication, dark: bool) -> None:
    """Set the palette (for painted widgets) and the stylesheet (for the rest)."""
    palette = QPalette()
    if dark:
        colours = {
            QPalette.ColorRole.Window: "#0d1117",
            QPalette.ColorRole.WindowText: "#e6edf3",
            QPalette.ColorRole.Base: "#161b22",
            QPalette.ColorRole.AlternateBase: "#1c2128",
            QPalette.ColorRole.Text: "#e6edf3",
            QPalette.ColorRole.Button: "#21262d",
            QPalette.ColorRole.ButtonText: "#e6edf3",
            QPalette.ColorRole.Highlight: "#1f6feb",
            QPalette.ColorRole.HighlightedText: "#ffffff",
        }
    else:
        colours = {
            QPalette.ColorRole.Window: "#f6f8fa",
            QPalette.ColorRole.WindowText: "#1f2328",
            QPalette.ColorRole.Base: "#ffffff",
            QPalette.ColorRole.AlternateBase: "#f6f8fa",
            QPalette.ColorRole.Text: "#1f2328",
            QPalette.ColorRole.Button: "#f3f4f6",
            QPalette.ColorRole.ButtonText: "#1f2328",
            QPalette.ColorRole.Highlight: "#0969da",
            QPalette.ColorRole.HighlightedText: "#ffffff",
        }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    app.setStyleSheet(stylesheet("dark" if dark else "light"))
