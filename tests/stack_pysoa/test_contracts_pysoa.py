"""Contracts end to end on PySOA: the dogfood contracts, export, verify, live verify, serve, drift."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from dogfood import assert_consumer_current, assert_provider_current

from examples.pysoa.service import STORE, UserServer
from rpctest import Call, stub_action
from rpctest.cli import main
from rpctest.contracts import format as fmt
from rpctest.contracts.drift import ContractDrift, use_providers
from rpctest.contracts.recorder import Recorder
from rpctest.redis_backend import find_redis_server_binary

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
CONSUMER = CONTRACTS / "consumers/rpctest-examples--pysoa--users.json"
PROVIDER = CONTRACTS / "providers/pysoa--users.json"


@pytest.fixture(autouse=True)
def _clean_store() -> Iterator[None]:
    STORE.reset()
    yield
    STORE.reset()


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["contracts", "verify", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


# -- the dogfood contracts ------------------------------------------------------------------------


def test_dogfood_contracts_verify(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(capsys, CONTRACTS)
    assert code == 0, out
    # every stack's example contracts (contracts/README.md): a file lost or an interaction dropped shows here
    assert "passed: 0 finding(s) in 19 interaction(s) of 5 consumer contract(s) against 5 provider contract(s)" in out


def test_dogfood_provider_contract_is_current(tmp_path: Path) -> None:
    assert_provider_current("pysoa", "examples.pysoa.service:UserServer", PROVIDER, tmp_path)


def test_dogfood_consumer_contract_is_current(tmp_path: Path) -> None:
    """Re-record the example consumer's stubs: the committed file must come out byte for byte."""
    assert_consumer_current("examples/pysoa/test_consumer.py", CONSUMER, tmp_path)


def test_a_broken_contract_exits_1_with_the_right_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    consumer_file = tmp_path / "contracts" / CONSUMER.relative_to(CONTRACTS)
    data = json.loads(consumer_file.read_text())
    (get_ann,) = [i for i in data["interactions"] if i["operation"] == "get_user" and i["request"] == {"id": 1}]
    get_ann["response"]["body"]["user"]["id"] = "1"  # the stub says the id is a string
    consumer_file.write_text(json.dumps(data))
    code, out, _ = verify(capsys, tmp_path / "contracts")
    assert code == 1
    index = data["interactions"].index(get_ann)
    assert f"ERROR [response_schema] {consumer_file} interaction #{index} (get_user)" in out
    assert f"at /interactions/{index}/response/body/user/id" in out
    assert 'actual:   string "1"' in out and "expected: \"integer\"" in out
    assert "recorded by: examples/pysoa/test_consumer.py::" in out


# -- export --------------------------------------------------------------------------------------


def test_export_from_a_running_service_matches_the_in_process_export(pysoa_service: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    service = pysoa_service(UserServer, transport="redis", redis="real")
    assert main(["contracts", "export", "--stack", "pysoa", "--address", service.address, "-o", str(tmp_path / "remote.json")]) == 0
    remote = fmt.load(tmp_path / "remote.json")
    local = fmt.load(PROVIDER)
    assert isinstance(remote, fmt.ProviderContract) and isinstance(local, fmt.ProviderContract)
    assert remote.source == {"address": service.address, "exported_by": local.source["exported_by"]}
    assert sorted(remote.operations) == sorted(local.operations)
    for name, op in local.operations.items():
        assert remote.operations[name].request == op.request, name
        assert remote.operations[name].response == op.response, name
    assert remote.operations["get_user"].errors == [] and remote.operations["get_user"].errors_open  # not discoverable remotely: left open
    assert any("error codes" in str(note).lower() or "codes" in str(note) for note in remote.notes)


def test_export_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "export", "--stack", "pysoa"]) == 2
    assert "needs --provider MODULE:OBJECT or --address ADDRESS" in capsys.readouterr().err
    assert main(["contracts", "export", "--stack", "pysoa", "--provider", "examples.pysoa.service:Nope"]) == 2
    assert "has no attribute 'Nope'" in capsys.readouterr().err
    assert main(["contracts", "export", "--stack", "pysoa", "--provider", "no_such_module:X"]) == 2
    assert "cannot import 'no_such_module'" in capsys.readouterr().err


def test_configured_expected_errors_are_added(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rpctest import config
    from rpctest.contracts.export import export

    (tmp_path / "rpctest.toml").write_text('[services.users]\nstack = "pysoa"\n[services.users.expected_errors]\nlist_users = ["RATE_LIMITED"]\n')
    config.set_current(config.load(tmp_path))
    try:
        contract = export("pysoa", provider=UserServer)
        assert contract.operations["list_users"].errors == ["RATE_LIMITED"]
        assert contract.operations["get_user"].errors == ["NOT_FOUND"]
        (tmp_path / "rpctest.toml").write_text('[services.users]\nstack = "pysoa"\n[services.users.expected_errors]\nlist_user = ["X"]\n')
        config.set_current(config.load(tmp_path))
        with pytest.raises(Exception, match="list_user"):
            export("pysoa", provider=UserServer)
    finally:
        config.set_current(None)


# -- live verification ------------------------------------------------------------------------------


def test_live_verify_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(capsys, CONTRACTS, "--live", "--provider", "examples.pysoa.service:UserServer",
                          "--setup", "examples.pysoa.service:provider_state")
    assert code == 0, out


def test_live_verify_against_a_running_service(pysoa_service: Any, capsys: pytest.CaptureFixture[str]) -> None:
    service = pysoa_service(UserServer, transport="redis", redis="real")
    # the service runs in this process, so the provider-state hook can reset its store between replays
    code, out, err = verify(capsys, CONTRACTS, "--live", "--address", service.address, "--setup", "examples.pysoa.service:provider_state")
    assert code == 0, out + err
    code, out, _ = verify(capsys, CONTRACTS, "--live", "--address", service.address)  # without it: Bob now exists
    assert code == 1 and "live_missing_error" in out and "expected: NOT_FOUND@id" in out


def test_live_verify_reports_what_the_provider_really_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(CONTRACTS, tmp_path / "contracts")
    consumer_file = tmp_path / "contracts" / CONSUMER.relative_to(CONTRACTS)
    data = json.loads(consumer_file.read_text())
    (get_ann,) = [i for i in data["interactions"] if i["operation"] == "get_user" and i["request"] == {"id": 1}]
    get_ann["response"] = {"errors": [{"code": "NOT_FOUND", "field": "id", "kind": "not_found"}]}  # schema-valid, but false
    consumer_file.write_text(json.dumps(data))
    assert verify(capsys, tmp_path / "contracts")[0] == 0  # the schemas cannot see it
    code, out, _ = verify(capsys, tmp_path / "contracts", "--live", "--provider", "examples.pysoa.service:UserServer",
                          "--setup", "examples.pysoa.service:provider_state", "--format", "json")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["check"] == "live_missing_error"
    assert finding["expected"] == "NOT_FOUND@id" and finding["actual"] == "a success"


def test_live_without_a_target_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(capsys, CONTRACTS, "--live")[0] == 2
    assert verify(capsys, CONTRACTS, "--provider", "examples.pysoa.service:UserServer")[0] == 2


def test_live_against_an_unreachable_redis_is_a_usage_error_not_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = verify(capsys, CONTRACTS, "--live", "--address", "redis://127.0.0.1:1/0#service.users")
    assert code == 2 and out == ""
    assert "cannot reach Redis at redis://127.0.0.1:1/0 for 'users'" in err


def test_live_timeouts_are_transport_findings(rpctest_redis: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # a reachable Redis with nothing serving 'users' (database 15: requests left there expire unseen)
    address = f"redis://{rpctest_redis.host}:{rpctest_redis.port}/15#service.users"
    code, out, _ = verify(capsys, CONTRACTS, "--live", "--address", address, "--timeout", "0.2", "--format", "json")
    assert code == 1
    findings = json.loads(out)["findings"]
    assert len(findings) == 5 and all("TRANSPORT" in f["actual"] for f in findings)


# -- recording from rpctest's own clients --------------------------------------------------------


def test_hosted_service_calls_are_recorded_when_asked(pysoa_service: Any) -> None:
    recorder = Recorder("me").start()
    try:
        pysoa_service(UserServer).call("get_user", {"id": 1})
        assert recorder.contracts() == []
        pysoa_service(UserServer, record=True).call("get_user", {"id": 1})
    finally:
        recorder.stop()
    (contract,) = recorder.contracts()
    (item,) = contract.interactions
    assert (contract.stack, contract.service, item.operation, item.source) == ("pysoa", "users", "get_user", "local")
    assert item.body["user"]["name"] == "Ann"


# -- drift -------------------------------------------------------------------------------------------


@pytest.mark.rpctest(strict=False)
def test_drifted_pysoa_stub_fails_when_it_starts() -> None:
    with use_providers(PROVIDER):
        with pytest.raises(ContractDrift, match=r"body /user/email: required key 'email' is missing"):
            with stub_action("users", "get_user", body={"user": {"id": 1, "name": "Ann", "tags": []}}):
                pass
        with stub_action("users", "get_user", errors=["NOT_FOUND", "INVALID"]):
            pass


# -- rpctest serve -----------------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    if find_redis_server_binary() is None:
        reason = "rpctest serve for PySOA starts a redis-server, and there is none on PATH"
        if os.environ.get("RPCTEST_REQUIRE_REDIS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    process = subprocess.Popen(
        [sys.executable, "-m", "rpctest", "serve", "--stack", "pysoa", str(CONSUMER)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("rpctest serve: pysoa stub provider at redis://"), line + (process.stderr.read() if process.poll() is not None and process.stderr else "")
        yield process, line.rsplit(" ", 1)[1].strip()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_serve_answers_recorded_requests_and_explains_misses(served: tuple[subprocess.Popen[str], str]) -> None:
    from rpctest.stacks import get_adapter

    process, address = served
    assert address.endswith("#service.users")
    with get_adapter("pysoa").wire.client(address, timeout=5) as client:
        ann = client.call(Call("pysoa", "users", "get_user", {"id": 1}))
        assert ann.ok and ann.body["user"]["name"] == "Ann"
        missing = client.call(Call("pysoa", "users", "get_user", {"id": 2}))
        assert [(e.code, e.field) for e in missing.errors] == [("NOT_FOUND", "id")]
        miss = client.call(Call("pysoa", "users", "get_user", {"id": 3}))
        assert [e.code for e in miss.errors] == ["INVALID"] and "No recorded/stubbed request matches" in miss.errors[0].message
        unknown = client.call(Call("pysoa", "users", "delete_user", {"id": 1}))
        assert [(e.code, e.field) for e in unknown.errors] == [("UNKNOWN", "action")]
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0 and time.monotonic() - started < 10
    err = process.stderr.read() if process.stderr else ""
    assert "Nearest stub: stub_action('users', 'get_user'" in err


def test_serve_with_nothing_to_serve_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--stack", "pysoa", str(PROVIDER)]) == 2
    assert "hold no recorded pysoa interactions" in capsys.readouterr().err
