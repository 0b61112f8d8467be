"""A WebSocket client (RFC 6455) on one blocking socket, for rpctest's blocking pykern.api client.

Why not tornado's client here: a blocking caller of an asyncio client hands every call to the
loop's thread and waits for it to hand the reply back, and on a busy machine those two thread
hand-offs (each a wait for the GIL) were most of a round trip. A test calling a server over a
socket needs none of that: it sends a frame and reads the answer on its own thread.

What it does, and nothing more: the opening handshake (``Sec-WebSocket-Accept`` checked), masked
frames out, frames in (continuations joined into one message, pings answered with a pong, pongs
ignored), the closing handshake both ways, and a deadline on every read and write. A frame a
client must refuse (masked, reserved bits, an unknown opcode, a control frame over 125 bytes or
fragmented, a continuation that continues nothing, a message over ``max_message_size``, text that
is not UTF-8) ends the connection, as tornado's client ends it; :attr:`BlockingWebSocket.problem`
says why. No extensions are offered (pykern's client offers none either).
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import ssl
import time
from urllib.parse import urlsplit

__all__ = ["BlockingWebSocket", "WebSocketRefused", "mask"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEAD = 65536
_READ = 65536
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_NORMAL_CLOSE = 1000
#: how long a pong or a close frame may take to write
_CONTROL_WAIT = 1.0


class WebSocketRefused(ConnectionError):
    """The server did not accept the WebSocket (not a 101, or a wrong ``Sec-WebSocket-Accept``)."""


def mask(key: bytes, data: bytes) -> bytes:
    """``data`` XOR the 4-byte ``key`` repeated (RFC 6455 5.3), as one big-integer XOR in C."""
    size = len(data)
    if not size:
        return b""
    keys = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "little") ^ int.from_bytes(keys, "little")).to_bytes(size, "little")


def _header(opcode: int, size: int) -> bytes:
    """A final frame's header with the mask bit set (every client frame is masked)."""
    if size < 126:
        return bytes((0x80 | opcode, 0x80 | size))
    if size < 1 << 16:
        return bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    return bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")


class BlockingWebSocket:
    """One client WebSocket; build it with :meth:`open`. Not for use by two threads at once."""

    def __init__(self, sock: socket.socket, *, max_message_size: int, buffered: bytes = b"") -> None:
        self._sock = sock
        self.max_message_size = max_message_size
        self._buffer = bytearray(buffered)
        self._fragments: list[bytes] = []
        self._fragment_opcode: int | None = None
        self._fragment_size = 0
        self._close_sent = False
        #: True once the connection is over (a close frame, EOF, a reset or a refused frame)
        self.closed = False
        #: the close code the server sent, if it sent one
        self.close_code: int | None = None
        #: why this client ended the connection itself (a frame it had to refuse), else None
        self.problem: str | None = None

    # -- opening ---------------------------------------------------------------------------------------

    @classmethod
    def open(cls, address: str, timeout: float, *, max_message_size: int = int(2e8)) -> "BlockingWebSocket":
        """Connect to ``ws://`` or ``wss://`` ``address`` and run the opening handshake within ``timeout``.

        OSError (refused, unreachable, ``TimeoutError``) or :class:`WebSocketRefused`; the socket is
        closed on any failure.
        """
        parts = urlsplit(address)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        deadline = time.monotonic() + timeout
        sock = socket.create_connection((host, port), timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if parts.scheme == "wss":
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            key = base64.b64encode(os.urandom(16))
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            request = (
                f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
            _settimeout(sock, deadline)
            sock.sendall(request)
            head, rest = _read_head(sock, deadline)
            _check_accept(head, key)
        except BaseException:
            sock.close()
            raise
        return cls(sock, max_message_size=max_message_size, buffered=rest)

    # -- sending -------------------------------------------------------------------------------------------

    def send(self, payload: bytes | str, deadline: float) -> bool:
        """Send one message (bytes: binary, str: text) by ``deadline``; False if the connection is gone.

        ``TimeoutError`` if the deadline has passed (nothing is sent; the connection stays usable)
        or passes in the middle of the write (the peer does not read: the connection is dropped,
        since a frame cut short cannot be finished later)."""
        if self.closed or self._close_sent:
            return False
        if isinstance(payload, str):
            return self._send_frame(_TEXT, payload.encode(), deadline)
        return self._send_frame(_BINARY, bytes(payload), deadline)

    def _send_frame(self, opcode: int, payload: bytes, deadline: float) -> bool:
        key = os.urandom(4)
        frame = _header(opcode, len(payload)) + key + mask(key, payload)
        _settimeout(self._sock, deadline)  # TimeoutError before anything is written
        try:
            self._sock.sendall(frame)
        except TimeoutError:
            self.problem = "a write did not finish by its deadline (the server does not read)"
            self._drop()
            raise
        except OSError:  # a reset: the connection is no use any more
            self._drop()
            return False
        return True

    def _send_control(self, opcode: int, payload: bytes) -> None:
        """A pong or a close frame, on a deadline of its own (the caller's may have passed)."""
        try:
            self._send_frame(opcode, payload, time.monotonic() + _CONTROL_WAIT)
        except TimeoutError:
            pass  # dropped: the next read sees the connection closed

    # -- receiving -----------------------------------------------------------------------------------------

    def receive(self, deadline: float) -> bytes | str | None:
        """The next message (bytes or str), or None once the connection is closed.

        ``TimeoutError`` if no whole message arrives by ``deadline``; what did arrive stays buffered
        for the next call, so a timeout never loses or splits a message.
        """
        while True:
            if self.closed:
                return None
            frame = self._frame()
            if frame is None:
                if not self.closed:  # not a refused frame: wait for more bytes
                    self._fill(deadline)
                continue
            message = self._message(*frame)
            if message is not None:
                return message

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no WebSocket message within the deadline")
        self._sock.settimeout(remaining)
        try:
            chunk = self._sock.recv(_READ)
        except TimeoutError:
            raise
        except OSError:
            chunk = b""
        if not chunk:
            self._drop()
            return
        self._buffer += chunk

    def _frame(self) -> tuple[int, bytes] | None:
        """(first byte, payload) of the first whole frame in the buffer, removed from it; None if incomplete."""
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        size, start = second & 0x7F, 2
        if size == 126:
            if len(buffer) < 4:
                return None
            size, start = int.from_bytes(buffer[2:4], "big"), 4
        elif size == 127:
            if len(buffer) < 10:
                return None
            size, start = int.from_bytes(buffer[2:10], "big"), 10
        if second & 0x80:
            self._refuse("the server sent a masked frame")
            return None
        if size > self.max_message_size:
            self._refuse(f"a frame of {size} bytes is over the limit of {self.max_message_size}", 1009)
            return None
        end = start + size
        if len(buffer) < end:
            return None
        payload = bytes(buffer[start:end])
        del buffer[:end]
        return first, payload

    def _message(self, first: int, payload: bytes) -> bytes | str | None:
        """The message a frame completes, if it completes one; control frames are handled here."""
        opcode, final = first & 0x0F, bool(first & 0x80)
        if first & 0x70:
            self._refuse("a frame with reserved bits set (no extension was negotiated)")
            return None
        if opcode >= _CLOSE:
            if not final or len(payload) > 125:
                self._refuse("a fragmented or oversized control frame")
            elif opcode == _CLOSE:
                self._closed_by_server(payload)
            elif opcode == _PING:
                self._send_control(_PONG, payload)
            elif opcode != _PONG:
                self._refuse(f"an unknown control opcode {opcode:#x}")
            return None
        if opcode == _CONTINUATION:
            if self._fragment_opcode is None:
                self._refuse("a continuation frame that continues no message")
                return None
        elif opcode in (_TEXT, _BINARY):
            if self._fragment_opcode is not None:
                self._refuse("a new message before the previous one's last fragment")
                return None
            self._fragment_opcode = opcode
        else:
            self._refuse(f"an unknown opcode {opcode:#x}")
            return None
        self._fragments.append(payload)
        self._fragment_size += len(payload)
        if self._fragment_size > self.max_message_size:
            self._refuse(f"a message over the limit of {self.max_message_size} bytes", 1009)
            return None
        if not final:
            return None
        kind, data = self._fragment_opcode, b"".join(self._fragments)
        self._fragments, self._fragment_opcode, self._fragment_size = [], None, 0
        if kind == _TEXT:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                self._refuse("a text message that is not UTF-8", 1007)
                return None
        return data

    # -- closing -------------------------------------------------------------------------------------------

    def _closed_by_server(self, payload: bytes) -> None:
        if len(payload) >= 2:
            self.close_code = int.from_bytes(payload[:2], "big")
        if not self._close_sent:  # answer the close, echoing its code, as tornado's client does
            self._close_sent = True
            self._send_control(_CLOSE, payload[:2] if self.close_code is not None else b"")
        self._drop()

    def _refuse(self, problem: str, code: int = 1002) -> None:
        """End the connection on a frame a client must not accept (close frame, then the socket)."""
        self.problem = problem
        if not self._close_sent and not self.closed:
            self._close_sent = True
            self._send_control(_CLOSE, code.to_bytes(2, "big"))
        self._drop()

    def abort(self) -> None:
        """Close the socket now, without the closing handshake."""
        self._drop()

    def _drop(self) -> None:
        if not self.closed:
            self.closed = True
            self._sock.close()

    def close(self, wait: float, code: int = _NORMAL_CLOSE) -> bool:
        """The closing handshake: a close frame, then the server's, at most ``wait`` seconds (messages
        in between are dropped); the socket is closed either way. False if the server did not answer in time."""
        if self.closed:
            return True
        deadline = time.monotonic() + wait
        if not self._close_sent:
            self._close_sent = True
            self._send_control(_CLOSE, code.to_bytes(2, "big"))
        try:
            while not self.closed:
                self.receive(deadline)
        except TimeoutError:
            self._drop()
            return False
        return True

    def fileno(self) -> int:
        return self._sock.fileno()


def _settimeout(sock: socket.socket, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the deadline passed")
    sock.settimeout(remaining)


def _read_head(sock: socket.socket, deadline: float) -> tuple[bytes, bytes]:
    """The HTTP response head (up to the blank line) and whatever came after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEAD:
            raise WebSocketRefused(f"the server's handshake response has no end within {_MAX_HEAD} bytes")
        _settimeout(sock, deadline)
        chunk = sock.recv(_READ)
        if not chunk:
            raise WebSocketRefused(f"the server closed the connection during the handshake (received {data[:200]!r})")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _check_accept(head: bytes, key: bytes) -> None:
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0]
    if status.split(" ")[1:2] != ["101"]:
        raise WebSocketRefused(f"the server answered {status!r}, not 101 Switching Protocols")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    expected = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()
    if headers.get("upgrade", "").lower() != "websocket" or headers.get("sec-websocket-accept") != expected:
        raise WebSocketRefused(f"the server's 101 answer is not a WebSocket accept for this key: {head[:300]!r}")
