"""rpctest's pykern.api wire client against pykern's real server, run in-process on the test's loop.

The server is pykern's private ``_Server`` on the test's own loop (the public ``server.start`` calls
``asyncio.run``, so it cannot run inside an async test); the first test pins that
use, so a pykern release that changes it fails here, by name.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from stack_pykern.pkwire_helpers import (
    VECTOR_TOKEN,
    real_api_classes,
    real_pykern_server,
    vector_router,
)

from rpctest.exceptions import CallTimeout, StackUnavailable, TransportError
from rpctest.model import Call, CallFailed, ErrorKind, Reply
from rpctest.stacks.pykern import client as client_module
from rpctest.stacks.pykern import wire
from rpctest.stacks.pykern.client import (
    HandshakeFailed,
    PykernSyncClient,
    PykernUnreachable,
    PykernWireClient,
)
from rpctest.stacks.pykern.stub_server import serve_stubs

pytest.importorskip("pykern.api.server")


async def _connect(server, **options):
    options.setdefault("token", VECTOR_TOKEN)
    options.setdefault("timeout", 2.0)
    return await PykernWireClient.connect(server.address, **options)


@pytest.mark.asyncio
async def test_private_server_hook_still_works_and_calls_succeed():
    async with real_pykern_server() as server:
        async with await _connect(server) as client:
            first = await client.call("echo", {"x": 1})
            second = await client.call(Call("pykern", "api", "echo", {"y": 2}))
    assert first == Reply(body={"x": 1, "counter": 1})
    assert second.body == {"y": 2, "counter": 2}, "the session counter is per connection, so it must grow"


@pytest.mark.asyncio
async def test_error_texts_come_back_as_neutral_errors():
    async with real_pykern_server() as server, await _connect(server) as client:
        replies = {name: await client.call(name, {}) for name in ("credit", "boom", "forbid", "none", "nosuch")}
        kind = await client.call("ticks", {"n": 1})
    codes = {name: (r.errors[0].code, r.errors[0].message, r.errors[0].kind) for name, r in replies.items()}
    assert codes == {
        "credit": ("NotEnoughCredit", "balance=3", ErrorKind.CALLER_ERROR),
        "boom": ("APICallError", "error=unhandled_exception=kaboom", ErrorKind.SERVER_ERROR),
        "forbid": ("APIForbidden", "", ErrorKind.UNAUTHORIZED),
        "none": ("APIError", "missing reply", ErrorKind.SERVER_ERROR),
        "nosuch": ("APINotFound", "api_name=nosuch", ErrorKind.NOT_FOUND),
    }
    assert kind.errors[0].message == "error=call_api on subscription api=ticks"


@pytest.mark.asyncio
async def test_packed_types_arrive_as_pykern_sends_them():
    async with real_pykern_server() as server, await _connect(server) as client:
        reply = await client.call("types", {})
    assert reply.body == {
        "dt": 1704164645, "t": [1, 2], "b": b"\x00\x01", "f": 1.5, "big": 2**40, "neg": -3, "n": None, "u": "\u00e9"
    }


@pytest.mark.asyncio
async def test_wrong_token_fails_the_handshake_with_api_forbidden():
    async with real_pykern_server() as server:
        with pytest.raises(HandshakeFailed) as caught:
            await _connect(server, token="wrong")
    async with real_pykern_server(real_api_classes(token=None)) as open_server:
        async with await PykernWireClient.connect(open_server.address) as anonymous:  # no token required
            assert (await anonymous.call("echo", {})).ok
    assert caught.value.errors[0].code == "APIForbidden"
    assert server.address in str(caught.value) and "APIForbidden" in str(caught.value)


@pytest.mark.asyncio
async def test_wrong_version_fails_the_handshake_with_a_protocol_error():
    async with real_pykern_server() as server:
        with pytest.raises(HandshakeFailed) as caught:
            await _connect(server, version=1)
    assert caught.value.errors[0].code == "APIProtocolError"
    assert caught.value.errors[0].message == "error=invalid version=1, expected=658584001"


@pytest.mark.asyncio
async def test_without_the_handshake_calls_still_work_as_pykern_does_not_enforce_it():
    async with real_pykern_server() as server, await _connect(server, authenticate=False) as client:
        assert (await client.call("echo", {"a": "b"})).body == {"a": "b", "counter": 1}


@pytest.mark.asyncio
async def test_a_timeout_names_the_call_and_the_client_stays_usable():
    async with real_pykern_server() as server, await _connect(server) as client:
        started = time.monotonic()
        with pytest.raises(CallTimeout) as caught:
            await client.call("slow", {"seconds": 4}, timeout=0.1)  # the service sleeps 1 s
        assert time.monotonic() - started < 0.8  # the timeout, not the reply, ended the wait
        message = str(caught.value)
        assert "'slow'" in message and server.address in message and "0.1 s" in message
        await asyncio.sleep(1.0)  # the late reply arrives now and must be dropped
        assert (await client.call("echo", {})).body == {"counter": 1}
        assert client.connected and not client._pending


@pytest.mark.asyncio
async def test_a_protocol_error_reply_then_the_server_closes():
    async with real_pykern_server() as server, await _connect(server) as client:
        reply = await client.call("badproto", {})
        assert reply.errors[0].code == "APIProtocolError" and reply.errors[0].message == "error=nope"
        assert await client.wait_closed(2.0)
        later = await client.call("echo", {})
    assert not client.connected
    assert later.errors[0].code == client_module.DISCONNECTED
    assert later.errors[0].kind is ErrorKind.TRANSPORT
    assert "server closed the connection" in later.errors[0].message and "APIProtocolError" in later.errors[0].message


@pytest.mark.asyncio
async def test_a_disconnect_fails_pending_calls_at_once():
    async with real_pykern_server() as server, await _connect(server, timeout=10) as client:
        pending = [asyncio.ensure_future(client.call("slow", {"seconds": 40})) for _ in range(3)]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await client.call("badproto", {})  # the server closes the connection after this reply
        replies = await asyncio.wait_for(asyncio.gather(*pending), 2.0)
        assert time.monotonic() - started < 1.0
    assert [r.errors[0].code for r in replies] == [client_module.DISCONNECTED] * 3


@pytest.mark.asyncio
async def test_missing_api_args_is_a_protocol_error_and_a_close():
    async with real_pykern_server() as server, await _connect(server) as client:
        reply = await client.call("echo", None)
        assert reply.errors[0].message == "error=missing msg field api_args"
        assert await client.wait_closed(2.0)


@pytest.mark.asyncio
async def test_garbage_from_the_client_makes_the_server_close():
    async with real_pykern_server() as server, await _connect(server) as client:
        assert await client.send_raw(b"\xc1garbage")
        assert await client.wait_closed(2.0)
        reply = await client.call("echo", {})
    assert reply.errors[0].code == client_module.DISCONNECTED


@pytest.mark.asyncio
async def test_a_subscription_streams_until_the_server_ends_it():
    async with real_pykern_server() as server, await _connect(server) as client:
        async with client.subscribe("ticks", {"n": 3}) as subscription:
            items = [item async for item in subscription]
        collected = await client.call(Call("pykern", "api", "ticks", {"n": 2}, meta={"kind": "subscribe"}))
        empty = await client.call(Call("pykern", "api", "ticks", {"n": 0}, meta={"kind": "subscribe"}))
    assert items == [{"i": 0}, {"i": 1}, {"i": 2}] and subscription.ended
    assert collected == Reply(body=[{"i": 0}, {"i": 1}], items=[{"i": 0}, {"i": 1}])
    assert empty.items == [] and empty.ok


@pytest.mark.asyncio
async def test_leaving_a_subscription_early_unsubscribes():
    sent: list[int] = []
    async with real_pykern_server(real_api_classes(ticks_sent=sent)) as server, await _connect(server) as client:
        async with client.subscribe("ticks", {"n": 50, "interval": 0.2}) as subscription:
            first = await subscription.next()
        assert first == {"i": 0} and subscription.ended and subscription.call_id not in client._pending
        assert (await client.call("echo", {})).body == {"counter": 1}  # the connection is fine
        await asyncio.sleep(0.15)  # three more ticks (every 0.05 s) had the server not been told
    assert sent == [0]


@pytest.mark.asyncio
async def test_subscription_errors_raise_call_failed():
    async with real_pykern_server() as server, await _connect(server) as client:
        with pytest.raises(CallFailed) as not_a_subscription:
            async for _ in client.subscribe("echo", {}):
                pass
        bad = await client.call(Call("pykern", "api", "sub_returns", {}, meta={"kind": "subscribe"}))
        assert not client._pending, "a subscription ended by an error must not stay registered"
    assert not_a_subscription.value.errors[0].message == "error=cannot subscribe non-subscription api=echo"
    assert bad.errors[0].message == "error=return type=<class 'int'> from subscription api must be None"


@pytest.mark.asyncio
async def test_a_subscription_item_timeout_is_a_call_timeout():
    async with real_pykern_server() as server, await _connect(server) as client:
        async with client.subscribe("ticks", {"n": 5, "interval": 4}, timeout=0.1) as subscription:
            assert await subscription.next() == {"i": 0}
            with pytest.raises(CallTimeout, match="subscription to pykern API 'ticks'"):
                await subscription.next()
        with pytest.raises(CallTimeout, match="did not end within 0.1 s"):
            await client.call(Call("pykern", "api", "ticks", {"n": 5, "interval": 4}, meta={"kind": "subscribe"}), timeout=0.1)
        assert (await client.call("echo", {})).ok


@pytest.mark.asyncio
async def test_unpackable_arguments_are_refused_before_sending():
    async with real_pykern_server() as server, await _connect(server) as client:
        with pytest.raises(wire.Unpackable, match="api_args of pykern API 'echo'"):
            await client.call("echo", {"s": {1}})
        assert (await client.call("echo", {})).body == {"counter": 1}


@pytest.mark.asyncio
async def test_a_server_sending_garbage_is_a_wire_error_then_a_disconnect():
    import tornado.httpserver
    import tornado.netutil
    import tornado.web
    import tornado.websocket

    class Garbage(tornado.websocket.WebSocketHandler):
        def on_message(self, message):
            self.write_message(b"\xc1", binary=True)

    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    http = tornado.httpserver.HTTPServer(tornado.web.Application([("/api", Garbage)]))
    http.add_sockets(sockets)
    address = f"ws://127.0.0.1:{sockets[0].getsockname()[1]}/api"
    try:
        client = await PykernWireClient.connect(address, authenticate=False, timeout=2)
        with pytest.raises(wire.WireError, match="cannot read") as caught:
            await client.call("echo", {})
        assert isinstance(caught.value, TransportError)
        later = await client.call("echo", {})
        await client.aclose()
    finally:
        http.stop()
        await http.close_all_connections()
    assert later.errors[0].code == client_module.DISCONNECTED and "not msgpack" in later.errors[0].message


@pytest.mark.asyncio
async def test_unreachable_addresses_are_named():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PykernUnreachable, match=f"ws://127.0.0.1:{port}/api"):
        await PykernWireClient.connect(f"ws://127.0.0.1:{port}/api", timeout=1)
    async with real_pykern_server() as server:
        with pytest.raises(PykernUnreachable, match="/nope"):
            await PykernWireClient.connect(server.address.replace("/api", "/nope"), timeout=1)


@pytest.mark.asyncio
async def test_calls_after_aclose_are_a_usage_error():
    async with real_pykern_server() as server:
        client = await _connect(server)
        await client.aclose()
        await client.aclose()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await client.call("echo", {})


def test_tornado_missing_is_a_stack_unavailable(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tornado.websocket", None)
    with pytest.raises(StackUnavailable, match="pip install"):
        client_module.require_tornado()


def test_addresses_and_timeouts_are_checked():
    with pytest.raises(ValueError, match="ws://host:port/path"):
        PykernWireClient("http://127.0.0.1:1/api")
    with pytest.raises(ValueError, match="timeout"):
        PykernWireClient("ws://127.0.0.1:1/api", timeout=0)


# -- the blocking client -------------------------------------------------------------------------------------


class TestSyncClient:
    def test_calls_and_subscriptions_block_and_close_joins_the_thread(self):
        before = threading.active_count()
        with serve_stubs(vector_router(), token=VECTOR_TOKEN) as server:
            client = PykernSyncClient(server.address, token=VECTOR_TOKEN, timeout=2)
            try:
                replies = client.call_many([Call("pykern", "api", "echo", {"a": 1}), Call("pykern", "api", "credit", {})])
                items = client.subscribe_all("ticks", {"n": 2})
                assert client.connected
            finally:
                client.close()
                client.close()
            assert not client.connected
            with pytest.raises(RuntimeError, match="closed"):
                client.call("echo", {})
        assert replies[0].body == {"a": 1, "counter": 1} and replies[1].errors[0].code == "NotEnoughCredit"
        assert items == [{"i": 0}, {"i": 1}]
        assert threading.active_count() == before

    def test_a_failed_handshake_leaves_no_thread(self):
        before = threading.active_count()
        with serve_stubs(vector_router(), token=VECTOR_TOKEN) as server:
            with pytest.raises(HandshakeFailed, match="APIForbidden"):
                PykernSyncClient(server.address, token="wrong", timeout=2)
        assert threading.active_count() == before

    def test_a_sync_timeout_is_a_call_timeout(self):
        with serve_stubs(vector_router()) as server, PykernSyncClient(server.address, timeout=2) as client:
            with pytest.raises(CallTimeout, match="'slow'"):
                client.call("slow", {"seconds": 2}, timeout=0.1)
            assert client.call("echo", {}).body == {"counter": 1}

    def test_record_tells_the_recorders(self):
        from rpctest.stubs.router import router as default_router

        seen = []
        stop = default_router.add_listener(seen.append)
        try:
            with serve_stubs(vector_router()) as server, PykernSyncClient(server.address, record=True) as client:
                client.call("echo", {"r": 1})
        finally:
            stop()
        assert [(i.call.operation, i.call.body, i.reply.body, i.source) for i in seen] == [
            ("echo", {"r": 1}, {"r": 1, "counter": 1}, "client")
        ]


def test_a_call_to_an_endpoint_that_never_answers_ends_within_its_timeout() -> None:
    """A peer that accepts TCP and sends nothing (not a pykern server, or a stuck one) never hangs a call."""
    from silent import call_against_silence

    outcome, seconds = call_against_silence("pykern", "ws://127.0.0.1:{port}/api", "op")
    assert type(outcome).__name__ == "PykernUnreachable", outcome
    assert seconds < 1.0 + 5  # the call's own 1 s timeout, with a wide margin for a loaded machine: a bound, not a speed

