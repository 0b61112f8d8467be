"""A scripted WebSocket server on a real loopback socket, for the blocking client's frame handling.

pykern's server and tornado never send a reply in continuation frames, a ping in the middle of a
call, or a close instead of a reply; a peer that does (another server, a proxy) is still a WebSocket
peer, so the client's handling of them is tested here against bytes written by hand. The server
accepts one connection, answers the opening handshake, then runs ``script(peer)`` on its own thread;
everything is closed and joined when the ``with`` block ends.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass
class Peer:
    """The server's side of one connection: unmasked frames out, the client's masked frames in."""

    sock: socket.socket
    buffer: bytes = b""
    received: list[tuple[int, bytes]] = field(default_factory=list)

    def send_frame(self, opcode: int, payload: bytes, *, final: bool = True) -> None:
        first = (0x80 if final else 0) | opcode
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", first, size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", first, 126, size)
        else:
            header = struct.pack("!BBQ", first, 127, size)
        self.sock.sendall(header + payload)

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the client closed the TCP connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def recv_frame(self) -> tuple[int, bytes]:
        """(opcode, unmasked payload) of the client's next frame; AssertionError if it is not masked."""
        first, second = self._read(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._read(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._read(8))[0]
        assert second & 0x80, "a client frame must be masked"
        key = self._read(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(self._read(size)))
        self.received.append((first & 0x0F, payload))
        return first & 0x0F, payload


@contextmanager
def scripted_server(script: Callable[[Peer], None], path: str = "/api") -> Iterator[tuple[str, list[BaseException]]]:
    """(address, errors): the ``ws://`` address of a server running ``script``, and what the
    script raised (a test asserts it is empty: an assertion on the server side fails the test)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    errors: list[BaseException] = []
    held: list[socket.socket] = []

    def serve() -> None:
        try:
            connection, _ = listener.accept()
            held.append(connection)
            connection.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                head += connection.recv(4096)
            key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key:"))
            accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
            connection.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            script(Peer(connection))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    thread = threading.Thread(target=serve, name="ws-script", daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{listener.getsockname()[1]}{path}", errors
    finally:
        thread.join(15)
        for connection in held:
            connection.close()
        listener.close()
