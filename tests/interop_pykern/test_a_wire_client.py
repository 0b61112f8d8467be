"""Direction A, rpctest's wire client: what it gets from pykern's real server is what pykern's own
``Client`` gets, request for request, and it recovers from the closes pykern's server makes."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from interop_pykern.pkclient import neutral, pykern_answers

from rpctest.stacks import get_adapter

#: (api, api_args, subscribe) sent both ways; the answers must be the same
REQUESTS: list[tuple[str, Any, bool]] = [
    ("echo", {"a": 1, "b": [1, "x", None]}, False),
    ("echo", [1, 2], False),
    ("echo", "text", False),
    ("echo", 0, False),
    ("add", {"a": 2, "b": 3}, False),
    ("add", {"a": 2}, False),
    ("add", {"a": 2, "b": "3"}, False),
    ("add", {"a": 1, "b": 1, "c": 1}, False),
    ("add", [1], False),
    ("vault", {}, False),
    ("nosuch", {}, False),
    ("countdown", {"n": 3}, True),
    ("countdown", {"n": 0}, True),
    ("countdown", {"n": 9}, True),
    ("countdown", {"n": 3}, False),
    ("add", {"a": 1, "b": 2}, True),
]


def test_rpctest_and_pykern_clients_get_the_same_answers(shop: Any, tally: Callable[..., None]) -> None:
    from rpctest.model import Call

    expected = asyncio.run(pykern_answers(shop.address, REQUESTS))
    client = get_adapter("pykern").wire.client(shop.address, timeout=5)
    try:
        actual = [
            client.call(Call("pykern", "shop", api, args, meta={"kind": "subscribe" if subscribe else "call"}))
            for api, args, subscribe in REQUESTS
        ]
    finally:
        client.close()
    differing = [(request, neutral(a), neutral(e)) for request, a, e in zip(REQUESTS, actual, expected) if neutral(a) != neutral(e)]
    tally("A wire client vs pykern Client", len(REQUESTS), len(differing))
    assert not differing


def test_the_wire_client_reconnects_after_the_server_closes(shop: Any) -> None:
    """pykern's server answers a nil ``api_args`` with APIProtocolError and closes; the next call
    opens a new connection, with a new session, as pykern's own client would after a new connect."""
    client = get_adapter("pykern").wire.client(shop.address, timeout=5)
    try:
        assert client.call("count", {}).body == {"calls": 1}
        assert client.call("count", {}).body == {"calls": 2}
        closing = client.call("echo", None)
        assert [(e.code, e.message) for e in closing.errors] == [("APIProtocolError", "error=missing msg field api_args")]
        after = client.call("count", {})
        assert after.ok, after
        assert after.body == {"calls": 1}, "a new connection is a new pykern session"
        assert client.call("add", {"a": 1, "b": 2}).body == 3
    finally:
        client.close()
