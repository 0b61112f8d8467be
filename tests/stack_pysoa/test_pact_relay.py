"""The real ``pact verifier`` verifies the example PySOA provider through ``rpctest pact-relay``
(issue 19, item 3): the example consumer's pact passes, a planted break fails naming the field, and
provider states are set up by the provider's handlers through the relay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from broker_double import BrokerDouble, running_broker
from pact_support import consumer, example_pact, outcome, relay, verify, verify_from_broker, write_pact

__all__ = ["relay"]

PROVIDER = ["--stack", "pysoa", "--provider", "examples.pysoa.service:UserServer", "--setup", "examples.pysoa.service:provider_state"]


def test_the_example_provider_passes_the_example_consumers_pact(relay: Any, tmp_path: Path) -> None:
    pact = example_pact("rpctest-examples--pysoa--users", tmp_path)
    running = relay(*PROVIDER)
    assert running.printed("messages at").startswith("http://127.0.0.1:")
    result = verify(pact, "users", running)
    assert result.returncode == 0, outcome(result)
    assert result.stdout.count("has a matching body (OK)") == 5, outcome(result)
    log = running.stop()
    assert "users.get_user: errors NOT_FOUND@id (not_found)" in log and "users.create_user: a success" in log


def test_a_planted_break_fails_the_verifier_naming_the_field(relay: Any, tmp_path: Path) -> None:
    pact = example_pact("rpctest-examples--pysoa--users", tmp_path)
    running = relay("--stack", "pysoa", "--provider", "stack_pysoa.pact_planted:PlantedUserServer",
                    "--setup", "examples.pysoa.service:provider_state")
    result = verify(pact, "users", running)
    assert result.returncode == 1, outcome(result)
    assert "$.body.user.id -> Expected '1' (String) to be the same type as 1 (Integer)" in result.stdout, outcome(result)
    assert result.stdout.count("has a matching body (FAILED)") == 1, outcome(result)


def test_the_verifier_publishes_its_results_to_a_broker(relay: Any, tmp_path: Path) -> None:
    """``pact verifier -b BROKER --publish`` through the relay: the pact comes from the broker, the
    result goes back to it (a recording HTTP double: no Pact Broker can run here)."""
    pact = json.loads(example_pact("rpctest-examples--pysoa--users", tmp_path).read_text())
    with running_broker(BrokerDouble(pacts={"rpctest-examples": pact})) as broker:
        result = verify_from_broker(broker, "users", relay(*PROVIDER), "1.2.3")
        assert result.returncode == 0, outcome(result)
        planted = relay("--stack", "pysoa", "--provider", "stack_pysoa.pact_planted:PlantedUserServer",
                        "--setup", "examples.pysoa.service:provider_state")
        result = verify_from_broker(broker, "users", planted, "1.2.4")
        assert result.returncode == 1, outcome(result)
    published = [r.body for r in broker.requests if r.method == "POST" and r.path.endswith("/verification-results")]
    assert [(r["providerApplicationVersion"], r["success"]) for r in published] == [("1.2.3", True), ("1.2.4", False)]
    [selectors] = [r.body for r in broker.requests if r.method == "POST" and r.path.endswith("/for-verification")][:1]
    assert selectors["consumerVersionSelectors"] == [{"mainBranch": True}]


def test_an_operation_the_provider_lacks_fails_and_the_relay_says_what_the_provider_answered(relay: Any, tmp_path: Path) -> None:
    pact = write_pact(consumer("pysoa", "users", [
        {"operation": "delete_user", "request": {"id": 1}, "response": {"body": {"deleted": True}}},
    ]), tmp_path)
    running = relay(*PROVIDER)
    result = verify(pact, "users", running)
    assert result.returncode == 1 and "has a matching body (FAILED)" in result.stdout, outcome(result)
    assert "users.delete_user: errors UNKNOWN@action (not_found)" in running.stop()


STATES = consumer("pysoa", "users", [
    {"operation": "get_user", "request": {"id": 2}, "states": [{"name": "user exists", "params": {"id": 2, "name": "Bob"}}],
     "response": {"body": {"user": {"id": 2, "name": "Bob", "email": "bob@example.com", "tags": []}}}},
    {"operation": "get_user", "request": {"id": 3}, "states": [{"name": "no such user", "params": {"id": 3}}],
     "response": {"errors": [{"code": "NOT_FOUND", "field": "id", "kind": "not_found", "message": "No such user"}]}},
    {"operation": "get_user", "request": {"id": 2}, "states": [],
     "response": {"errors": [{"code": "NOT_FOUND", "field": "id", "kind": "not_found", "message": "No such user"}]}},
])


def test_provider_states_are_set_up_and_torn_down_by_the_handlers_through_the_relay(relay: Any, tmp_path: Path) -> None:
    """Bob exists only while "user exists" is set up: the third interaction (no state) finds him gone,
    which the handler's teardown did."""
    pact = write_pact(STATES, tmp_path)
    running = relay("--stack", "pysoa", "--provider", "examples.pysoa.service:UserServer", "--states", "stack_pysoa.pysoa_states")
    result = verify(pact, "users", running)
    assert result.returncode == 0, outcome(result)
    assert "Given user exists" in result.stdout and "Given no such user" in result.stdout
    log = running.stop()
    assert "state 'user exists' (id=2, name='Bob') set up" in log and "state 'user exists' (id=2, name='Bob') torn down" in log


def test_a_state_without_a_handler_fails_naming_it(relay: Any, tmp_path: Path) -> None:
    pact = write_pact(STATES, tmp_path)
    running = relay("--stack", "pysoa", "--provider", "examples.pysoa.service:UserServer")  # no --states
    result = verify(pact, "users", running)
    assert result.returncode == 1, outcome(result)
    assert "Provider setup state change for 'user exists' has failed" in result.stdout, outcome(result)
    assert "@rpctest.provider_state('user exists')" in running.stop()  # the relay's log says what to do
