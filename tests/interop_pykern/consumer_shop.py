"""A consumer of the ``shop`` service, tested with stubs only (pykern's real Client, no server).

Not collected by the suite itself (no ``test_`` file name): ``test_b_serve.py`` runs it with
``pytest --rpctest-record`` to record the consumer contract it then serves with ``rpctest serve``
and replays against the real ``ShopAPI``. Every stub answers what the real service answers, so the
recorded contract is true of the real service: each difference found later is rpctest's.
"""

from __future__ import annotations

from typing import Any

import pykern.util
import pytest
from pykern.api.client import Client
from pykern.pkcollections import PKDict

from rpctest import stub_action

SHOP = PKDict(tcp_ip="127.0.0.1", tcp_port=8124, api_uri="/api")

#: the requests of this consumer, in the order it makes them: (api, api_args, subscribe)
REQUESTS: list[tuple[str, Any, bool]] = [
    ("add", {"a": 2, "b": 3}, False),
    ("add", {"a": "x", "b": 1}, False),
    ("echo", {"x": [1, 2], "y": {"z": None}}, False),
    ("count", {}, False),
    ("vault", {}, False),
    ("countdown", {"n": 2}, True),
]


async def _answer(client: Any, api: str, args: Any, subscribe: bool) -> Any:
    try:
        if subscribe:
            items = []
            with await client.subscribe_api(api, args) as sub:
                while (item := await sub.result_get()) is not None:
                    items.append(item)
            return items
        return await client.call_api(api, args)
    except pykern.util.APIError as exc:
        return f"error: {exc}"


@pytest.mark.asyncio
@stub_action("shop", "add", stack="pykern", match={"a": 2, "b": 3}, body=5)
@stub_action("shop", "add", stack="pykern", match={"a": "x", "b": 1}, errors={"code": "BadArgs", "message": "field=a: not an int"})
async def test_add(stub_add_1: Any, stub_add_2: Any) -> None:
    async with Client(SHOP) as client:
        assert await _answer(client, "add", {"a": 2, "b": 3}, False) == 5
        assert await _answer(client, "add", {"a": "x", "b": 1}, False) == "error: BadArgs: field=a: not an int"


@pytest.mark.asyncio
@stub_action("shop", "echo", stack="pykern", body={"x": [1, 2], "y": {"z": None}})
@stub_action("shop", "count", stack="pykern", body={"calls": 1})
@stub_action("shop", "vault", stack="pykern", errors="APIForbidden")
async def test_echo_count_vault(*stubs: Any) -> None:
    async with Client(SHOP) as client:
        assert await _answer(client, "echo", {"x": [1, 2], "y": {"z": None}}, False) == {"x": [1, 2], "y": {"z": None}}
        assert await _answer(client, "count", {}, False) == {"calls": 1}
        assert await _answer(client, "vault", {}, False) == "error: APIForbidden: "


@pytest.mark.asyncio
@stub_action("shop", "countdown", stack="pykern", items=[{"left": 2}, {"left": 1}])
async def test_countdown(stub_countdown: Any) -> None:
    async with Client(SHOP) as client:
        assert await _answer(client, "countdown", {"n": 2}, True) == [{"left": 2}, {"left": 1}]
