"""The AsyncAPY stub server: every golden vector replayed byte for byte (with its timing class), the
Fields matching rule, replies, sessions, diagnostics and its lifecycle.

The vectors' handlers are stubs (:func:`vector_router`); durations are scaled by ``TIME_SCALE``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time

import pytest

from rpctest import config
from rpctest.config import ServiceConfig
from rpctest.model import Call
from rpctest.stacks import get_adapter
from rpctest.stacks.asyncapy import errors, wire
from rpctest.stacks.asyncapy.client import AsyncAPYClient, AsyncAPYSyncClient, parse_address
from rpctest.stacks.asyncapy.stub_server import AsyncAPYStubServer, serve_stubs
from rpctest.stacks.asyncapy.wire import Framing
from rpctest.stubs.api import stub_action
from rpctest.stubs.router import StubRouter
from stack_asyncapy.aap_helpers import all_vectors, replay, scaled_timeout, vector_router
from stack_asyncapy.aap_real import needs_asyncapy

VECTORS = [pytest.param(v, id=v["id"]) for v in all_vectors()]

#: what the diagnostics of the vectors in which the server says nothing (or times out) must say
DIAGNOSED = {
    "aap.err.missing-field": "the packet has no 'text'",
    "aap.err.regex-reject": "re.match('-?\\\\d+$', '1x') fails",
    "aap.err.handler-raises": "the stub for demo.boom raised RuntimeError('boom')",
    "aap.err.handler-timeout": "the stub for demo.slow delays its reply",
    "aap.auth.invalid-key": "match predicate '_has_issued_key' returned false",
    "aap.frame.json-array": "the payload is a list",
    "aap.frame.json-false": "the payload is falsy (False)",
    "aap.frame.json-empty-object-short": "a 4-byte body is shorter than 5 bytes: sent ERR_REQUEST_MALFORMED",
    "aap.frame.json-empty-object-padded": "the payload is falsy ({})",
    "aap.frame.bad-version-11": "Protocol-Version 11, expected 22: sent ERR_HEADER_INVALID",
    "aap.frame.bad-encoding-2": "Content-Encoding 2",
    "aap.frame.enc-json-payload-ziproto": "not valid text",
    "aap.frame.ziproto-truncated": "does not decode",
    "aap.frame.ziproto-bin-value": "cannot be re-serialised as JSON",
    "aap.frame.ziproto-map16": "map16",
    "aap.frame.length-too-big": "discarded the 34 byte(s) after the length header",
    "aap.frame.two-pipelined": "discarded the 70 byte(s)",
    "aap.frame.oversize-1100": "discarded the 1020 byte(s)",
    "aap.frame.idle": "nothing arrived",
    "aap.frame.connect-then-half-close": "the client closed (or half-closed) before sending a byte",
    "aap.sess.limit-reached": "limit 1: sent ERR_SESSION_LIMIT_REACHED",
}


def _router(*stubs: tuple[str, dict], service: str = "svc") -> StubRouter:
    router = StubRouter(intercept=False)
    for action, options in stubs:
        stub_action(service, action, stack="asyncapy", router=router, **options).start()
    return router


# -- the vectors ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("vector", VECTORS)
async def test_stub_server_reproduces_the_vector(vector):
    """Every vector applies: their handlers are stubs, and the server's own behaviour is the rest."""
    peer = vector.get("peer_config", {})
    server = await AsyncAPYStubServer.start_async(
        vector_router(), timeout=scaled_timeout(vector), session_limit=peer.get("session_limit", 0)
    )
    try:
        await replay(vector, server.host, server.port)
    finally:
        await server.astop()
    if vector["id"] in DIAGNOSED:
        assert any(DIAGNOSED[vector["id"]] in text for text in server.diagnostics), server.diagnostics
    else:
        assert server.diagnostics == []


# -- matching: AsyncAPY's Fields rule ------------------------------------------------------------------------


def _ask(server: AsyncAPYStubServer, packet, **options):
    with AsyncAPYSyncClient.from_address(server.address, timeout=3) as client:
        return client.request(packet, **options)


@pytest.fixture
def echo_server():
    router = _router(
        ("echo", {"match": {"action": "echo", "text": None}, "side_effect": lambda p: {"echo": p["text"]}}),
        ("add", {"match": {"action": r"add$", "a": r"-?\d+$"}, "body": {"added": True}}),
    )
    with serve_stubs(router, timeout=1) as server:
        yield server, router


@pytest.mark.parametrize(
    ("packet", "answer"),
    [
        ({"action": "echo", "text": "hi"}, {"echo": "hi"}),
        ({"action": "echoes", "text": [1]}, {"echo": [1]}),  # re.match anchors at the start only
        ({"action": "echo", "text": None}, {"echo": None}),  # a None pattern only wants the key
        ({"action": "add", "a": 2}, {"added": True}),  # str(2) == "2": JSON int and string alike
        ({"action": "add", "a": "-7"}, {"added": True}),
        ({"action": "add", "a": True}, "re.match('-?\\\\d+$', 'True') fails"),  # str(True) == "True"
        ({"action": "echo"}, "the packet has no 'text'"),
        ({"action": "echo", "text": "hi", "extra": 1}, "the packet has 'extra', which the stub's fields do not name"),
        ({"action": "sub", "a": "1"}, "re.match('add$', 'sub') fails"),
    ],
)
def test_stubs_match_as_asyncapy_fields_do(echo_server, packet, answer):
    """A dict answer is the reply; a string is the silent close's explanation (nearest stub and why)."""
    server, _router_ = echo_server
    exchange = _ask(server, packet)
    assert exchange.end == "closed"
    if isinstance(answer, dict):
        assert exchange.packets == [answer]
        assert server.diagnostics == []
    else:
        assert exchange.silent, exchange.describe()
        assert answer in server.diagnostics[-1] and "Nearest stub" in server.diagnostics[-1], server.diagnostics[-1]


def test_a_trailing_newline_passes_a_dollar_pattern(echo_server):
    """Python's ``$`` matches before a final newline: ``"add\\n"`` is routed to ``add$``, as AsyncAPY
    0.5.0 routes ``"echo\\n"`` to its ``echo$`` handler."""
    server, _ = echo_server
    assert _ask(server, {"action": "add\n", "a": "1"}).packets == [{"added": True}]


def test_the_call_names_the_stub_and_carries_the_packet(echo_server):
    server, router = echo_server
    _ask(server, {"action": "echo", "text": "x"}, encoding="ziproto")
    (stub,) = [s for s in router.active() if s.action == "echo"]
    call = stub.handle.calls[0]
    assert (call.stack, call.service, call.operation, call.body) == ("asyncapy", "svc", "echo", {"action": "echo", "text": "x"})


def test_no_stub_at_all_closes_silently_and_says_so():
    with serve_stubs(StubRouter(intercept=False), timeout=1) as server:
        assert _ask(server, {"action": "x"}).silent
    assert "No AsyncAPY stubs are active" in server.diagnostics[-1]


def test_newer_stubs_shadow_older_ones_and_service_limits_the_server():
    router = _router(("old", {"match": {"a": None}, "body": {"v": "old"}}))
    stub_action("svc", "new", stack="asyncapy", router=router, match={"a": "1"}, body={"v": "new"}).start()
    stub_action("other", "x", stack="asyncapy", router=router, match={"b": None}, body={"v": "other"}).start()
    with serve_stubs(router, timeout=1) as server:
        assert _ask(server, {"a": "1"}).packets == [{"v": "new"}]
        assert _ask(server, {"a": "2"}).packets == [{"v": "old"}]
        assert _ask(server, {"b": 0}).packets == [{"v": "other"}]
    with serve_stubs(router, timeout=1, service="svc") as server:
        assert _ask(server, {"b": 0}).silent
        assert "of service 'svc'" in server.diagnostics[-1]


def test_a_stub_without_match_takes_the_configured_patterns(monkeypatch):
    cfg = config.current()
    entry = ServiceConfig(name="cfgsvc", stack="asyncapy", match={"echo": {"action": "echo$", "text": None}})
    patched = dataclasses.replace(cfg, services={**cfg.services, "cfgsvc": entry})
    monkeypatch.setattr(config, "current", lambda: patched)
    with serve_stubs(_router(("echo", {"body": {"ok": 1}}), service="cfgsvc"), timeout=1) as server:
        assert _ask(server, {"action": "echo", "text": 1}).packets == [{"ok": 1}]
        assert _ask(server, {"action": "echo"}).silent
    # without patterns anywhere, a stub is a handler with no filter: every packet is for it
    with serve_stubs(_router(("any", {"body": {"any": 1}}), service="free"), timeout=1) as server:
        assert _ask(server, {"whatever": [1]}).packets == [{"any": 1}]


def test_stubs_and_patterns_changed_while_the_server_runs_answer_the_next_request(monkeypatch):
    """The server works out its stubs and their patterns once per change, not per request: a stub
    started or stopped, or patterns configured, while it runs answer the very next request."""
    cfg = config.current()
    router = _router(("old", {"match": {"a": None}, "body": {"v": "old"}}))
    with serve_stubs(router, timeout=1) as server:
        assert _ask(server, {"a": 1}).packets == [{"v": "old"}]
        newer = stub_action("svc", "new", stack="asyncapy", router=router, match={"a": None}, body={"v": "new"})
        newer.start()
        assert _ask(server, {"a": 1}).packets == [{"v": "new"}]
        newer.stop()
        assert _ask(server, {"a": 1}).packets == [{"v": "old"}]
        stub_action("cfgsvc", "echo", stack="asyncapy", router=router, body={"v": "configured"}).start()
        assert _ask(server, {"b": 1}).packets == [{"v": "configured"}], "no patterns anywhere: every packet"
        entry = ServiceConfig(name="cfgsvc", stack="asyncapy", match={"echo": {"b": "2$"}})
        patched = dataclasses.replace(cfg, services={**cfg.services, "cfgsvc": entry})
        monkeypatch.setattr(config, "current", lambda: patched)
        assert _ask(server, {"b": 1}).silent
        assert _ask(server, {"b": 2}).packets == [{"v": "configured"}]


def test_connections_waiting_together_are_all_answered():
    """Connections that wait on the listener together are each accepted and answered (the server
    accepts one per turn of its loop, which reports the listener for as long as any waits)."""
    router = _router(("echo", {"match": {"n": None}, "side_effect": lambda packet: {"n": packet["n"]}}))
    with serve_stubs(router, timeout=2) as server:
        host, port, _ = parse_address(server.address)
        socks = [socket.create_connection((host, port), timeout=5) for _ in range(30)]
        try:
            for n, sock in enumerate(socks):  # all connected and sent before any reply is read
                sock.sendall(Framing().encode({"n": n}))
            replies = []
            for sock in socks:
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
                replies.append(Framing().decode(data)[0].packet)
        finally:
            for sock in socks:
                sock.close()
    assert replies == [{"n": n} for n in range(30)]


def test_an_invalid_pattern_never_matches_and_is_explained():
    router = _router(("bad", {"match": {"a": "("}, "body": {}}))
    with serve_stubs(router, timeout=1) as server:
        assert _ask(server, {"a": "("}).silent
    assert "is not a regular expression" in server.diagnostics[-1]


# -- replies -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["json", "ziproto"])
def test_replies_are_in_the_requests_encoding_and_framework_errors_in_json(encoding):
    router = _router(
        ("data", {"match": {"a": "data"}, "body": {"x": 1}}),
        ("framework", {"match": {"a": "framework"}, "errors": ["ERR_SESSION_LIMIT_REACHED"]}),
        ("app", {"match": {"a": "app"}, "errors": ["NOT_ENOUGH_CREDIT"]}),
    )
    number = wire.encoding_number(encoding)
    with serve_stubs(router, timeout=1) as server:
        data = _ask(server, {"a": "data"}, encoding=encoding)
        framework = _ask(server, {"a": "framework"}, encoding=encoding)
        app = _ask(server, {"a": "app"}, encoding=encoding)
    assert [(f.encoding, f.packet) for f in data.frames] == [(number, {"x": 1})]
    assert [(f.encoding, f.packet) for f in framework.frames] == [(0, {"status": "failure", "error": "ERR_SESSION_LIMIT_REACHED"})]
    assert [(f.encoding, f.packet) for f in app.frames] == [(number, {"status": "failure", "error": "NOT_ENOUGH_CREDIT"})]


@needs_asyncapy
@pytest.mark.parametrize("encoding", ["json", "ziproto"])
def test_a_reply_packet_is_sent_as_asyncapys_packet_holds_it(encoding):
    """AsyncAPY's Packet keeps the ``json.dumps`` text of its map and sends that text (packed from
    it read back, in ZiProto): keys that collide once they are text all go out in JSON."""
    import json

    import ziproto as real_ziproto
    from asyncapy import Packet

    body = {1: "int key", "1": "str key", "b": 2}
    with serve_stubs(_router(("collide", {"match": {"a": None}, "body": body})), timeout=1) as server:
        exchange = _ask(server, {"a": 1}, encoding=encoding)
    held = Packet(body, encoding).payload  # what AsyncAPY's Client.send sends, in each encoding
    payload = held.encode("utf-8") if encoding == "json" else real_ziproto.encode(json.loads(held))
    assert exchange.received == Framing().frame(payload, encoding=wire.encoding_number(encoding))


def test_nothing_to_send_closes_silently_with_a_diagnostic():
    router = _router(
        ("none", {"match": {"a": "none"}}),
        ("empty", {"match": {"a": "empty"}, "items": []}),
        ("closed", {"match": {"a": "closed"}, "errors": [errors.CLOSED_WITHOUT_REPLY]}),
    )
    with serve_stubs(router, timeout=1) as server:
        for value in ("none", "empty", "closed"):
            exchange = _ask(server, {"a": value})
            assert exchange.silent and exchange.elapsed < 0.5, exchange.describe()
    assert len(server.diagnostics) == 3 and "sent nothing" in server.diagnostics[0] and "CLOSED_WITHOUT_REPLY" in server.diagnostics[2]


def test_a_packet_asyncapy_cannot_send_ends_the_reply_there():
    router = _router(("bad", {"match": {"a": None}, "items": [{"ok": 1}, {"b": b"\x00"}, {"never": 1}]}))
    with serve_stubs(router, timeout=1) as server:
        exchange = _ask(server, {"a": 1})
    assert exchange.packets == [{"ok": 1}] and exchange.end == "closed"
    assert "packet 1 cannot be sent" in server.diagnostics[-1]


def test_a_delay_beyond_the_deadline_gets_err_timed_out_at_the_deadline():
    router = _router(("slow", {"match": {"a": None}, "body": {"late": 1}, "delay": 5}))
    with serve_stubs(router, timeout=0.3) as server:
        exchange = _ask(server, {"a": 1})
    assert exchange.error_codes == [errors.ERR_TIMED_OUT] and exchange.end == "closed"
    assert 0.28 <= exchange.elapsed < 1.0
    assert "delays its reply 5 s" in server.diagnostics[-1]


# -- sessions ----------------------------------------------------------------------------------------------------


def test_a_raising_stub_leaks_its_session_as_asyncapy_does():
    router = _router(("boom", {"match": {"a": "boom"}, "side_effect": RuntimeError("x")}), ("ok", {"match": {"a": "ok"}, "body": {"ok": 1}}))
    with serve_stubs(router, timeout=1, session_limit=1) as server:
        assert _ask(server, {"a": "ok"}).packets == [{"ok": 1}]
        assert _ask(server, {"a": "boom"}).silent
        assert _ask(server, {"a": "ok"}).error_codes == [errors.ERR_SESSION_LIMIT_REACHED], "for good"
        assert server.sessions == 1
    assert "its session is never released" in server.diagnostics[0]
    with serve_stubs(router, timeout=1, session_limit=1, leak_sessions=False) as server:
        assert _ask(server, {"a": "boom"}).silent
        assert _ask(server, {"a": "ok"}).packets == [{"ok": 1}]
        assert server.sessions == 0


def test_the_session_limit_counts_concurrent_requests():
    router = _router(("slow", {"match": {"a": "slow"}, "body": {"done": 1}, "delay": 0.3}), ("fast", {"match": {"a": "fast"}, "body": {"f": 1}}))
    with serve_stubs(router, timeout=2, session_limit=2) as server, AsyncAPYSyncClient.from_address(server.address, timeout=3) as client:
        results: list = []
        threads = [threading.Thread(target=lambda: results.append(client.request({"a": "slow"}))) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(0.1)
        refused = client.request({"a": "fast"})
        for thread in threads:
            thread.join()
        assert refused.error_codes == [errors.ERR_SESSION_LIMIT_REACHED]
        assert [r.packets for r in results] == [[{"done": 1}], [{"done": 1}]]
        assert client.request({"a": "fast"}).packets == [{"f": 1}]


# -- framing and addresses -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("header_size", "byteorder"), [(2, "big"), (2, "little"), (4, "little"), (8, "big"), (8, "little")])
def test_the_server_reads_the_configured_framing_and_says_it_in_its_address(header_size, byteorder):
    router = _router(("echo", {"match": {"a": None}, "side_effect": lambda p: p}))
    with serve_stubs(router, timeout=0.3, header_size=header_size, byteorder=byteorder) as server:
        host, port, options = parse_address(server.address)
        assert host == "127.0.0.1" and Framing(**options) == Framing(header_size, byteorder)
        assert options, "a framing other than the default is in the address"
        with AsyncAPYSyncClient.from_address(server.address, timeout=3) as client:
            exchange = client.request({"a": "é"})
            assert exchange.received[:header_size] == (len(exchange.received) - header_size).to_bytes(header_size, byteorder)
            assert exchange.packets == [{"a": "é"}]
        other = "big" if byteorder == "little" else "little"
        with AsyncAPYSyncClient("127.0.0.1", port, timeout=3, framing=Framing(header_size, other)) as wrong:
            exchange = wrong.request({"a": 1})  # a wrong byte order is a wrong length: the server waits
        assert exchange.end == "closed" and exchange.elapsed >= 0.28
        assert exchange.frames == [] and exchange.leftover == exchange.received != b"", "its ERR_TIMED_OUT is unreadable too"


def test_serve_stubs_listens_where_the_address_says():
    router = StubRouter(intercept=False)
    with serve_stubs(router, address="asyncapy://127.0.0.1:0?header_size=2") as server:
        assert server.framing.header_size == 2 and server.address.endswith("?header_size=2")
        assert server.port != 0


# -- lifecycle ----------------------------------------------------------------------------------------------------


def test_stop_is_prompt_with_idle_connections_and_leaves_no_thread():
    before = set(threading.enumerate())
    server = serve_stubs(StubRouter(intercept=False))  # AsyncAPY's 60 s deadline
    assert server.timeout == 60 and server.alive
    client = AsyncAPYSyncClient.from_address(server.address, timeout=10)
    results: list = []
    waiting = threading.Thread(target=lambda: results.append(client.send_raw(b"\x00\x00")))
    waiting.start()
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    waiting.join(5)
    client.close()
    assert time.monotonic() - started < 3
    assert results and results[0].end == "closed" and results[0].silent
    assert not server.alive
    server.stop()  # idempotent
    assert set(threading.enumerate()) <= before
    with pytest.raises(RuntimeError, match="stopped"):
        server.start()


@pytest.mark.asyncio
async def test_on_the_running_loop_with_the_async_client():
    router = _router(("echo", {"match": {"a": None}, "side_effect": lambda p: p}))
    async with AsyncAPYStubServer(router, timeout=1) as server:
        client = AsyncAPYClient.from_address(server.address, timeout=2)
        exchange = await client.request({"a": [1, 2]})
        assert exchange.packets == [{"a": [1, 2]}]
        with pytest.raises(RuntimeError, match="deadlock"):
            server.client  # noqa: B018 - a blocking client on this loop would wedge it
        with pytest.raises(RuntimeError, match="astop"):
            server.stop()
    assert not server.alive


def test_the_hosted_service_call_and_the_adapter_wire_half():
    router = _router(("echo", {"match": {"a": None}, "side_effect": lambda p: {"got": p["a"]}}))
    server = get_adapter("asyncapy").wire.stub_server(router, timeout=1)
    try:
        reply = server.call("echo", {"a": 3})
        assert reply.ok and reply.body == {"got": 3} and reply.items is None
        with get_adapter("asyncapy").wire.client(server.address, timeout=2) as client:
            reply = client.call(Call("asyncapy", "svc", "echo", {"b": 1}))
        assert [e.code for e in reply.errors] == [errors.CLOSED_WITHOUT_REPLY]
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_a_session_limited_exchange_scaled():
    """aap.sess.limit-reached with other timings: A is answered after B is refused."""
    router = _router(("slow", {"match": {"a": "slow"}, "body": {"ok": 1}, "delay": 0.5}), ("b", {"match": {"a": "b"}, "body": {}}))
    async with AsyncAPYStubServer(router, timeout=2, session_limit=1) as server:
        client = AsyncAPYClient.from_address(server.address, timeout=3)
        slow = asyncio.ensure_future(client.request({"a": "slow"}))
        await asyncio.sleep(0.1)
        refused = await client.request({"a": "b"})
        assert refused.error_codes == [errors.ERR_SESSION_LIMIT_REACHED] and not slow.done(), "refused at once"
        assert (await slow).packets == [{"ok": 1}]
        assert (await client.request({"a": "b"})).packets == [{}], "the session was released"


def test_the_stub_server_binds_loopback_only() -> None:
    """A test double on 0.0.0.0 would answer anyone on the network: refused, with the way out named."""
    from silent import assert_stub_server_refuses_public_addresses

    assert_stub_server_refuses_public_addresses("asyncapy")


def test_rpctest_serve_may_serve_other_machines_with_a_warning() -> None:
    from silent import serve_publicly

    first, err = serve_publicly("asyncapy", "contracts/consumers/rpctest-examples--asyncapy--calc.json", "asyncapy://0.0.0.0:0")
    assert first.startswith("rpctest serve: asyncapy stub provider at "), (first, err)
    assert "WARNING serving on 0.0.0.0, which is not loopback: other machines can reach this server" in err



# -- one bad frame fails its own connection at most (issue 15) ---------------------------------------------------

#: what AsyncAPY 0.5.0 was observed to do with each input (its server catches JSONDecodeError only, so
#: any other JSON failure is uncaught and the connection closes; ziproto's failures are all caught)
_HOSTILE = [
    pytest.param(wire.JSON, b"[" * 1000 + b"]" * 1000, "silent", "recursion limit", id="json-nested-1000"),
    pytest.param(wire.JSON, b'{"action": "echo", "text": ' + b"[" * 3000 + b"]" * 3000 + b"}", "silent", "recursion limit",
                 id="json-nested-in-a-field"),
    pytest.param(wire.JSON, b'{"action": "add", "a": ' + b"1" * 5000 + b"}", "silent", "integer too long", id="json-huge-integer"),
    pytest.param(wire.ZIPROTO, b"\x81\xa1k" + b"\x91" * 1000 + b"\xc0", errors.ERR_REQUEST_MALFORMED, "does not decode",
                 id="ziproto-nested-1000"),
    pytest.param(wire.ZIPROTO, b"\x82\xa6action\xa4echo\xa4text\xa2\xff\xfe", errors.ERR_REQUEST_MALFORMED, "not UTF-8",
                 id="ziproto-invalid-utf8"),
]


@pytest.mark.parametrize(("encoding", "payload", "answer", "why"), _HOSTILE)
def test_a_hostile_payload_gets_asyncapys_answer_and_the_server_goes_on(echo_server, encoding, payload, answer, why):
    server, _ = echo_server
    data = Framing().frame(payload, encoding=encoding)
    with AsyncAPYSyncClient.from_address(server.address, timeout=3) as client:
        exchange = client.send_raw([data[:4], data[4:]], pause=0.05)  # the header first: any size is read whole
        if answer == "silent":
            assert exchange.silent and exchange.end == "closed", exchange.describe()
        else:
            assert exchange.error_codes == [answer] and exchange.frames[0].encoding == encoding, exchange.describe()
        assert client.request({"action": "echo", "text": "next"}).packets == [{"echo": "next"}]
    assert why in server.diagnostics[-1] and "internal error" not in server.diagnostics[-1], server.diagnostics[-1]


def test_a_megabyte_string_is_just_data(echo_server):
    """Observed of AsyncAPY 0.5.0: a 1 MB string in a packet is dispatched and echoed like any other."""
    server, _ = echo_server
    text = "x" * 1_000_000
    data = Framing().encode({"action": "echo", "text": text})
    with AsyncAPYSyncClient.from_address(server.address, timeout=5) as client:
        exchange = client.send_raw([data[:4], data[4:]], pause=0.05)
    assert exchange.packets == [{"echo": text}]
