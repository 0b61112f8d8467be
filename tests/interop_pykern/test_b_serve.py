"""Direction B: pykern's real ``Client`` against ``rpctest serve`` of a recorded consumer contract.

The consumer's stubs (``consumer_shop.py``) answer what the real ``ShopAPI`` answers; recorded with
``pytest --rpctest-record`` and served with ``rpctest serve``, they must give pykern's own client
the same answers, request for request, as pykern's real server hosting ``ShopAPI`` does.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

import pytest
from dogfood import serving_contract
from interop_pykern.consumer_shop import REQUESTS
from interop_pykern.pkclient import neutral, pykern_answers

CALLS = [request for request in REQUESTS if not request[2]] + [("nosuch", {}, False)]
SUBSCRIPTIONS = [request for request in REQUESTS if request[2]] + [("countdown", {"n": 2}, False)]


def _differences(served: str, real: str, requests: list[tuple[str, Any, bool]]) -> list[tuple[Any, ...]]:
    from_rpctest = asyncio.run(pykern_answers(served, requests))
    from_pykern = asyncio.run(pykern_answers(real, requests))
    return [(request, neutral(r), neutral(p)) for request, r, p in zip(requests, from_rpctest, from_pykern) if neutral(r) != neutral(p)]


def test_calls_get_the_real_servers_answers_from_rpctest_serve(recorded: Path, shop: Any, tally: Callable[..., None]) -> None:
    """Successes, pykern error classes with their text, a per-session result, an unknown API."""
    with serving_contract("pykern", recorded) as address:
        differing = _differences(address, shop.address, CALLS)
    tally("B pykern Client: rpctest serve vs real server (calls)", len(CALLS), len(differing))
    assert not differing


def test_subscriptions_stream_every_item_from_rpctest_serve(recorded: Path, shop: Any, tally: Callable[..., None]) -> None:
    with serving_contract("pykern", recorded) as address:
        differing = _differences(address, shop.address, SUBSCRIPTIONS)
    tally("B pykern Client: rpctest serve vs real server (subscriptions)", len(SUBSCRIPTIONS), len(differing))
    assert not differing
