"""Qt item models adapting session state; no widgets, no network."""
