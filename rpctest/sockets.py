"""Client sockets whose every read and write is bounded by the kernel instead of by Python.

rpctest's clients bound every socket call (a peer that accepts TCP and never answers must end the
call, never hang it). A Python socket timeout (``settimeout``) does that by running the socket
non-blocking and calling ``poll()`` before every ``send`` and ``recv``: two system calls, and two
releases of the GIL, where a blocking socket makes one. With a stub server (or the real server) in
the same process, each release is a chance for the other thread to take the GIL, and a round trip
with the Python timeout took about 20% longer in wall time (PySOA's Redis client, interleaved A/B).

Here the socket stays blocking and the kernel bounds it: ``SO_RCVTIMEO`` and ``SO_SNDTIMEO``. A call
the peer leaves waiting past the bound fails with ``EAGAIN``, which :class:`DeadlineSocket` raises as
the ``TimeoutError`` a Python timeout raises. Only on Linux, where ``struct timeval`` is two C longs
(:data:`KERNEL_TIMEOUTS`); elsewhere :class:`DeadlineSocket` sets a Python timeout instead, with the
same deadline. No stack library is imported here: PySOA's redis-py connection class
(:mod:`rpctest.stacks.pysoa.kernel_timeout`) and Kyoukai's plain HTTP client
(:mod:`rpctest.stacks.kyoukai.plain_http`) both bound their sockets with it.
"""

from __future__ import annotations

import socket
import struct
import sys
import time

__all__ = ["KERNEL_TIMEOUTS", "DeadlineSocket", "bound_in_kernel", "timeval"]

#: whether sockets get their bound from the kernel here (else from a Python socket timeout)
KERNEL_TIMEOUTS = sys.platform.startswith("linux") and hasattr(socket, "SO_RCVTIMEO")

#: how far past a request's deadline a call may be bounded before the kernel's bound is set again
#: (setting it is a system call; a thread that other work kept from a core for a few milliseconds
#: between its calls need not pay it)
_SLACK = 0.01


def timeval(seconds: float) -> bytes:
    """``seconds`` as the ``struct timeval`` ``SO_RCVTIMEO``/``SO_SNDTIMEO`` take; never all zero,
    which the kernel reads as no bound at all."""
    whole = int(seconds)
    micro = max(int((seconds - whole) * 1_000_000), 0 if whole else 1)
    return struct.pack("@ll", whole, micro)


def bound_in_kernel(sock: socket.socket, seconds: float) -> None:
    """Bound every ``recv`` and ``send`` of the blocking ``sock`` to ``seconds`` (Linux only)."""
    value = timeval(seconds)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)


class DeadlineSocket:
    """A connected socket whose calls share one deadline per request (:meth:`begin`).

    Each ``recv``/``send`` is bounded by the time left until the deadline: the kernel's bound is the
    whole timeout when the request begins (kept from one request to the next: no system call when
    it is the same), and is set again before a call when less than that is left, by more than
    :data:`_SLACK` (a reply that arrives in several segments, a send the peer is slow to take). So
    the deadline holds, within the slack, however many calls a request makes, and a request of one
    write and one read, the common one, makes no more system calls than on a blocking socket. A call
    that would run past the deadline raises ``TimeoutError``, as a Python socket timeout does.
    """

    __slots__ = ("sock", "_deadline", "_bound")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._deadline = 0.0
        self._bound = -1.0  # the bound the socket has now (-1: none set yet)
        if KERNEL_TIMEOUTS:
            sock.settimeout(None)  # blocking: the kernel bounds each call

    def begin(self, timeout: float) -> None:
        """Start a request that must be done within ``timeout`` seconds."""
        self._deadline = time.monotonic() + timeout
        if self._bound != timeout:
            self._set(timeout)

    def _left(self) -> None:
        """Bound the next call by the time left, when that is less than the bound set."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        if left < self._bound - _SLACK:
            self._set(left)

    def _set(self, seconds: float) -> None:
        if KERNEL_TIMEOUTS:
            bound_in_kernel(self.sock, seconds)
        else:
            self.sock.settimeout(seconds)
        self._bound = seconds

    def recv(self, size: int) -> bytes:
        self._left()
        try:
            return self.sock.recv(size)
        except BlockingIOError:  # EAGAIN: the kernel's bound ran out
            raise TimeoutError("timed out") from None

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while True:
            self._left()
            try:
                sent = self.sock.send(view)
            except BlockingIOError:
                raise TimeoutError("timed out") from None
            if sent == len(view):
                return
            view = view[sent:]

    def fileno(self) -> int:
        """The socket's descriptor (``select`` takes this object as it takes the socket)."""
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()
