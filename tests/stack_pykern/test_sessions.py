"""pykern keeps one session per WebSocket connection (``self.session``: its state survives from call
to call on a socket, restarts on a new one, and its ``session_end`` hooks run when the socket
closes). A stub, over the wire or in-process, learns the session of its call the same way: a
``side_effect`` taking ``session`` gets it, and each recorded call carries it in
``meta["session"]`` (issue 16 item 2.7)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pykern.api.client import Client
from pykern.pkcollections import PKDict

from rpctest import stub_action
from rpctest.stacks.pykern import close_client

pytest.importorskip("pykern.api.server")


class _Ending:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def session_end(self) -> None:
        self.log.append(self.name)


def _counter(ended: list[Any]) -> Any:
    """A side effect counting the calls of its session, as a pykern API keeping ``self.session`` state."""

    def count(api_args: Any, session: Any) -> dict[str, int]:
        if "counter" not in session:
            session["first"] = _Ending(ended, f"first of {session.id}")
            session["counter"] = _Ending(ended, f"counter of {session.id}")
            session["counter"].calls = 0
        session["counter"].calls += 1
        return {"calls": session["counter"].calls}

    return count


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1].split("/")[0])


async def _calls(client: Any, n: int) -> list[Any]:
    return [(await client.call_api("count", {}))["calls"] for _ in range(n)]


def test_a_stub_servers_side_effect_keeps_state_per_connection(pykern_stub_server: Any) -> None:
    ended: list[str] = []

    async def use() -> tuple[list[Any], list[Any]]:
        first = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=_port(pykern_stub_server.address), api_uri="/api"))
        second = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=_port(pykern_stub_server.address), api_uri="/api"))
        try:
            await first.connect()
            a = await _calls(first, 2)
            await second.connect()
            b = await _calls(second, 1)
            a += await _calls(first, 1)
        finally:
            await close_client(first)
            await close_client(second)
        return a, b

    with stub_action("shop", "count", stack="pykern", side_effect=_counter(ended)) as stub:
        first, second = asyncio.run(use())
        for _ in range(100):  # the server sees the closes a moment after the clients
            if len(ended) == 4:
                break
            asyncio.run(asyncio.sleep(0.01))
    assert (first, second) == ([1, 2, 3], [1]), "state per connection, restarting on a new one"
    sessions = [call.meta["session"] for call in stub.calls]
    assert sessions[0] is sessions[1] is sessions[3] and sessions[2] is not sessions[0]
    assert sessions[0].id != sessions[2].id
    # pykern ends a session's values last in, first out, when its connection closes
    assert ended == [f"counter of {sessions[0].id}", f"first of {sessions[0].id}",
                     f"counter of {sessions[2].id}", f"first of {sessions[2].id}"]
    assert all(session.ended for session in sessions)


@pytest.mark.asyncio
async def test_in_process_stubs_keep_state_per_client() -> None:
    """Each pykern ``Client`` is one connection, so one session, in-process too."""
    ended: list[str] = []
    address = PKDict(tcp_ip="127.0.0.1", tcp_port=9, api_uri="/api")
    with stub_action("shop", "count", stack="pykern", side_effect=_counter(ended)) as stub:
        async with Client(address) as first, Client(address) as second:
            assert await _calls(first, 2) == [1, 2]
            assert await _calls(second, 2) == [1, 2]
            assert await _calls(first, 1) == [3]
    sessions = [call.meta["session"] for call in stub.calls]
    assert len({id(s) for s in sessions}) == 2 and sessions[0] is sessions[4]
    assert len(ended) == 4 and all(session.ended for session in sessions)


def test_a_side_effect_without_a_session_parameter_gets_the_body_alone(pykern_stub_server: Any) -> None:
    with stub_action("shop", "echo", stack="pykern", side_effect=lambda args: {"got": args}):
        reply = pykern_stub_server.call("echo", {"a": 1})
    assert reply.body == {"got": {"a": 1}}
