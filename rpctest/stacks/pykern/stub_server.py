"""A pykern.api stub server: a tornado WebSocket server answered by the stub router; needs no pykern.

:class:`PykernStubServer` is what a consumer's real ``pykern.api.client.Client`` (or any pykern.api
client) talks to when the provider is stubbed over the wire. It answers as pykern's server does,
byte for byte where the golden vectors pin the bytes:

* the handshake ``authenticate_connection``: a version other than ``version`` gets
  ``APIProtocolError: error=invalid version=V, expected=658584001`` and the connection is closed;
  with ``token=`` set, a wrong token gets ``APIForbidden: `` (the connection stays open) and
  handshake arguments without a token key get the ``APICallError`` pykern's attribute lookup
  produces; success is ``{}``. As in pykern, nothing requires the handshake before other calls;
* a CALL is answered from the router: ``Call(stack="pykern", service=<service>, operation=api_name,
  body=api_args, meta={"kind": "call", "session": <the connection's session>})`` (``"subscribe"``
  for a SUBSCRIBE). As pykern's server gives each connection one ``session``, each connection here
  has one :class:`~rpctest.stubs.session.StubSession`: a ``side_effect`` taking ``session`` keeps
  state in it from call to call on that socket, a new socket starts a new one, and its values'
  ``session_end`` hooks run when the socket closes. The first error of the
  reply becomes ``api_error`` (:func:`~rpctest.stacks.pykern.errors.to_api_error`), an
  ``APIProtocolError`` one is followed by a close; a reply without body and errors is pykern's
  ``missing reply``; an exception a stub raises becomes ``APICallError: error=unhandled_exception=…``;
* a stub is a subscription when its options carry ``items`` (or ``subscription=True``): a SUBSCRIBE
  gets one REPLY per item of ``Reply.items``, then the server's UNSUBSCRIBE; an exception among the
  items is the API raising at that point (an error REPLY ends the stream); a client UNSUBSCRIBE
  stops the stream with nothing more sent. ``interval`` (seconds between items) and ``delay``
  (seconds before answering) come from the reply's ``meta`` or the stub's options;
* the kind and name checks run in pykern's order: no ``api_name`` → ``APIProtocolError`` and close;
  no stub for that API at all → ``APINotFound: api_name=NAME``; a kind mismatch → ``APIKindError``;
  no ``api_args`` → ``APIProtocolError`` and close; a stub for the API whose ``match=`` differs →
  the caller error ``UnmatchedCall: <which stub came nearest and how the call differs>``;
* a frame pykern's server cannot read (not msgpack, not a map, ``call_id`` not a positive int, a
  kind the server does not accept, a text frame) closes the connection without a reply.

Every unmatched call and every frame that closed a connection is logged at WARNING on
``rpctest.serve`` and kept in :attr:`PykernStubServer.diagnostics`, so a test sees what pykern's
server would only have logged.

**A result msgpack cannot pack** (a set, ``object()``): pykern's server sends nothing at all and
the caller waits forever. The stub server does the same, because a stub must fail where the real
server fails, and records a diagnostic naming the API and the value, which the real server hides.

Two ways to run it: on the running asyncio loop (``await PykernStubServer.start_async(router)``,
``await server.astop()``), or on a private loop in a daemon thread (:func:`serve_stubs`,
:meth:`PykernStubServer.start`, ``stop()`` joins it) for sync code, the CLI and wide-scoped fixtures.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from typing import TYPE_CHECKING, Any, Coroutine
from urllib.parse import urlsplit

from rpctest.binding import check_bind_host
from rpctest.exceptions import ConfigError
from rpctest.loop_thread import LoopServer
from rpctest.model import Call, Reply, RpcError
from rpctest.stacks.base import HostedService
from rpctest.stacks.pykern import wire
from rpctest.stacks.pykern.client import STACK, require_tornado
from rpctest.stacks.pykern.errors import MISSING_REPLY, PROTOCOL_CLASSES, to_api_error
from rpctest.stacks.pykern.stubbing import remembered_service, serving_over_wire, stub_seconds
from rpctest.stacks.pykern.sync_client import PykernSyncClient
from rpctest.stubs.session import SESSION, StubSession
from rpctest.untrusted import contained

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stubs.router import Stub, StubRouter

__all__ = ["DEFAULT_PATH", "UNMATCHED_CODE", "PykernStubServer", "serve_stubs", "is_subscription_stub"]

_logger = logging.getLogger("rpctest.serve")

DEFAULT_PATH = "/api"
#: the error class name of a call that reached an API whose stubs all have a different ``match=``
UNMATCHED_CODE = "UnmatchedCall"
#: pykern truncates the text of an error argument after this many characters (pkdebug max_string)
_PK_MAX_STRING = 8000
_STOP_WAIT = 2.0


def is_subscription_stub(stub: "Stub") -> bool:
    """Whether ``stub`` answers SUBSCRIBE (pykern decides this per API, before calling it)."""
    options = stub.options or {}
    return options.get("items") is not None or bool(options.get("subscription"))


def _pk_text(value: Any) -> str:
    """An argument of a pykern error message as its pkdformat renders it (truncated long strings)."""
    text = str(value)
    return text if len(text) <= _PK_MAX_STRING else text[:_PK_MAX_STRING] + "<SNIP>"


def _pk_type(value: Any) -> str:
    """The type name pykern's messages show: decoded maps are its PKDict."""
    return "PKDict" if isinstance(value, dict) else type(value).__name__


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Answer:
    """What to send for one message: a reply (result or error), and whether to close after it."""

    __slots__ = ("result", "error", "close")

    def __init__(self, result: Any = None, error: str | None = None, *, close: bool = False) -> None:
        self.result = result
        self.error = error
        self.close = close


class _Connection:
    """One WebSocket: its handler, the tasks answering its messages, its running subscriptions."""

    def __init__(self, server: "PykernStubServer", handler: Any, number: int) -> None:
        self.server = server
        self.handler = handler
        self.number = number
        self.peer = getattr(getattr(handler, "request", None), "remote_ip", "?")
        self.tasks: set[asyncio.Task[Any]] = set()
        self.streams: dict[int, asyncio.Task[Any]] = {}
        self.closed = asyncio.get_running_loop().create_future()
        self.destroyed = False
        #: what pykern's server keeps per connection (``self.session``), for the stubs' side effects
        self.session = StubSession(f"pykern connection {number}")
        self._ws: Any = None  # tornado's protocol object, kept to drop the socket if the close handshake stalls

    def __str__(self) -> str:
        return f"connection #{self.number} from {self.peer}"

    def send(self, data: bytes) -> None:
        if self.destroyed or self.handler is None:
            return
        websocket = require_tornado()
        try:
            future = self.handler.write_message(data, binary=True)
        except websocket.WebSocketClosedError:
            return
        future.add_done_callback(_consume)

    def destroy(self) -> None:
        """Close the socket (a close frame, as pykern's server sends) and stop every message task."""
        if self.destroyed:
            return
        self.destroyed = True
        current = asyncio.current_task()
        for task in list(self.tasks):
            if task is not current:
                task.cancel()
        if self.handler is not None:
            self._ws = getattr(self.handler, "ws_connection", None)
            self.handler.close()

    def abort(self) -> None:
        """Drop the socket now (the peer did not answer the close frame)."""
        if self._ws is not None and not self.closed.done():
            self._ws._abort()

    def on_closed(self) -> None:
        self.destroy()
        self.handler = None
        self.session.end()  # last, as pykern's server does: it calls out of the server
        if not self.closed.done():
            self.closed.set_result(None)


def _consume(future: "asyncio.Future[Any]") -> None:
    if not future.cancelled():
        future.exception()


_handler_class_cache: list[type] = []


def _handler_class() -> type:
    """The tornado handler class (built on first use: tornado is imported lazily)."""
    if _handler_class_cache:
        return _handler_class_cache[0]
    websocket = require_tornado()

    class _StubHandler(websocket.WebSocketHandler):  # type: ignore[name-defined, misc]
        def initialize(self, server: "PykernStubServer") -> None:
            self.rpctest_server = server
            self.rpctest_connection: _Connection | None = None

        def open(self, *args: Any, **kwargs: Any) -> None:
            self.rpctest_connection = self.rpctest_server._opened(self)

        def on_message(self, message: bytes | str) -> None:
            if self.rpctest_connection is not None:
                self.rpctest_server._received(self.rpctest_connection, message)

        def on_close(self) -> None:
            if self.rpctest_connection is not None:
                self.rpctest_connection.on_closed()
                self.rpctest_server._connections.discard(self.rpctest_connection)

    _handler_class_cache.append(_StubHandler)
    return _StubHandler


class PykernStubServer(LoopServer, HostedService):
    """Serves ``router``'s pykern stubs at ``ws://HOST:PORT{path}`` until stopped (see the module docstring).

    ``service`` is the neutral service name of every call it answers (pykern has no service names);
    by default, the one service the router has pykern stubs for, else ``"api"``. ``token`` makes the
    handshake require that token; ``version`` is the protocol version it accepts. ``host``/``port``
    default to 127.0.0.1 and a free port. ``timeout`` bounds the calls of :attr:`client`;
    ``close_timeout`` is how long stopping waits for each client to answer the close frame before it
    drops the socket.
    """

    def __init__(
        self,
        router: "StubRouter",
        *,
        service: str | None = None,
        path: str = DEFAULT_PATH,
        token: Any = None,
        version: Any = wire.AUTH_API_VERSION,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 5.0,
        close_timeout: float = 2.0,
        public: bool = False,
    ) -> None:
        check_bind_host(host, server="pykern.api stub server", public=public)
        if not path.startswith("/"):
            raise ConfigError(f"the WebSocket path must start with '/', not {path!r}")
        self.router = router
        self._service = service
        self.path = path
        self.token = token
        self.version = version
        self.host = host
        self.port = port
        self.timeout = timeout
        self.close_timeout = close_timeout
        self.address: str | None = None
        self.diagnostics: list[str] = []
        self._http_server: Any = None
        self._connections: set[_Connection] = set()
        self._numbers = itertools.count(1)
        self._init_loop_state()
        self.thread_name = f"rpctest-pykern-stub-{service or 'api'}"

    @property
    def service(self) -> str:
        """The service calls are for: as given, else resolved per call as the in-process stubs do
        (configured address, the one stubbed pykern service, else this server's address); stubs
        started after the server count."""
        if self._service:
            return self._service
        return remembered_service(self.address or "", self.router)

    # -- running on the current loop ----------------------------------------------------------------

    @classmethod
    async def start_async(cls, router: "StubRouter", **options: Any) -> "PykernStubServer":
        """A server started on the running loop; stop it with ``await server.astop()``."""
        server = cls(router, **options)
        await server.astart()
        return server

    async def astart(self) -> "PykernStubServer":
        """Bind and start serving on the running loop."""
        require_tornado()
        import tornado.httpserver
        import tornado.web

        if self._stopped:
            raise RuntimeError(f"{self!r} was stopped; build a new one")
        if self._http_server is not None:
            return self
        self._loop = asyncio.get_running_loop()
        application = tornado.web.Application(
            [(self.path, _handler_class(), {"server": self})], log_function=lambda handler: None
        )
        sockets = _bind(self.host, self.port)
        server = tornado.httpserver.HTTPServer(application)
        server.add_sockets(sockets)
        self._http_server = server
        self.port = sockets[0].getsockname()[1]
        self.address = f"ws://{self.host}:{self.port}{self.path}"
        serving_over_wire.add(self.address)
        _logger.info("pykern.api stub server for service %r at %s", self.service, self.address)
        return self

    async def astop(self) -> None:
        """Stop listening, close every connection (close handshake, then drop), end every task."""
        server, self._http_server = self._http_server, None
        self._stopped = True
        if server is None:
            return
        serving_over_wire.discard(self.address)
        server.stop()
        connections = list(self._connections)
        for connection in connections:
            connection.destroy()
        waits = [connection.closed for connection in connections]
        if waits:
            _done, late = await asyncio.wait(waits, timeout=self.close_timeout)
            for connection in connections:
                connection.abort()
            if late:
                await asyncio.wait(waits, timeout=_STOP_WAIT)
        tasks = [task for connection in connections for task in connection.tasks]
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_WAIT)
        await server.close_all_connections()

    # -- running in a thread -------------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        return self._http_server is not None


    def _stop_wait(self) -> float:
        return self.close_timeout + 2 * _STOP_WAIT + 5

    # -- calling it ------------------------------------------------------------------------------------

    async_client_hint = "'await PykernWireClient.connect(server.address)'"

    def _make_client(self) -> PykernSyncClient:
        assert self.address is not None
        return PykernSyncClient(self.address, token=self.token, version=self.version, timeout=self.timeout, service=self.service)

    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """Call one API over the wire (a body of None sends ``{}``; ``kind="subscribe"`` collects items)."""
        meta.setdefault("kind", "call")
        timeout = meta.pop("timeout", None)
        call = Call(STACK, self.service, operation, {} if body is None else body, meta=meta)
        reply: Reply = self.client.call(call, timeout=timeout)
        return reply

    # -- connections -----------------------------------------------------------------------------------

    def _opened(self, handler: Any) -> _Connection:
        connection = _Connection(self, handler, next(self._numbers))
        self._connections.add(connection)
        return connection

    def _received(self, connection: _Connection, data: bytes | str) -> None:
        """Answer a message at once when nothing has to wait; what waits (a stub's ``delay``, a
        subscription's items) goes on in a task of its own, as pykern's server answers each message
        in a task (replies may overtake).

        A task per message cost a task and a turn of the loop on every call. While an earlier
        message of the connection is still in hand, this one waits its turn in a task too, so the
        order in which replies go out is the order tasks would have given them."""
        if connection.destroyed:
            return
        if connection.tasks:
            self._spawn(connection, self._handle_later(connection, data))
            return
        rest: Coroutine[Any, Any, None] | None = None
        with contained(f"{connection}: a message", self._diagnose, then="connection closed", failed=connection.destroy):
            rest = self._handle(connection, data)
        if rest is not None:
            self._spawn(connection, rest)

    def _spawn(self, connection: _Connection, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(self._process(connection, work))
        connection.tasks.add(task)
        task.add_done_callback(connection.tasks.discard)
        # a task cancelled before its first step never awaits ``work``: close it (no "never awaited")
        task.add_done_callback(lambda _task: work.close())

    def _diagnose(self, text: str) -> None:
        _logger.warning("%s", text)
        self.diagnostics.append(text)

    async def _process(self, connection: _Connection, work: Coroutine[Any, Any, None]) -> None:
        try:  # a message whose handling fails closes its connection, as pykern's server does; nothing more
            with contained(f"{connection}: a message", self._diagnose, then="connection closed", failed=connection.destroy):
                await work
        except asyncio.CancelledError:
            pass  # the connection closed or the subscription was cancelled: pykern sends nothing then

    async def _handle_later(self, connection: _Connection, data: bytes | str) -> None:
        rest = self._handle(connection, data)
        if rest is not None:
            await rest

    def _handle(self, connection: _Connection, data: bytes | str) -> Coroutine[Any, Any, None] | None:
        """Answer one message; what still has to wait for something is returned, to be awaited."""
        message, problem = wire.check(data, "server")
        if message is None:
            size = f"{len(data)} chars" if isinstance(data, str) else f"{len(data)} bytes"
            self._diagnose(
                f"{connection}: closed the connection without a reply, as pykern's server does, "
                f"on an invalid message ({size}): {problem}"
            )
            connection.destroy()
            return None
        if message.kind == wire.UNSUBSCRIBE:
            stream = connection.streams.pop(message.call_id, None)
            if stream is not None:
                stream.cancel()
            return None
        answer, call, stub = self._check_request(connection, message)
        if answer is None:
            if message.kind == wire.SUBSCRIBE:
                return self._stream(connection, message, call, stub)
            outcome = self._call(connection, message, call, stub)
            if not isinstance(outcome, _Answer):
                return outcome  # the answer waits for the stub's delay
            answer = outcome
        self._send_answer(connection, message, answer)
        return None

    async def _stream(self, connection: _Connection, message: wire.Message, call: Call | None, stub: "Stub | None") -> None:
        connection.streams[message.call_id] = asyncio.current_task()  # type: ignore[assignment]
        try:
            answer = await self._subscription(connection, message, call, stub)
        finally:
            connection.streams.pop(message.call_id, None)
        if answer is not None:
            self._send_answer(connection, message, answer)

    def _send_answer(self, connection: _Connection, message: wire.Message, answer: _Answer) -> None:
        try:
            data = wire.encode_reply(message.call_id, answer.result, answer.error)
        except wire.Unpackable as exc:
            self._diagnose(
                f"{connection}: the result of {message.get('api_name')!r} (call {message.call_id}) cannot be "
                f"msgpacked, so nothing was sent, as pykern's server sends nothing (its caller waits forever): "
                f"{exc}; result {_short(answer.result)}"
            )
            return
        connection.send(data)
        if answer.close:
            connection.destroy()

    # -- pykern's checks, in its order ---------------------------------------------------------------

    def _check_request(
        self, connection: _Connection, message: wire.Message
    ) -> tuple[_Answer | None, Call | None, "Stub | None"]:
        """The answer pykern's server gives before calling the API at all (or None to go on), the
        call as the router sees it and the stub it matches: each message is matched once."""
        name = message.get("api_name")
        if not name:
            return _Answer(error="APIProtocolError: error=missing msg field api_name", close=True), None, None
        try:
            hash(name)
        except TypeError:
            return _Answer(error=f"unhandled_exception=unhashable type: '{_pk_type(name)}'", close=True), None, None
        service = self.service
        stubs = self._stubs_for(name, service)
        call: Call | None = None
        stub: Stub | None = None
        if stubs:
            call = self._neutral_call(message, service, connection)
            stub = self.router.match(call)
            subscription = is_subscription_stub(stub or self.router.nearest(call, stubs) or stubs[0])
        elif name == wire.AUTH_API_NAME:
            subscription = False
        else:
            self._unknown_api(connection, message, service)
            return _Answer(error=f"APINotFound: api_name={_pk_text(name)}"), None, None
        if message.kind == wire.SUBSCRIBE and not subscription:
            return _Answer(error=f"APIKindError: error=cannot subscribe non-subscription api={_pk_text(name)}"), call, stub
        if message.kind == wire.CALL and subscription:
            return _Answer(error=f"APIKindError: error=call_api on subscription api={_pk_text(name)}"), call, stub
        if message.get("api_args") is None:
            return _Answer(error="APIProtocolError: error=missing msg field api_args", close=True), call, stub
        return None, call, stub

    def _stubs_for(self, name: Any, service: str) -> list["Stub"]:
        """The active stubs of API ``name``, oldest first (worked out once per set of stubs)."""
        if not isinstance(name, str):
            return []
        apis = self.router.memo(("pykern stub server", service), lambda: self._apis(service))
        return apis.get(name, [])

    def _apis(self, service: str) -> dict[str, list["Stub"]]:
        apis: dict[str, list[Stub]] = {}
        for stub in self.router.active(STACK):
            if stub.service == service:
                apis.setdefault(stub.action, []).append(stub)
        return apis

    def _neutral_call(self, message: wire.Message, service: str, connection: _Connection | None = None) -> Call:
        kind = "subscribe" if message.kind == wire.SUBSCRIBE else "call"
        meta: dict[str, Any] = {"kind": kind}
        if connection is not None:
            meta[SESSION] = connection.session
        return Call(STACK, service, message.get("api_name"), message.get("api_args"), meta=meta)

    def _unknown_api(self, connection: _Connection, message: wire.Message, service: str) -> None:
        name = message.get("api_name")
        if isinstance(name, str):
            explanation = self.router.explain_unmatched(self._neutral_call(message, service))
        else:
            explanation = f"api_name {name!r} is not a string"
        self._diagnose(f"{connection}: APINotFound for api {name!r}: {explanation}")

    # -- answering ---------------------------------------------------------------------------------------

    def _authenticate(self, api_args: Any) -> _Answer:
        """pykern's AuthAPI, clean-room: version first, then the token (if one is required)."""
        if not isinstance(api_args, dict):
            return _Answer(error=f"APICallError: error=unhandled_exception='{_pk_type(api_args)}' object has no attribute 'get'")
        version = api_args.get("version")
        if version != self.version:
            return _Answer(error=f"APIProtocolError: error={_pk_text(f'invalid version={version}, expected={self.version}')}", close=True)
        if self.token is not None:
            if "token" not in api_args:
                return _Answer(error="APICallError: error=unhandled_exception='PKDict' object has no attribute 'token'")
            if api_args["token"] != self.token:
                return _Answer(error="APIForbidden: ")
        return _Answer(result={})

    def _respond(self, connection: _Connection, call: Call, stub: "Stub | None") -> tuple[Reply | None, _Answer | None, Stub | None]:
        """The router's reply for the call ``stub`` matched, or the answer that replaces it (no
        match, a stub raising)."""
        if stub is None:
            explanation = self.router.explain_unmatched(call)
            self._diagnose(f"{connection}: {explanation}")
            return None, _Answer(error=f"{UNMATCHED_CODE}: {explanation}"), None
        try:
            return self.router.respond(stub, call), None, stub
        except Exception as exc:  # what pykern's server does with an exception that is not an APIError
            self._diagnose(f"{connection}: the stub for {call.service}.{call.operation} raised {exc!r}")
            return None, _Answer(error=f"APICallError: error=unhandled_exception={_pk_text(exc)}"), stub

    def _call(
        self, connection: _Connection, message: wire.Message, call: Call | None, stub: "Stub | None"
    ) -> "_Answer | Coroutine[Any, Any, None]":
        """The answer to a CALL, or (a stub with a ``delay``) the coroutine that sends it later."""
        if call is None:  # no stub has this name: the handshake (the only such API _check_request lets through)
            return self._authenticate(message.get("api_args"))
        reply, answer, stub = self._respond(connection, call, stub)
        if reply is None:
            assert answer is not None
            return answer
        delay = stub_seconds(reply, stub, "delay")
        if delay > 0:
            return self._answer_later(connection, message, reply, delay)
        return self._call_answer(connection, message, reply)

    async def _answer_later(self, connection: _Connection, message: wire.Message, reply: Reply, delay: float) -> None:
        await asyncio.sleep(delay)
        self._send_answer(connection, message, self._call_answer(connection, message, reply))

    def _call_answer(self, connection: _Connection, message: wire.Message, reply: Reply) -> _Answer:
        name = message.get("api_name")
        errors = reply.all_errors
        if errors:
            return _error_answer(errors[0])
        if reply.items is not None:
            self._diagnose(f"{connection}: the stub for {name!r} answered a CALL with items; it is a subscription")
            return _Answer(error=f"APIKindError: error=call_api on subscription api={_pk_text(name)}")
        if reply.body is None:
            return _Answer(error=MISSING_REPLY)
        return _Answer(result=reply.body)

    async def _subscription(
        self, connection: _Connection, message: wire.Message, call: Call | None, stub: "Stub | None"
    ) -> _Answer | None:
        name = message.get("api_name")
        assert call is not None  # a SUBSCRIBE reaches here only for an API with stubs
        reply, answer, stub = self._respond(connection, call, stub)
        if reply is None:
            return answer
        await self._delay(reply, stub)
        errors = reply.all_errors
        if errors:
            return _error_answer(errors[0])
        items = reply.items
        if items is None:
            if reply.body is not None:  # pykern: a subscription API must return None
                self._diagnose(f"{connection}: the subscription stub for {name!r} gave a body and no items")
                return _Answer(error=f"APICallError: error=return type={type(reply.body)} from subscription api must be None")
            items = ()
        interval = stub_seconds(reply, stub, "interval")
        for item in items:
            if isinstance(item, RpcError):
                return _error_answer(item)
            if isinstance(item, BaseException):
                return _Answer(error=f"APICallError: error=unhandled_exception={_pk_text(item)}")
            if item is None:
                return _Answer(error="APICallError: error=api_result may not be None")
            try:
                data = wire.encode_reply(message.call_id, item, None)
            except wire.Unpackable as exc:
                self._diagnose(
                    f"{connection}: a result of subscription {name!r} (call {message.call_id}) cannot be msgpacked; "
                    f"like pykern's server, the stream stops with nothing more sent: {exc}"
                )
                return None
            connection.send(data)
            await asyncio.sleep(interval)  # also lets an UNSUBSCRIBE in between stop the stream
        connection.send(wire.encode_end_of_subscription(message.call_id))
        return None

    async def _delay(self, reply: Reply, stub: "Stub | None") -> None:
        delay = stub_seconds(reply, stub, "delay")
        if delay > 0:
            await asyncio.sleep(delay)

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else ("running" if self.alive else "not started")
        return f"<PykernStubServer {self.service!r} at {self.address or '(unbound)'} ({state})>"


def _error_answer(error: RpcError) -> _Answer:
    return _Answer(error=to_api_error(error), close=error.code in PROTOCOL_CLASSES)


def _bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for host:port (one per address family, all on one port).

    tornado's ``bind_sockets`` does the same but leaks the socket when a bind fails (a port in
    use), which this suite turns into an error; so every socket made here is closed on failure.
    """
    sockets: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
        for family, kind, proto, _name, address in sorted(set(infos), key=lambda info: info[0]):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if address[1] == 0 and len(sockets) > 1:  # port 0: every family on the first one's port
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.setblocking(False)
            sock.bind(address)
            sock.listen(128)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets



def _bind_from_address(address: str | None) -> dict[str, Any]:
    if not address:
        return {}
    parts = urlsplit(address)
    if parts.scheme != "ws" or not parts.hostname:
        raise ConfigError(f"a pykern.api stub server address is ws://host:port/path, not {address!r}")
    options: dict[str, Any] = {"host": parts.hostname, "port": parts.port or 0}
    if parts.path:
        options["path"] = parts.path
    return options


def serve_stubs(router: "StubRouter", *, address: str | None = None, **options: Any) -> PykernStubServer:
    """A :class:`PykernStubServer` for ``router``, started on its own thread's loop.

    ``address`` (``ws://host:port/path``) picks where to listen; by default 127.0.0.1, a free port
    and ``/api``. Stop it with ``stop()`` (or ``with``).
    """
    return PykernStubServer(router, **{**_bind_from_address(address), **options}).start()

