"""Create (or reuse) the repository's virtual environments: one per stack whose pins conflict.

Used by both Quick start commands so that a fresh machine needs nothing but Python 3.11:
``.venv`` holds rpctest with its PySOA and ZeroJSON extras and the dev tools (nox runs the test suite
from it);
``.venv-pykern`` holds pykern.api installed light, which PySOA's msgpack 0.6 pin rules out of ``.venv``,
and AsyncAPY's trio (attrs>=23, which PySOA's attrs<22 rules out too); AsyncAPY itself is not on PyPI and
goes in when ``RPCTEST_ASYNCAPY`` names a checkout, wheel or pip URL of it, or when the real AsyncAPY
wheel sits among the optional peers beside the repository (``../shared/wheels``).
``.venv-kyoukai`` holds Kyoukai 2.2.1.post1 installed ``--no-deps`` with the dependencies it runs on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the real AsyncAPY, built unmodified from its public repository, among the optional peers that may
#: sit beside the repository (nothing else of ../shared is read)
PEER_WHEEL = ROOT.parent / "shared" / "wheels" / "asyncapy-0.5.0-py3-none-any.whl"
#: a checkout, wheel or pip URL of AsyncAPY (not on PyPI): RPCTEST_ASYNCAPY, else the peer wheel when
#: present; installed into .venv-pykern, and passed on to the nox asyncapy session
ASYNCAPY = os.environ.get("RPCTEST_ASYNCAPY") or (str(PEER_WHEEL) if PEER_WHEEL.is_file() else "")
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
        started = time.monotonic()
        print(f"creating {directory} ...", end="", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(path)
        print(f" {time.monotonic() - started:.1f} s", flush=True)
    stamp = ",".join([*(str((ROOT / name).stat().st_mtime_ns) for name in inputs), ASYNCAPY if stack == "pykern" else ""])
    if not marker.exists() or marker.read_text() != stamp:
        _install(python, directory, installs)
        marker.write_text(stamp)
    return python


#: seconds between the "still installing" ticks of a long pip step
TICK = 15.0


def _install(python: Path, directory: str, installs: list[list[str]]) -> None:
    """Run the pip steps with a line per step and its time; pip's own output goes to a log, shown only
    (its end) when a step fails, so the summary stays readable and a failure still says why."""
    log = ROOT / directory / "pip.log"
    print(f"installing into {directory}: {len(installs)} pip step(s), pip's output in {log.relative_to(ROOT)}", flush=True)
    with open(log, "w", encoding="utf-8") as out:
        for number, arguments in enumerate(installs, 1):
            shown = " ".join(a.replace(str(ROOT), ".") for a in arguments)
            print(f"  [{number}/{len(installs)}] pip install {shown} ", end="", flush=True)
            out.write(f"$ pip install {' '.join(arguments)}\n")
            out.flush()
            started = time.monotonic()
            process = subprocess.Popen([str(python), "-m", "pip", "install", *arguments], stdout=out, stderr=subprocess.STDOUT)
            while True:
                try:
                    code = process.wait(timeout=TICK)
                    break
                except subprocess.TimeoutExpired:
                    print(f"{time.monotonic() - started:.0f} s ", end="", flush=True)
            print(f"{'done' if code == 0 else 'FAILED'} in {time.monotonic() - started:.1f} s", flush=True)
            if code != 0:
                tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
                sys.exit("\n".join([f"pip failed (exit {code}); the end of {log.relative_to(ROOT)}:", *("  " + line for line in tail)]))
