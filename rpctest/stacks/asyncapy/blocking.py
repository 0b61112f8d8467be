"""One AsyncAProto connection over a plain blocking socket: the blocking client's own path.

Why not the asyncio client on a loop thread: a request is one connection, one write and a read until
the server closes, which a blocking socket does with a handful of system calls. Hopping into a loop
thread for it (``run_coroutine_threadsafe``, asyncio's ``create_connection``, a ``Protocol``, futures
and a second thread taking its turn on the GIL) cost more than the exchange itself. The asyncio client
keeps what only it can do: several writes with pauses while reading (``send_raw`` in pieces), and
connecting to a host *name* within the deadline (the resolver takes no timeout; asyncio runs it in
an executor it can stop waiting for).

The rules are the asyncio client's (:class:`~.client._Peer`): one overall deadline that every
``connect``, ``send`` and ``recv`` gets the rest of; the connection's end is ``"closed"`` (FIN),
``"reset"`` (a reset, met by a read or by the send: a server that answers and closes before reading
the whole request resets it, and its answer is kept) or ``"timeout"`` (still open at the deadline);
TCP_NODELAY as asyncio sets it. This module only moves bytes: :mod:`.client` builds the
:class:`~.client.Exchange` and the errors from them, for both paths alike.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Literal

__all__ = ["Address", "End", "Received", "literal_address", "connect", "exchange"]

#: how a connection ended (see :mod:`.client`)
End = Literal["closed", "timeout", "reset"]
#: an IP address to connect to: its family and socket address
Address = tuple[socket.AddressFamily, tuple[str, int]]

_RECV_SIZE = 65536


@dataclass(frozen=True)
class Received:
    """What one connection brought back: its bytes, how it ended, when (monotonic), why a send stopped."""

    data: bytes
    end: End
    ended_at: float
    send_error: str | None


def literal_address(host: str, port: int) -> Address | None:
    """``(family, socket address)`` when ``host`` is an IP address, else None. Only an address is
    connected to here: resolving a name can take longer than any deadline (``getaddrinfo`` takes no
    timeout), so a name is left to the asyncio client, whose deadline covers its resolver."""
    if "%" in host:  # a scoped IPv6 address: only the resolver knows its scope id
        return None
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        return None
    return (socket.AF_INET6 if version == 6 else socket.AF_INET), (host, port)


def connect(address: Address, deadline: float) -> socket.socket:
    """A TCP connection to ``address`` (:func:`literal_address`) opened before ``deadline``
    (``time.monotonic()``); OSError (TimeoutError when the deadline passed) if not."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the deadline passed before connecting")
    sock = socket.socket(address[0], socket.SOCK_STREAM)
    try:
        sock.settimeout(remaining)
        sock.connect(address[1])
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def exchange(sock: socket.socket, data: bytes, shut_wr: bool, deadline: float) -> Received:
    """Send ``data`` in one write (nothing if empty), half-close if ``shut_wr``, then read until the
    server ends the connection or ``deadline`` passes. The caller closes ``sock``."""
    send_error: str | None = None
    reset = False  # the send met the reset: the kernel reports it once, so the reads will not
    if data:
        try:
            sock.settimeout(_remaining(deadline))
            sock.sendall(data)
        except TimeoutError:
            send_error = "the deadline passed while sending"
        except OSError:  # ECONNRESET, or EPIPE after one: what the server said is still to be read
            send_error, reset = "the connection was reset before every byte was sent", True
    if shut_wr and send_error is None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
    received = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Received(bytes(received), "timeout", time.monotonic(), send_error)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(_RECV_SIZE)
        except TimeoutError:
            continue  # the loop's check says timeout (a recv may wake a hair early)
        except OSError:  # an error without a FIN first: a reset
            return Received(bytes(received), "reset", time.monotonic(), send_error)
        if not chunk:
            return Received(bytes(received), "reset" if reset else "closed", time.monotonic(), send_error)
        received += chunk


def _remaining(deadline: float) -> float:
    """Seconds left before ``deadline``, at least a sliver (a socket timeout of 0 means non-blocking)."""
    return max(deadline - time.monotonic(), 1e-6)
