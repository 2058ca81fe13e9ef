"""pyqtgraph views with coalesced redraw."""
