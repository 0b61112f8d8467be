"""Provider states on PySOA (issue 18, item 1): recorded by a consumer suite through pysoa's real
``Client``, set up by handlers for live verification of the real ``UserServer``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from states_helpers import record_states, states_by_request, verify_live_json, without_handler

PROVIDER = str(Path(__file__).resolve().parents[2] / "contracts" / "providers" / "pysoa--users.json")

CONSUMER = '''
import pytest
from pysoa.client.client import Client

from examples.pysoa.consumer import profile_line
from rpctest import stub_action

BOB = {"user": {"id": 2, "name": "Bob", "email": "bob@example.com", "tags": []}}


@stub_action("users", "get_user", body=BOB, state="user exists", state_params={"id": 2, "name": "Bob"})
def test_profile_of_a_user_the_provider_has(stub):
    assert profile_line(Client({}), 2).startswith("#2: Bob <bob@example.com>")


@pytest.mark.rpctest(state="no such user", state_params={"id": 3})
@stub_action("users", "get_user", errors=[{"code": "NOT_FOUND", "field": "id", "message": "No such user"}])
def test_profile_of_a_missing_user(stub):
    assert profile_line(Client({}), 3) == "#3: (no such user)"
'''


@pytest.fixture
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    contract, path = record_states(tmp_path_factory.mktemp("consumer"), CONSUMER, stack="pysoa")
    assert states_by_request(contract) == {
        'get_user {"id": 2}': [("user exists", {"id": 2, "name": "Bob"})],
        'get_user {"id": 3}': [("no such user", {"id": 3})],
    }
    return path


def test_states_recorded_by_the_consumer_are_set_up_by_the_providers_handlers(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = verify_live_json(capsys, str(recorded), PROVIDER, "--provider", "examples.pysoa.service:UserServer",
                                    "--stack", "pysoa", "--states", "stack_pysoa.pysoa_states")
    assert (code, report["findings"], report["summary"]["interactions"]) == (0, [], 2)


def test_a_state_with_no_handler_is_a_finding_naming_it(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    renamed = without_handler(recorded, "user exists", "user is archived", tmp_path / "renamed.json")
    code, report = verify_live_json(capsys, str(renamed), PROVIDER, "--provider", "examples.pysoa.service:UserServer",
                                    "--stack", "pysoa", "--states", "stack_pysoa.pysoa_states")
    assert len(report["findings"]) == 1, [(f["check"], f["message"], f["pointer"]) for f in report["findings"]]
    [finding] = report["findings"]
    assert code == 1 and finding["check"] == "live_missing_state"
    assert "@rpctest.provider_state('user is archived')" in finding["message"]
    assert finding["expected"] == "'user is archived' (id=2, name='Bob')"
    assert finding["consumer"] == "states-web" and finding["operation"] == "get_user"
    assert finding["tests"] == ["test_states_consumer.py::test_profile_of_a_user_the_provider_has"]


def test_the_fuzzer_resets_the_real_service_through_a_state_before_every_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``rpctest fuzz --state``: create_user's valid requests each start from the fresh store, so no
    example is refused as a DUPLICATE of an earlier example's name."""
    from rpctest.cli import main
    from stack_pysoa import pysoa_states

    pysoa_states.RESETS.clear()
    code = main(["fuzz", "--stack", "pysoa", "--provider", "examples.pysoa.service:UserServer", "--operation", "create_user",
                 "--mode", "positive", "--max-examples", "15", "--seed", "3", "--replay-dir", str(tmp_path),
                 "--state", "fresh store", "--states", "stack_pysoa.pysoa_states", "--json", str(tmp_path / "fuzz.json")])
    assert code == 0, capsys.readouterr().out
    [result] = [r for r in json.loads((tmp_path / "fuzz.json").read_text())["results"] if r["id"] == "pysoa:users.create_user"]
    assert result["examples"] >= 1 and len(pysoa_states.RESETS) >= result["examples"]
    # the examples' users were there to clear: each example created one, the next one's reset removed it
    assert max(pysoa_states.RESETS[1:]) == 2
    assert main(["fuzz", "--stack", "pysoa", "--provider", "examples.pysoa.service:UserServer", "--state", "nowhere",
                 "--states", "stack_pysoa.pysoa_states"]) == 2
    assert "no provider state handler for 'nowhere'" in capsys.readouterr().err
