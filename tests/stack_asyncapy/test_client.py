"""The AsyncAPY wire client: against the stub server (replies, silent closes, timeouts, framings,
fragmented and pipelined sends) and against scripted peers serving the vectors' recorded bytes (and
resets, broken frames, peers that never close). Nothing here may hang: every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
import time

import pytest
import pytest_asyncio

from rpctest.exceptions import CallTimeout, ConfigError, TransportError
from rpctest.model import Call, ErrorKind
from rpctest.stacks.asyncapy import errors
from rpctest.stacks.asyncapy.client import (
    AsyncAPYClient,
    AsyncAPYSyncClient,
    AsyncAPYUnreachable,
    format_address,
    parse_address,
    reply_from_exchange,
)
from rpctest.stacks.asyncapy.stub_server import AsyncAPYStubServer
from rpctest.stacks.asyncapy.wire import Framing, WireError
from rpctest.stubs.api import stub_action
from rpctest.stubs.router import StubRouter
from stack_asyncapy.aap_helpers import all_vectors, free_port, reset, scripted_server
from vectors import blob_bytes

STACK = "asyncapy"
#: vectors whose packet no client writes as recorded: whitespace json.dumps never writes, junk after the payload
HAND_MADE = {"aap.frame.json-empty-object-padded", "aap.call.ziproto-trailing-bytes"}


def _router() -> StubRouter:
    router = StubRouter(intercept=False)
    options = {
        "echo": {"match": {"action": "echo$", "text": None}, "side_effect": lambda p: {"status": "ok", "echo": p["text"]}},
        "multi": {"match": {"action": "multi$"}, "items": [{"part": 1}, {"part": 2}, {"part": 3}]},
        "slow": {"match": {"action": "slow$"}, "body": {"late": True}, "delay": 5},
        "failing": {"match": {"action": "fail$"}, "errors": ["NOT_ENOUGH_CREDIT"]},
    }
    for action, kwargs in options.items():
        stub_action("svc", action, stack=STACK, router=router, **kwargs).start()
    return router


@pytest_asyncio.fixture
async def server():
    stub_server = await AsyncAPYStubServer.start_async(_router(), timeout=0.5)
    yield stub_server
    await stub_server.astop()


def _client(server: AsyncAPYStubServer, **options) -> AsyncAPYClient:
    options.setdefault("timeout", 3)
    return AsyncAPYClient.from_address(server.address, **options)


def _call(operation: str, body, **meta) -> Call:
    return Call(STACK, "svc", operation, body, meta=meta)


# -- neutral calls against the stub server ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_one_reply_packet_is_the_body(server):
    reply = await _client(server).call(_call("echo", {"action": "echo", "text": "hé"}))
    assert reply.ok and reply.body == {"status": "ok", "echo": "hé"} and reply.items is None


@pytest.mark.asyncio
async def test_several_reply_packets_are_the_items(server):
    reply = await _client(server).call(_call("multi", {"action": "multi"}))
    assert reply.ok and reply.items == [{"part": 1}, {"part": 2}, {"part": 3}] and reply.body == reply.items


@pytest.mark.asyncio
async def test_a_failure_packet_is_an_error(server):
    reply = await _client(server).call(_call("fail", {"action": "fail"}))
    assert not reply.ok and reply.body is None
    (error,) = reply.errors
    assert (error.code, error.kind, error.message) == ("NOT_ENOUGH_CREDIT", ErrorKind.CALLER_ERROR, "")


@pytest.mark.asyncio
async def test_a_silent_close_is_a_transport_error_distinct_from_a_timeout():
    server = await AsyncAPYStubServer.start_async(_router(), timeout=4)  # a deadline far from "at once"
    try:
        client = _client(server)
        started = time.monotonic()
        reply = await client.call(_call("nope", {"action": "nope"}))
    finally:
        await server.astop()
    assert time.monotonic() - started < 2.0, "a silent close is immediate: no waiting for the 4 s deadline"
    (error,) = reply.errors
    assert (error.code, error.kind) == (errors.CLOSED_WITHOUT_REPLY, ErrorKind.TRANSPORT)
    assert "closed the connection without a reply" in error.message and server.address in error.message


@pytest.mark.asyncio
async def test_the_servers_deadline_is_err_timed_out(server):
    reply = await _client(server).call(_call("slow", {"action": "slow"}))
    assert [(e.code, e.kind) for e in reply.errors] == [(errors.ERR_TIMED_OUT, ErrorKind.TRANSPORT)]


@pytest.mark.asyncio
async def test_the_clients_own_timeout_raises_call_timeout_and_says_what_arrived(server):
    client = _client(server, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(CallTimeout) as caught:
        await client.call(_call("slow", {"action": "slow"}))
    assert 0.18 <= time.monotonic() - started < 1.0
    assert isinstance(caught.value, TransportError) and "'slow'" in str(caught.value) and "still open" in str(caught.value)
    exchange = await client.request({"action": "slow"}, timeout=0.2)
    assert exchange.end == "timeout" and exchange.frames == [] and not exchange.silent


@pytest.mark.asyncio
@pytest.mark.parametrize("header_size", [2, 4, 8])
@pytest.mark.parametrize("byteorder", ["big", "little"])
@pytest.mark.parametrize("encoding", ["json", "ziproto"])
async def test_every_framing_and_encoding_end_to_end(header_size, byteorder, encoding):
    async with AsyncAPYStubServer(_router(), timeout=0.5, header_size=header_size, byteorder=byteorder) as stub_server:
        client = AsyncAPYClient.from_address(stub_server.address, timeout=3, framing=Framing(encoding=encoding))
        assert client.framing == Framing(header_size, byteorder, encoding=encoding)
        exchange = await client.request({"action": "echo", "text": "x" * 300})
        reply = await client.call(_call("multi", {"action": "multi"}))
    assert exchange.sent[:header_size] == (len(exchange.sent) - header_size).to_bytes(header_size, byteorder)
    assert [f.encoding for f in exchange.frames] == [1 if encoding == "ziproto" else 0]
    assert exchange.packets == [{"status": "ok", "echo": "x" * 300}]
    assert reply.items == [{"part": 1}, {"part": 2}, {"part": 3}]


@pytest.mark.asyncio
async def test_a_per_call_encoding(server):
    exchange = await _client(server).request({"action": "echo", "text": 1}, encoding="ziproto")
    assert exchange.sent[5] == 1 and exchange.frames[0].encoding == 1
    reply = await _client(server).call(_call("echo", {"action": "echo", "text": 2}, encoding="ziproto"))
    assert reply.body == {"status": "ok", "echo": 2}


# -- raw sends: fragments, pipelining, half-close -----------------------------------------------------------


@pytest.mark.asyncio
async def test_a_frame_sent_byte_by_byte_is_answered(server):
    data = Framing().encode({"action": "echo", "text": "hi"})
    exchange = await _client(server).send_raw(data, chunks=1, pause=0.002)
    assert exchange.sent == data and exchange.packets == [{"status": "ok", "echo": "hi"}] and exchange.end == "closed"


@pytest.mark.asyncio
async def test_a_frame_split_right_after_the_header_is_answered(server):
    data = Framing().encode({"action": "echo", "text": "hi"})
    exchange = await _client(server).send_raw([data[:4], data[4:]], pause=0.02)
    assert exchange.packets == [{"status": "ok", "echo": "hi"}]


@pytest.mark.asyncio
async def test_a_frame_split_inside_the_body_waits_for_the_deadline(server):
    data = Framing().encode({"action": "echo", "text": "hi"})
    exchange = await _client(server).send_raw([data[:7], data[7:]], pause=0.05)
    assert exchange.error_codes == [errors.ERR_TIMED_OUT] and exchange.elapsed >= 0.48


@pytest.mark.asyncio
async def test_two_frames_in_one_send_wait_for_the_deadline(server):
    one = Framing().encode({"action": "echo", "text": "a"})
    exchange = await _client(server).send_raw(one + one)
    assert exchange.error_codes == [errors.ERR_TIMED_OUT] and exchange.end == "closed"
    assert "discarded the" in server.diagnostics[-1]


@pytest.mark.asyncio
async def test_half_close_before_anything_is_a_silent_close(server):
    exchange = await _client(server).send_raw(b"", shut_wr=True)
    assert exchange.silent and exchange.end == "closed" and exchange.elapsed < 0.3
    with pytest.raises(ValueError):
        await _client(server).send_raw(b"x", chunks=0)


@pytest.mark.asyncio
async def test_the_client_sends_what_asyncapys_client_sends(via):
    """Every vector packet a client produces, sent through ``request``, gives the recorded bytes."""
    seen: list[bytes] = []

    async def capture(reader, writer):
        seen.append(await reader.read(65536))

    packets = []
    for vector in all_vectors():
        for event in vector["exchange"]:
            decoded = event.get("data", {}).get("decoded")
            if event["op"] == "send" and isinstance(decoded.get("payload"), dict) and decoded["version"] == 22 \
                    and decoded["length_header"] == decoded["bytes_after_header"] and vector["id"] not in HAND_MADE:
                packets.append((decoded["payload"], decoded["encoding"], blob_bytes(event["data"])))
    assert len(packets) >= 15
    async with scripted_server(capture) as (host, port):
        for payload, encoding, expected in packets:
            exchange = await via.request(host, port, payload, encoding=encoding)
            assert exchange.sent == expected and exchange.silent
    assert seen == [expected for _, _, expected in packets]


# -- scripted peers: the recorded replies, resets, broken frames ----------------------------------------------


class _Via:
    """One of rpctest's two clients behind one awaitable face: the asyncio client, or the blocking one
    in a worker thread (its requests take the plain-socket path, which must end every connection as
    the asyncio client does). Each request opens a client of that kind and closes it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def request(self, host: str, port: int, packet, *, timeout: float = 2, **options):
        if self.kind == "asyncio":
            return await AsyncAPYClient(host, port, timeout=timeout).request(packet, **options)
        return await asyncio.to_thread(self._blocking, host, port, timeout, "request", packet, options)

    async def call(self, host: str, port: int, call: Call, *, timeout: float = 2):
        if self.kind == "asyncio":
            return await AsyncAPYClient(host, port, timeout=timeout).call(call)
        return await asyncio.to_thread(self._blocking, host, port, timeout, "call", call, {})

    async def send_raw(self, host: str, port: int, data, *, timeout: float = 2):
        if self.kind == "asyncio":
            return await AsyncAPYClient(host, port, timeout=timeout).send_raw(data)
        return await asyncio.to_thread(self._blocking, host, port, timeout, "send_raw", data, {})

    @staticmethod
    def _blocking(host: str, port: int, timeout: float, method: str, argument, options):
        with AsyncAPYSyncClient(host, port, timeout=timeout) as client:
            return getattr(client, method)(argument, **options)


@pytest.fixture(params=["asyncio", "blocking"])
def via(request) -> _Via:
    return _Via(request.param)



def _replies():
    for vector in all_vectors():
        events = [e for e in vector["exchange"] if e.get("conn", "A") == "A"]
        recv = [e for e in events if e["op"] == "recv"]
        yield pytest.param(vector, recv[0]["data"] if recv else None, id=vector["id"])


@pytest.mark.asyncio
@pytest.mark.parametrize(("vector", "blob"), list(_replies()))
async def test_the_recorded_replies_become_neutral_replies(vector, blob, via):
    data = blob_bytes(blob) if blob else b""

    async def answer(reader, writer):
        await reader.read(65536)
        writer.write(data)
        await writer.drain()

    async with scripted_server(answer) as (host, port):
        reply = await via.call(host, port, _call("op", {"action": "x"}))
    if blob is None:
        assert [e.code for e in reply.errors] == [errors.CLOSED_WITHOUT_REPLY]
        return
    frames = blob["decoded"]
    failures = [f["payload"]["error"] for f in frames if f["payload"].get("status") == "failure"]
    assert [e.code for e in reply.errors] == failures
    packets = [f["payload"] for f in frames if f["payload"].get("status") != "failure"]
    assert reply.body == (packets[0] if len(packets) == 1 else packets or None)


@pytest.mark.asyncio
async def test_a_reset_is_reported_as_a_reset(via):
    async def rst(reader, writer):
        await reader.read(65536)
        reset(writer)

    async with scripted_server(rst) as (host, port):
        exchange = await via.request(host, port, {"a": 1})
        reply = await via.call(host, port, _call("op", {"a": 1}))
    assert exchange.end == "reset" and exchange.silent
    assert [(e.code, e.kind) for e in reply.errors] == [(errors.CONNECTION_RESET, ErrorKind.TRANSPORT)]


@pytest.mark.asyncio
async def test_frames_before_a_reset_are_the_reply(via):
    async def answer_then_reset(reader, writer):
        await reader.read(65536)
        writer.write(Framing().encode({"part": 1}))
        await writer.drain()
        await asyncio.sleep(0.05)
        reset(writer)

    async with scripted_server(answer_then_reset) as (host, port):
        reply = await via.call(host, port, _call("op", {"a": 1}))
    assert reply.ok and reply.body == {"part": 1} and reply.meta == {"end": "reset"}


@pytest.mark.asyncio
async def test_a_peer_that_never_closes_times_out_with_what_arrived(via):
    frame = Framing().encode({"part": 1})

    async def linger(reader, writer):
        await reader.read(65536)
        writer.write(frame + frame[:3])
        await writer.drain()
        await asyncio.sleep(10)

    async with scripted_server(linger) as (host, port):
        exchange = await via.request(host, port, {"a": 1}, timeout=0.3)
        with pytest.raises(CallTimeout, match="1 frame"):
            reply_from_exchange(exchange)
    assert exchange.end == "timeout" and exchange.packets == [{"part": 1}] and exchange.leftover == frame[:3]
    assert 0.28 <= exchange.elapsed < 1.5


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("reply", "code", "words"),
    [
        (bytes.fromhex("000000050b007b7d20"), errors.ERR_HEADER_INVALID, "Protocol-Version 11"),
        (Framing().encode({"a": 1})[:-2], None, "inside a frame"),
        (bytes.fromhex("0000000516007b7d7d"), errors.ERR_REQUEST_MALFORMED, "does not parse"),
    ],
)
async def test_a_broken_reply_raises_wire_error_naming_the_address(reply, code, words, via):
    async def answer(reader, writer):
        await reader.read(65536)
        writer.write(reply)
        await writer.drain()

    good = Framing().encode({"first": 1})
    async with scripted_server(answer) as (host, port):
        with pytest.raises(WireError) as caught:
            await via.call(host, port, _call("op", {"a": 1}))
        reply = good + reply  # what ``answer`` sends from now on
        exchange = await via.request(host, port, {"a": 1})
    assert caught.value.code == code and words in str(caught.value) and f"127.0.0.1:{port}" in str(caught.value)
    assert exchange.packets == [{"first": 1}], "the frames before the broken one are kept"
    assert (exchange.error is None) == (words == "inside a frame"), "a cut frame is leftover bytes, not a broken frame"


@pytest.mark.asyncio
async def test_an_address_nobody_listens_on_is_unreachable(via):
    port = free_port()
    with pytest.raises(AsyncAPYUnreachable, match="cannot connect") as caught:
        await via.request("127.0.0.1", port, {"a": 1}, timeout=1)
    assert f"asyncapy://127.0.0.1:{port}: [Errno {errno.ECONNREFUSED}]" in str(caught.value), "the address and the system's reason"
    assert isinstance(caught.value.__cause__, ConnectionRefusedError), "the system's reason stays the cause"


@pytest.mark.asyncio
async def test_a_server_that_answers_before_reading_the_whole_request_resets_it_and_its_answer_is_kept(via, server):
    """Bytes the server never read make its close a reset, which the blocking client meets on its
    send rather than on a read: both clients still keep the answer and call it a reset."""
    host, port, _ = parse_address(server.address)
    data = Framing().frame(b"{" + b"x" * 4_000_000, length=10)  # a 10-byte body whose version byte is wrong
    exchange = await via.send_raw(host, port, data, timeout=5)
    assert exchange.error_codes == [errors.ERR_HEADER_INVALID] and exchange.end == "reset"


@pytest.mark.asyncio
async def test_the_server_closing_mid_send_is_read_not_raised(server):
    """Bytes after the server has answered and closed: what it said is kept."""
    data = bytes.fromhex("000000040b007b7d")  # a body under 5 bytes: answered and closed at once
    exchange = await _client(server).send_raw([data, b"more" * 10, b"and more"], pause=0.3)
    assert exchange.error_codes == [errors.ERR_REQUEST_MALFORMED] and exchange.end == "closed"
    assert exchange.elapsed < 0.3, "the end is the server's close, not our last write"


# -- addresses, the blocking wrapper, recording ----------------------------------------------------------------


def test_addresses_carry_the_framing():
    assert parse_address("asyncapy://127.0.0.1:8081") == ("127.0.0.1", 8081, {})
    assert parse_address("tcp://localhost:1500?header_size=2&byteorder=little&encoding=ziproto") == (
        "localhost", 1500, {"header_size": 2, "byteorder": "little", "encoding": "ziproto"})
    assert parse_address("10.0.0.1:9") == ("10.0.0.1", 9, {})
    framing = Framing(2, "little", encoding="ziproto")
    assert format_address("127.0.0.1", 5, framing) == "asyncapy://127.0.0.1:5?header_size=2&byteorder=little&encoding=ziproto"
    assert format_address("::1", 5) == "asyncapy://[::1]:5"
    assert parse_address(format_address("::1", 5, framing))[2] == {"header_size": 2, "byteorder": "little", "encoding": "ziproto"}
    for bad in ("http://x:1", "asyncapy://x", "asyncapy://x:1?tls=1", "asyncapy://x:1?header_size=3", "", "asyncapy://x:1/path"):
        with pytest.raises(ConfigError):
            parse_address(bad)


def test_the_blocking_client_joins_its_thread_and_refuses_use_after_close():
    before = set(threading.enumerate())
    router = _router()
    stub_server = AsyncAPYStubServer(router, timeout=0.5).start()
    try:
        client = AsyncAPYSyncClient.from_address(stub_server.address, timeout=2)
        assert client.call(_call("echo", {"action": "echo", "text": 1})).body == {"status": "ok", "echo": 1}
        assert client.call_many([_call("multi", {"action": "multi"}), _call("x", {"x": 1})])[1].errors[0].code == errors.CLOSED_WITHOUT_REPLY
        assert client.send_raw(b"", shut_wr=True).silent
        with pytest.raises(CallTimeout):
            client.call(_call("slow", {"action": "slow"}), timeout=0.2)
        client.close()
        client.close()
        with pytest.raises(RuntimeError, match="closed"):
            client.request({"a": 1})
        assert stub_server.client.call(_call("echo", {"action": "echo", "text": 2})).ok
    finally:
        stub_server.stop()
    assert set(threading.enumerate()) <= before


def test_the_blocking_client_starts_a_thread_only_for_a_send_in_pieces():
    """Calls, requests and one-write sends go over a plain socket in the caller's thread; a send in
    several writes runs on the private loop, started then and joined by close()."""
    stub_server = AsyncAPYStubServer(_router(), timeout=0.5).start()
    try:
        before = set(threading.enumerate())
        client = AsyncAPYSyncClient.from_address(stub_server.address, timeout=2)
        assert client.call(_call("echo", {"action": "echo", "text": 1})).body == {"status": "ok", "echo": 1}
        assert client.request({"action": "multi"}).packets == [{"part": 1}, {"part": 2}, {"part": 3}]
        assert client.send_raw(Framing().encode({"action": "echo", "text": 2})).packets == [{"status": "ok", "echo": 2}]
        assert set(threading.enumerate()) == before, "no thread for one write"
        data = Framing().encode({"action": "echo", "text": 3})
        assert client.send_raw([data[:4], data[4:]], pause=0.01).packets == [{"status": "ok", "echo": 3}]
        assert len(set(threading.enumerate()) - before) == 1, "the loop thread, for the send in pieces"
        client.close()
        assert set(threading.enumerate()) == before
    finally:
        stub_server.stop()


def test_the_blocking_client_connects_to_an_address_itself_and_to_a_name_on_its_loop():
    """An IP address is connected to in the caller's thread; a name goes through the asyncio client,
    whose deadline also covers the resolver (getaddrinfo takes no timeout): same reply either way."""
    stub_server = AsyncAPYStubServer(_router(), timeout=0.5).start()
    try:
        port = parse_address(stub_server.address)[1]
        before = set(threading.enumerate())
        for host, threads in (("127.0.0.1", 0), ("localhost", 1)):
            with AsyncAPYSyncClient(host, port, timeout=2) as client:
                assert client.call(_call("echo", {"action": "echo", "text": host})).body == {"status": "ok", "echo": host}
                loops = [t for t in set(threading.enumerate()) - before if t.name.startswith("rpctest-asyncapy-client")]
                assert len(loops) == threads
        assert set(threading.enumerate()) == before
    finally:
        stub_server.stop()


def test_the_blocking_client_times_out_on_a_peer_that_never_answers_and_closes_its_socket():
    """A peer that accepts and never sends: CallTimeout within the deadline, saying so, and the
    client's socket is closed (the peer reads its end of the connection)."""
    with socket.create_server(("127.0.0.1", 0)) as listener, \
            AsyncAPYSyncClient("127.0.0.1", listener.getsockname()[1], timeout=0.3) as client:
        listener.settimeout(5)
        started = time.monotonic()
        with pytest.raises(CallTimeout, match="within 0.3 s.*still open after 0.3 s"):
            client.call(_call("op", {"action": "op"}))
        took = time.monotonic() - started
        peer, _ = listener.accept()
        with peer:
            peer.settimeout(5)
            received = b""
            while chunk := peer.recv(65536):  # b"" only once the client has closed its socket
                received += chunk
        exchange = client.request({"action": "op"}, timeout=0.2)
        listener.accept()[0].close()
    assert 0.29 <= took < 0.3 + 4, "the call's own deadline ends it: a bound, not a speed"
    assert received == Framing().encode({"action": "op"})
    assert exchange.end == "timeout" and exchange.frames == [] and 0.19 <= exchange.elapsed < 4.2


def test_the_blocking_client_says_when_it_cannot_connect_in_time():
    """A listener whose accept queue is full drops the handshake: the connect times out within the
    call's deadline and says so."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
            time.sleep(0.05)
            started = time.monotonic()
            with AsyncAPYSyncClient("127.0.0.1", port, timeout=0.3) as client, \
                    pytest.raises(AsyncAPYUnreachable, match=f"cannot connect to the AsyncAPY server at asyncapy://127.0.0.1:{port} within 0.3 s"):
                client.request({"a": 1})
            took = time.monotonic() - started
        finally:
            for filler in fillers:
                filler.close()
    assert took < 0.3 + 4


def test_record_tells_the_contract_recorders():
    from rpctest.stubs.router import router as default_router

    heard = []
    stop = default_router.add_listener(heard.append)
    stub_server = AsyncAPYStubServer(_router(), timeout=0.5).start()
    try:
        with AsyncAPYSyncClient.from_address(stub_server.address, timeout=2, record=True) as client:
            call = _call("echo", {"action": "echo", "text": "r"})
            reply = client.call(call)
        with AsyncAPYSyncClient.from_address(stub_server.address, timeout=2) as quiet:
            quiet.call(call)
    finally:
        stub_server.stop()
        stop()
    assert [(i.call, i.reply, i.source) for i in heard] == [(call, reply, "client")]


def test_a_call_to_an_endpoint_that_never_answers_ends_within_its_timeout() -> None:
    """A peer that accepts TCP and sends nothing (not a asyncapy server, or a stuck one) never hangs a call."""
    from silent import call_against_silence

    outcome, seconds = call_against_silence("asyncapy", "asyncapy://127.0.0.1:{port}", "op")
    assert type(outcome).__name__ == "CallTimeout", outcome
    assert seconds < 1.0 + 5  # the call's own 1 s timeout, with a wide margin for a loaded machine: a bound, not a speed

