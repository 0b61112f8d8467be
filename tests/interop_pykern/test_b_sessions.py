"""Direction B, sessions: pykern keeps one session per WebSocket connection. A stub standing for
``ShopAPI.count`` (state in ``self.session``) keeps its state in the session its ``side_effect``
is given; pykern's real client must then count the same on rpctest's stub server as on pykern's
real server, connection after connection (issue 16 item 2.7)."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from interop_pykern.pkclient import neutral, pykern_answers

from rpctest import stub_action

#: three connections, one after the other, each calling count a different number of times
CONNECTIONS = [[("count", {}, False)] * 3, [("count", {}, False)], [("count", {"any": "args"}, False)] * 2]


def _count(api_args: Any, session: Any) -> dict[str, int]:
    """What ShopAPI.api_count does with ``self.session``, with the stub's session."""
    session["calls"] = session.get("calls", 0) + 1
    return {"calls": session["calls"]}


def test_per_connection_state_restarts_per_connection_as_in_pykern(
    shop: Any, pykern_stub_server: Any, tally: Callable[..., None]
) -> None:
    real = [neutral(r) for requests in CONNECTIONS for r in asyncio.run(pykern_answers(shop.address, requests))]
    with stub_action("shop", "count", stack="pykern", side_effect=_count):
        stubbed = [neutral(r) for requests in CONNECTIONS for r in asyncio.run(pykern_answers(pykern_stub_server.address, requests))]
    tally("B pykern Client: stub server vs real server (sessions)", len(real), sum(a != b for a, b in zip(real, stubbed)))
    assert [body["calls"] for body, _items, _errors in real] == [1, 2, 3, 1, 1, 2]
    assert stubbed == real
