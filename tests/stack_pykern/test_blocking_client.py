"""The blocking pykern.api client's own WebSocket handling, against a hand-scripted server on a real
socket: what pykern's server never sends (a reply in continuation frames, a ping mid-call, a close
instead of a reply, a masked frame) and a server that never answers. The client against pykern's
real server and rpctest's stub server is tested in test_wire_client.py and tests/interop_pykern."""

from __future__ import annotations

import threading
import time

import pytest
from stack_pykern.ws_script import Peer, scripted_server

from rpctest.exceptions import CallTimeout
from rpctest.model import ErrorKind
from rpctest.stacks.pykern import wire
from rpctest.stacks.pykern.client import DISCONNECTED
from rpctest.stacks.pykern.sync_client import PykernSyncClient

CLOSE, PING, PONG, BINARY, CONTINUATION = 0x8, 0x9, 0xA, 0x2, 0x0


def _call_of(peer: Peer) -> wire.Message:
    opcode, payload = peer.recv_frame()
    assert opcode == BINARY
    return wire.decode(payload, "server")


def _answer_close(peer: Peer) -> None:
    """Read the client's close frame and echo its code (the closing handshake)."""
    opcode, payload = peer.recv_frame()
    assert opcode == CLOSE, (opcode, payload)
    peer.send_frame(CLOSE, payload[:2])


def test_a_websocket_that_never_answers_times_out_at_the_call_deadline_and_leaks_nothing() -> None:
    def script(peer: Peer) -> None:
        assert _call_of(peer).get("api_name") == "echo"
        _answer_close(peer)  # no reply to the call, ever

    before = threading.active_count()
    with scripted_server(script) as (address, errors):
        client = PykernSyncClient(address, authenticate=False, timeout=30)
        started = time.monotonic()
        with pytest.raises(CallTimeout, match=r"'echo' at ws://127\.0\.0\.1:\d+/api within 0\.2 s \(call 1"):
            client.call("echo", {"x": 1}, timeout=0.2)
        waited = time.monotonic() - started
        assert client.connected, "a timed-out call leaves the connection open"
        client.close()
        assert not client.connected
    assert errors == []
    assert waited < 10, "the call's own 0.2 s deadline ended the wait, not the client's 30 s default"
    assert threading.active_count() == before, "the blocking client runs no thread"


def test_a_handshake_never_answered_is_a_call_timeout_from_the_constructor() -> None:
    def script(peer: Peer) -> None:
        assert _call_of(peer).get("api_name") == wire.AUTH_API_NAME
        with pytest.raises(EOFError):
            peer.recv_frame()  # the client gave up and dropped the socket

    with scripted_server(script) as (address, errors):
        with pytest.raises(CallTimeout, match="authenticate_connection"):
            PykernSyncClient(address, timeout=0.3)
    assert errors == []


def test_a_reply_split_across_continuation_frames_with_a_ping_between_them() -> None:
    def script(peer: Peer) -> None:
        call = _call_of(peer)
        data = wire.encode_reply(call.call_id, {"text": "x" * 300, "n": 7})
        third = len(data) // 3
        peer.send_frame(BINARY, data[:third], final=False)
        peer.send_frame(PING, b"mid-message")  # control frames may come between fragments
        assert peer.recv_frame() == (PONG, b"mid-message")
        peer.send_frame(CONTINUATION, data[third:2 * third], final=False)
        peer.send_frame(CONTINUATION, data[2 * third:])
        _answer_close(peer)

    with scripted_server(script) as (address, errors):
        with PykernSyncClient(address, authenticate=False, timeout=5) as client:
            reply = client.call("echo", {})
    assert errors == []
    assert reply.ok and reply.body == {"text": "x" * 300, "n": 7}


def test_a_ping_is_answered_with_its_payload_while_a_call_waits() -> None:
    def script(peer: Peer) -> None:
        call = _call_of(peer)
        peer.send_frame(PING, b"\x00ping\xff")
        assert peer.recv_frame() == (PONG, b"\x00ping\xff"), "no pong: the reply would never be sent"
        peer.send_frame(BINARY, wire.encode_reply(call.call_id, {"pong": True}))
        _answer_close(peer)

    with scripted_server(script) as (address, errors):
        with PykernSyncClient(address, authenticate=False, timeout=5) as client:
            reply = client.call("echo", {})
    assert errors == [] and reply.body == {"pong": True}


def test_a_server_close_mid_call_is_an_api_disconnected_reply_and_the_close_is_echoed() -> None:
    echoed: list[tuple[int, bytes]] = []

    def script(peer: Peer) -> None:
        _call_of(peer)
        peer.send_frame(CLOSE, (1001).to_bytes(2, "big") + b"going away")
        echoed.append(peer.recv_frame())

    with scripted_server(script) as (address, errors):
        with PykernSyncClient(address, authenticate=False, timeout=5) as client:
            reply = client.call("echo", {})
            later = client.call("echo", {})
            assert not client.connected
    assert errors == []
    assert echoed == [(CLOSE, (1001).to_bytes(2, "big"))]
    error = reply.errors[0]
    assert (error.code, error.kind) == (DISCONNECTED, ErrorKind.TRANSPORT)
    assert "the server closed the connection" in error.message and "close code 1001" in error.message
    assert later.errors[0].code == DISCONNECTED, "a call after the close fails at once, it does not wait"


def test_a_dropped_tcp_connection_mid_call_is_an_api_disconnected_reply() -> None:
    def script(peer: Peer) -> None:
        _call_of(peer)
        peer.sock.close()  # no close frame at all

    with scripted_server(script) as (address, errors):
        with PykernSyncClient(address, authenticate=False, timeout=5) as client:
            reply = client.call("echo", {})
    assert errors == []
    assert reply.errors[0].code == DISCONNECTED and "server closed the connection" in reply.errors[0].message


def test_a_masked_frame_from_the_server_ends_the_connection_with_a_protocol_close() -> None:
    got: list[tuple[int, bytes]] = []

    def script(peer: Peer) -> None:
        call = _call_of(peer)
        data = wire.encode_reply(call.call_id, {})
        peer.sock.sendall(bytes((0x82, 0x80 | len(data))) + b"\x00\x00\x00\x00" + data)  # masked: servers must not
        got.append(peer.recv_frame())

    with scripted_server(script) as (address, errors):
        with PykernSyncClient(address, authenticate=False, timeout=5) as client:
            reply = client.call("echo", {})
    assert errors == []
    assert got == [(CLOSE, (1002).to_bytes(2, "big"))]
    assert reply.errors[0].code == DISCONNECTED and "masked frame" in reply.errors[0].message


def test_a_deadline_already_past_is_a_call_timeout_and_the_connection_stays_usable() -> None:
    from stack_pykern.pkwire_helpers import vector_router

    from rpctest.stacks.pykern.stub_server import serve_stubs

    with serve_stubs(vector_router()) as server, PykernSyncClient(server.address, timeout=5) as client:
        with pytest.raises(CallTimeout, match="within 0 s"):
            client.call("echo", {"a": 1}, timeout=0)
        assert client.connected
        assert client.call("echo", {"b": 2}).body == {"b": 2, "counter": 1}, "nothing was sent past the deadline"
