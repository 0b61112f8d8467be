"""What both differential suites (tests/interop_*) share: ``rpctest serve`` in a child process, as a
consumer's other process runs it, and the line each test prints with the figures it compared."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent


@contextmanager
def rpctest_serve(contracts: Path, stack: str) -> Iterator[str]:
    """``rpctest serve --stack STACK CONTRACTS`` in a child process; yields the address it prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "rpctest", "serve", "--stack", stack, str(contracts)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(contracts.parent),
    )
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        line = process.stdout.readline() if process.stdout is not None else ""
        if " at " not in line:
            process.kill()
            process.wait(timeout=10)
            reader.join(timeout=5)
            raise AssertionError(f"rpctest serve did not start: {line!r}{''.join(stderr)}")
        yield line.rsplit(" at ", 1)[1].strip()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def tally(stack: str, direction: str, compared: int, differed: int) -> str:
    """The line each differential test prints (``-s`` or the junit report shows it): the figures the
    suite's note quotes, per stack and direction."""
    line = f"interop {stack} {direction}: {compared} case(s) compared, {differed} differed"
    print(line)
    where = os.environ.get("RPCTEST_INTEROP_TALLY")  # a file collecting every test's line, for the note
    if where:
        with open(where, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    return line


def shown_commands(page: Path, marker: str) -> list[str]:
    """The commands of the first ```bash block after the line holding ``marker`` in ``page``."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = next(index for index, line in enumerate(lines) if marker in line)
    opening = next(index for index in range(start, len(lines)) if lines[index].strip() == "```bash")
    closing = next(index for index in range(opening + 1, len(lines)) if lines[index].strip() == "```")
    return [line for line in lines[opening + 1:closing] if line.strip()]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_shown(commands: list[str], workdir: Path, *, port: int, shown_port: int, ready: Callable[[], bool]) -> list[tuple[str, int, str]]:
    """Run a page's commands as written (but for the port, ``shown_port`` -> a free ``port``): the first
    starts the server, in the background until the others are done; each other one runs to its end,
    in ``workdir`` (holding a link to the repository's ``contracts/``). Returns (command, exit status,
    output) of each."""
    import shlex
    import time

    if not (workdir / "contracts").exists():
        (workdir / "contracts").symlink_to(REPO / "contracts")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    bin_dir = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    server_line, *others = [line.replace(str(shown_port), str(port)) for line in commands]
    server = subprocess.Popen(shlex.split(server_line.replace("python ", f"{sys.executable} ", 1)), cwd=workdir, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = []
    try:
        deadline = time.monotonic() + 30
        while not ready():
            assert server.poll() is None and time.monotonic() < deadline, f"the server did not start: {server_line}"
            time.sleep(0.2)
        for line in others:
            command = line.split("#", 1)[0].strip()
            run = subprocess.run(shlex.split(command), cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
            results.append((line, run.returncode, run.stdout + run.stderr))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    return results


def expected_status(line: str) -> int:
    """What a shown command must exit with: 0, unless its comment says ``# exit N``."""
    import re

    found = re.search(r"#\s*exit (\d+)", line)
    return int(found.group(1)) if found else 0
