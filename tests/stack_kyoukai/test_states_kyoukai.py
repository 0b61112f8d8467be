"""Provider states on Kyoukai (issue 18, item 1): recorded by a consumer suite calling a stub server
over real HTTP, set up by handlers for live verification of the real shop app, and chosen by
``rpctest serve --state`` for one request recorded under two states."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from states_helpers import ROOT, record_states, verify_live_json, without_handler, without_states

PROVIDER = str(ROOT / "contracts" / "providers" / "kyoukai--shop.json")
APPLE = {"id": 1, "sku": "apple", "quantity": 1, "total": 3}

CONSUMER = '''
import pytest
from examples.kyoukai.consumer import latest_order_count
from rpctest import stub_action

APPLE = {"id": 1, "sku": "apple", "quantity": 1, "total": 3}


@pytest.mark.rpctest(state="orders placed", state_params={"orders": [["apple", 1]]})
def test_latest_orders(kyoukai_stub_server):
    with stub_action("shop", "GET /orders", stack="kyoukai", body={"orders": [APPLE]}):
        assert latest_order_count(kyoukai_stub_server.address, limit=5) == 1


def test_no_orders_yet(kyoukai_stub_server):
    with stub_action("shop", "GET /orders", stack="kyoukai", body={"orders": []}, state="no orders"):
        assert latest_order_count(kyoukai_stub_server.address, limit=5) == 0
'''


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    contract, path = record_states(tmp_path_factory.mktemp("consumer"), CONSUMER, stack="kyoukai")
    assert len(contract.interactions) == 2  # one request, two states: two interactions
    assert sorted([(s.name, dict(s.params)) for s in item.states] for item in contract.interactions) == [
        [("no orders", {})], [("orders placed", {"orders": [["apple", 1]]})],
    ]
    return path


@pytest.mark.parametrize("target", ["provider", "address"])
def test_states_recorded_by_the_consumer_are_set_up_by_the_providers_handlers(
    target: str, recorded: Path, kyoukai_service: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from examples.kyoukai.service import make_app

    where = ["--provider", "examples.kyoukai.service:make_app"] if target == "provider" else [
        "--address", kyoukai_service(make_app).address, "--service", "shop"]
    code, report = verify_live_json(capsys, str(recorded), PROVIDER, *where, "--stack", "kyoukai", "--exact",
                                    "--states", "stack_kyoukai.kyoukai_states")
    assert (code, report["findings"], report["summary"]["interactions"]) == (0, [], 2)


def test_the_state_is_what_makes_the_replay_pass(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    without_states(recorded, tmp_path / "stateless.json")
    code, report = verify_live_json(capsys, str(tmp_path / "stateless.json"), PROVIDER, "--provider", "examples.kyoukai.service:make_app",
                                    "--stack", "kyoukai", "--exact")
    assert code == 1 and [f["check"] for f in report["findings"]] == ["live_body"]  # no orders where one was placed


def test_a_state_with_no_handler_is_a_finding_naming_it(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    renamed = without_handler(recorded, "orders placed", "orders shipped", tmp_path / "renamed.json")
    code, report = verify_live_json(capsys, str(renamed), PROVIDER, "--provider", "examples.kyoukai.service:make_app",
                                    "--stack", "kyoukai", "--states", "stack_kyoukai.kyoukai_states")
    [finding] = report["findings"]
    assert code == 1 and finding["check"] == "live_missing_state" and finding["operation"] == "GET /orders"
    assert finding["expected"] == "'orders shipped' (orders=[['apple', 1]])"
    assert finding["tests"] == ["test_states_consumer.py::test_latest_orders"]
    assert "@rpctest.provider_state('orders shipped')" in finding["message"]


@pytest.mark.parametrize(("state", "count"), [("orders placed", 1), ("no orders", 0)])
def test_serve_answers_as_recorded_in_the_state_it_is_started_in(recorded: Path, state: str, count: int) -> None:
    process = subprocess.Popen([sys.executable, "-m", "rpctest", "serve", "--stack", "kyoukai", "--state", state, str(recorded)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("rpctest serve: kyoukai stub provider at "), line
        address = line.rsplit(" ", 1)[1].strip()
        with urllib.request.urlopen(f"{address}/orders?limit=5", timeout=10) as response:
            assert json.loads(response.read()) == {"orders": [APPLE] * count}
    finally:
        process.kill()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
