"""Run the whole test suite: every nox session, one environment per stack with its real pins.

Usage: ``python3 scripts/test.py [nox arguments]``, e.g. ``python3 scripts/test.py -s pysoa``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from _bootstrap import ROOT, ensure_venv

if __name__ == "__main__":
    python = ensure_venv()
    result = subprocess.run([str(python), "-m", "nox", "--no-color", *sys.argv[1:]], cwd=ROOT, env=os.environ.copy())
    sys.exit(result.returncode)
