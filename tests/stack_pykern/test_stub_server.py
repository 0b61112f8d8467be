"""The pykern.api stub server: the golden vectors replayed byte for byte, parity with pykern's real
server on what the vectors do not cover, pykern's own client against it, and its lifecycle.

The vector replays run against pykern's real server too: that keeps the replayer honest (a replayer
that passes against the stub but not the real server would prove nothing).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
from stack_pykern.pkwire_helpers import (
    NO_REPLY_WAIT,
    VECTOR_TOKEN,
    RawWs,
    host_port,
    real_api_classes,
    real_pykern_server,
    replay,
    vector_router,
)
from vectors import load

from rpctest.exceptions import CallTimeout
from rpctest.model import Reply, RpcError
from rpctest.stacks.pykern import close_client, wire
from rpctest.stacks.pykern.client import PykernWireClient
from rpctest.stacks.pykern.stub_server import (
    UNMATCHED_CODE,
    PykernStubServer,
    serve_stubs,
)
from rpctest.stubs.api import stub_action
from rpctest.stubs.router import StubRouter

FAMILIES = ("calls", "errors", "subscriptions", "framing")
VECTORS = [pytest.param(v, id=v["id"]) for family in FAMILIES for v in load("pykern", family)["vectors"]]

#: what the diagnostics of the vectors that make a server drop or ignore something must say
DIAGNOSED = {
    "pk.err.api-not-found": "APINotFound for api 'nosuch'",
    "pk.err.unserializable-result": "the result of 'unserializable' (call 2) cannot be msgpacked",
    "pk.frame.garbage": "not msgpack",
    "pk.frame.call-id-zero": "call_id is 0",
    "pk.frame.call-id-string": "call_id is a str",
    "pk.frame.reply-kind-to-server": "REPLY (777502) is invalid for the server",
    "pk.frame.unknown-kind": "msg_kind 12345",
    "pk.frame.truncated-msgpack": "truncated msgpack",
    "pk.frame.empty-message": "empty message",
}


def _router_with(*stubs: tuple[str, dict]) -> StubRouter:
    router = StubRouter(intercept=False)
    for action, options in stubs:
        stub_action("api", action, stack="pykern", router=router, **options).start()
    return router


def _ws(server: PykernStubServer):
    return RawWs.connect(*host_port(server.address), server.path)


# -- the vectors -------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("vector", VECTORS)
async def test_stub_server_reproduces_the_vector(vector):
    """Every vector applies to stubs: even ``unserializable``, since the stub server mimics the silence."""
    server = await PykernStubServer.start_async(vector_router(), token=VECTOR_TOKEN)
    try:
        await replay(vector, *host_port(server.address))
    finally:
        await server.astop()
    if vector["id"] in DIAGNOSED:
        assert len(server.diagnostics) == 1 and DIAGNOSED[vector["id"]] in server.diagnostics[0]
    else:
        assert server.diagnostics == []


@pytest.mark.asyncio
@pytest.mark.parametrize("vector", VECTORS)
async def test_the_replayer_passes_against_pykerns_real_server(vector):
    pytest.importorskip("pykern.api.server")
    async with real_pykern_server() as server:
        await replay(vector, server.host, server.port)


@pytest.mark.asyncio
async def test_the_replayer_notices_a_difference():
    vector = next(v.values[0] for v in VECTORS if v.id == "pk.err.custom-api-error")
    router = vector_router()
    stub_action("api", "credit", stack="pykern", router=router, errors=[RpcError("NotEnoughCredit", "balance=4")]).start()
    async with PykernStubServer(router, token=VECTOR_TOKEN) as server:
        with pytest.raises(AssertionError, match="payload differs"):
            await replay(vector, *host_port(server.address))


# -- parity with pykern's server where the vectors stop ----------------------------------------------------

_AUTH = wire.encode_call(wire.AUTH_API_NAME, wire.auth_args(VECTOR_TOKEN), 1)


def _raw_call(api_name: str | bytes, api_args: bytes, *, call_id: bytes = b"\x02") -> bytes:
    """A CALL whose ``api_name`` (a str, or its raw msgpack) and ``api_args`` are raw msgpack bytes:
    what rpctest's packer refuses to build (nesting past its limit, a str that is not UTF-8)."""
    name = api_name if isinstance(api_name, bytes) else wire.pack(api_name)
    return (b"\x84" + wire.pack("api_name") + name + wire.pack("api_args") + api_args + wire.pack("call_id") + call_id
            + wire.pack("msg_kind") + wire.pack(wire.CALL))
PARITY = {
    "boom": [wire.encode_call("boom", {}, 2)],
    "forbid": [wire.encode_call("forbid", {}, 2)],
    "badproto-closes": [wire.encode_call("badproto", {}, 2), wire.encode_call("echo", {}, 3)],
    "call-on-subscription": [wire.encode_call("ticks", {"n": 1}, 2)],
    "kind-checked-before-args": [wire.encode_call("ticks", None, 2)],
    "name-checked-before-args": [wire.encode_call("nosuch", None, 2)],
    "subscribe-unknown": [wire.encode_subscribe("nosuch", {}, 2)],
    "subscription-returns-a-value": [wire.encode_subscribe("sub_returns", {}, 2)],
    "integer-api-name": [wire.encode_call(5, {}, 2)],
    "empty-api-name": [wire.encode_call("", {}, 2)],
    "list-api-name-closes": [wire.encode_call([1], {}, 2)],
    "map-api-name-closes": [wire.encode_call({"a": 1}, {}, 2)],
    "auth-args-a-list": [wire.encode_call(wire.AUTH_API_NAME, [1], 1)],
    "auth-version-a-string": [wire.encode_call(wire.AUTH_API_NAME, {"token": VECTOR_TOKEN, "version": "x"}, 1)],
    "unsubscribe-unknown-id-is-ignored": [wire.encode_unsubscribe(9), wire.encode_call("echo", {}, 2)],
    "trailing-bytes-are-ignored": [wire.encode_call("echo", {}, 2) + b"\xc1\xc1"],
    "integer-map-key-closes": [wire.pack({"api_name": "echo", "api_args": {1: 2}, "call_id": 2, "msg_kind": wire.CALL})],
    "true-call-id": [wire.pack({"api_name": "echo", "api_args": {}, "call_id": True, "msg_kind": wire.CALL})],
    "api-args-a-list-reach-the-api": [wire.encode_call("credit", [1], 2)],
    # issue 15's class of input: what a frame nested, sized or encoded to break a decoder does
    "args-nested-500-deep": [_raw_call("echo", b"\x81\xa1k" + b"\x91" * 500 + b"\xc0")],
    "args-nested-1000-deep": [_raw_call("echo", b"\x81\xa1k" + b"\x91" * 1000 + b"\xc0"), wire.encode_call("echo", {}, 3)],
    "args-nested-past-msgpacks-stack-close": [_raw_call("echo", b"\x81\xa1k" + b"\x91" * 100_000 + b"\xc0")],
    "api-name-not-utf8-closes": [_raw_call(b"\xa2\xff\xfe", b"\x80")],
    "a-string-of-200-kb-reaches-the-api": [wire.encode_call("echo", {"s": "x" * 200_000}, 2)],
    "the-largest-64-bit-integers-reach-the-api": [_raw_call("echo", b"\x81\xa1k\xcf" + b"\xff" * 8, call_id=b"\xcf" + b"\xff" * 8)],
}


async def _exchange(host: str, port: int, frames: list[bytes], *, text: bool = False) -> list[str]:
    """What a server sends back for ``frames`` (after the handshake), as hex frames; "EOF" at the end."""
    ws = await RawWs.connect(host, port)
    seen: list[str] = []
    try:
        for frame in frames:
            await ws.send(frame, 1 if text else 2)
        while True:
            got = await ws.recv(NO_REPLY_WAIT)
            if got is None:
                break
            seen.append(got.raw.hex())
            if got.opcode == 8:
                await ws.answer_close()
                seen.append("EOF" if await ws.expect_eof() else "no EOF")
                break
    finally:
        await ws.close()
    return seen


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(PARITY))
async def test_the_stub_server_answers_like_pykerns_server(name):
    pytest.importorskip("pykern.api.server")
    frames = [_AUTH, *PARITY[name]] if not name.startswith("auth-") else PARITY[name]
    async with real_pykern_server() as real:
        theirs = await _exchange(real.host, real.port, frames)
    async with PykernStubServer(vector_router(), token=VECTOR_TOKEN) as stub:
        ours = await _exchange(*host_port(stub.address), frames)
    assert ours == theirs
    assert theirs, "every parity case gets an answer or a close"


@pytest.mark.asyncio
async def test_a_text_frame_closes_like_pykerns_server():
    pytest.importorskip("pykern.api.server")
    async with real_pykern_server() as real:
        theirs = await _exchange(real.host, real.port, [b"{}"], text=True)
    async with PykernStubServer(vector_router()) as stub:
        ours = await _exchange(*host_port(stub.address), [b"{}"], text=True)
    assert ours == theirs == ["8800", "EOF"]
    assert "text WebSocket message" in stub.diagnostics[0]


@pytest.mark.asyncio
async def test_auth_without_a_required_token_accepts_a_missing_token_field():
    pytest.importorskip("pykern.api.server")
    frames = [wire.encode_call(wire.AUTH_API_NAME, {"version": wire.AUTH_API_VERSION}, 1)]
    async with real_pykern_server(real_api_classes(token=None)) as real:
        theirs = await _exchange(real.host, real.port, frames)
    async with PykernStubServer(vector_router()) as stub:
        ours = await _exchange(*host_port(stub.address), frames)
    assert ours == theirs == [f"82{len(wire.encode_reply(1, {})):02x}" + wire.encode_reply(1, {}).hex()]


# -- pykern's own client against the stub server --------------------------------------------------------------


def _pykern_client(server: PykernStubServer):
    pykern_client = pytest.importorskip("pykern.api.client")
    from pykern.pkcollections import PKDict

    host, port = host_port(server.address)
    return pykern_client.Client(PKDict(tcp_ip=host, tcp_port=port, api_uri=server.path)), PKDict


@pytest.mark.asyncio
async def test_pykerns_client_calls_the_stub_server():
    import pykern.util

    async with PykernStubServer(vector_router(), token=VECTOR_TOKEN) as server:
        client, PKDict = _pykern_client(server)
        await client.connect(PKDict(token=VECTOR_TOKEN))
        try:
            echoed = await client.call_api("echo", PKDict(a=1))
            texts = []
            for name in ("credit", "boom", "forbid", "none", "nosuch"):
                with pytest.raises(pykern.util.APIError) as caught:
                    await client.call_api(name, PKDict())
                texts.append(str(caught.value))
            with await client.subscribe_api("ticks", PKDict(n=3)) as subscription:
                items = []
                while (item := await subscription.result_get()) is not None:
                    items.append(item)
        finally:
            await close_client(client)
    assert echoed == {"a": 1, "counter": 1}
    assert texts == [
        "NotEnoughCredit: balance=3",
        "APICallError: error=unhandled_exception=kaboom",
        "APIForbidden: ",
        "missing reply",
        "APINotFound: api_name=nosuch",
    ]
    assert items == [{"i": 0}, {"i": 1}, {"i": 2}]


@pytest.mark.asyncio
async def test_pykerns_client_unsubscribes_and_the_stream_stops():
    async with PykernStubServer(vector_router(), token=VECTOR_TOKEN) as server:
        client, PKDict = _pykern_client(server)
        await client.connect(PKDict(token=VECTOR_TOKEN))
        try:
            subscription = await client.subscribe_api("ticks", PKDict(n=50, interval=0.2))
            first = await subscription.result_get()
            (connection,) = server._connections
            (stream,) = connection.streams.values()
            subscription.unsubscribe()
            deadline = asyncio.get_running_loop().time() + 5  # the stream ticks every 0.2 s: done well before
            while not stream.done() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            assert stream.done(), "the server still runs the stream"
            assert await client.call_api("echo", PKDict()) == {"counter": 1}
        finally:
            await close_client(client)
    assert first == {"i": 0}


@pytest.mark.asyncio
async def test_pykerns_client_handshake_failures():
    import pykern.api.util
    import pykern.util

    async with PykernStubServer(vector_router(), token=VECTOR_TOKEN) as server:
        client, PKDict = _pykern_client(server)
        with pytest.raises(pykern.util.APIError, match="^APIForbidden: $"):
            await client.connect(PKDict(token="wrong"))
        client, PKDict = _pykern_client(server)
        with pytest.raises(pykern.util.APIError, match="invalid version=7, expected=658584001"):
            await client.connect(PKDict(token=VECTOR_TOKEN, version=7))
        client, PKDict = _pykern_client(server)
        await client.connect(PKDict(token=VECTOR_TOKEN))
        try:
            with pytest.raises(pykern.util.APIError, match="APIProtocolError: error=nope"):
                await client.call_api("badproto", PKDict())
            # the server closes after a protocol error; pykern's client sees it when its read loop
            # ends (a fixed sleep lost that race on a loaded machine: the write hit the closed stream)
            deadline = asyncio.get_running_loop().time() + 5
            while not client._destroyed and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            with pytest.raises(pykern.api.util.APIDisconnected):
                await client.call_api("echo", PKDict())
        finally:
            await close_client(client)


@pytest.mark.asyncio
async def test_without_a_token_any_token_is_accepted():
    async with PykernStubServer(vector_router()) as server:
        client, PKDict = _pykern_client(server)
        await client.connect(PKDict(token="anything"))
        try:
            assert await client.call_api("echo", PKDict()) == {"counter": 1}
        finally:
            await close_client(client)


# -- answering from the router ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_near_miss_names_the_nearest_stub_and_is_logged(caplog):
    router = _router_with(("echo", {"body": {"ok": True}, "match": {"a": 1}}))
    caplog.set_level(logging.WARNING, logger="rpctest.serve")
    async with PykernStubServer(router) as server, await PykernWireClient.connect(server.address) as client:
        hit = await client.call("echo", {"a": 1})
        miss = await client.call("echo", {"a": 2})
    assert hit.body == {"ok": True}
    error = miss.errors[0]
    assert error.code == UNMATCHED_CODE and error.kind.value == "caller_error"
    assert "Nearest stub: stub_action('api', 'echo', stack='pykern', match={'a': 1})" in error.message
    assert "a is 2, stub matches 1" in error.message
    assert len(server.diagnostics) == 1 and "No stub matches pykern call api.echo({'a': 2})" in server.diagnostics[0]
    assert [r.levelname for r in caplog.records if r.name == "rpctest.serve" and "No stub matches" in r.message] == ["WARNING"]


@pytest.mark.asyncio
async def test_a_stub_that_raises_is_an_unhandled_exception_and_a_diagnostic():
    router = _router_with(("crash", {"side_effect": KeyError("k")}))
    async with PykernStubServer(router) as server, await PykernWireClient.connect(server.address) as client:
        reply = await client.call("crash", {})
    assert reply.errors[0].code == "APICallError" and reply.errors[0].message == "error=unhandled_exception='k'"
    assert "the stub for api.crash raised KeyError('k')" in server.diagnostics[0]


@pytest.mark.asyncio
async def test_subscription_items_that_are_errors_end_the_stream_as_an_api_raising():
    router = _router_with(
        ("failing", {"items": [{"i": 0}, RpcError("NotEnoughCredit", "balance=0"), {"i": 9}]}),
        ("nones", {"items": [{"i": 0}, None]}),
        ("crashing", {"items": [], "side_effect": lambda args: Reply(items=[1, ValueError("bad")])}),
        ("unpackable", {"items": [], "side_effect": lambda args: Reply(items=[1, {2}, 3])}),
    )
    async with PykernStubServer(router) as server, await PykernWireClient.connect(server.address) as client:
        replies = {}
        for name in ("failing", "nones", "crashing"):
            replies[name] = await _collect(client, name)
        with pytest.raises(CallTimeout) as hung:
            await _collect(client, "unpackable", timeout=0.2)
    assert replies["failing"] == Reply(items=[{"i": 0}], errors=[RpcError("NotEnoughCredit", "balance=0", kind="caller_error")])
    assert replies["nones"].errors[0].message == "error=api_result may not be None"
    assert replies["crashing"].items == [1] and replies["crashing"].errors[0].message == "error=unhandled_exception=bad"
    assert "did not end" in str(hung.value), "pykern's server goes silent after an unpackable item; so must the stub"
    assert "a result of subscription 'unpackable' (call 5) cannot be msgpacked" in server.diagnostics[0]


async def _collect(client: PykernWireClient, name: str, timeout: float = 1.0) -> Reply:
    from rpctest.model import Call

    return await client.call(Call("pykern", "api", name, {}, meta={"kind": "subscribe"}), timeout=timeout)


@pytest.mark.asyncio
async def test_a_delayed_stub_times_out_and_the_connection_stays_usable():
    router = _router_with(("late", {"side_effect": lambda args: Reply(body={"late": True}, meta={"delay": 2.0})}), ("echo", {"body": {}}))
    async with PykernStubServer(router) as server, await PykernWireClient.connect(server.address) as client:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="'late'"):
            await client.call("late", {}, timeout=0.05)
        assert time.monotonic() - started < 1.0  # the timeout ended the wait, not the 2 s reply
        assert (await client.call("echo", {})).body == {}


@pytest.mark.asyncio
async def test_stub_calls_carry_the_service_and_the_kind():
    router = StubRouter(intercept=False)
    echo = stub_action("billing", "echo", stack="pykern", router=router, body={"ok": 1}).start()
    ticks = stub_action("billing", "ticks", stack="pykern", router=router, items=[1]).start()
    async with PykernStubServer(router) as server, await PykernWireClient.connect(server.address) as client:
        await client.call("echo", {"q": 1})
        await _collect(client, "ticks")
    assert server.service == "billing"
    calls = echo.calls + ticks.calls
    assert [(c.stack, c.service, c.operation, c.body, c.meta["kind"]) for c in calls] == [
        ("pykern", "billing", "echo", {"q": 1}, "call"),
        ("pykern", "billing", "ticks", {}, "subscribe"),
    ]
    assert calls[0].meta["session"] is calls[1].meta["session"], "one connection, one session"
    assert set(calls[0].meta) == {"kind", "session"}


def test_the_service_is_resolved_per_call_as_the_in_process_stubs_do():
    router = StubRouter(intercept=False)
    server = PykernStubServer(router)
    assert server.service == ""  # unbound, no stubs: the (empty) address names it
    stub_action("a", "x", stack="pykern", router=router).start()
    assert server.service == "a"  # a stub started after the server counts
    stub_action("b", "x", stack="pykern", router=router).start()
    assert server.service == ""  # two services: the address, so a call matches neither by accident
    assert PykernStubServer(router, service="b").service == "b"


# -- lifecycle --------------------------------------------------------------------------------------------------


def test_serve_stubs_runs_on_a_thread_that_stop_joins():
    before = threading.active_count()
    server = serve_stubs(vector_router(), address="ws://127.0.0.1:0/other")
    try:
        assert server.address.startswith("ws://127.0.0.1:") and server.address.endswith("/other")
        assert server.call("echo", {"a": 1}).body == {"a": 1, "counter": 1}
        assert server.call("ticks", {"n": 2}, kind="subscribe").items == [{"i": 0}, {"i": 1}]
        assert server.alive
    finally:
        server.stop()
        server.stop()
    assert not server.alive
    assert threading.active_count() == before
    with pytest.raises(RuntimeError, match="stopped"):
        server.start()


@pytest.mark.asyncio
async def test_a_thread_server_serves_an_async_client_on_another_loop():
    with serve_stubs(vector_router()) as server:
        async with await PykernWireClient.connect(server.address) as client:
            assert (await client.call("echo", {})).body == {"counter": 1}


@pytest.mark.asyncio
async def test_on_the_running_loop_stop_must_be_awaited():
    server = await PykernStubServer.start_async(vector_router())
    try:
        with pytest.raises(RuntimeError, match="await server.astop"):
            server.stop()
        with pytest.raises(RuntimeError, match="deadlock"):
            server.client  # noqa: B018 - the property is what is tested
    finally:
        await server.astop()
        await server.astop()
    assert not server.alive


@pytest.mark.asyncio
async def test_astop_drops_a_client_that_never_answers_the_close_frame():
    server = await PykernStubServer.start_async(vector_router(), close_timeout=0.2)
    ws = await _ws(server)
    try:
        await ws.send(_AUTH)
        assert await ws.recv(2.0) is not None
        started = time.monotonic()
        await server.astop()  # the raw client does not answer the close frame
        assert time.monotonic() - started < 1.0
        assert await ws.expect_eof()
    finally:
        await ws.close()


@pytest.mark.asyncio
async def test_astop_ends_pending_work_and_clients_see_the_disconnect():
    server = await PykernStubServer.start_async(vector_router())
    client = await PykernWireClient.connect(server.address, timeout=5)
    try:
        pending = asyncio.ensure_future(client.call("slow", {"seconds": 40}))
        await asyncio.sleep(0.05)
        await server.astop()
        reply = await asyncio.wait_for(pending, 2.0)
    finally:
        await client.aclose()
    assert reply.errors[0].code == "APIDisconnected"


def test_a_port_in_use_fails_start_and_leaves_no_thread():
    before = threading.active_count()
    with serve_stubs(vector_router()) as first:
        with pytest.raises(OSError):
            serve_stubs(vector_router(), address=first.address)
        assert threading.active_count() == before + 1
    assert threading.active_count() == before


def test_entering_an_unstarted_server_starts_it_on_a_thread():
    with PykernStubServer(vector_router()) as server:
        assert server.alive and server.call("echo").body == {"counter": 1}
    assert not server.alive


def test_the_stub_server_binds_loopback_only() -> None:
    """A test double on 0.0.0.0 would answer anyone on the network: refused, with the way out named."""
    from silent import assert_stub_server_refuses_public_addresses

    assert_stub_server_refuses_public_addresses("pykern")


def test_rpctest_serve_may_serve_other_machines_with_a_warning() -> None:
    from silent import serve_publicly

    first, err = serve_publicly("pykern", "contracts/consumers/rpctest-examples--pykern--wallet.json", "ws://0.0.0.0:0/api")
    assert first.startswith("rpctest serve: pykern stub provider at "), (first, err)
    assert "WARNING serving on 0.0.0.0, which is not loopback: other machines can reach this server" in err



def _masked_frame(payload: bytes, opcode: int = 0x2) -> bytes:
    from rpctest.stacks.pykern.blocking_ws import mask

    key = b"\x01\x02\x03\x04"
    return bytes((0x80 | opcode, 0x80 | len(payload))) + key + mask(key, payload)


@pytest.mark.asyncio
async def test_messages_still_waiting_when_the_client_closes_are_dropped_without_a_warning():
    """A delayed call, a call queued behind it and a close frame in one read: the server answers
    neither call (the close ends both before they run) and leaves no coroutine never awaited."""
    import gc
    import warnings

    router = _router_with(("late", {"side_effect": lambda args: Reply(body={"late": True}, meta={"delay": 2.0})}), ("echo", {"body": {}}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with PykernStubServer(router) as server:
            raw = await RawWs.connect(*host_port(server.address))
            raw.writer.write(_masked_frame(wire.encode_call("late", {}, 1)) + _masked_frame(wire.encode_call("echo", {}, 2))
                             + _masked_frame((1000).to_bytes(2, "big"), opcode=0x8))
            await raw.writer.drain()
            first = await raw.recv(NO_REPLY_WAIT)
            raw.writer.close()
            await raw.writer.wait_closed()
        gc.collect()
    assert first is not None and first.opcode == 0x8, "the server's close frame, and no reply before it"
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
