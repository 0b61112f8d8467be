"""The Redis side of the PySOA wire half (GatewayConnection): the client's connections are bounded by the
kernel (SO_RCVTIMEO/SO_SNDTIMEO on a blocking socket) and still end every read and write that a peer
leaves waiting, with redis-py's own errors; the queue operations run on a connection per thread."""

from __future__ import annotations

import socket
import struct
import time

import pytest
import redis

from rpctest import redis_backend
from rpctest.stacks.pysoa import kernel_timeout
from rpctest.stacks.pysoa.redis_client import GatewayConnection
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
