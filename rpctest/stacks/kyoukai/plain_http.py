"""A lighter HTTP/1.1 path for rpctest's Kyoukai client when it calls rpctest's own servers.

httpx's per-request work (URL parsing and merging, request and response models, its transport's
connection pool, hooks and tracing) cost several times the round trip itself against a stub server
on the same machine (issue 21: the client took about 70% of a stub-server call). A request to an
address that is rpctest's own stub server or hosted app (:data:`.stubbing.serving_over_wire`, where
the in-process respx stubs never answer anyway) goes over one kept-alive socket instead: the request
is written as ``http.client`` writes it (the same bytes: ``Host``, ``Accept-Encoding: identity``,
``Content-Length``, then the client's headers) and the response is read by httptools, which every
such server in the process has imported already (the stub server parses with it, and so does
Kyoukai's backend). ``http.client``'s response parsing (the ``email`` package) was most of what this
path cost. It is still a correct HTTP/1.1 client: keep-alive, reconnecting when the server closed
the idle connection, chunked replies, ``Connection: close`` and HTTP/1.0, HEAD, a timeout on
connecting and one deadline for each request's writes and reads together (bounded by the kernel:
:mod:`rpctest.sockets`). Every other address keeps httpx, so in-process stubs, injected
transports and HTTPS behave as before.
"""

from __future__ import annotations

import base64
import re
import select
import socket
import threading
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

from rpctest.model import ErrorKind, Reply, RpcError
from rpctest.sockets import DeadlineSocket

__all__ = ["PlainHTTP", "available"]

#: characters a request target may hold as they are; anything else (non-ASCII, spaces) is
#: percent-encoded, as httpx does
_SAFE = "!#$%&'()*+,/:;=?@[]~"
#: what http.client sends ``Content-Length: 0`` for when there is no body
_EXPECTING_BODY = frozenset({"PATCH", "POST", "PUT"})
#: http.client's rules for what a header may hold (it raises ValueError otherwise)
_LEGAL_NAME = re.compile(rb"[^:\s][^:\r\n]*").fullmatch
_ILLEGAL_VALUE = re.compile(rb"\n(?![ \t])|\r(?![ \t\n])").search
_READ = 65536


def available() -> bool:
    """Whether httptools, which reads the replies, is importable here."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return False
    return True


def header_lines(headers: Any) -> bytes:
    """Header lines as http.client writes them, with its checks (ValueError, as it raises)."""
    out = []
    for name, value in headers:
        raw_name, raw_value = name.encode("ascii"), value.encode("latin-1")
        if not _LEGAL_NAME(raw_name):
            raise ValueError(f"Invalid header name {raw_name!r}")
        if _ILLEGAL_VALUE(raw_value):
            raise ValueError(f"Invalid header value {raw_value!r}")
        out.append(raw_name + b": " + raw_value + b"\r\n")
    return b"".join(out)


def request_bytes(method: str, path: str, head: bytes, content: bytes | None) -> bytes:
    """One request's bytes: the request line, the header lines (:func:`header_lines`), the blank
    line and the body. The one request writer of rpctest's plain HTTP paths (this module's socket
    client and the fuzzer's in-thread sender, :class:`.transport.InlineSender`)."""
    line = f"{method} {path} HTTP/1.1\r\n".encode("ascii")
    return line + head + b"\r\n" + content if content else line + head + b"\r\n"


class _Broken(Exception):
    """The connection ended before a whole response."""


class _Response:
    """What httptools read of one response (its callbacks)."""

    __slots__ = ("parser", "head", "reason", "headers", "body", "complete", "headers_done", "keep_alive", "status",
                 "version")

    def __init__(self, parser_class: Any, head: bool) -> None:
        self.parser = parser_class(self)
        self.head = head
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = self.headers_done = False
        self.keep_alive = True
        self.status = 0
        self.version = "1.1"

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.status = self.parser.get_status_code()
        self.version = self.parser.get_http_version()
        if self.head and self.status >= 200:  # a HEAD response has no body, whatever its length says
            self._done()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim response (100 Continue): http.client skips it too
            self.reason, self.headers, self.body, self.headers_done = b"", [], [], False
            return
        self._done()

    def _done(self) -> None:
        if not self.complete:
            self.complete = True
            self.keep_alive = bool(self.parser.should_keep_alive())  # after this call it is reset

    def feed(self, data: bytes, parse_error: type[Exception]) -> None:
        """Parse ``data``; bytes after a whole response are not this response's (Kyoukai's canned
        500 is followed by a stray newline), so a parse error there is not one."""
        try:
            self.parser.feed_data(data)
        except parse_error:
            if not self.complete:
                raise

    def ended(self) -> None:
        """The stream ended (the server closed): complete if the body ran to the close, else broken."""
        if self.complete:
            return
        if self.until_close():
            self.complete, self.keep_alive = True, False
            return
        raise _Broken("the server closed the connection before a whole response" if self.headers_done or self.status
                      else "Remote end closed connection without response")

    def reply(self) -> Reply:
        """The neutral reply of this (complete) response (:func:`.host.reply_from_parts`)."""
        from rpctest.stacks.kyoukai.host import reply_from_parts

        version = "HTTP/1.0" if self.version == "1.0" else "HTTP/1.1"
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.headers]
        return reply_from_parts(self.status, self.reason.decode("latin-1").strip(), version, headers, b"".join(self.body))

    def until_close(self) -> bool:
        """Whether the body is the rest of the stream (no length, not chunked): ended by a close."""
        names = {name.lower() for name, _ in self.headers}
        return self.headers_done and b"content-length" not in names and b"transfer-encoding" not in names


def read_reply(data: bytes, *, closed: bool, head: bool) -> Reply | None:
    """The reply in ``data``, every byte a server wrote to one request (``closed``: and then it
    closed); None when that is not a whole response yet. Raises ``_Broken`` or httptools'
    ``HttpParserError`` for bytes that are no HTTP response."""
    import httptools

    response = _Response(httptools.HttpResponseParser, head)
    if data:
        response.feed(data, httptools.HttpParserError)
    if not response.complete:
        if not closed:
            return None
        response.ended()
    return response.reply()


class PlainHTTP:
    """One kept-alive HTTP/1.1 connection to ``http://HOST:PORT[/base]``; :meth:`send` never raises
    for what the network does (a timeout or a broken connection is a TRANSPORT error in the reply).
    Threads sharing a client take turns on the connection (httpx's pool let them share it too)."""

    def __init__(self, address: str, headers: Mapping[str, str], auth: tuple[str, str] | None) -> None:
        import httptools

        self._parser_class = httptools.HttpResponseParser
        self._parse_error: type[Exception] = httptools.HttpParserError
        parts = urlsplit(address)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._base = parts.path.rstrip("/")
        self._headers = {"Accept": "*/*", **headers}
        if auth is not None:  # httpx's BasicAuth wins over a configured Authorization header too
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode("latin-1")).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._host_header = host if self._port == 80 else f"{host}:{self._port}"
        self._heads: dict[tuple[str, tuple[tuple[str, str], ...], bool], tuple[bytes, bytes, bool]] = {}
        self._sock: DeadlineSocket | None = None
        self._lock = threading.Lock()

    # -- the request, as http.client writes it ---------------------------------------------------------

    def _header_block(self, method: str, headers: Mapping[str, str], has_body: bool) -> tuple[bytes, bytes, bool]:
        """The header lines before the body's ``Content-Length`` and after it (http.client's order:
        ``Host``, ``Accept-Encoding``, the length, then the client's headers) and whether the length
        goes between them, kept per set of headers: a client sends the same few every time."""
        key = (method, tuple(headers.items()), has_body)
        block = self._heads.get(key)
        if block is None:
            merged = {**self._headers, **headers}
            names = {name.lower() for name in merged}
            before: list[tuple[str, str]] = []
            if "host" not in names:
                before.append(("Host", self._host_header))
            if "accept-encoding" not in names:
                before.append(("Accept-Encoding", "identity"))
            length = "content-length" not in names and "transfer-encoding" not in names
            if length and not has_body and method in _EXPECTING_BODY:
                before.append(("Content-Length", "0"))
            block = (header_lines(before), header_lines(merged.items()), length and has_body)
            if len(self._heads) < 64:
                self._heads[key] = block
        return block

    def _request(self, method: str, path: str, headers: Mapping[str, str], content: bytes | None) -> bytes:
        before, after, length = self._header_block(method, headers, content is not None)
        if content is not None and length:
            before += b"Content-Length: %d\r\n" % len(content)
        return request_bytes(method, path, before + after, content)

    # -- the connection --------------------------------------------------------------------------------

    def _open(self, timeout: float) -> DeadlineSocket:
        """The kept-alive socket, a new one when the server closed it (readable while idle: its end
        of stream), with ``timeout`` on connecting and the request's deadline on every read and
        write (:class:`rpctest.sockets.DeadlineSocket`: bounded by the kernel, which spares each
        call a ``poll`` and a release of the GIL)."""
        sock = self._sock
        if sock is not None and select.select([sock.sock], [], [], 0)[0]:
            self._drop()  # connect again
            sock = None
        if sock is None:
            raw = socket.create_connection((self._host, self._port), timeout)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client does
            sock = self._sock = DeadlineSocket(raw)
        sock.begin(timeout)
        return sock

    def _read(self, sock: DeadlineSocket, response: _Response) -> _Response:
        while not response.complete:
            data = sock.recv(_READ)
            if not data:
                response.ended()
                break
            response.feed(data, self._parse_error)
        return response

    def send(self, method: str, target: str, headers: Mapping[str, str], content: bytes | None, timeout: float) -> Reply:
        path = quote(self._base + target, safe=_SAFE)
        with self._lock:
            try:
                data = self._request(method, path, headers, content)
                sock = self._open(timeout)
                # made before the request goes: between its send and its first recv the client
                # holds the GIL the server thread, woken by the request, is waiting for
                response = _Response(self._parser_class, method == "HEAD")
                sock.sendall(data)
                self._read(sock, response)
            except TimeoutError:
                self._drop()
                return Reply(errors=[RpcError("TRANSPORT", f"no reply to {method} {target} within {timeout:g}s", kind=ErrorKind.TRANSPORT)])
            except (OSError, UnicodeError, _Broken, self._parse_error) as exc:
                self._drop()
                return Reply(errors=[RpcError("TRANSPORT", f"{method} {target}: {type(exc).__name__}: {exc}", kind=ErrorKind.TRANSPORT)])
            if not response.keep_alive:
                self._drop()
        return response.reply()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
