"""Run the whole test suite: every nox session, one environment per stack with its real pins.

Usage: ``python3 scripts/test.py [nox arguments]``, e.g. ``python3 scripts/test.py -s pysoa``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from _bootstrap import ASYNCAPY, ROOT, ensure_venv

if __name__ == "__main__":
    python = ensure_venv()
    env = os.environ.copy()
    if ASYNCAPY:  # the asyncapy session installs it and runs the host-half tests against it
        env["RPCTEST_ASYNCAPY"] = ASYNCAPY
    result = subprocess.run([str(python), "-m", "nox", "--no-color", *sys.argv[1:]], cwd=ROOT, env=env)
    sys.exit(result.returncode)
