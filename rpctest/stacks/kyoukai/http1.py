"""HTTP/1.1 server connections for rpctest's Kyoukai stub server: httptools parses, a template writes.

Kyoukai's own backend (``kyoukai.backends.httptools_``) is an asyncio ``Protocol`` fed by httptools;
the stub server serves the same way, so it reads requests as the real stack does (a request without
``Host`` is answered, a bare-LF line end or a version other than 1.0/1.1 is refused) and costs a
fraction of what h11 over asyncio streams cost (issue 21: h11 was about 60% of the stub server's own
time). What a client sees is what h11 wrote before: ``HTTP/1.1 <status> `` with an empty reason, the
answer's headers in order, ``Server``, ``Content-Length`` (not on a 204) and ``Connection: close``
when the connection ends after this response.

:class:`HTTP1Connection` answers every request synchronously as it completes (``respond``), so
pipelined requests are answered in order; it keeps the connection alive unless the request is
HTTP/1.0 or says ``Connection: close``; it refuses with 400 and closes a request httptools cannot
parse or a head over :data:`MAX_HEAD` bytes. It stops reading while the client does not read
what it wrote. Anything else that fails while handling a request closes that connection alone
(:func:`rpctest.untrusted.contained`'s handling).
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from rpctest.exceptions import StackUnavailable
from rpctest.untrusted import report_uncontained

__all__ = ["HTTP1Connection", "MAX_HEAD", "Respond", "require_httptools", "response_head"]

#: the largest request head (request line and headers) read: h11's bound, which the stub server had
MAX_HEAD = 16 * 1024

#: ``respond(method, target, headers, body) -> (status, headers, content)``
Respond = Callable[[str, str, "list[tuple[bytes, bytes]]", bytes], "tuple[int, list[tuple[str, str]], bytes]"]

_TEXT = [("Content-Type", "text/plain; charset=utf-8")]
_NO_BODY = frozenset({204, 304})


def require_httptools() -> Any:
    """The httptools module, or :class:`StackUnavailable` saying how to install it."""
    try:
        import httptools
    except ImportError as exc:
        raise StackUnavailable(
            f"httptools is not importable ({exc}); the Kyoukai stub server parses HTTP/1.1 with it, as Kyoukai's own "
            "backend does. Install it with: pip install 'rpctest[kyoukai]' (or pip install httptools)"
        ) from None
    return httptools


class _Unwritable(ValueError):
    """A response HTTP/1.1 cannot carry (a header with a line break, a 1xx status, a lying length)."""


_heads: dict[tuple[int, tuple[tuple[str, str], ...], str], tuple[bytes, int | None]] = {}


def response_head(status: int, headers: list[tuple[str, str]], server: str, length: int, *, head: bool = False) -> bytes:
    """The head of a response (status line to the last header, ``Connection`` left out), as h11
    wrote it: ``length`` (the body's) as ``Content-Length`` unless ``headers`` has one (which must
    be the body's, but on a HEAD) or the status is 204.

    The part before ``Content-Length`` is built once per (status, headers, server) and kept, since
    a stub answers with the same status and headers every time."""
    key = (status, tuple(headers), server)
    built = _heads.get(key)
    if built is None:
        built = _build_head(status, headers, server)
        if len(_heads) > 512:  # stubs whose headers change with every reply: keep the cache bounded
            _heads.clear()
        _heads[key] = built
    data, own_length = built
    if own_length is not None:
        if own_length != length and not head:
            raise _Unwritable(f"its Content-Length {own_length} is not its body's length {length}")
        return data
    return data if status == 204 else data + b"Content-Length: %d\r\n" % length


def _build_head(status: int, headers: list[tuple[str, str]], server: str) -> tuple[bytes, int | None]:
    if not 200 <= status <= 999:
        raise _Unwritable(f"status {status} is not a final HTTP status")
    lines = [b"HTTP/1.1 %d \r\n" % status]
    own_length: int | None = None
    for name, value in [*headers, ("Server", server)]:
        raw_name, raw_value = name.encode("latin-1"), value.strip().encode("latin-1")
        if not raw_name or any(c in raw_name for c in b" \t\r\n:") or any(c in raw_value for c in b"\r\n\x00"):
            raise _Unwritable(f"header {name!r}: {value!r} cannot be sent")
        if raw_name.lower() == b"content-length":
            if not raw_value.isdigit():
                raise _Unwritable(f"Content-Length {value!r} is not a length")
            own_length = int(raw_value)
        lines.append(raw_name + b": " + raw_value + b"\r\n")
    return b"".join(lines), own_length


#: what one read of a connection takes at most (its buffer, made once per connection): what asyncio
#: reads at once for a plain Protocol, so that a client's bytes are read as before (a request far
#: over MAX_HEAD is read whole before the 400, and the close that follows is not a reset)
_READ_SIZE = 256 * 1024


class HTTP1Connection(asyncio.BufferedProtocol):
    """One client connection (module docstring); ``closed`` is done once the connection is gone.

    A buffered protocol: the transport reads into one buffer per connection (httptools parses a
    view of it and copies out what it hands the callbacks), where a plain ``Protocol`` gets a fresh
    ``bytes`` of each read, for which asyncio reserves 256 KiB: memory the C library maps, shrinks
    and unmaps again on every request (three system calls and a page fault each)."""

    def __init__(self, respond: Respond, diagnose: Callable[[str], None], server: str, connections: set["HTTP1Connection"]) -> None:
        self._respond = respond
        self._diagnose = diagnose
        self._server = server
        self._connections = connections
        self._transport: asyncio.Transport | None = None
        self._parser: Any = None
        self._peer: Any = None
        self._closing = False
        self._in_head = True
        self._head_bytes = 0  # what arrived since the current head began (bounds a head that never ends)
        self._head_size = 0  # the current head's request target and headers
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._httptools: Any = None
        self._refusal: str | None = None  # why a callback stopped the parser
        self._buffer = memoryview(bytearray(_READ_SIZE))
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # -- asyncio.Protocol ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._peer = transport.get_extra_info("peername")
        self._httptools = require_httptools()
        self._parser = self._httptools.HttpRequestParser(self)
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._connections.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        if self._transport is not None and not self._closing:
            self._transport.resume_reading()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._buffer[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        if self._closing:
            return
        # contained()'s handling, in a try that costs nothing until something is raised: the context
        # manager (and its wording of the peer) was Python work on every request
        try:
            self._feed(data)
        except Exception as exc:  # noqa: BLE001 - one connection's failure must not reach the loop
            report_uncontained(exc, f"a connection from {self._peer}", self._diagnose, then="connection closed")
            self.abort()

    def _feed(self, data: bytes | memoryview) -> None:
        httptools = self._httptools
        if self._in_head:
            self._head_bytes += len(data)
        while data and not self._closing:
            try:
                self._parser.feed_data(data)
            except httptools.HttpParserUpgrade as upgrade:
                # an Upgrade or CONNECT request was answered as any other; the connection stays
                # HTTP/1.1, so what follows it is read by a fresh parser
                data = data[upgrade.args[0]:] if upgrade.args and isinstance(upgrade.args[0], int) else b""
                self._parser = httptools.HttpRequestParser(self)
                continue
            except httptools.HttpParserCallbackError as exc:
                if self._refusal is None:  # one of the callbacks below failed: contained() reports it
                    raise (exc.__context__ or exc) from None
                self._refuse(self._refusal)
                return
            except httptools.HttpParserError as exc:
                self._refuse(str(exc) or type(exc).__name__)
                return
            break
        if self._in_head and self._head_bytes > MAX_HEAD and not self._closing:
            self._refuse(f"the request head is longer than {MAX_HEAD} bytes")

    # -- httptools callbacks ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_size = 0
        self._url = b""
        self._headers = []
        self._body = []

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._count(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        self._count(len(name) + len(value) + 4)

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_HEAD:
            self._refusal = f"the request head is longer than {MAX_HEAD} bytes"
            raise ValueError(self._refusal)  # httptools stops parsing (HttpParserCallbackError)

    def on_headers_complete(self) -> None:
        self._in_head = False

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        parser = self._parser
        keep_alive = parser.should_keep_alive() and parser.get_http_version() == "1.1"  # h11 closed every HTTP/1.0 connection
        method = parser.get_method().decode("ascii", "replace")
        self._in_head, self._head_bytes = True, 0
        if self._closing:  # pipelined after a request that closed the connection
            return
        status, headers, content = self._respond(method, self._url.decode("latin-1"), self._headers, b"".join(self._body))
        self._write(status, headers, content, head=method == "HEAD", close=not keep_alive)

    # -- writing ---------------------------------------------------------------------------------------

    def _write(self, status: int, headers: list[tuple[str, str]], content: bytes, *, head: bool = False, close: bool = False) -> None:
        transport = self._transport
        if transport is None or self._closing:
            return
        body = b"" if status in _NO_BODY else content
        try:
            data = response_head(status, headers, self._server, len(body), head=head)
        except _Unwritable as exc:
            self._diagnose(f"could not write a {status} response: {exc}; connection closed")
            self.abort()
            return
        said_close = any(name.lower() == "connection" and value.strip().lower() == "close" for name, value in headers)
        if close and not said_close:
            data += b"Connection: close\r\n"
        close = close or said_close
        data += b"\r\n"
        transport.write(data if head or not body else data + body)
        if close:
            self._closing = True
            transport.close()

    def _refuse(self, reason: str) -> None:
        """Answer a request that cannot be read with 400 and close (as h11 made the stub server do)."""
        self._diagnose(f"a request that is not HTTP/1.1 ({reason}); answered 400")
        self._write(400, _TEXT, reason.encode("utf-8", "replace"), close=True)

    def close(self) -> None:
        self._closing = True
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        self._closing = True
        if self._transport is not None:
            self._transport.abort()
