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
