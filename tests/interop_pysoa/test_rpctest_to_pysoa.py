"""Direction A: rpctest against the real PySOA server (``Server.run()`` in a child process, on a real
Redis): the wire client gets what PySOA's own ``Client`` gets; ``export --address`` reads its
introspection; ``fuzz --address`` passes the correct service and finds, shrinks and replays each
planted bug; ``verify --live --address`` is in ``test_pysoa_client_to_rpctest``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from interop_pysoa.interop_cases import CASES, PROTOCOL_CASES
from interop_pysoa.pysoa_peer import pysoa_answer, pysoa_client, rpctest_answer
from rpctest.cli import main


def test_rpctest_client_gets_what_pysoas_client_gets(ledger_address: str, rpctest_redis: Any) -> None:
    client = pysoa_client(rpctest_redis, "ledger")
    compared, differing = 0, []
    for case in [*CASES, *PROTOCOL_CASES]:
        theirs = pysoa_answer(client, "ledger", case.action, case.body)
        ours = rpctest_answer(ledger_address, case.action, case.body)
        compared += 1
        if ours != theirs or theirs != case.answer:
            differing.append(f"{case.id}: PySOA's Client {theirs!r}, rpctest's {ours!r}, expected {case.answer!r}")
    print(f"pysoa A (wire client vs pysoa Client): {compared} compared, {len(differing)} differed")
    assert not differing, "\n".join(differing)


def test_on_fakeredis_too(pysoa_service: Any) -> None:
    """Where no redis-server is at hand: PySOA's real server loop and Redis gateway on fakeredis, in
    this process (the cross-process tests here need a real Redis and skip without one)."""
    from interop_pysoa.pysoa_services import LedgerServer

    ledger = pysoa_service(LedgerServer, transport="redis", redis="fake")
    differing = []
    for case in [*CASES, *PROTOCOL_CASES]:
        theirs = pysoa_answer(ledger.client, "ledger", case.action, case.body)
        ours = rpctest_answer(ledger.redis, case.action, case.body, service="ledger")
        if ours != theirs or theirs != case.answer:
            differing.append(f"{case.id}: PySOA's Client {theirs!r}, rpctest's {ours!r}, expected {case.answer!r}")
    print(f"pysoa A on fakeredis (wire client vs pysoa Client): {len(CASES) + len(PROTOCOL_CASES)} compared, {len(differing)} differed")
    assert not differing, "\n".join(differing)


def test_export_from_the_address_reads_pysoas_introspection(ledger_address: str, tmp_path: Path) -> None:
    remote, local = tmp_path / "remote.json", tmp_path / "local.json"
    assert main(["contracts", "export", "--stack", "pysoa", "--address", ledger_address, "-o", str(remote)]) == 0
    assert main(["contracts", "export", "--stack", "pysoa", "--provider", "interop_pysoa.pysoa_services:LedgerServer", "-o", str(local)]) == 0
    remote_ops, local_ops = json.loads(remote.read_text())["operations"], json.loads(local.read_text())["operations"]
    assert sorted(remote_ops) == sorted(local_ops) == ["add", "introspect", "lookup", "ping", "refuse", "register", "status"]
    for name in ("add", "register", "lookup"):
        assert remote_ops[name]["request"].get("required") == local_ops[name]["request"].get("required"), name
        assert sorted(remote_ops[name]["request"]["properties"]) == sorted(local_ops[name]["request"]["properties"]), name


def test_fuzz_passes_the_correct_service(ledger_address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With the provider's own contract (its source lists DUPLICATE and REFUSED as deliberate)."""
    contract = tmp_path / "ledger.json"
    assert main(["contracts", "export", "--stack", "pysoa", "--provider", "interop_pysoa.pysoa_services:LedgerServer", "-o", str(contract)]) == 0
    code = main(["fuzz", "--stack", "pysoa", "--address", ledger_address, "--contract", str(contract), "--max-examples", "40",
                 "--seed", "1", "--replay-dir", str(tmp_path), "--json", str(tmp_path / "report.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    results = json.loads((tmp_path / "report.json").read_text())["results"]
    print(f"pysoa A (fuzz ledger): {sum(r['examples'] for r in results)} cases, 0 failing")


def test_fuzz_from_the_introspected_contract_passes_too(ledger_address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No --contract: rpctest exports it from the running service's introspect action."""
    code = main(["fuzz", "--stack", "pysoa", "--address", ledger_address, "--max-examples", "40", "--seed", "1",
                 "--replay-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out


@pytest.mark.parametrize(("action", "check", "minimal"), [
    ("ratio", "not_a_server_error", {"n": 0}),
    ("label", "not_a_server_error", {"label": "0000"}),  # PySOA checks its own response: SERVER_ERROR
    ("greet", "not_a_server_error", {"name": ""}),
])
def test_fuzz_finds_shrinks_and_replays_each_planted_bug(flawed_address: str, action: str, check: str, minimal: Any,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fuzz", "--stack", "pysoa", "--address", flawed_address, "--operation", action, "--mode", "positive",
                 "--max-examples", "200", "--seed", "3", "--replay-dir", str(tmp_path), "--json", str(tmp_path / "report.json")])
    out = capsys.readouterr().out
    assert code == 1, out
    failure = json.loads((tmp_path / "report.json").read_text())["results"][0]["failure"]
    assert failure["check"] == check, failure
    assert failure["request"] == minimal, failure["request"]
    assert main(["replay", failure["replay_file"]]) == 1  # reproduced against the same address
    assert check in capsys.readouterr().out
