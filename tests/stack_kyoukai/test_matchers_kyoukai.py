"""Matchers on Kyoukai (issue 18, item 2): the shop consumer's httpx stubs say which parts are rules
(in a path value and in the JSON bodies); the consumer gets the examples, the recording keeps the
rules with the recorded status, the real Kyoukai app is held to them, and ``rpctest serve`` takes
any path keeping them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from examples.kyoukai.consumer import ShopClient
from examples.kyoukai.service import ORDERS, PRICES, make_app
from matcher_helpers import live_findings, record, schema_findings
from rpctest import integer, like, regex, stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.serve import router_from_contracts
from rpctest.stacks.kyoukai.stub_server import serve_stubs

SHOP = "http://shop.example"
ITEM = "GET /items/<string(maxlength=16):sku>"
PROVIDER = fmt.load(Path(__file__).resolve().parents[2] / "contracts" / "providers" / "kyoukai--shop.json")


@pytest.fixture(autouse=True)
def fresh_orders() -> Iterator[None]:
    ORDERS.reset()
    yield
    ORDERS.reset()


def consume() -> list[Any]:
    client = ShopClient(SHOP)
    try:
        return [client.price("apple"), client.order("pear", 2)]
    finally:
        client.close()


@pytest.fixture
def contract() -> fmt.ConsumerContract:
    got: list[Any] = []
    recorded = record(
        stub_action("shop", ITEM, stack="kyoukai", body={"sku": like("apple"), "price": integer(3)},
                    match={"path": {"sku": regex("[a-z]+", "apple")}}),
        stub_action("shop", "POST /orders", stack="kyoukai", status=201,
                    body={"id": integer(7), "sku": "pear", "quantity": integer(2), "total": integer(8)}),
        run=lambda: got.extend(consume()),
    )
    assert got == [3, "order 7: 2 x pear = 8"]  # the examples
    return recorded


def test_the_recording_keeps_the_examples_the_rules_and_the_status(contract: fmt.ConsumerContract) -> None:
    item, order = contract.interactions
    assert item.matchers == {"request": {"/path/sku": {"match": "regex", "regex": "[a-z]+"}},
                             "response": {"/body/sku": {"match": "type"}, "/body/price": {"match": "integer"}}}
    assert order.meta == {"status": 201} and order.body == {"id": 7, "sku": "pear", "quantity": 2, "total": 8}
    assert sorted(order.matchers["response"]) == ["/body/id", "/body/quantity", "/body/total"]


def test_the_rules_fit_the_providers_schema(contract: fmt.ConsumerContract) -> None:
    assert schema_findings(contract, PROVIDER) == []


def test_the_real_app_keeping_the_rules_passes_live(contract: fmt.ConsumerContract, kyoukai_service: Any) -> None:
    ORDERS.add("apple", 1)  # other data: the order made is number 2, not the example's 7
    assert live_findings(contract, kyoukai_service(make_app).send_call) == []


def test_the_real_app_breaking_a_rule_is_a_precise_finding(
    contract: fmt.ConsumerContract, kyoukai_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PRICES, "apple", 2.5)
    monkeypatch.setitem(PRICES, "pear", 1.25)
    assert live_findings(contract, kyoukai_service(make_app).send_call) == [
        ("live_matcher", "/interactions/0/response/body/price", "integer", "number 2.5, not an integer"),
        ("live_matcher", "/interactions/1/response/body/total", "integer", "number 2.5, not an integer"),
    ]


def test_serve_answers_any_path_keeping_the_rules(contract: fmt.ConsumerContract) -> None:
    with serve_stubs(router_from_contracts([contract], "kyoukai")) as server:
        pear = httpx.get(f"{server.address}/items/pear", timeout=5)
        upper = httpx.get(f"{server.address}/items/PEAR", timeout=5)
    assert (pear.status_code, pear.json()) == (200, {"sku": "apple", "price": 3})
    assert upper.status_code != 200
