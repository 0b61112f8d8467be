"""Direction B: PyCOM's own ``zerojson.Client`` against rpctest.

A consumer's tests (``pycom_consumer.py``) call rpctest's stub server with the real client and are
recorded into consumer contracts (``pytest --rpctest-record``); ``rpctest serve`` serves those
contracts, and the real client must get from it exactly what it gets from the real PyCOM server:
results, error codes and messages, reply attachments. The same contracts then verify live against
the real server (``rpctest contracts verify --live --address``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from dogfood import serving_contract

from interop_zerojson.interop_cases import CASES, PROTOCOL_CASES
from interop_zerojson.pycom_peer import HERE, pycom_answer
from rpctest.cli import main

ROOT = HERE.parents[1]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The consumer contracts recorded from ``pycom_consumer.py``'s stubs, one per interface."""
    directory = tmp_path_factory.mktemp("contracts")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "rpctest", "-p", "no:cacheprovider", "-q", "-p", "no:randomly",
         str(HERE / "pycom_consumer.py"), "--rpctest-record", "--rpctest-consumer", "interop",
         "--rpctest-contracts-dir", str(directory)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return directory


def _contracts(directory: Path) -> list[Path]:
    return sorted(directory.glob("consumers/interop--zerojson--*.json"))


def test_every_stubbed_call_is_recorded(recorded: Path) -> None:
    files = _contracts(recorded)
    interactions = [i for f in files for i in json.loads(f.read_text())["interactions"]]
    assert [f.name for f in files] == ["interop--zerojson--org.rpctest.interop.calc.json", "interop--zerojson--org.rpctest.interop.files.json",
                                       "interop--zerojson--org.rpctest.interop.notes.json"]
    assert len(interactions) == len(CASES)


def test_pycoms_client_gets_from_rpctest_serve_what_the_real_server_answers(recorded: Path, pycom_address: str) -> None:
    compared, differing = 0, []
    for contract in _contracts(recorded):
        service = json.loads(contract.read_text())["service"]
        with serving_contract("zerojson", contract) as served:
            for case in CASES:
                if case.interface != service:
                    continue
                real = pycom_answer(pycom_address, case.interface, case.method, case.args, case.attachment)
                ours = pycom_answer(served, case.interface, case.method, case.args, case.attachment)
                compared += 1
                if ours != real:
                    differing.append(f"{case.id}: the real server {real!r}, rpctest serve {ours!r}")
            for case in PROTOCOL_CASES:  # what no stub answers: PyCOM's own refusals, from the stub server
                if case.interface != service or case.method != "nope":
                    continue
                real = pycom_answer(pycom_address, case.interface, case.method, case.args)
                ours = pycom_answer(served, case.interface, case.method, case.args)
                compared += 1
                if ours[:2] != real[:2]:
                    differing.append(f"{case.id}: the real server {real!r}, rpctest serve {ours!r}")
    print(f"zerojson B (zerojson.Client: rpctest serve vs the real server): {compared} compared, {len(differing)} differed")
    assert compared >= len(CASES) and not differing, "\n".join(differing)


def test_the_recorded_contracts_verify_live_against_the_real_server(recorded: Path, pycom_address: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The provider contracts come from the real server's introspect (``export --address``)."""
    for contract in _contracts(recorded):
        service = json.loads(contract.read_text())["service"]
        provider = recorded / "providers" / f"zerojson--{service}.json"
        provider.parent.mkdir(exist_ok=True)
        assert main(["contracts", "export", "--stack", "zerojson", "--address", pycom_address, "--service", service,
                     "-o", str(provider)]) == 0
        code = main(["contracts", "verify", str(contract), str(provider), "--live", "--exact", "--stack", "zerojson",
                     "--address", pycom_address])
        out = capsys.readouterr().out
        assert code == 0, out
