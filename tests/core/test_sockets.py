"""rpctest.sockets: client sockets bounded by the kernel (or, where it cannot, by Python) still end
every read and write a peer leaves waiting, as Python's own timeout does (``TimeoutError``), and the
deadline holds for a whole request however many reads it takes."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Iterator

import pytest

from rpctest import sockets
from rpctest.sockets import DeadlineSocket, timeval


@pytest.fixture(params=["kernel", "python"])
def pair(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DeadlineSocket, socket.socket]]:
    """A bounded client end and its peer, bounded by the kernel (where it can be) and by Python."""
    if request.param == "kernel" and not sockets.KERNEL_TIMEOUTS:
        pytest.skip("kernel socket bounds are used on Linux only")
    monkeypatch.setattr(sockets, "KERNEL_TIMEOUTS", request.param == "kernel")
    ours, peer = socket.socketpair()
    client = DeadlineSocket(ours)
    if request.param == "kernel":
        assert client.sock.gettimeout() is None  # blocking: the kernel bounds each call
    with peer:
        try:
            yield client, peer
        finally:
            client.close()


def test_a_timeval_is_never_all_zero_which_the_kernel_reads_as_no_bound() -> None:
    assert struct.unpack("@ll", timeval(1.5)) == (1, 500000)
    assert struct.unpack("@ll", timeval(1e-9)) == (0, 1)
    assert struct.unpack("@ll", timeval(2.0)) == (2, 0)


def test_a_read_the_peer_never_answers_ends_with_timeout_error(pair: tuple[DeadlineSocket, socket.socket]) -> None:
    client, _peer = pair
    client.begin(0.1)
    with pytest.raises(TimeoutError):
        client.recv(100)


def test_the_deadline_holds_for_a_reply_arriving_a_byte_at_a_time(pair: tuple[DeadlineSocket, socket.socket]) -> None:
    client, peer = pair
    stop = threading.Event()

    def dribble() -> None:
        for _ in range(100):  # a byte each 0.03 s: 3 s in all, each byte well within the timeout
            if stop.wait(0.03):
                return
            peer.send(b"x")

    thread = threading.Thread(target=dribble)
    thread.start()
    received = b""
    try:
        client.begin(0.3)
        with pytest.raises(TimeoutError):
            while len(received) < 100:
                received += client.recv(100)
    finally:
        stop.set()
        thread.join(5)
    assert 0 < len(received) < 100


def test_a_write_the_peer_never_reads_ends_with_timeout_error(pair: tuple[DeadlineSocket, socket.socket]) -> None:
    client, _peer = pair
    client.begin(0.1)
    with pytest.raises(TimeoutError):
        client.sendall(b"x" * (64 * 1024 * 1024))


def test_a_request_within_the_deadline_reads_and_writes_as_a_socket_does(pair: tuple[DeadlineSocket, socket.socket]) -> None:
    client, peer = pair
    client.begin(5)
    client.sendall(b"ping")
    assert peer.recv(100) == b"ping"
    peer.sendall(b"pong")
    assert client.recv(100) == b"pong"
    peer.close()
    client.begin(5)
    assert client.recv(100) == b""
