"""QEWD Mesh desktop console: watches and drives a mesh through /monitor and /ws."""
