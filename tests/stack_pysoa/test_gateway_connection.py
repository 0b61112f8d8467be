"""The Redis side of the PySOA wire half (GatewayConnection): the client's connections are bounded by the
kernel (SO_RCVTIMEO/SO_SNDTIMEO on a blocking socket) and still end every read and write that a peer
leaves waiting, with redis-py's own errors; the queue operations run on a connection per thread."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from rpctest import redis_backend
from rpctest.stacks.pysoa import kernel_timeout
from rpctest.stacks.pysoa.redis_client import GatewayConnection, _command
from silent import silent_endpoint

linux_only = pytest.mark.skipif(not kernel_timeout.KERNEL_TIMEOUTS, reason="kernel socket bounds are used on Linux only")


@linux_only
def test_a_read_the_peer_never_answers_ends_with_redis_pys_timeout_error() -> None:
    with silent_endpoint() as port:
        client = kernel_timeout.bounded_client(redis_backend.real(f"redis://127.0.0.1:{port}/0"), 0.5)
        started = time.monotonic()
        try:
            with pytest.raises(redis.exceptions.TimeoutError, match="Timeout reading from socket"):
                client.get("k")
        finally:
            client.connection_pool.disconnect()
        assert time.monotonic() - started < 5  # the bound ended it (without one, get() waits forever)


@linux_only
def test_a_write_the_peer_never_reads_ends_with_redis_pys_timeout_error() -> None:
    with silent_endpoint() as port:
        client = kernel_timeout.bounded_client(redis_backend.real(f"redis://127.0.0.1:{port}/0"), 0.5)
        try:
            with pytest.raises(redis.exceptions.TimeoutError, match="Timeout writing to socket"):
                client.set("k", b"x" * (64 * 1024 * 1024))  # more than the socket buffers hold
        finally:
            client.connection_pool.disconnect()


@linux_only
def test_the_gateway_of_a_client_uses_blocking_sockets_bounded_by_the_kernel(rpctest_redis: redis_backend.RedisTarget) -> None:
    """One system call per send and per receive (a Python socket timeout polls before each), and the
    commands still work."""
    connection = GatewayConnection(rpctest_redis, socket_timeout=3.0)
    try:
        connection.push("rpctest-kernel-timeout-test", [b"frame"], 10)
        assert connection.pop(["rpctest-kernel-timeout-test"], time.monotonic() + 1) == ("rpctest-kernel-timeout-test", b"frame")
        sock = connection._held().connection._sock  # the connection this thread's queue operations hold
        assert sock.gettimeout() is None
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.calcsize("@ll")) == struct.pack("@ll", 3, 0)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.calcsize("@ll")) == struct.pack("@ll", 3, 0)
    finally:
        connection.close()


def test_threads_sharing_a_gateway_each_hold_their_own_connection(rpctest_redis: redis_backend.RedisTarget) -> None:
    """The queue operations run on a connection per thread: threads pushing and blocking on their own
    lists at once get their own elements back, and close() releases every thread's connection."""
    import threading

    connection = GatewayConnection(rpctest_redis, socket_timeout=3.0)
    results: dict[int, list[bytes]] = {}

    def work(number: int) -> None:
        key = f"rpctest-held-{number}"
        got = []
        for index in range(100):
            connection.push(key, [b"%d:%d" % (number, index)], 10)
            popped = connection.pop([key], time.monotonic() + 2)
            assert popped is not None
            got.append(popped[1])
        results[number] = got

    threads = [threading.Thread(target=work, args=(number,)) for number in range(3)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert results == {number: [b"%d:%d" % (number, index) for index in range(100)] for number in range(3)}
    finally:
        connection.close()
    pool = connection.redis.connection_pool
    made = [*pool._available_connections, *pool._in_use_connections]
    assert made and all(conn._sock is None for conn in made)


@contextlib.contextmanager
def _peer_answering(target: redis_backend.RedisTarget, request_key: str, reply_key: str) -> Iterator[None]:
    """A peer that takes one request off ``request_key`` and pushes ``b"re:" + request`` onto ``reply_key``."""

    def serve() -> None:
        peer = target.client()
        try:
            popped = peer.blpop([request_key], timeout=5)
            if popped is not None:
                peer.rpush(reply_key, b"re:" + popped[1])
        finally:
            peer.connection_pool.disconnect()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield
    finally:
        thread.join(5)


def test_push_and_pop_sends_the_request_and_returns_the_reply(rpctest_redis: redis_backend.RedisTarget) -> None:
    connection = GatewayConnection(rpctest_redis, socket_timeout=3.0)
    try:
        with _peer_answering(rpctest_redis, "rpctest-pp-req", "rpctest-pp-reply"):
            popped = connection.push_and_pop("rpctest-pp-req", [b"frame"], 10, ["rpctest-pp-reply"], time.monotonic() + 3)
        assert popped == ("rpctest-pp-reply", b"re:frame")
        assert connection.push_and_pop("rpctest-pp-req2", [b"x"], 10, ["rpctest-pp-none"], time.monotonic() + 0.2) is None
        assert rpctest_redis.client().lrange("rpctest-pp-req2", 0, -1) == [b"x"]
    finally:
        connection.close()


def test_push_and_pop_retries_a_push_refused_at_capacity_and_still_gets_the_reply(rpctest_redis: redis_backend.RedisTarget) -> None:
    """A refused push (PySOA's queue full) leaves the BLPOP sent behind it waiting for a reply to
    nothing: the push is retried as push() retries it, and the reply to the pushed request comes back."""
    connection = GatewayConnection(rpctest_redis, queue_capacity=1, socket_timeout=3.0)
    other = rpctest_redis.client()
    other.delete("rpctest-full-req", "rpctest-full-reply")
    other.rpush("rpctest-full-req", b"queued before")
    drained = threading.Timer(0.1, lambda: other.lpop("rpctest-full-req"))
    drained.start()
    try:
        drained.join()
        with _peer_answering(rpctest_redis, "rpctest-full-req", "rpctest-full-reply"):
            popped = connection.push_and_pop("rpctest-full-req", [b"mine"], 10, ["rpctest-full-reply"], time.monotonic() + 4)
        assert popped == ("rpctest-full-reply", b"re:mine")
    finally:
        other.connection_pool.disconnect()
        connection.close()


def test_push_and_pop_loads_the_script_again_after_redis_forgot_it(rpctest_redis: redis_backend.RedisTarget) -> None:
    connection = GatewayConnection(rpctest_redis, socket_timeout=3.0)
    other = rpctest_redis.client()
    try:
        connection.push("rpctest-flush-warm", [b"a"], 10)  # the script is known to Redis...
        other.script_flush()  # ...and then it is not: EVALSHA is refused with NOSCRIPT
        with _peer_answering(rpctest_redis, "rpctest-flush-req", "rpctest-flush-reply"):
            popped = connection.push_and_pop("rpctest-flush-req", [b"b"], 10, ["rpctest-flush-reply"], time.monotonic() + 3)
        assert popped == ("rpctest-flush-reply", b"re:b")
    finally:
        other.delete("rpctest-flush-warm")
        other.connection_pool.disconnect()
        connection.close()


def test_a_servers_refused_push_loses_no_request_its_wait_took(rpctest_redis: redis_backend.RedisTarget) -> None:
    """A server's push refused at capacity: the BLPOP sent behind it is woken, what it took (the next
    request) goes back to the head of its list, the push is retried, and the request is then popped."""
    connection = GatewayConnection(rpctest_redis, queue_capacity=1)  # a server's: no socket bound
    other = rpctest_redis.client()
    other.delete("rpctest-srv-reply", "rpctest-srv-req", "rpctest-srv-wake")
    other.rpush("rpctest-srv-reply", b"unread reply")  # the reply queue is at its capacity of 1
    other.rpush("rpctest-srv-req", b"request 1", b"request 2")
    drained = threading.Timer(0.1, lambda: other.lpop("rpctest-srv-reply"))
    drained.start()
    try:
        popped = connection.push_and_pop(
            "rpctest-srv-reply", [b"my reply"], 10, ["rpctest-srv-req", "rpctest-srv-wake"], time.monotonic() + 2,
            wake=lambda: other.rpush("rpctest-srv-wake", b"wake"),
        )
        drained.join()
        assert popped == ("rpctest-srv-req", b"request 1")
        assert other.lrange("rpctest-srv-req", 0, -1) == [b"request 2"]
        assert other.lrange("rpctest-srv-reply", 0, -1) == [b"my reply"]
    finally:
        other.delete("rpctest-srv-reply", "rpctest-srv-req", "rpctest-srv-wake")
        other.connection_pool.disconnect()
        connection.close()


@settings(max_examples=200, database=None)
@given(st.lists(st.one_of(st.text(), st.binary(), st.integers(), st.floats(allow_nan=False, allow_infinity=False)), min_size=1, max_size=8))
def test_commands_are_packed_as_redis_py_packs_them(args: list[Any]) -> None:
    """The pipelined push and wait are packed by rpctest: the same bytes as redis-py's packer."""
    assert _command("EVALSHA", *args) == b"".join(redis.Connection().pack_command("EVALSHA", *args))
