"""A redis-py client whose every read and write is bounded by the kernel instead of by Python.

rpctest's PySOA wire client bounds every Redis command (a peer that accepts TCP and never answers
must end the call, never hang it). redis-py's ``socket_timeout`` does that with a Python socket
timeout, and CPython runs such a socket non-blocking and calls ``poll()`` before every ``send`` and
``recv``: two system calls, and two releases of the GIL, where a blocking socket makes one. With the
stub server (or the real server) in the same process, each release hands the GIL to the other
thread, so a round trip with the Python timeout took about 20% longer in wall time than with a
blocking socket (interleaved A/B, 9 x 1000 calls).

Here the socket stays blocking and the kernel bounds it (:mod:`rpctest.sockets`, shared with the
Kyoukai client): ``SO_RCVTIMEO`` and ``SO_SNDTIMEO``. A read
or write the peer leaves waiting past the bound fails with ``EAGAIN``; this connection turns that
into redis-py's own ``TimeoutError`` with the message its Python timeout gives ("Timeout reading from
socket", "Timeout writing to socket"), so callers see what they saw before. Connecting keeps
redis-py's ``socket_connect_timeout``. Only on Linux, where ``struct timeval`` is two C longs; other
systems keep redis-py's ``socket_timeout``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from rpctest.sockets import KERNEL_TIMEOUTS, bound_in_kernel

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.redis_backend import RedisTarget

__all__ = ["KERNEL_TIMEOUTS", "bounded_client"]


def bounded_client(target: RedisTarget, timeout: float) -> Any:
    """A redis-py client of ``target`` whose connect, reads and writes each give up after ``timeout`` s."""
    if not KERNEL_TIMEOUTS:
        return target.client(socket_timeout=timeout, socket_connect_timeout=timeout)
    client = target.client(socket_connect_timeout=timeout)
    pool = client.connection_pool  # fresh: no connection made yet, so every one is of this class
    pool.connection_class = _connection_class()
    pool.connection_kwargs["kernel_timeout"] = timeout
    return client


def _timed_out(exc: BaseException) -> bool:
    """Whether redis-py's error comes from a socket call the kernel bound ended (EAGAIN)."""
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, BlockingIOError)


@functools.cache
def _connection_class() -> type:
    """redis-py's ``Connection`` with the kernel's bound (made on first use: redis-py is optional)."""
    import redis

    class KernelBoundConnection(redis.Connection):  # type: ignore[misc]
        """A blocking socket with ``SO_RCVTIMEO``/``SO_SNDTIMEO``; EAGAIN is redis-py's TimeoutError."""

        def __init__(self, *args: Any, kernel_timeout: float, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._kernel_timeout = kernel_timeout

        def _connect(self) -> Any:
            sock = super()._connect()
            bound_in_kernel(sock, self._kernel_timeout)
            return sock

        def read_response(self, *args: Any, **kwargs: Any) -> Any:
            return self._bounded(super().read_response, "Timeout reading from socket", *args, **kwargs)

        def send_packed_command(self, *args: Any, **kwargs: Any) -> Any:
            return self._bounded(super().send_packed_command, "Timeout writing to socket", *args, **kwargs)

        def _bounded(self, method: Any, message: str, *args: Any, **kwargs: Any) -> Any:
            """``method``, with the kernel's EAGAIN turned into the TimeoutError redis-py's own timeout raises."""
            try:
                return method(*args, **kwargs)
            except redis.exceptions.ConnectionError as exc:
                if not _timed_out(exc):
                    raise
                self.disconnect()
                raise redis.exceptions.TimeoutError(message) from exc

    return KernelBoundConnection
