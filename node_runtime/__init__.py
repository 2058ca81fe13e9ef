"""QEWD Mesh node runtime: a master process, a worker pool and persistent peer links."""

from node_runtime.errors import HandlerError, NodeError

__all__ = ["HandlerError", "NodeError"]
__version__ = "0.1.0"
