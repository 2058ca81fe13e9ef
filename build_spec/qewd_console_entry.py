"""Entry point of the frozen console bundle (see qewd-console.spec).

The bundle's executable is also how the console starts its embedded mesh and how those
nodes start their workers (``node_runtime.workers.launch``): such a command line runs
that module instead of the console.
"""

import sys

from node_runtime.workers.launch import run_module_from_argv

if not run_module_from_argv(sys.argv):
    from qewd_console.app import main

    sys.exit(main())
