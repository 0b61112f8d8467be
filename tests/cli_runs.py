"""Run the ``rpctest`` command in a child process, as a CI job runs it, and count its stderr lines."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def rpctest(*argv: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> Run:
    """``python -m rpctest ARGV`` in ``cwd`` with the repository and its tests importable; stderr is a
    pipe (not a terminal), as in a CI log."""
    path = os.pathsep.join([str(ROOT), str(TESTS), os.environ.get("PYTHONPATH", "")])
    # progress lines (one per 10 s in a log) come on a loaded machine only: not what these runs count
    quiet_progress = {"RPCTEST_PROGRESS_INTERVAL": "3600"}  # (tests/conftest.py sets it too, for in-process runs)
    # the run's state (kept runs, stack logs) in its own directory, as a project's .rpctest/ would be
    quiet_progress["RPCTEST_STATE_DIR"] = str(cwd / ".rpctest")
    done = subprocess.run([sys.executable, "-m", "rpctest", *argv], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": path, **quiet_progress, **(env or {})})
    return Run(done.returncode, done.stdout, done.stderr)
