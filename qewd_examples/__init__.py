"""Sample applications for QEWD Mesh nodes: ``clinic`` (patients, login, progress
messages) and ``audit`` (audit records, then an archive, along a chain of nodes).

``examples/node.toml`` and ``examples/mesh.toml`` run them, and so does the console's
demo mesh; they ship with the package, so an installed console can start its demo.
"""
