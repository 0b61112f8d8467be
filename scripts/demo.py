"""The demo: the example services, their consumer and provider tests, as a short summary.

Usage: ``python3 scripts/demo.py``. Leaves ``.venv`` ready (rpctest with its PySOA extra).
"""

from __future__ import annotations

import subprocess
import sys

from _bootstrap import ROOT, ensure_venv

if __name__ == "__main__":
    python = ensure_venv()
    sys.exit(subprocess.run([str(python), str(ROOT / "scripts" / "_demo_run.py")], cwd=ROOT).returncode)
