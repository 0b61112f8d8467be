"""Provider states end to end, the same three steps for every stack (issue 18, item 1):

1. a consumer suite (a real pytest run of stubs with ``state=``, the ``rpctest`` marker's or the
   ``provider_state`` fixture's) records its states into a consumer contract;
2. ``rpctest contracts verify --live --states MODULE`` against the stack's real example provider,
   whose handlers put the data the recorded replies need in place, finds nothing;
3. a recorded state no handler is registered for is a ``live_missing_state`` finding naming the
   state, the consumer and the test that recorded it.

Each stack's ``test_states_*.py`` gives the suite, the provider and the handler module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rpctest.cli import main
from rpctest.contracts import format as fmt

TESTS_DIR = Path(__file__).resolve().parent
ROOT = TESTS_DIR.parent

__all__ = ["record_states", "verify_live_json", "without_handler"]


def record_states(directory: Path, source: str, *, stack: str) -> tuple[fmt.ConsumerContract, Path]:
    """Run ``source`` as a consumer test module with recording on, in a pytest process of its own
    under ``directory``; the one consumer contract of ``stack`` it records, and its file.

    Not pytester: its restore of ``sys.modules`` after each test would drop the stack libraries a
    test first imported (pyzmq, tornado), and the next test would run on a second copy of them,
    whose exception classes are not the ones their compiled parts raise."""
    (directory / "test_states_consumer.py").write_text(source, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "rpctest", "-p", "no:cacheprovider", "-q", "--rootdir", str(directory),
         "--rpctest-record", "--rpctest-consumer", "states-web", "--rpctest-contracts-dir", "out", "test_states_consumer.py"],
        cwd=directory, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [path] = sorted((directory / "out" / "consumers").glob(f"states-web--{stack}--*.json"))
    contract = fmt.load(path)
    assert isinstance(contract, fmt.ConsumerContract)
    return contract, path


def verify_live_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """``rpctest contracts verify ARGS --live --format json``: the exit status and the report."""
    capsys.readouterr()
    code = main(["contracts", "verify", *args, "--live", "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def without_handler(path: Path, state: str, renamed: str, target: Path) -> Path:
    """``path`` with every recorded ``state`` renamed to one no handler is registered for."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for item in data["interactions"]:
        for entry in item.get("states", []):
            if entry["name"] == state:
                entry["name"] = renamed
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def without_states(path: Path, target: Path) -> Path:
    """``path`` with no recorded states at all: the same requests, replayed on whatever data is there."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for item in data["interactions"]:
        item.pop("states", None)
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def states_by_request(contract: fmt.ConsumerContract) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each interaction's states, keyed by its operation and request (what the tests assert on)."""
    return {
        f"{item.operation} {json.dumps(item.request, sort_keys=True)}": [(s.name, dict(s.params)) for s in item.states]
        for item in contract.interactions
    }
