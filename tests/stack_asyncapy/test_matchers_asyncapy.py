"""Matchers on AsyncAPY (issue 18, item 2): the calculator consumer's stubs on a real AsyncAProto
stub server say which parts of a reply are rules; the consumer's socket code gets the examples, the
recording keeps the rules, and a real AsyncAPY server is held to them (the consumer side needs no
AsyncAPY; the provider side skips without it, or fails under RPCTEST_REQUIRE_ASYNCAPY=1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from stack_asyncapy.aap_real import needs_asyncapy

from examples.asyncapy.consumer import CalcError, add, request, share
from matcher_helpers import live_findings, record, schema_findings
from rpctest import any_of, integer, stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.serve import router_from_contracts
from rpctest.stacks.asyncapy.stub_server import serve_stubs

PROVIDER = fmt.load(Path(__file__).resolve().parents[2] / "contracts" / "providers" / "asyncapy--calc.json")


@pytest.fixture
def contract(asyncapy_stub_server: Any) -> fmt.ConsumerContract:
    got: list[Any] = []
    address = asyncapy_stub_server.address
    recorded = record(
        stub_action("calc", "add", stack="asyncapy", body={"status": any_of("ok"), "sum": integer(5)}),
        stub_action("calc", "divide", stack="asyncapy", body={"status": "ok", "quotient": integer(3), "remainder": integer(1)}),
        run=lambda: got.extend([add(address, 2, 3), share(address, 10, 3)]),
    )
    assert got == [5, "3 each, 1 left over"]  # the examples
    return recorded


def test_the_recording_keeps_the_examples_and_the_rules(contract: fmt.ConsumerContract) -> None:
    added, divided = contract.interactions
    assert added.body == {"status": "ok", "sum": 5}
    assert added.matchers == {"response": {"/body/status": {"combine": "OR", "matchers": [{"match": "regex", "regex": "ok"}]},
                                           "/body/sum": {"match": "integer"}}}
    assert divided.matchers == {"response": {"/body/quotient": {"match": "integer"}, "/body/remainder": {"match": "integer"}}}


def test_the_rules_fit_the_providers_schema(contract: fmt.ConsumerContract) -> None:
    assert schema_findings(contract, PROVIDER) == []


@needs_asyncapy
def test_the_real_server_keeping_the_rules_passes_live(contract: fmt.ConsumerContract, asyncapy_service: Any) -> None:
    from examples.asyncapy.service import build_server

    assert live_findings(contract, asyncapy_service(build_server()).send_call) == []


def build_sloppy_server() -> Any:
    """The calculator with data the consumer's rules refuse: a sum as text, a float remainder."""
    from asyncapy import Packet
    from asyncapy.filters import Filters

    from rpctest.stacks.asyncapy import isolated_server

    server = isolated_server(timeout=2)

    @server.add_handler(Filters.Fields(action="add$", a=r"-?\d+$", b=r"-?\d+$"))
    async def add_(client: Any, packet: Any) -> None:
        await client.send(Packet({"status": "ok", "sum": str(int(packet["a"]) + int(packet["b"]))}, encoding=client.encoding))

    @server.add_handler(Filters.Fields(action="divide$", a=r"-?\d+$", b=r"-?\d+$"))
    async def divide(client: Any, packet: Any) -> None:
        a, b = int(packet["a"]), int(packet["b"])
        await client.send(Packet({"status": "ok", "quotient": a // b, "remainder": float(a % b)}, encoding=client.encoding))

    return server


@needs_asyncapy
def test_a_real_server_breaking_a_rule_is_a_precise_finding(contract: fmt.ConsumerContract, asyncapy_service: Any) -> None:
    assert live_findings(contract, asyncapy_service(build_sloppy_server()).send_call) == [
        ("live_matcher", "/interactions/0/response/body/sum", "integer", "string '5', not an integer"),
        ("live_matcher", "/interactions/1/response/body/remainder", "integer", "number 1.0, not an integer"),
    ]


def test_match_fields_may_be_matchers(asyncapy_stub_server: Any) -> None:
    """AsyncAPY's own patterns are rules already; a matcher in ``match=`` replaces a field's regex."""
    address = asyncapy_stub_server.address
    with stub_action("calc", "add", stack="asyncapy", body={"status": "ok", "sum": integer(5)},
                     match={"action": "add$", "a": integer(2), "b": integer(3)}) as stub:
        assert add(address, 40, -2) == 5
        with pytest.raises(CalcError, match="without a reply"):  # "40" is no integer: no stub takes it
            add(address, "40", 2)
    assert stub.call_bodies == ({"action": "add", "a": 40, "b": -2},)
    assert any("/a must be integer" in line for line in asyncapy_stub_server.diagnostics)


def test_serve_takes_any_packet_keeping_the_rules(asyncapy_stub_server: Any) -> None:
    recorded = record(
        stub_action("calc", "add", stack="asyncapy", body={"status": "ok", "sum": integer(5)},
                    match={"action": "add$", "a": integer(2), "b": integer(3)}),
        run=lambda: add(asyncapy_stub_server.address, 2, 3),
    )
    assert recorded.interactions[0].matchers["request"] == {"/a": {"match": "integer"}, "/b": {"match": "integer"}}
    with serve_stubs(router_from_contracts([recorded], "asyncapy"), timeout=5) as server:
        assert add(server.address, 7, 8) == 5  # the recorded example answers any integers
        assert request(server.address, {"action": "add", "a": 7.5, "b": 8}) == []  # silence, as AsyncAPY
