"""Issue 15 on AsyncAPY: 200 seeded garbage connections to rpctest's stub server (AsyncAPY's own 60 s
deadline: the connections it holds stay held)."""

from __future__ import annotations

from garbage_helpers import assert_stub_server_survives

from rpctest.model import Call
from rpctest.stacks.asyncapy import serve_stubs


def test_the_stub_server_keeps_answering_after_200_garbage_connections() -> None:
    assert_stub_server_survives(serve_stubs, Call("asyncapy", "calc", "add", {"action": "add", "a": 1, "b": 2}),
                                match={"action": "add$", "a": r"-?\d+$", "b": r"-?\d+$"})
