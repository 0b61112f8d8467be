"""Create (or reuse) the repository's virtual environments: one per stack whose pins conflict.

Used by both Quick start commands so that a fresh machine needs nothing but Python 3.11:
``.venv`` holds rpctest with its PySOA and ZeroJSON extras and the dev tools (nox runs the test suite
from it);
``.venv-pykern`` holds pykern.api installed light, which PySOA's msgpack 0.6 pin rules out of ``.venv``,
and AsyncAPY's trio (attrs>=23, which PySOA's attrs<22 rules out too); AsyncAPY itself is not on PyPI and
goes in only when ``RPCTEST_ASYNCAPY`` names a checkout or pip URL of it.
``.venv-kyoukai`` holds Kyoukai 2.2.1.post1 installed ``--no-deps`` with the dependencies it runs on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: a checkout or pip URL of AsyncAPY (not on PyPI), installed into .venv-pykern when given
ASYNCAPY = os.environ.get("RPCTEST_ASYNCAPY", "")
#: stack -> its pip constraints file (package data, the file ``rpctest constraints STACK --path`` names)
CONSTRAINTS = {stack: str(ROOT / "rpctest" / "constraints" / f"{stack}.txt") for stack in ("pykern", "kyoukai")}

#: stack -> (venv directory, pip install commands, files whose change means reinstall)
ENVIRONMENTS: dict[str, tuple[str, list[list[str]], list[str]]] = {
    # ZeroJSON needs only pyzmq, which fits PySOA's pins: its demo runs in .venv too
    "pysoa": (".venv", [["-e", f"{ROOT}[pysoa,zerojson,dev]"]], ["pyproject.toml"]),
    "pykern": (
        ".venv-pykern",
        [
            ["--no-deps", "-c", CONSTRAINTS["pykern"], "pykern"],
            # pip would list pykern's ~30 undeclared (and unneeded) dependencies as conflicts
            ["--no-warn-conflicts", "-c", CONSTRAINTS["pykern"], "-e", f"{ROOT}[pykern,asyncapy,dev]"],
            *([["--no-deps", ASYNCAPY]] if ASYNCAPY else []),
        ],
        ["pyproject.toml", "rpctest/constraints/pykern.txt"],
    ),
    # Kyoukai 2.2.1.post1 goes in --no-deps (its own pins do not build on Python 3.11), then what it runs on
    "kyoukai": (
        ".venv-kyoukai",
        [
            ["--no-deps", "-c", CONSTRAINTS["kyoukai"], "Kyoukai"],
            # pip would report Kyoukai's own (unbuildable) pins as conflicts: they are overridden on purpose
            ["--no-warn-conflicts", "-c", CONSTRAINTS["kyoukai"], "-e", f"{ROOT}[kyoukai,dev]"],
        ],
        ["pyproject.toml", "rpctest/constraints/kyoukai.txt"],
    ),
}


def ensure_venv(stack: str = "pysoa") -> Path:
    """The python of ``stack``'s venv; (re)installs when its inputs changed since last time."""
    if sys.version_info < (3, 11):
        sys.exit(f"rpctest needs Python >= 3.11; this is {sys.version.split()[0]} ({sys.executable})")
    directory, installs, inputs = ENVIRONMENTS[stack]
    path = ROOT / directory
    python = path / ("Scripts" if os.name == "nt" else "bin") / "python"
    marker = path / ".rpctest-installed"
    if not python.exists():
        print(f"creating {directory} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(path)
    stamp = ",".join([*(str((ROOT / name).stat().st_mtime_ns) for name in inputs), ASYNCAPY if stack == "pykern" else ""])
    if not marker.exists() or marker.read_text() != stamp:
        print(f"installing rpctest ({stack}) into {directory} ...", flush=True)
        for arguments in installs:
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", *arguments], check=True)
        marker.write_text(stamp)
    return python
