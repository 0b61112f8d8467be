"""The AsyncAPY adapter: error kinds, stub validation, the Fields matching rule, the fuzz oracle's
expectations, and the host half that does not exist yet (it must say how to install AsyncAPY)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from rpctest.exceptions import ConfigError, StackUnavailable, StubUsageError
from rpctest.model import ErrorKind, RpcError
from rpctest.stacks import get_adapter
from rpctest.stacks.asyncapy import errors
from rpctest.stacks.environments import install_advice
from rpctest.strategies.defects import Defect
from rpctest.stubs.api import stub_action
from rpctest.stubs.router import StubRouter

adapter = get_adapter("asyncapy")


def test_importing_the_adapter_imports_no_asyncapy_nor_trio():
    # in a fresh interpreter: other tests of this session host a real AsyncAPY where it is installed
    code = ("import sys; from rpctest.stacks import get_adapter; a = get_adapter('asyncapy'); "
            "from rpctest.stacks.asyncapy import client, stub_server, schema, host; "
            "print(a.name, 'asyncapy' in sys.modules, 'trio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split() == ["asyncapy", "False", "False"]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("ERR_REQUEST_MALFORMED", ErrorKind.CALLER_ERROR),
        ("ERR_HEADER_INVALID", ErrorKind.CALLER_ERROR),
        ("ERR_TIMED_OUT", ErrorKind.TRANSPORT),
        ("ERR_SESSION_LIMIT_REACHED", ErrorKind.SERVER_ERROR),
        ("CLOSED_WITHOUT_REPLY", ErrorKind.TRANSPORT),
        ("CONNECTION_RESET", ErrorKind.TRANSPORT),
        ("NOT_ENOUGH_CREDIT", ErrorKind.CALLER_ERROR),
    ],
)
def test_codes_classify_as_documented(code, kind):
    assert adapter.classify(code) is kind
    assert adapter.make_error(code).kind is kind


def test_an_application_code_can_be_declared_a_server_error():
    assert adapter.make_error("DB_DOWN", caller_error=False).kind is ErrorKind.SERVER_ERROR


def test_errors_are_strings_without_a_field():
    with pytest.raises(StubUsageError, match="strings"):
        adapter.make_error(4)
    with pytest.raises(StubUsageError, match="name no field"):
        adapter.make_error("ERR_TIMED_OUT", field="a")
    assert adapter.normalize_errors([{"status": "failure", "error": "ERR_HEADER_INVALID"}, "X", {"code": "Y"}]) == [
        RpcError("ERR_HEADER_INVALID", kind=ErrorKind.CALLER_ERROR),
        RpcError("X", kind=ErrorKind.CALLER_ERROR),
        RpcError("Y", kind=ErrorKind.CALLER_ERROR),
    ]
    assert adapter.standard_error_codes == errors.FRAMEWORK_CODES | {errors.CLOSED_WITHOUT_REPLY}


def test_a_reply_packet_is_a_json_mapping():
    adapter.check_body(None)
    adapter.check_body({"status": "ok", "n": [1, 2.5, None]})
    for bad in ([{"a": 1}], "text", {"b": b"bytes"}, {"s": {1, 2}}):
        with pytest.raises(StubUsageError):
            adapter.check_body(bad)


def test_stub_action_takes_the_asyncapy_options_only():
    router = StubRouter(intercept=False)
    stub = stub_action("svc", "op", stack="asyncapy", router=router, match={"a": None}, items=[{}], delay=1)
    stub.start()
    stub.stop()
    with pytest.raises(StubUsageError, match="unknown option"):
        stub_action("svc", "op", stack="asyncapy", router=router, status=200)
    with pytest.raises(StubUsageError):
        stub_action("svc", "op", stack="asyncapy", router=router, body=[1])


@pytest.mark.parametrize(
    ("match", "packet", "differences"),
    [
        ({"action": "echo$", "text": None}, {"action": "echo", "text": [1]}, []),
        ({"action": "echo"}, {"action": "echoes"}, []),  # anchored at the start only
        ({"n": r"\d+$"}, {"n": 42}, []),  # str(42)
        ({"n": r"\d+$"}, {"n": "42"}, []),
        ({"flag": "True$"}, {"flag": True}, []),  # Python's str, not JSON's
        ({"v": "None$"}, {"v": None}, []),
        ({"l": r"\[1, 2\]$"}, {"l": [1, 2]}, []),
        ({"action": re.compile("ec+ho$")}, {"action": "eccho"}, []),
        ({}, {}, []),
        ({"action": "echo$"}, {"action": "echo", "x": 1}, ["the packet has 'x', which the stub's fields do not name"]),
        ({"action": "echo$", "text": None}, {"action": "echo"}, ["the packet has no 'text'"]),
        ({"n": r"\d+$"}, {"n": "4x"}, ["'n' is '4x', and re.match('\\\\d+$', '4x') fails"]),
        ({"n": "("}, {"n": "("}, ["is not a regular expression"]),
        ({"a": None}, [1], ["the packet is a list, not a map"]),
        ("a", {"a": 1}, ["match= for AsyncAPY maps field names"]),
    ],
)
def test_match_differences_follow_fields(match, packet, differences):
    got = adapter.match_differences(match, packet)
    assert len(got) == len(differences)
    for text, expected in zip(got, differences):
        assert expected in text


def test_a_predicate_match_is_a_predicate():
    assert adapter.match_differences(lambda p: p.get("key") == "k", {"key": "k"}) == []
    assert "returned false" in adapter.match_differences(lambda p: False, {})[0]


@pytest.mark.parametrize("kind", ["wrong_type", "missing_required", "unexpected_key", "pattern_mismatch"])
def test_the_oracle_expects_a_silent_close_for_any_defect(kind):
    expected = adapter.expected_for_defect(Defect(kind, ("a",)))
    assert expected.kind is ErrorKind.TRANSPORT and expected.codes == {errors.CLOSED_WITHOUT_REPLY} and not expected.check_field
    assert adapter.expected_for_unknown_operation("nope") == expected
    silent = errors.closed_without_reply("asyncapy://h:1")
    assert silent.kind is expected.kind and silent.code in expected.codes


def test_the_host_half_says_how_to_install_asyncapy():
    advice = install_advice("asyncapy")
    assert "'asyncapy @ git+https://github.com/intellivoid/AsyncAPY'" in advice and "'ziproto>=1.0'" in advice
    assert "not on PyPI" in advice and "docs/stacks/asyncapy.md" in advice
    reason = adapter.host.unavailable_reason()
    if reason is None:  # where AsyncAPY is installed: test_host.py hosts it
        with pytest.raises(ConfigError, match="an AsyncAPY provider is an asyncapy.Server instance"):
            adapter.host.serve(object())
    else:
        assert advice in reason
        with pytest.raises(StackUnavailable) as caught:
            adapter.host.serve(object())
        assert advice in str(caught.value)
    assert adapter.host.install_stub_interceptor(StubRouter())() is None
    with pytest.raises(ConfigError, match="no introspection"):
        adapter.host.export_from_address("asyncapy://127.0.0.1:1")


@pytest.mark.rpctest(strict=False)
def test_the_default_router_installs_no_interceptor():
    """Stubs on the process-wide router need no AsyncAPY: they answer over the wire."""
    imported = "asyncapy" in sys.modules
    with stub_action("svc", "op", stack="asyncapy", match={"a": None}, body={"ok": 1}) as handle:
        assert handle.call_count == 0
    assert ("asyncapy" in sys.modules) == imported
