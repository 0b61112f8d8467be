"""What both differential suites (tests/interop_*) share: a consumer's tests recorded with
``pytest --rpctest-record`` in a child process, ``rpctest serve`` in a child process, as a consumer's
other process runs it, a stack page's commands run as written against a running peer, and the line
each test prints with the figures it compared."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent


def _env() -> dict[str, str]:
    """The environment of a child: the repository and tests/ importable, this venv's commands first."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _stop(process: "subprocess.Popen[str] | subprocess.Popen[bytes]") -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def record_consumer(project: Path, tests: str) -> Path:
    """Run the consumer's ``tests`` (a test module's text) with ``--rpctest-record`` in a child pytest,
    in ``project``; the directory of the contracts it recorded."""
    (project / "test_consumer.py").write_text(tests, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "rpctest", "-p", "no:cacheprovider", "-q", "--rootdir", str(project),
         "--rpctest-record", "--rpctest-consumer", "interop", "-W", "error::ResourceWarning", str(project / "test_consumer.py")],
        cwd=project, env=_env(), capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    contracts = project / "contracts"
    assert list(contracts.rglob("*.json")), run.stdout
    return contracts


@contextmanager
def rpctest_serve(contracts: Path, stack: str) -> Iterator[str]:
    """``rpctest serve --stack STACK CONTRACTS`` in a child process; yields the address it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rpctest", "serve", "--stack", stack, str(contracts)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=str(contracts.parent),
    )
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        line = process.stdout.readline() if process.stdout is not None else ""
        if " at " not in line:
            _stop(process)
            reader.join(timeout=5)
            raise AssertionError(f"rpctest serve did not start: {line!r}{''.join(stderr)}")
        yield line.rsplit(" at ", 1)[1].strip()
    finally:
        _stop(process)
        reader.join(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def tally(stack: str, direction: str, compared: int, differed: int) -> str:
    """The line each differential test prints (``-s`` shows it; ``RPCTEST_INTEROP_TALLY=FILE`` collects
    them): the figures the suite's note quotes, per stack and direction."""
    line = f"interop {stack} {direction}: {compared} case(s) compared, {differed} differed"
    print(line)
    where = os.environ.get("RPCTEST_INTEROP_TALLY")
    if where:
        with open(where, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    return line


# -- a stack page's commands, as written ----------------------------------------------------------------


def shown_commands(page: Path, marker: str) -> list[str]:
    """The commands of the first ```bash block after the line holding ``marker`` in ``page``."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = next(index for index, line in enumerate(lines) if marker in line)
    opening = next(index for index in range(start, len(lines)) if lines[index].strip() == "```bash")
    closing = next(index for index in range(opening + 1, len(lines)) if lines[index].strip() == "```")
    return [line for line in lines[opening + 1:closing] if line.strip()]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _expected_status(line: str) -> int:
    """What a shown command must exit with: 0, unless its comment says ``# exit N``."""
    found = re.search(r"#\s*exit (\d+)", line)
    return int(found.group(1)) if found else 0


def run_page_commands(page: Path, marker: str, workdir: Path, *, shown_port: int) -> tuple[int, list[tuple[str, int, str]]]:
    """Run the commands a stack page shows after ``marker`` as written, but for the port (``shown_port``
    becomes a free one): the first starts the server, in the background until the others are done;
    each other one runs to its end in ``workdir`` (which links the repository's ``contracts/``).
    Returns how many ran, and (command, exit status, output) of each whose status is not the one its
    ``# exit N`` comment (or 0) says."""
    commands = shown_commands(page, marker)
    port = _free_port()
    if not (workdir / "contracts").exists():
        (workdir / "contracts").symlink_to(REPO / "contracts")
    server_line, *others = [line.replace(str(shown_port), str(port)) for line in commands]
    server = subprocess.Popen(shlex.split(server_line.replace("python ", f"{sys.executable} ", 1)), cwd=workdir, env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wrong = []
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            assert server.poll() is None and time.monotonic() < deadline, f"the server did not start: {server_line}"
            time.sleep(0.2)
        for line in others:
            run = subprocess.run(shlex.split(line.split("#", 1)[0]), cwd=workdir, env=_env(), capture_output=True, text=True, timeout=300)
            if run.returncode != _expected_status(line):
                wrong.append((line, run.returncode, (run.stdout + run.stderr)[-800:]))
    finally:
        _stop(server)
    return len(others), wrong
