"""The consumer's tests: ``calc`` stubbed on a real AsyncAProto server (no AsyncAPY needed).

AsyncAPY routes packets by their fields, so the stubs name their patterns: here through the
configuration (``[tool.rpctest.services.calc.match]`` in pyproject.toml), so no stub repeats them.
"""

import pytest

from examples.asyncapy.consumer import CalcError, add, request, share
from rpctest import stub_action


def test_add(asyncapy_stub_server):
    with stub_action("calc", "add", stack="asyncapy", body={"status": "ok", "sum": 5}) as stub:
        assert add(asyncapy_stub_server.address, 2, 3) == 5
    stub.assert_called_once_with({"action": "add", "a": 2, "b": 3})


def test_share(asyncapy_stub_server):
    with stub_action("calc", "divide", stack="asyncapy", body={"status": "ok", "quotient": 3, "remainder": 1}):
        assert share(asyncapy_stub_server.address, 10, 3) == "3 each, 1 left over"


def test_share_among_nobody(asyncapy_stub_server):
    with stub_action("calc", "divide", stack="asyncapy", errors=["DIVISION_BY_ZERO"]):
        assert share(asyncapy_stub_server.address, 10, 0) == "cannot share 10: DIVISION_BY_ZERO"


@pytest.mark.rpctest(strict=False)  # the stub must not be reached: that is the point
def test_a_packet_no_handler_takes_is_closed_silently(asyncapy_stub_server):
    with stub_action("calc", "add", stack="asyncapy", body={"status": "ok", "sum": 5}) as stub:
        assert request(asyncapy_stub_server.address, {"action": "add", "a": "two", "b": 3}) == []
        with pytest.raises(CalcError, match="without a reply"):
            add(asyncapy_stub_server.address, 2.5, 3)
    assert stub.call_count == 0
