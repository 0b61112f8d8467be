"""Matchers on PySOA (issue 18, item 2): a consumer's ``get_user`` stub says which parts are rules;
pysoa's own ``Client`` gets the examples, the recording keeps the rules, and the real ``users``
server is held to them by live verification (and to its Conformity schema by ``verify``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from pysoa.client.client import Client

from examples.pysoa.consumer import profile_line
from examples.pysoa.service import STORE, UserServer
from matcher_helpers import live_findings, record, schema_findings
from rpctest import each_like, integer, regex, stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.serve import router_from_contracts
from rpctest.stacks.pysoa import adapter

PROVIDER = fmt.load(Path(__file__).resolve().parents[2] / "contracts" / "providers" / "pysoa--users.json")
USER = {"user": {"id": integer(1), "name": regex("[A-Z][a-z]+", "Ann"), "email": regex(r"[^@\s]+@[^@\s]+", "ann@example.com"),
                 "tags": each_like(regex("[a-z]+", "admin"), min=0)}}


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    STORE.reset()
    yield
    STORE.reset()


@pytest.fixture
def contract() -> fmt.ConsumerContract:
    line: list[str] = []
    recorded = record(stub_action("users", "get_user", stack="pysoa", body=USER, match={"id": integer(1)}),
                      run=lambda: line.append(profile_line(Client({}), 1)))
    assert line == ["#1: Ann <ann@example.com> [admin]"]  # the consumer's code got the examples
    return recorded


def test_the_recording_keeps_the_examples_and_the_rules(contract: fmt.ConsumerContract) -> None:
    [item] = contract.interactions
    assert item.body == {"user": {"id": 1, "name": "Ann", "email": "ann@example.com", "tags": ["admin"]}}
    assert item.matchers == {
        "request": {"/id": {"match": "integer"}},
        "response": {"/body/user/id": {"match": "integer"}, "/body/user/name": {"match": "regex", "regex": "[A-Z][a-z]+"},
                     "/body/user/email": {"match": "regex", "regex": r"[^@\s]+@[^@\s]+"},
                     "/body/user/tags": {"match": "type", "min": 0}, "/body/user/tags/*": {"match": "regex", "regex": "[a-z]+"}},
    }


def test_the_rules_fit_the_providers_schema(contract: fmt.ConsumerContract) -> None:
    assert schema_findings(contract, PROVIDER) == []
    widened = fmt.ConsumerContract("web", "pysoa", "users", [
        fmt.RecordedInteraction("get_user", {"id": 1}, body=contract.interactions[0].body,
                                matchers={"response": {"/body/user/email": {"match": "integer"}}})])
    assert schema_findings(widened, PROVIDER) == [("matcher_schema", "/interactions/0/response/body/user/email", "declares string")]


def test_the_real_server_keeping_the_rules_passes_live(contract: fmt.ConsumerContract, pysoa_service: Any) -> None:
    STORE.users[1].update(name="Grace", email="grace@navy.mil", tags=["a", "b", "c"])  # other data, same rules
    assert live_findings(contract, pysoa_service(UserServer).send_call) == []


def test_the_real_server_breaking_a_rule_is_a_precise_finding(contract: fmt.ConsumerContract, pysoa_service: Any) -> None:
    STORE.users[1].update(name="ann lee", tags=["admin", "Ops"])  # Conformity takes both; the consumer's rules do not
    assert live_findings(contract, pysoa_service(UserServer).send_call) == [
        ("live_matcher", "/interactions/0/response/body/user/name", "regex '[A-Z][a-z]+'", "'ann lee' does not match"),
        ("live_matcher", "/interactions/0/response/body/user/tags/1", "regex '[a-z]+'", "'Ops' does not match"),
    ]


def test_serve_answers_pysoas_client_for_any_request_keeping_the_rules(contract: fmt.ConsumerContract) -> None:
    from rpctest import redis_backend
    from stack_pysoa import redis_wire_helpers as helpers

    target = redis_backend.fake()
    with adapter.wire.stub_server(router_from_contracts([contract], "pysoa"), redis=target, services=["users"]):
        with helpers.pysoa_redis_client(target, "users") as client:
            other_id = client.call_action("users", "get_user", {"id": 12}, raise_action_errors=False)
            not_an_id = client.call_action("users", "get_user", {"id": "12"}, raise_action_errors=False)
    assert other_id.body == contract.interactions[0].body
    assert [e.code for e in not_an_id.errors] == ["INVALID"] and "/id must be integer" in not_an_id.errors[0].message
