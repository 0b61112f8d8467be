"""Issue 15 on ZeroJSON: 200 seeded garbage messages to rpctest's stub server over a real socket."""

from __future__ import annotations

from garbage_helpers import assert_stub_server_survives

from rpctest.model import Call
from rpctest.stacks.zerojson.server import serve_stubs


def test_the_stub_server_keeps_answering_after_200_garbage_messages() -> None:
    assert_stub_server_survives(serve_stubs, Call("zerojson", "calc", "add", {"a": 1, "b": 2}), address="tcp://127.0.0.1:0")
