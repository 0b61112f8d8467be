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
from pathlib import Path
from typing import Any

import pytest

import rpctest.contracts.states  # noqa: F401 - imported before pytester snapshots sys.modules: its
# restore would drop a module first imported inside a test, and the next test's import would make a
# second registry beside the one ``rpctest.provider_state`` (cached on the package) registers into
from rpctest.cli import main
from rpctest.contracts import format as fmt

TESTS_DIR = Path(__file__).resolve().parent
ROOT = TESTS_DIR.parent

__all__ = ["record_states", "verify_live_json", "without_handler"]


def record_states(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str, *, stack: str) -> tuple[fmt.ConsumerContract, Path]:
    """Run ``source`` as a consumer test module with recording on; the one consumer contract of
    ``stack`` it records, and its file."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]))
    pytester.makepyfile(test_states_consumer=source)
    result = pytester.runpytest_subprocess(
        "-p", "rpctest", "-p", "no:cacheprovider", "--rpctest-record", "--rpctest-consumer", "states-web",
        "--rpctest-contracts-dir", "out", "-q",
    )
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    [path] = sorted((pytester.path / "out" / "consumers").glob(f"states-web--{stack}--*.json"))
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


def states_by_request(contract: fmt.ConsumerContract) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each interaction's states, keyed by its operation and request (what the tests assert on)."""
    return {
        f"{item.operation} {json.dumps(item.request, sort_keys=True)}": [(s.name, dict(s.params)) for s in item.states]
        for item in contract.interactions
    }
