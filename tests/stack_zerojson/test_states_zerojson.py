"""Provider states on ZeroJSON (issue 18, item 1): recorded by a consumer suite calling a stub server
over real ZeroMQ sockets, set up by handlers for live verification of the real ``Shop``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from states_helpers import record_states, states_by_request, verify_live_json, without_handler, without_states

PROVIDER = str(Path(__file__).resolve().parents[2] / "contracts" / "providers" / "zerojson--com.example.shop.json")
ORDER_7 = {"order_id": 7, "sku": "apple", "quantity": 2}

CONSUMER = '''
from examples.zerojson.consumer import call
from rpctest import stub_action

SHOP = "com.example.shop"


def test_receipt_of_a_placed_order(zerojson_stub_server):
    with stub_action(SHOP, "receipt", stack="zerojson", body={"lines": 1}, attachment=b"2 x apple\\n",
                     state="order exists", state_params={"order_id": 7, "sku": "apple", "quantity": 2}):
        assert call(zerojson_stub_server.address, "receipt", {"order_id": 7}) == ({"lines": 1}, b"2 x apple\\n")


def test_receipt_named_by_the_fixture(zerojson_stub_server, provider_state):
    provider_state("order exists", order_id=9, sku="pear", quantity=1)
    with stub_action(SHOP, "receipt", stack="zerojson", body={"lines": 1}, attachment=b"1 x pear\\n"):
        assert call(zerojson_stub_server.address, "receipt", {"order_id": 9})[1] == b"1 x pear\\n"
'''


@pytest.fixture
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    contract, path = record_states(tmp_path_factory.mktemp("consumer"), CONSUMER, stack="zerojson")
    assert states_by_request(contract) == {
        'receipt {"order_id": 7}': [("order exists", ORDER_7)],
        'receipt {"order_id": 9}': [("order exists", {"order_id": 9, "sku": "pear", "quantity": 1})],
    }
    return path


@pytest.mark.parametrize("target", ["provider", "address"])
def test_states_recorded_by_the_consumer_are_set_up_by_the_providers_handlers(
    target: str, recorded: Path, zerojson_service: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from examples.zerojson.service import Shop

    where = ["--provider", "examples.zerojson.service:Shop"] if target == "provider" else ["--address", zerojson_service(Shop).address]
    code, report = verify_live_json(capsys, str(recorded), PROVIDER, *where, "--stack", "zerojson",
                                    "--states", "stack_zerojson.zerojson_states")
    assert (code, [(f["check"], f["message"], f["expected"], f["actual"]) for f in report["findings"]], report["summary"]["interactions"]) == (0, [], 2)


def test_the_state_is_what_makes_the_replay_pass(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same interactions recorded with no state: the provider has no such order and refuses."""
    stateless = without_states(recorded, tmp_path / "stateless.json")
    code, report = verify_live_json(capsys, str(stateless), PROVIDER, "--provider", "examples.zerojson.service:Shop", "--stack", "zerojson")
    assert code == 1 and {f["check"] for f in report["findings"]} == {"live_unexpected_error"}


def test_a_state_with_no_handler_is_a_finding_naming_it(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    renamed = without_handler(recorded, "order exists", "order was refunded", tmp_path / "renamed.json")
    code, report = verify_live_json(capsys, str(renamed), PROVIDER, "--provider", "examples.zerojson.service:Shop",
                                    "--stack", "zerojson", "--states", "stack_zerojson.zerojson_states")
    assert code == 1 and len(report["findings"]) == 2
    for finding in report["findings"]:
        assert finding["check"] == "live_missing_state" and finding["consumer"] == "states-web"
        assert "@rpctest.provider_state('order was refunded')" in finding["message"]
    by_test = {finding["tests"][0]: finding["expected"] for finding in report["findings"]}
    assert by_test == {
        "test_states_consumer.py::test_receipt_of_a_placed_order": "'order was refunded' (order_id=7, quantity=2, sku='apple')",
        "test_states_consumer.py::test_receipt_named_by_the_fixture": "'order was refunded' (order_id=9, quantity=1, sku='pear')",
    }
