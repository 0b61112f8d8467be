"""Issue 15 on pykern.api: 200 seeded garbage WebSocket messages to rpctest's stub server."""

from __future__ import annotations

from garbage_helpers import assert_stub_server_survives

from rpctest.model import Call
from rpctest.stacks.pykern.stub_server import serve_stubs


def test_the_stub_server_keeps_answering_after_200_garbage_messages() -> None:
    assert_stub_server_survives(serve_stubs, Call("pykern", "calc", "add", {"a": 1, "b": 2}))
