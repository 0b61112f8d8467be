"""Matchers on ZeroJSON (issue 18, item 2): the shop consumer's stubs on a real ZeroMQ stub server
say which parts are rules; the consumer's pyzmq code gets the examples, the recording keeps the
rules, the real ``Shop`` interface is held to them, and ``rpctest serve`` takes any request that
keeps them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from stack_zerojson.zjhelpers import raw_dealer, receive

from examples.zerojson.consumer import checkout
from examples.zerojson.service import ORDERS, PRICES, Shop
from matcher_helpers import live_findings, record, schema_findings
from rpctest import integer, regex, stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.serve import router_from_contracts
from rpctest.stacks.zerojson.server import serve_stubs

SHOP = "com.example.shop"
PROVIDER = fmt.load(Path(__file__).resolve().parents[2] / "contracts" / "providers" / "zerojson--com.example.shop.json")


@pytest.fixture(autouse=True)
def fresh_orders() -> Iterator[None]:
    ORDERS.reset()
    yield
    ORDERS.reset()


@pytest.fixture
def contract(zerojson_stub_server: Any) -> fmt.ConsumerContract:
    got: list[str] = []
    recorded = record(
        stub_action(SHOP, "order", stack="zerojson", body={"order_id": integer(7), "total": integer(6)},
                    match={"sku": regex("[a-z]+", "apple"), "quantity": integer(2)}),
        stub_action(SHOP, "receipt", stack="zerojson", body={"lines": integer(1)}, attachment=b"2 x apple\n"),
        run=lambda: got.append(checkout(zerojson_stub_server.address, "apple", 2)),
    )
    assert got == ["order 7: 6 due; receipt '2 x apple'"]  # the examples
    return recorded


def test_the_recording_keeps_the_examples_and_the_rules(contract: fmt.ConsumerContract) -> None:
    order, receipt = contract.interactions
    assert (order.operation, order.body, receipt.body) == ("order", {"order_id": 7, "total": 6}, {"lines": 1})
    assert order.matchers == {
        "request": {"/sku": {"match": "regex", "regex": "[a-z]+"}, "/quantity": {"match": "integer"}},
        "response": {"/body/order_id": {"match": "integer"}, "/body/total": {"match": "integer"}},
    }
    assert receipt.matchers == {"response": {"/body/lines": {"match": "integer"}}}


def test_the_rules_fit_the_providers_schema(contract: fmt.ConsumerContract) -> None:
    assert schema_findings(contract, PROVIDER) == []


def test_the_real_interface_keeping_the_rules_passes_live(contract: fmt.ConsumerContract, zerojson_service: Any) -> None:
    ORDERS.placed[7] = {"sku": "pear", "quantity": 3}  # the order the receipt call names
    assert live_findings(contract, zerojson_service(Shop).send_call) == []


def test_the_real_interface_breaking_a_rule_is_a_precise_finding(
    contract: fmt.ConsumerContract, zerojson_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ORDERS.placed[7] = {"sku": "pear", "quantity": 3}
    monkeypatch.setitem(PRICES, "apple", 2.5)  # a total of 5.0: not the integer the consumer relies on
    assert live_findings(contract, zerojson_service(Shop).send_call) == [
        ("live_matcher", "/interactions/0/response/body/total", "integer", "number 5.0, not an integer"),
    ]


def ask(server: Any, method: str, args: Any) -> Any:
    with raw_dealer(server.address, server.context) as sock:
        sock.send_multipart([b"", b"CALL", json.dumps({"interface": SHOP, "method": method, "args": args}).encode()])
        got = receive(sock, 5.0)
    assert got is not None and got[:2] == [b"", b"OK"], got
    return json.loads(got[2])


def test_serve_answers_any_request_keeping_the_rules(contract: fmt.ConsumerContract) -> None:
    with serve_stubs(router_from_contracts([contract], "zerojson")) as server:
        assert ask(server, "order", {"sku": "pear", "quantity": 40}) == {"code": 0, "result": {"order_id": 7, "total": 6}}
        refused = ask(server, "order", {"sku": "pear", "quantity": "40"})
    assert refused["code"] == 4 and "/quantity must be integer" in refused["error"]
