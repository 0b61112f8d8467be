"""pykern's own ``Client`` as the differential suite uses it: one connection, a list of requests,
each answer as a neutral :class:`~rpctest.model.Reply`, so that answers from pykern's real server
and from rpctest can be compared."""

from __future__ import annotations

import asyncio
from typing import Any

import pykern.util
from pykern.api.client import Client
from pykern.pkcollections import PKDict

from rpctest.model import Reply
from rpctest.stacks.pykern import close_client
from rpctest.stacks.pykern.errors import parse_api_error
from rpctest.stacks.pykern.host import _plain

__all__ = ["pykern_answers", "neutral"]

WAIT = 5.0


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1].split("/")[0])


async def pykern_answers(address: str, requests: list[tuple[str, Any, bool]]) -> list[Reply]:
    """What pykern's own ``Client`` gets for each request, one connection, as neutral replies."""
    client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=_port(address), api_uri="/api"))
    replies = []
    try:
        await asyncio.wait_for(client.connect(), WAIT)
        for api, args, subscribe in requests:
            items: list[Any] = []
            try:
                if subscribe:  # the items so far stay with an error, as in rpctest's Reply
                    with await client.subscribe_api(api, args) as sub:
                        while (item := await asyncio.wait_for(sub.result_get(), WAIT)) is not None:
                            items.append(_plain(item))
                    replies.append(Reply(body=items, items=items))
                else:
                    replies.append(Reply(body=_plain(await asyncio.wait_for(client.call_api(api, args), WAIT))))
            except pykern.util.APIError as exc:
                replies.append(Reply(errors=[parse_api_error(str(exc))], items=items if subscribe else None))
    finally:
        await close_client(client)
    return replies


def neutral(reply: Reply) -> tuple[Any, ...]:
    """What both sides must agree on: the body (and items), or each error's code and message."""
    return (reply.body, reply.items, [(e.code, e.message, e.kind) for e in reply.all_errors])


