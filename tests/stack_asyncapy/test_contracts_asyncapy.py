"""Contracts from AsyncAPY's ``Filters.Fields``: the exported schema, its Python rule held to
AsyncAPY's own filter, and verify / fuzz against the real server hosted by rpctest."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rpctest.contracts.export import export
from rpctest.contracts.format import ConsumerContract, RecordedInteraction
from rpctest.contracts.verify import verify
from rpctest.exceptions import ConfigError
from rpctest.fuzz.engine import fuzz
from rpctest.fuzz.target import open_target
from rpctest.schema.validate import compile_schema
from rpctest.stacks.asyncapy.schema import export_provider, fields_schema
from rpctest.strategies import from_schema, invalid_from_schema
from stack_asyncapy.aap_real import build_demo_server, needs_asyncapy

pytestmark = needs_asyncapy

PATTERNS = {"action": "add$", "a": r"-?\d+$", "b": r"\d+(\.\d+)?$", "note": None}
JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.floats(allow_nan=False, allow_infinity=False),
                        st.text(max_size=6), st.sampled_from(["add", "adder", "-12", "3.5", "7\n", "", "True"]))
PACKETS = st.dictionaries(st.sampled_from(["action", "a", "b", "note", "x"]), st.one_of(JSON_LEAVES, st.lists(JSON_LEAVES, max_size=2)), max_size=5)


def test_each_handler_is_an_operation_with_its_fields_as_the_request() -> None:
    exported = export_provider(build_demo_server(), service="demo")
    ops = exported["operations"]
    assert list(ops) == ["audit", "echo", "add", "boom", "slow", "multi_a", "secret", "multi_b"]
    assert ops["add"]["request"] == {
        "type": "object",
        "properties": {
            "action": {"x-rpctest-match": "add$", "pattern": "\\A(?:add$)"},
            "a": {"x-rpctest-match": r"-?\d+$", "pattern": "\\A(?:-?\\d+$)"},
            "b": {"x-rpctest-match": r"-?\d+$", "pattern": "\\A(?:-?\\d+$)"},
        },
        "required": ["action", "a", "b"],
        "additionalProperties": False,
    }
    assert ops["echo"]["response"]["required"] == ["status", "echo"]  # from handler_schema
    assert ops["echo"]["description"] == "Echo the text back. (group 0)"
    assert any("no reply schema" in n["note"] for n in ops["add"]["notes"])
    assert any("no Fields filter" in n["note"] for n in ops["audit"]["notes"])
    assert ops["multi_b"]["description"] == "AsyncAPY handler in group 1"
    secret = ops["secret"]
    assert secret["request"]["properties"]["api_key"]["x-rpctest-lossy"].startswith("an issued API key")
    assert any("APIFactory" in n["note"] for n in secret["notes"])


def test_schemas_given_to_the_export_fill_what_no_filter_says_and_typos_are_refused() -> None:
    server = build_demo_server()
    exported = export_provider(server, schemas={"add": {"response": {"type": "object", "required": ["sum"]}, "errors": ["NOT_ENOUGH"]}})
    assert exported["operations"]["add"]["response"] == {"type": "object", "required": ["sum"]}
    assert exported["operations"]["add"]["errors"] == ["NOT_ENOUGH"]
    with pytest.raises(ConfigError, match="'ad', which the server has no handler for"):
        export_provider(server, schemas={"ad": {}})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packet=st.one_of(PACKETS, from_schema(fields_schema(PATTERNS)), invalid_from_schema(fields_schema(PATTERNS), min_depth=1).map(lambda bad: bad.body)))
def test_the_exported_schema_decides_every_packet_as_asyncapys_fields_filter_does(packet: dict) -> None:
    from asyncapy import Packet
    from asyncapy.filters import Filters

    fields = Filters.Fields(**PATTERNS)
    schema = compile_schema(fields_schema(fields.fields))
    assert schema.is_valid(packet) == fields.check(None, Packet(packet, "json")), packet


@settings(max_examples=60, deadline=None)
@given(bad=invalid_from_schema(fields_schema(PATTERNS), min_depth=1))
def test_every_generated_defect_is_refused_by_asyncapy_itself(bad) -> None:
    from asyncapy import Packet
    from asyncapy.filters import Filters

    assert not Filters.Fields(**PATTERNS).check(None, Packet(bad.body, "json")), bad


def test_consumer_stubs_verify_against_the_exported_contract() -> None:
    provider = export("asyncapy", provider=build_demo_server())
    assert provider.service == "demo"  # the server's service_name
    consumer = ConsumerContract(consumer="shop", stack="asyncapy", service="demo", interactions=[
        RecordedInteraction(operation="add", request={"action": "add", "a": 2, "b": "3"}, body={"status": "ok", "sum": 5}),
        RecordedInteraction(operation="add", request={"action": "add", "a": "two", "b": "3"}, body={"status": "ok", "sum": 5}),
        RecordedInteraction(operation="echo", request={"action": "echo", "text": "hi"}, body={"status": "ok"}),
    ])
    report = verify([provider, consumer])
    problems = [(f.operation, f.check) for f in report.findings]
    assert ("add", "request_schema") in problems  # "two" is not what re.match(-?\d+$) takes
    assert ("echo", "response_schema") in problems  # the reply lacks "echo", which handler_schema requires
    assert len(report.findings) == 2, report.render()


def test_fuzzing_the_real_demo_server_finds_the_raising_handler_and_the_leak(tmp_path: Path) -> None:
    server = build_demo_server(timeout=1)
    with open_target("asyncapy", provider=server, timeout=3) as target:
        report = fuzz(target, operations=["echo", "add", "boom"], max_examples=20, replay_dir=tmp_path, seed=0)
    by_name = {r.operation: r for r in report.results}
    assert by_name["echo"].failure is None and by_name["add"].failure is None, report.render()
    boom = by_name["boom"].failure
    assert boom is not None and "CLOSED_WITHOUT_REPLY" in boom.message and "SESSION_LEAKED" in boom.message, report.render()
    assert list(tmp_path.glob("*.json")), "a failure leaves a replay file (its reproducer)"
    # audit (group -1) is offered every packet but answers none: the unknown packet is still closed silently
    assert by_name["rpctest_no_such_operation"].failure is None, report.render()
