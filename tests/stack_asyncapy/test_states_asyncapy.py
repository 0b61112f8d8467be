"""Provider states on AsyncAPY (issue 18, item 1): recorded by a consumer suite calling a stub server
over AsyncAProto on a real socket, set up by a handler for live verification of a real AsyncAPY
server (it needs the AsyncAPY wheel; ``RPCTEST_REQUIRE_ASYNCAPY=1`` fails instead of skipping)."""

from __future__ import annotations

from pathlib import Path

import pytest
from states_helpers import record_states, states_by_request, verify_live_json, without_handler, without_states

from rpctest.cli import main
from stack_asyncapy.aap_real import needs_asyncapy

pytestmark = needs_asyncapy
PROVIDER = ("--provider", "stack_asyncapy.aap_ledger:build_ledger", "--stack", "asyncapy")

CONSUMER = '''
import pytest
from examples.asyncapy.consumer import request
from rpctest import stub_action

BALANCE = {"action": "balance$", "account": ""}


def test_balance_of_an_account(asyncapy_stub_server):
    with stub_action("ledger", "balance", stack="asyncapy", match=BALANCE, body={"status": "ok", "balance": 100},
                     state="account exists", state_params={"account": "carol", "balance": 100}):
        assert request(asyncapy_stub_server.address, {"action": "balance", "account": "carol"}) == [{"status": "ok", "balance": 100}]


def test_balance_named_by_the_fixture(asyncapy_stub_server, provider_state):
    provider_state("account exists", account="dave", balance=5)
    with stub_action("ledger", "balance", stack="asyncapy", match=BALANCE, body={"status": "ok", "balance": 5}):
        assert request(asyncapy_stub_server.address, {"action": "balance", "account": "dave"}) == [{"status": "ok", "balance": 5}]
'''


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    contract, path = record_states(tmp_path_factory.mktemp("consumer"), CONSUMER, stack="asyncapy")
    assert states_by_request(contract) == {
        'balance {"account": "carol", "action": "balance"}': [("account exists", {"account": "carol", "balance": 100})],
        'balance {"account": "dave", "action": "balance"}': [("account exists", {"account": "dave", "balance": 5})],
    }
    # the ledger's provider contract, exported beside it: live verification also checks the schema
    assert main(["contracts", "export", *PROVIDER, "-o", str(path.parent / "ledger-provider.json")]) == 0
    return path


def target(recorded: Path) -> tuple[str, ...]:
    return (str(recorded.parent / "ledger-provider.json"), *PROVIDER)


def test_states_recorded_by_the_consumer_are_set_up_by_the_providers_handlers(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = verify_live_json(capsys, str(recorded), *target(recorded), "--exact", "--states", "stack_asyncapy.aap_ledger")
    assert (code, report["findings"], report["summary"]["interactions"]) == (0, [], 2)


def test_the_state_is_what_makes_the_replay_pass(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    without_states(recorded, tmp_path / "stateless.json")
    code, report = verify_live_json(capsys, str(tmp_path / "stateless.json"), *target(recorded))
    assert code == 1 and [f["check"] for f in report["findings"]] == ["live_unexpected_error"] * 2


def test_a_state_with_no_handler_is_a_finding_naming_it(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    renamed = without_handler(recorded, "account exists", "account is closed", tmp_path / "renamed.json")
    code, report = verify_live_json(capsys, str(renamed), *target(recorded), "--states", "stack_asyncapy.aap_ledger")
    assert code == 1 and [f["check"] for f in report["findings"]] == ["live_missing_state"] * 2
    assert {f["tests"][0]: f["expected"] for f in report["findings"]} == {
        "test_states_consumer.py::test_balance_of_an_account": "'account is closed' (account='carol', balance=100)",
        "test_states_consumer.py::test_balance_named_by_the_fixture": "'account is closed' (account='dave', balance=5)",
    }
