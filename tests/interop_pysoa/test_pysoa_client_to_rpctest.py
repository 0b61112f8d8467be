"""Direction B: PySOA's own ``Client`` against rpctest.

A consumer's tests (``pysoa_consumer.py``) are recorded into a consumer contract from their stubs
(``pytest --rpctest-record``); ``rpctest serve --stack pysoa`` serves it on a real Redis, and PySOA's
``Client`` must get from it exactly what it gets from the real server: bodies, error codes, fields,
messages and ``is_caller_error``. The contract then verifies live against the real server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from interop_pysoa.interop_cases import CASES, PROTOCOL_CASES
from interop_pysoa.pysoa_peer import HERE, pysoa_answer, pysoa_client
from peer_process import stop_peer
from rpctest.cli import main

ROOT = HERE.parents[1]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("contracts")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "rpctest", "-p", "no:cacheprovider", "-q", str(HERE / "pysoa_consumer.py"),
         "--rpctest-record", "--rpctest-consumer", "interop", "--rpctest-contracts-dir", str(directory)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    (contract,) = directory.glob("consumers/interop--pysoa--ledger.json")
    return contract


@pytest.fixture
def served(recorded: Path, rpctest_redis: Any) -> Iterator[int]:
    """``rpctest serve --stack pysoa CONTRACT --address redis://...`` on another database of the same
    real Redis than the real server (the queue names are the same); yields that database."""
    db = rpctest_redis.db + 1
    process = subprocess.Popen(
        [sys.executable, "-m", "rpctest", "serve", "--stack", "pysoa", str(recorded), "--address",
         f"redis://{rpctest_redis.host}:{rpctest_redis.port}/{db}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        line = process.stdout.readline().decode() if process.stdout else ""
        assert line.startswith("rpctest serve: pysoa stub provider at "), line
        yield db
    finally:
        stop_peer(process)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_every_stubbed_call_is_recorded(recorded: Path) -> None:
    assert len(json.loads(recorded.read_text())["interactions"]) == len(CASES)


def test_pysoas_client_gets_from_rpctest_serve_what_the_real_server_answers(served: int, ledger_address: str, rpctest_redis: Any) -> None:
    real, ours = pysoa_client(rpctest_redis, "ledger"), pysoa_client(rpctest_redis, "ledger", db=served)
    compared, differing = 0, []
    for case in [*CASES, *PROTOCOL_CASES]:
        theirs, answer = pysoa_answer(real, "ledger", case.action, case.body), pysoa_answer(ours, "ledger", case.action, case.body)
        compared += 1
        if answer != theirs:
            differing.append(f"{case.id}: the real server {theirs!r}, rpctest serve {answer!r}")
    print(f"pysoa B (pysoa Client: rpctest serve vs the real server): {compared} compared, {len(differing)} differed")
    assert not differing, "\n".join(differing)


@pytest.mark.parametrize("provider", ["address", "source"])
def test_the_recorded_contract_verifies_live_against_the_real_server(recorded: Path, ledger_address: str, provider: str,
                                                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With the provider contract from the running service's introspect, or from its classes."""
    contract = tmp_path / "provider.json"
    where = ["--address", ledger_address] if provider == "address" else ["--provider", "interop_pysoa.pysoa_services:LedgerServer"]
    assert main(["contracts", "export", "--stack", "pysoa", *where, "-o", str(contract)]) == 0
    code = main(["contracts", "verify", str(recorded), str(contract), "--live", "--exact", "--stack", "pysoa", "--address", ledger_address])
    out = capsys.readouterr().out
    assert code == 0, out
