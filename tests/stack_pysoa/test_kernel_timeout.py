"""The wire client's Redis connections are bounded by the kernel (SO_RCVTIMEO/SO_SNDTIMEO on a blocking
socket) and still end every read and write that a peer leaves waiting, with redis-py's own errors."""

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

pytestmark = pytest.mark.skipif(not kernel_timeout.KERNEL_TIMEOUTS, reason="kernel socket bounds are used on Linux only")


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


def test_a_write_the_peer_never_reads_ends_with_redis_pys_timeout_error() -> None:
    with silent_endpoint() as port:
        client = kernel_timeout.bounded_client(redis_backend.real(f"redis://127.0.0.1:{port}/0"), 0.5)
        try:
            with pytest.raises(redis.exceptions.TimeoutError, match="Timeout writing to socket"):
                client.set("k", b"x" * (64 * 1024 * 1024))  # more than the socket buffers hold
        finally:
            client.connection_pool.disconnect()


def test_the_gateway_of_a_client_uses_blocking_sockets_bounded_by_the_kernel(rpctest_redis: redis_backend.RedisTarget) -> None:
    """One system call per send and per receive (a Python socket timeout polls before each), and the
    commands still work."""
    connection = GatewayConnection(rpctest_redis, socket_timeout=3.0)
    try:
        connection.push("rpctest-kernel-timeout-test", [b"frame"], 10)
        assert connection.pop(["rpctest-kernel-timeout-test"], time.monotonic() + 1) == ("rpctest-kernel-timeout-test", b"frame")
        sock = connection.redis.connection_pool._available_connections[0]._sock
        assert sock.gettimeout() is None
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.calcsize("@ll")) == struct.pack("@ll", 3, 0)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.calcsize("@ll")) == struct.pack("@ll", 3, 0)
    finally:
        connection.close()
