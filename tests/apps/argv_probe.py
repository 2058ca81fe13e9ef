"""Run as a module, writes its name and arguments to the file named first (JSON)."""

import json
import sys
from pathlib import Path

if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps({"name": __name__, "argv": sys.argv}))
