"""Direction A, rpctest's wire client: what it gets from pykern's real server is what pykern's own
``Client`` gets, request for request, and it recovers from the closes pykern's server makes."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import pykern.util
import pytest
from pykern.api.client import Client
from pykern.pkcollections import PKDict

from rpctest.model import Reply
from rpctest.stacks import get_adapter
from rpctest.stacks.pykern import close_client
from rpctest.stacks.pykern.host import _plain
from rpctest.stacks.pykern.errors import parse_api_error

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


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1].split("/")[0])


async def pykern_answers(address: str, requests: list[tuple[str, Any, bool]]) -> list[Reply]:
    """What pykern's own ``Client`` gets for each request, one connection, as neutral replies."""
    client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=_port(address), api_uri="/api"))
    replies = []
    try:
        await asyncio.wait_for(client.connect(), 5)
        for api, args, subscribe in requests:
            items: list[Any] = []
            try:
                if subscribe:  # the items so far stay with an error, as in rpctest's Reply
                    with await client.subscribe_api(api, args) as sub:
                        while (item := await asyncio.wait_for(sub.result_get(), 5)) is not None:
                            items.append(_plain(item))
                    replies.append(Reply(body=items, items=items))
                else:
                    replies.append(Reply(body=_plain(await asyncio.wait_for(client.call_api(api, args), 5))))
            except pykern.util.APIError as exc:
                replies.append(Reply(errors=[parse_api_error(str(exc))], items=items if subscribe else None))
    finally:
        await close_client(client)
    return replies


def neutral(reply: Reply) -> tuple[Any, ...]:
    """What both sides must agree on: the body (and items), or each error's code and message."""
    return (reply.body, reply.items, [(e.code, e.message, e.kind) for e in reply.all_errors])


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
