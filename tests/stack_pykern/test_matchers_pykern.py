"""Matchers on pykern.api (issue 18, item 2): the ``wallet`` consumer's stubs say which parts are
rules, in a call's result, an error's message and a subscription's items; pykern's own ``Client``
gets the examples, the recording keeps the rules, and the real ``WalletAPI`` is held to them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator

import pytest
from pykern.api.client import Client
from pykern.pkcollections import PKDict

from examples.pykern.consumer import countdown, pay
from examples.pykern.service import ACCOUNTS, WalletAPI
from matcher_helpers import live_findings, record, schema_findings
from rpctest import each_like, integer, regex, stub_action
from rpctest.contracts import format as fmt

PROVIDER = fmt.load(Path(__file__).resolve().parents[2] / "contracts" / "providers" / "pykern--wallet.json")
WALLET = PKDict(tcp_ip="127.0.0.1", tcp_port=8123, api_uri="/api")


@pytest.fixture(autouse=True)
def fresh_accounts() -> Iterator[None]:
    ACCOUNTS.reset()
    yield
    ACCOUNTS.reset()


def consume() -> list[Any]:
    async def run() -> list[Any]:
        async with Client(WALLET) as client:
            return [await pay(client, "ann", 30), await pay(client, "bob", 30), await countdown(client, 3)]

    return asyncio.run(run())


@pytest.fixture
def contract() -> fmt.ConsumerContract:
    got: list[Any] = []
    recorded = record(
        stub_action("wallet", "transfer", stack="pykern", body={"account": regex("[a-z]+", "ann"), "balance": integer(70)},
                    match={"account": "ann"}),
        stub_action("wallet", "transfer", stack="pykern", match={"account": "bob"},
                    errors={"code": "NotEnoughCredit", "message": regex(r"balance=\d+", "balance=3")}),
        stub_action("wallet", "ticks", stack="pykern", items=each_like({"i": integer(0)}, min=1)),
        run=lambda: got.extend(consume()),
    )
    assert got == ["ann: paid 30, 70 left", "bob: not enough credit (3 left)", [0]]  # the examples
    return recorded


def test_the_recording_keeps_the_examples_and_the_rules(contract: fmt.ConsumerContract) -> None:
    rules = {(item.operation, str(item.request)): item.matchers for item in contract.interactions}
    assert rules == {
        ("ticks", "{'n': 3}"): {"response": {"/items": {"match": "type", "min": 1}, "/items/*/i": {"match": "integer"}}},
        ("transfer", "{'account': 'ann', 'amount': 30, 'currency': 'EUR'}"): {
            "response": {"/body/account": {"match": "regex", "regex": "[a-z]+"}, "/body/balance": {"match": "integer"}}},
        ("transfer", "{'account': 'bob', 'amount': 30, 'currency': 'EUR'}"): {
            "response": {"/errors/0/message": {"match": "regex", "regex": r"balance=\d+"}}},
    }


def test_the_rules_fit_the_providers_schema(contract: fmt.ConsumerContract) -> None:
    assert schema_findings(contract, PROVIDER) == []


def test_the_real_api_keeping_the_rules_passes_live(contract: fmt.ConsumerContract, pykern_service: Any) -> None:
    ACCOUNTS.balances.update(ann=1000, bob=7)  # other data, same rules
    assert live_findings(contract, pykern_service(WalletAPI).send_call) == []


def test_the_real_api_breaking_a_rule_is_a_precise_finding(contract: fmt.ConsumerContract, pykern_service: Any) -> None:
    ACCOUNTS.balances.update(ann=100.5)  # a float balance: not what the consumer's integer() relies on
    found = live_findings(contract, pykern_service(WalletAPI).send_call)
    assert found == [("live_matcher", f"/interactions/{_index(contract, 'ann')}/response/body/balance", "integer",
                      "number 70.5, not an integer")]


def _index(contract: fmt.ConsumerContract, account: str) -> int:
    return next(i for i, item in enumerate(contract.interactions) if (item.request or {}).get("account") == account)


def test_serve_answers_pykerns_client_for_any_request_keeping_the_rules() -> None:
    from rpctest import any_of
    from rpctest.contracts.serve import router_from_contracts
    from rpctest.stacks.pykern.stub_server import serve_stubs
    from stack_pykern.test_recorded_subscriptions import error_text, with_client

    recorded = record(
        stub_action("wallet", "transfer", stack="pykern", body={"account": regex("[a-z]+", "ann"), "balance": integer(70)},
                    match={"account": regex("[a-z]+", "ann"), "amount": integer(30), "currency": any_of("EUR", "USD")}),
        run=consume_one,
    )

    async def work(client: Client) -> list[str]:
        return [await pay(client, "zoe", 5), await error_text(client.call_api("transfer", {"account": "zoe", "amount": "5", "currency": "EUR"}))]

    with serve_stubs(router_from_contracts([recorded], "pykern"), service="wallet") as server:
        paid, refused = with_client(server.address, work)
    assert paid == "zoe: paid 5, 70 left"  # any account and amount keeping the rules: the recorded examples
    assert refused.startswith("UnmatchedCall: No stub matches pykern call wallet.transfer") and "/amount must be integer" in refused


def consume_one() -> None:
    async def run() -> None:
        async with Client(WALLET) as client:
            assert await pay(client, "ann", 30) == "ann: paid 30, 70 left"

    asyncio.run(run())
