"""Issue 15 on Kyoukai: 200 seeded garbage HTTP requests to rpctest's stub server."""

from __future__ import annotations

from garbage_helpers import assert_stub_server_survives

from rpctest.model import Call
from rpctest.stacks.kyoukai.stub_server import serve_stubs


def test_the_stub_server_keeps_answering_after_200_garbage_requests() -> None:
    assert_stub_server_survives(serve_stubs, Call("kyoukai", "shop", "POST /orders", {"body": {"sku": "apple", "n": 2}}))
