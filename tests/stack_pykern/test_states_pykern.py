"""Provider states on pykern.api (issue 18, item 1): recorded by a consumer suite through pykern's
real ``Client``, set up by an async handler for live verification of the real ``WalletAPI``."""

from __future__ import annotations

from pathlib import Path

import pytest
from states_helpers import record_states, states_by_request, verify_live_json, without_handler, without_states

PROVIDER = str(Path(__file__).resolve().parents[2] / "contracts" / "providers" / "pykern--wallet.json")
TARGET = ("--provider", "examples.pykern.service:WalletAPI", "--stack", "pykern")

CONSUMER = '''
import pytest
from pykern.api.client import Client
from pykern.pkcollections import PKDict

from examples.pykern.consumer import pay
from rpctest import stub_action

WALLET = PKDict(tcp_ip="127.0.0.1", tcp_port=8123, api_uri="/api")


@pytest.mark.asyncio
@stub_action("wallet", "transfer", stack="pykern", body={"account": "carol", "balance": 70},
             state="account has credit", state_params={"account": "carol", "balance": 100})
async def test_pay_from_an_account_with_credit(stub):
    async with Client(WALLET) as client:
        assert await pay(client, "carol", 30) == "carol: paid 30, 70 left"


@pytest.mark.asyncio
@pytest.mark.rpctest(state="account has credit", state_params={"account": "dave", "balance": 5})
@stub_action("wallet", "transfer", stack="pykern", errors={"code": "NotEnoughCredit", "message": "balance=5"})
async def test_pay_more_than_the_credit(stub):
    async with Client(WALLET) as client:
        assert await pay(client, "dave", 30) == "dave: not enough credit (5 left)"
'''


@pytest.fixture
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    contract, path = record_states(tmp_path_factory.mktemp("consumer"), CONSUMER, stack="pykern")
    assert states_by_request(contract) == {
        'transfer {"account": "carol", "amount": 30, "currency": "EUR"}': [("account has credit", {"account": "carol", "balance": 100})],
        'transfer {"account": "dave", "amount": 30, "currency": "EUR"}': [("account has credit", {"account": "dave", "balance": 5})],
    }
    return path


def test_states_recorded_by_the_consumer_are_set_up_by_the_providers_handlers(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = verify_live_json(capsys, str(recorded), PROVIDER, *TARGET, "--states", "stack_pykern.pykern_states")
    assert (code, report["findings"], report["summary"]["interactions"]) == (0, [], 2)


def test_the_state_is_what_makes_the_replay_pass(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    without_states(recorded, tmp_path / "stateless.json")
    code, report = verify_live_json(capsys, str(tmp_path / "stateless.json"), PROVIDER, *TARGET)
    assert code == 1 and [f["check"] for f in report["findings"]] == ["live_unexpected_error", "live_error_codes"]


def test_a_state_with_no_handler_is_a_finding_naming_it(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    renamed = without_handler(recorded, "account has credit", "account is frozen", tmp_path / "renamed.json")
    code, report = verify_live_json(capsys, str(renamed), PROVIDER, *TARGET, "--states", "stack_pykern.pykern_states")
    assert code == 1 and [f["check"] for f in report["findings"]] == ["live_missing_state", "live_missing_state"]
    assert {f["tests"][0]: f["expected"] for f in report["findings"]} == {
        "test_states_consumer.py::test_pay_from_an_account_with_credit": "'account is frozen' (account='carol', balance=100)",
        "test_states_consumer.py::test_pay_more_than_the_credit": "'account is frozen' (account='dave', balance=5)",
    }
    assert all("@rpctest.provider_state('account is frozen')" in f["message"] for f in report["findings"])
