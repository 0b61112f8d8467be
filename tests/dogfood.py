"""The repository's own contracts (``contracts/``) must be what the examples produce today.

Shared by each stack's contract tests: the provider file is re-exported and the consumer file
re-recorded, and either must come out byte for byte (contracts/README.md says how to regenerate).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from rpctest.cli import main

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"

__all__ = ["CONTRACTS", "assert_provider_current", "assert_consumer_current", "serving_contract"]


def assert_provider_current(stack: str, provider: str, committed: Path, tmp_path: Path) -> None:
    """``rpctest contracts export`` of ``provider`` equals the committed provider contract."""
    target = tmp_path / committed.name
    assert main(["contracts", "export", "--stack", stack, "--provider", provider, "-o", str(target)]) == 0
    assert target.read_text() == committed.read_text(), f"{committed.relative_to(ROOT)} is out of date: see contracts/README.md"


def assert_consumer_current(example_tests: str, committed: Path, tmp_path: Path) -> None:
    """Recording ``example_tests``' stubs (``--rpctest-record``) reproduces the committed consumer contract."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "rpctest", "-p", "no:cacheprovider", "-q", example_tests,
         "--rpctest-record", "--rpctest-contracts-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = (tmp_path / committed.relative_to(CONTRACTS)).read_text()
    assert recorded == committed.read_text(), f"{committed.relative_to(ROOT)} is out of date: see contracts/README.md"


@contextlib.contextmanager
def serving_contract(stack: str, consumer: Path) -> Iterator[str]:
    """``rpctest serve --stack STACK CONSUMER`` in another process, for the block; yields its address."""
    process = subprocess.Popen([sys.executable, "-m", "rpctest", "serve", "--stack", stack, str(consumer)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith(f"rpctest serve: {stack} stub provider at "), line + (
            process.stderr.read() if process.poll() is not None and process.stderr else "")
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.kill()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
