"""docs/stacks/pykern.md: every ``rpctest`` and ``pytest`` command its shell blocks show runs as
written, against pykern's real server where it names one (issue 16 item 4).

The commands run in a copy of the files they read and write (``examples/``, ``contracts/``,
``pyproject.toml``), in the order the page shows them, so the page's own sequence (export, record,
verify, fuzz) is what is tested. A command whose comment says ``exit N`` must exit N; every other
one must exit 0. The one thing changed is the port of ``ws://127.0.0.1:8123/api``: the page's
example server is started here on a free port (``WALLET_PORT``), since 8123 may be taken.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "stacks" / "pykern.md"
SHOWN_ADDRESS = "ws://127.0.0.1:8123/api"


def shown_commands(page: Path) -> list[tuple[int, str, int]]:
    """``(line, command, expected exit)`` of each rpctest/pytest command in the page's bash blocks."""
    found = []
    inside = False
    for number, line in enumerate(page.read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            inside = not inside and stripped[3:].strip() in ("bash", "sh", "console")
            continue
        if not inside or not stripped.startswith(("rpctest ", "pytest ")):
            continue
        command, _, comment = stripped.partition("#")
        expected = re.search(r"\bexit (\d+)", comment)
        found.append((number, command.strip(), int(expected.group(1)) if expected else 0))
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name in ("examples", "contracts"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.fixture
def wallet_server(workdir: Path) -> Iterator[str]:
    """``python -m examples.pykern.service``, the page's real server, on a free port."""
    port = _free_port()
    env = {**os.environ, "WALLET_PORT": str(port), "PYTHONPATH": str(workdir)}
    process = subprocess.Popen([sys.executable, "-m", "examples.pykern.service"], cwd=workdir, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, "the example server exited"
            assert time.monotonic() < deadline, "the example server did not listen within 20 s"
            time.sleep(0.05)
        yield f"ws://127.0.0.1:{port}/api"
    finally:
        process.kill()
        process.wait(10)


def test_the_page_shows_commands_against_a_running_server() -> None:
    commands = [command for _line, command, _exit in shown_commands(PAGE)]
    assert any("--address " + SHOWN_ADDRESS in command and command.startswith("rpctest fuzz") for command in commands)
    assert any("--live" in command and "--address" in command for command in commands)


def test_every_command_of_the_page_runs_as_written(workdir: Path, wallet_server: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    failures = []
    for line, command, expected in shown_commands(PAGE):
        argv = shlex.split(command.replace(SHOWN_ADDRESS, wallet_server))
        argv = [sys.executable, "-m", argv[0], *argv[1:]]
        if argv[2] == "rpctest" and "fuzz" in argv:
            argv += ["--max-examples", "25"]  # the page's default is 100 per API: the same run, shorter
        result = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
        if result.returncode != expected:
            failures.append(f"docs/stacks/pykern.md:{line}: {command}\n  exit {result.returncode}, expected {expected}\n"
                            f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    assert not failures, "\n".join(failures)
