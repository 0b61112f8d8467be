"""Kyoukai without a socket: the app's real HTTP/1.1 backend on an in-memory connection.

Kyoukai has no WSGI or ASGI entry point (its ``wsgi`` module only builds environs): its servers are
asyncio protocols (``kyoukai.backends.httptools_.KyoukaiProtocol``) that parse bytes with httptools,
build a WSGI-like environ with Kyoukai's own (quirky) ``to_wsgi_environment``, await
``app.process_request`` and serialise the werkzeug response with ``get_formatted_response``. Rather
than re-implement that pipeline, this module runs **that very protocol object** over an in-memory
asyncio transport:

* :class:`MemoryConnection` is one connection: bytes in (``send``), bytes out (``received``), and
  whether the server closed it. Everything between is Kyoukai's: the parser (and its 400/405 pages
  for a broken request line), the 12 MiB limit, gzip/deflate request bodies, routing, hooks, error
  handlers, events (``connection_made``/``connection_lost`` and the per-request signals), the
  post1 error-handler regression and its canned HTTP/1.0 500 with the one-byte-short
  Content-Length, keep-alive and pipelining quirks.
* :class:`LocalTransport` (an ``httpx.AsyncBaseTransport``) and :class:`LocalSyncTransport` (an
  ``httpx.BaseTransport``) serialise each httpx request with h11 exactly as httpx does for a
  socket, run it over a fresh :class:`MemoryConnection`, and parse the answer with h11.

So a socket and this transport give the same status line, headers (in order) and body for the same
request bytes; ``tests/stack_kyoukai/test_parity.py`` checks it. What cannot be the same is what a
socket has and memory does not: the peer address the app sees (``REMOTE_ADDR`` 127.0.0.1 with a
made-up ``REMOTE_PORT``), and connection reuse (each httpx request gets its own connection, so the
``connection_made``/``connection_lost`` events fire per request).

The protocol schedules each request as a task on ``protocol.loop``, which Kyoukai takes from
``app.loop`` (the event-loop binding trap: ``Kyoukai(...)`` binds the loop current when it is
built, see :mod:`.host`). Here each protocol's ``loop`` is
the loop the request is awaited on, so an app built at import time, bound to another loop, still
answers; ``app.loop`` itself is left alone (Kyoukai only uses it to start a socket server).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Coroutine, Iterable, Mapping, TypeVar

import httpx

from rpctest.model import ErrorKind, Reply, RpcError

_T = TypeVar("_T")

__all__ = ["LocalTransport", "LocalSyncTransport", "MemoryConnection", "RawResponse", "Endpoint", "parse_responses"]

#: the made-up client ports the app sees as REMOTE_PORT on in-memory connections
_PEER_PORTS = itertools.count(50000)
_DEFAULT_TIMEOUT = 5.0


class _LoopProxy:
    """What a KyoukaiProtocol sees as ``self.loop``: the serving loop, recording request tasks.

    The protocol uses its ``loop`` for one thing: ``create_task(self._wait_wrapper())`` when a
    request is complete. Recording those tasks lets a caller wait until the app has answered, and
    lets a server cancel what is still running when it stops.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, tasks: set[asyncio.Task[Any]]) -> None:
        self._loop = loop
        self._tasks = tasks

    def create_task(self, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task = self._loop.create_task(coro, **kwargs)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)


def bind_protocol(protocol: Any, loop: asyncio.AbstractEventLoop, tasks: set[asyncio.Task[Any]]) -> None:
    """Make ``protocol`` run its requests on ``loop`` and record them in ``tasks``."""
    protocol.loop = _LoopProxy(loop, tasks)


class Endpoint:
    """What a KyoukaiProtocol needs from a server: a component, a base context, a name and a port.

    The component is a real (never started) ``KyoukaiComponent`` for ``app``, so protocols get the
    same ``SERVER_NAME`` (``app.server_name`` or ``socket.getfqdn()``) and ``SERVER_PORT`` (the
    configured port: "0" for a server bound to port 0, as Kyoukai reports it) as on a socket.
    """

    def __init__(self, app: Any, *, ip: str = "127.0.0.1", port: int = 0) -> None:
        from rpctest.stacks.kyoukai.host import require_kyoukai

        kyoukai = require_kyoukai()
        if not isinstance(app, kyoukai.Kyoukai):
            from rpctest.exceptions import ConfigError

            raise ConfigError(f"a local transport needs a kyoukai.Kyoukai app, not {app!r}")
        from asphalt.core import Context

        self.app = app
        self.ip = ip
        self.port = port
        app.finalize()  # what KyoukaiComponent.start does first; one-shot in Kyoukai
        self.component = kyoukai.KyoukaiComponent(app, ip, port)
        self.context = Context()
        self.server_name = self.component.get_server_name()

    def new_protocol(self, loop: asyncio.AbstractEventLoop, tasks: set[asyncio.Task[Any]]) -> Any:
        protocol = self.component.get_protocol(self.context, (self.server_name, self.port))
        bind_protocol(protocol, loop, tasks)
        return protocol


class _MemoryTransport(asyncio.Transport):
    """An asyncio transport whose peer is a bytes buffer; ``close()`` is the server closing."""

    def __init__(self, connection: "MemoryConnection", peer: tuple[str, int], sock: tuple[str, int]) -> None:
        super().__init__({"peername": peer, "sockname": sock, "ssl_object": None, "socket": None})
        self._connection = connection
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:  # as a socket transport: bytes written after close() are dropped
            return
        self._connection._buffer += bytes(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def can_write_eof(self) -> bool:
        return False

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if not self._connection._client_closed:
            self._connection.closed_by_server = True
        self._connection._loop.call_soon(self._connection._lost)

    def abort(self) -> None:
        self.close()

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_reading(self) -> bool:
        return not self._closing


class MemoryConnection:
    """One connection to a Kyoukai app's real httptools protocol, over memory instead of TCP.

    Use it from a coroutine on the loop the app should run on::

        connection = MemoryConnection(Endpoint(app))
        await connection.send(b"GET /items/5 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        data = connection.take()          # every byte the server wrote so far
        await connection.aclose()         # the client closes (EOF), as a socket peer would
    """

    def __init__(self, endpoint: Endpoint, *, peer: tuple[str, int] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._client_closed = False
        self._lost_called = False
        self.closed_by_server = False
        peer = peer or ("127.0.0.1", next(_PEER_PORTS))
        self.transport = _MemoryTransport(self, peer, (endpoint.ip, endpoint.port))
        self.protocol = endpoint.new_protocol(self._loop, self._tasks)
        self.protocol.connection_made(self.transport)

    @property
    def closed(self) -> bool:
        return self.transport.is_closing()

    @property
    def received(self) -> bytes:
        return bytes(self._buffer)

    def take(self) -> bytes:
        """The bytes received so far, removed from the buffer."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    async def send(self, data: bytes, *, timeout: float | None = _DEFAULT_TIMEOUT) -> None:
        """Feed ``data`` to the server as one TCP read, then wait until the requests it completed
        have been answered (or ``timeout`` passes; TimeoutError then, with the tasks still running)."""
        if self.closed:
            raise ConnectionResetError("the server closed this in-memory connection")
        self.protocol.data_received(bytes(data))
        await self.settle(timeout)

    async def settle(self, timeout: float | None = _DEFAULT_TIMEOUT) -> None:
        """Wait until no request task of this connection is running (TimeoutError after ``timeout``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._tasks:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"the app did not answer within {timeout:g}s")
            await asyncio.wait(set(self._tasks), timeout=remaining)
        # let close() callbacks (connection_lost) run, as a socket's would before the next read
        await asyncio.sleep(0)

    def _lost(self) -> None:
        if self._lost_called:
            return
        self._lost_called = True
        self.protocol.connection_lost(None)

    async def aclose(self) -> None:
        """The client goes away: EOF to the protocol, running requests cancelled, connection_lost."""
        if not self.closed:
            self._client_closed = True
            keep_open = self.protocol.eof_received()
            if not keep_open:
                self.transport.close()
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0)
        self._lost()


# -- HTTP over a memory connection ------------------------------------------------------------------------


@dataclass
class RawResponse:
    """One HTTP response as h11 read it off the bytes the server wrote."""

    http_version: str
    status: int
    reason: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    raw: bytes = b""
    extra: bytes = b""  # bytes after this response (e.g. the canned 500's stray "\n")
    server_closed: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


def serialize_request(method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[bytes, Any]:
    """Request bytes as httpx writes them to a socket (h11), and the h11 client state that sent them."""
    import h11

    conn = h11.Connection(our_role=h11.CLIENT)
    data = conn.send(h11.Request(method=method, target=target, headers=headers)) or b""
    if body:
        data += conn.send(h11.Data(data=body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    return data, conn


def parse_response(conn: Any, data: bytes, *, closed: bool) -> RawResponse | None:
    """The first response in ``data`` read by ``conn`` (the h11 client that sent the request).

    None when ``data`` holds no complete response yet (and the server did not close); an
    ``httpx.RemoteProtocolError`` when the bytes are not HTTP or the server closed mid-response.
    """
    import h11

    if data:
        conn.receive_data(data)
    if closed:
        conn.receive_data(b"")  # h11: empty data means EOF
    head: Any = None
    body = bytearray()
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                if closed:
                    raise httpx.RemoteProtocolError("Server disconnected without sending a complete response.")
                return None
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
    except h11.RemoteProtocolError as exc:
        raise httpx.RemoteProtocolError(str(exc)) from exc
    if head is None:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    consumed = len(data) - len(conn.trailing_data[0])
    return RawResponse(
        http_version="HTTP/" + head.http_version.decode("ascii"),
        status=head.status_code,
        reason=head.reason.decode("latin-1"),
        headers=list(head.headers.raw_items()),
        body=bytes(body),
        raw=data[:consumed],
        extra=bytes(conn.trailing_data[0]),
        server_closed=closed,
    )


def parse_responses(data: bytes, methods: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Split a received byte stream into HTTP responses by Content-Length, as the vectors' decoded
    ``http-response-stream`` view does (bytes that belong to no response: ``{"stray_bytes_hex"}``).

    ``methods`` are the request methods in order (a HEAD response has no body whatever its
    Content-Length says).
    """
    out: list[dict[str, Any]] = []
    methods = list(methods)
    rest = data
    while rest:
        head_end = rest.find(b"\r\n\r\n")
        if not rest.startswith(b"HTTP/") or head_end < 0:
            stray_end = rest.find(b"HTTP/")
            stray = rest if stray_end <= 0 else rest[:stray_end]
            out.append({"stray_bytes_hex": stray.hex()})
            rest = rest[len(stray):]
            continue
        lines = rest[:head_end].decode("latin-1").split("\r\n")
        status_line = lines[0]
        headers = [line.split(": ", 1) for line in lines[1:]]
        length = next((int(v) for n, v in headers if n.lower() == "content-length"), None)
        status = int(status_line.split(" ", 2)[1])
        method = methods.pop(0) if methods else "GET"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            length = 0
        start = head_end + 4
        end = len(rest) if length is None else start + length
        body = rest[start:end]
        out.append({"status_line": status_line, "status": status, "headers": headers, "body": body})
        rest = rest[end:]
    return out


async def exchange_bytes(endpoint: Endpoint, data: bytes, *, timeout: float | None = _DEFAULT_TIMEOUT) -> tuple[bytes, bool]:
    """``data`` (one request's bytes) on a fresh in-memory connection to ``endpoint``'s app: every
    byte the app wrote back within ``timeout``, and whether it closed the connection."""
    connection = MemoryConnection(endpoint)
    try:
        try:
            await connection.send(data, timeout=timeout)
        except TimeoutError:
            pass  # what arrived so far decides
        return connection.received, connection.closed
    finally:
        await connection.aclose()


async def exchange(
    endpoint: Endpoint,
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    *,
    timeout: float | None = _DEFAULT_TIMEOUT,
) -> RawResponse:
    """One request on a fresh in-memory connection to ``endpoint``'s app; the parsed response."""
    request_bytes, h11_conn = serialize_request(method, target, headers, body)
    received, closed = await exchange_bytes(endpoint, request_bytes, timeout=timeout)
    parsed = parse_response(h11_conn, received, closed=closed)
    if parsed is None:
        raise TimeoutError(f"no complete response within {timeout:g}s")
    return parsed


def _timeout_of(request: httpx.Request, default: float | None) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    read = timeouts.get("read", default)
    return default if read is None else read


def _to_httpx(request: httpx.Request, response: RawResponse) -> httpx.Response:
    return httpx.Response(
        response.status,
        headers=response.headers,
        stream=httpx.ByteStream(response.body),  # content= would add a Content-Length the server never sent
        request=request,
        extensions={
            "http_version": response.http_version.encode("ascii"),
            "reason_phrase": response.reason.encode("latin-1"),
            "rpctest_raw": response.raw,
            "rpctest_server_closed": response.server_closed,
        },
    )


class LocalTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=LocalTransport(app), base_url="http://app")`` calls ``app``
    through Kyoukai's real HTTP backend, with no socket (see the module docstring).

    Requests run on the loop that awaits them. The response's ``extensions`` carry
    ``http_version`` (``b"HTTP/1.0"`` for the canned 500), ``reason_phrase`` (Kyoukai's upper-case
    one), ``rpctest_raw`` (the response bytes exactly as written) and ``rpctest_server_closed``.
    ``port`` is what the app sees as ``SERVER_PORT`` (a server bound to port 0 says 0). A request's
    read timeout (httpx's ``timeout=``) bounds how long the app may take; ``timeout`` is used for
    requests that carry none. A request the app does not answer in time is cancelled (its
    connection closed) and raises ``httpx.ReadTimeout``.
    """

    def __init__(self, app: Any, *, port: int = 0, timeout: float | None = _DEFAULT_TIMEOUT) -> None:
        self.endpoint = Endpoint(app, port=port)
        self.app = app
        self.timeout = timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        timeout = _timeout_of(request, self.timeout)
        try:
            response = await exchange(
                self.endpoint, request.method.encode("ascii"), request.url.raw_path, list(request.headers.raw), body, timeout=timeout
            )
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from None
        return _to_httpx(request, response)


class LocalSyncTransport(httpx.BaseTransport):
    """:class:`LocalTransport` for ``httpx.Client``: each request runs on an event loop in another
    thread, ``loop`` if given (e.g. a hosted service's), else one this transport starts on first use
    and stops in :meth:`close` (``httpx.Client.close()`` calls it)."""

    def __init__(
        self, app: Any, *, loop: asyncio.AbstractEventLoop | None = None, port: int = 0, timeout: float | None = _DEFAULT_TIMEOUT
    ) -> None:
        self.endpoint = Endpoint(app, port=port)
        self.app = app
        self.timeout = timeout
        self._loop = loop
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        #: ``inline`` (no ``loop``; see :class:`InlineSender`): requests from a thread with no running
        #: loop run on a private loop in that thread, one at a time
        self._inline: asyncio.AbstractEventLoop | None = None
        self._inline_lock = threading.Lock()
        self.inline = False

    def _runner(self) -> asyncio.AbstractEventLoop:
        if self._loop is not None:
            return self._loop
        with self._lock:
            if self._closed:
                raise RuntimeError("this LocalSyncTransport is closed")
            if self._own_loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="rpctest-kyoukai-local", daemon=True)
                self._thread.start()
                ready.wait()
                self._own_loop = loop
            return self._own_loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        timeout = _timeout_of(request, self.timeout)
        try:
            response = self.complete(
                lambda: exchange(self.endpoint, request.method.encode("ascii"), request.url.raw_path, list(request.headers.raw), body,
                                 timeout=timeout),
                timeout,
            )
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "no response", request=request) from None
        return _to_httpx(request, response)

    def complete(self, coroutine: Callable[[], Coroutine[Any, Any, _T]], timeout: float | None) -> _T:
        """Run ``coroutine()`` (an exchange with the app) to its end: on a private loop in this
        thread when :attr:`inline` allows (no thread hop per request, what a fuzz run of thousands
        of requests spends most on; one request at a time), else on the serving loop's thread."""
        if self.inline and self._loop is None and _running_loop() is None:
            with self._inline_lock:
                if self._closed:
                    raise RuntimeError("this LocalSyncTransport is closed")
                if self._inline is None:
                    self._inline = asyncio.new_event_loop()
                return self._inline.run_until_complete(coroutine())
        loop = self._runner()
        if _running_loop() is loop:
            raise RuntimeError("LocalSyncTransport cannot be used from its own event loop: use LocalTransport there")
        future = asyncio.run_coroutine_threadsafe(coroutine(), loop)
        return future.result(None if timeout is None else timeout + 5)

    def _close_inline(self) -> None:
        with self._inline_lock:
            loop, self._inline = self._inline, None
        if loop is not None:
            from rpctest.loop_thread import close_loop

            close_loop(loop)

    def close(self) -> None:
        self._close_inline()
        with self._lock:
            self._closed = True
            loop, thread = self._own_loop, self._thread
            self._own_loop = self._thread = None
        if loop is None or thread is None:
            return

        async def drain() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await loop.shutdown_asyncgens()
            await loop.shutdown_default_executor()

        asyncio.run_coroutine_threadsafe(drain(), loop).result(_DEFAULT_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_DEFAULT_TIMEOUT)
        loop.close()


class InlineSender:
    """``request(method, target, content=, headers=, timeout=)`` as ``httpx.Client.request`` has it,
    for a blocking caller with no running loop: each request runs the app's real HTTP protocol on a
    private loop in the calling thread, without a thread hop or the client's machinery. This is the
    fuzzer's path into a socket-less hosted app (thousands of requests: the hop was half their cost);
    the fuzzer calls :meth:`send`, which also leaves httpx's request and response objects out."""

    def __init__(self, app: Any, *, timeout: float | None = _DEFAULT_TIMEOUT) -> None:
        self.transport = LocalSyncTransport(app, timeout=timeout)
        self.transport.inline = True

    def request(
        self, method: str, target: str, *, content: bytes | None = None, headers: Any = None, timeout: float | None = None
    ) -> httpx.Response:
        extensions = {"timeout": {"read": timeout}} if timeout is not None else {}
        request = httpx.Request(method, "http://app" + target, content=content, headers=headers, extensions=extensions)
        response = self.transport.handle_request(request)
        response.read()  # what httpx.Client.request does: the body is in memory already
        return response

    def send(self, method: str, target: str, headers: Mapping[str, str], content: bytes | None, timeout: float) -> Reply:
        """One request as a neutral reply, the way :meth:`.plain_http.PlainHTTP.send` has it (never a
        raise for what the app does: a timeout or a broken answer is a TRANSPORT error). The request
        is written here, byte for byte what :meth:`request` has httpx and h11 write
        (:func:`inline_request_bytes`), and the reply read by :func:`.plain_http.read_reply`: httpx's
        request and response objects and h11's state machine were a third of a fuzz case's request."""
        from rpctest.stacks.kyoukai.plain_http import _Broken, read_reply

        import httptools

        data = inline_request_bytes(method, target, headers, content)
        endpoint = self.transport.endpoint
        try:
            received, closed = self.transport.complete(lambda: exchange_bytes(endpoint, data, timeout=timeout), timeout)
            reply = read_reply(received, closed=closed, head=method == "HEAD")
        except (_Broken, httptools.HttpParserError) as exc:
            return Reply(errors=[RpcError("TRANSPORT", f"{method} {target}: {type(exc).__name__}: {exc}", kind=ErrorKind.TRANSPORT)])
        except TimeoutError:
            reply = None
        if reply is None:
            return Reply(errors=[RpcError("TRANSPORT", f"no reply to {method} {target} within {timeout:g}s", kind=ErrorKind.TRANSPORT)])
        return reply

    def close(self) -> None:
        self.transport.close()


#: request targets httpx sends exactly as given: unreserved characters, sub-delimiters, ``:@/?``,
#: whole percent-escapes, and no dot segment in the path (httpx removes those); any other target
#: is encoded by httpx's own URL parser, so the bytes stay httpx's
_PLAIN_TARGET = re.compile(r"/(?:[A-Za-z0-9\-_~!$&'()*+,;=:@/?.]|%[0-9A-Fa-f]{2})*").fullmatch
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$)").search
#: header names and values httpx and h11 send: a token; ASCII (httpx encodes values so) without NUL,
#: runs of other characters separated by spaces or tabs (h11's field-value)
_H11_NAME = re.compile(r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+").fullmatch
_H11_VALUE = re.compile(r"(?:[\x01-\x08\x0e-\x1f!-\x7f]+(?:[ \t]+[\x01-\x08\x0e-\x1f!-\x7f]+)*)?").fullmatch
#: what httpx sends ``Content-Length: 0`` for when there is no body
_EXPECTING_BODY = frozenset({"PATCH", "POST", "PUT"})


def inline_request_bytes(method: str, target: str, headers: Mapping[str, str], content: bytes | None) -> bytes:
    """The bytes :meth:`InlineSender.request` makes httpx and h11 write for this request: the target
    as httpx encodes it, ``Host: app``, httpx's ``Content-Length: 0`` for a bodiless POST, PUT or
    PATCH before the given headers, a body's ``Content-Length`` after them. ``headers`` frame no
    body (a ``Content-Length`` or ``Transfer-Encoding`` of their own is refused: ValueError)."""
    from rpctest.stacks.kyoukai.plain_http import header_lines, request_bytes

    path = target.partition("?")[0]
    if _PLAIN_TARGET(target) is None or _DOT_SEGMENT(path) is not None:
        target = httpx.URL("http://app" + target).raw_path.decode("ascii")
    for name, value in headers.items():
        if _H11_NAME(name) is None or _H11_VALUE(value) is None:  # what httpx (ASCII) and h11 refuse to send
            raise ValueError(f"header {name!r}: {value!r} cannot be sent (httpx and h11 refuse it)")
    names = {name.lower() for name in headers}
    if names & {"content-length", "transfer-encoding"}:
        raise ValueError(f"InlineSender.send frames the body itself; headers {sorted(headers)} frame it too")
    head = [] if "host" in names else [("Host", "app")]
    if not content and method in _EXPECTING_BODY:
        head.append(("Content-Length", "0"))
    head.extend(headers.items())
    if content:
        head.append(("Content-Length", str(len(content))))
    return request_bytes(method, target, header_lines(head), content)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
