"""Create (or reuse) the repository's ``.venv`` with rpctest, its PySOA extra and the dev tools.

Used by both Quick start commands so that a fresh machine needs nothing but Python 3.11.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
MARKER = VENV / ".rpctest-installed"


def ensure_venv() -> Path:
    """The venv's python; installs ``-e .[pysoa,dev]`` when pyproject.toml changed since last time."""
    if sys.version_info < (3, 11):
        sys.exit(f"rpctest needs Python >= 3.11; this is {sys.version.split()[0]} ({sys.executable})")
    if not PYTHON.exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    stamp = str((ROOT / "pyproject.toml").stat().st_mtime_ns)
    if not MARKER.exists() or MARKER.read_text() != stamp:
        print("installing rpctest[pysoa,dev] into .venv ...", flush=True)
        subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[pysoa,dev]"],
            check=True,
        )
        MARKER.write_text(stamp)
    return PYTHON
