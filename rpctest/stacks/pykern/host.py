"""pykern.api's host half: the user's real ``api_classes`` served in the test process.

pykern's own way (``pykern.api.unit_util.Setup``) forks a server process and sleeps 2 s per test;
``pykern.api.server.start`` calls ``asyncio.run`` and so cannot start from inside a running loop.
What can: pykern's ``_Server`` object, which needs only three methods of its loop object
(``http_server``, ``http_log``, ``remote_peer``). :class:`_LoopAdapter` supplies them, binding
127.0.0.1 port 0, so the real server (its dispatch, quest attributes, per-connection sessions,
subscriptions and error replies) runs on whichever asyncio loop we choose:

* the **running** loop of an async test (:func:`serve_async`): no thread, ready in milliseconds;
* a **background thread's** loop (:func:`serve`): for sync tests, the CLI, and module- or
  session-scoped fixtures whose lifetime outlives any one test's loop (fuzzing needs those).

Two transports reach it: ``"websocket"`` (a real ``pykern.api.client.Client`` over a real socket,
authenticated as pykern's client does) and ``"local"`` (no socket at all: a stand-in for tornado's
WebSocket handler is opened on the real server, and each call goes through pykern's own msgpack
codec, parsing, dispatch and error formatting, exactly as a frame from a socket would).

``_Server`` is private to pykern; tests/stack_pykern pins its use against the pykern the session
installs, so a change shows up as a failing smoke test, not as a mystery.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, AsyncIterator, Iterable, Literal

from rpctest.exceptions import ConfigError, StackUnavailable
from rpctest.loop_thread import LoopHosted, until_clients_closed
from rpctest.model import Call, ErrorKind, Reply, RpcError
from rpctest.stacks.base import HostedService
from rpctest.stacks.pykern.errors import PROTOCOL_CLASSES, parse_api_error

__all__ = ["PykernProvider", "PykernService", "close_client", "resolve_provider", "serve", "serve_async", "require_pykern"]

_logger = logging.getLogger("rpctest.pykern.host")

Transport = Literal["websocket", "local"]
TRANSPORTS = ("websocket", "local")
#: the most items a hosted call collects from one subscription before it unsubscribes
MAX_ITEMS = 1000


def require_pykern() -> Any:
    """Import ``pykern.api.server`` or say exactly what to install."""
    try:
        import pykern.api.server as server
    except ImportError as exc:
        from rpctest.stacks.environments import install_advice

        raise StackUnavailable(
            f"pykern.api is not importable ({exc}). {install_advice('pykern')} (pykern goes in light, with "
            f"--no-deps: pykern.api needs only tornado, msgpack>=1.0, py and six; run 'rpctest doctor' to check the install)"
        ) from exc
    return server


# -- what a provider is ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PykernProvider:
    """The API classes a pykern server serves, its attribute classes, and the logical service name."""

    api_classes: tuple[type, ...]
    attr_classes: tuple[type, ...]
    service: str


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index and not name[index - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def resolve_provider(provider: Any, *, attr_classes: Iterable[type] | None = None, service: str | None = None) -> PykernProvider:
    """What a user names as a pykern provider, made explicit.

    Accepted: an API class (a ``pykern.quest.API`` subclass), a list or tuple of them, or any object
    (a module, a class, a namespace) with an ``api_classes`` attribute and optionally
    ``attr_classes`` and ``service_name``; ``"module:object"`` strings are imported. The service name
    is ``service``, else the provider's ``service_name``, else the first API class's name in
    snake case without an ``API`` suffix (``EchoAPI`` -> ``echo``).
    """
    from rpctest.contracts.export import import_object

    if isinstance(provider, str):
        provider = import_object(provider)
    require_pykern()
    import pykern.quest

    named = getattr(provider, "service_name", None)
    extra_attrs: Iterable[type] = ()
    if isinstance(provider, type) and issubclass(provider, pykern.quest.API):
        apis: Iterable[Any] = (provider,)
    elif isinstance(provider, (list, tuple)):
        apis = provider
    elif hasattr(provider, "api_classes"):
        apis = provider.api_classes
        extra_attrs = getattr(provider, "attr_classes", ()) or ()
    else:
        raise ConfigError(
            f"a pykern provider is a pykern.quest.API subclass, a list of them, or an object with "
            f"api_classes (and attr_classes); got {provider!r}"
        )
    api_classes = tuple(apis)
    bad = [c for c in api_classes if not (isinstance(c, type) and issubclass(c, pykern.quest.API))]
    if bad or not api_classes:
        raise ConfigError(f"api_classes must be pykern.quest.API subclasses; not {bad or api_classes!r}")
    attrs = tuple(attr_classes if attr_classes is not None else extra_attrs)
    if service is None:
        service = named if isinstance(named, str) and named else None
    if service is None:
        base = api_classes[0].__name__
        for suffix in ("API", "Api"):
            if base.endswith(suffix) and base != suffix:
                base = base[: -len(suffix)]
        service = _snake(base)
    return PykernProvider(api_classes, attrs, service)


# -- the loop object pykern's _Server asks for -------------------------------------------------------


class _LoopAdapter:
    """``http_server``, ``http_log`` and ``remote_peer``: all of ``pkasyncio.Loop`` that ``_Server`` uses."""

    def __init__(self, *, bind: bool) -> None:
        self.bind = bind
        self.http: Any = None
        self.port: int | None = None
        self.application: Any = None

    def http_server(self, http_config: Any) -> None:
        import tornado.httpserver
        import tornado.netutil
        import tornado.web

        self.application = tornado.web.Application(http_config.uri_map, log_function=http_config.log_function)
        if not self.bind:
            return
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self.http = tornado.httpserver.HTTPServer(self.application)
        self.http.add_sockets(sockets)

    def http_log(self, *args: Any, **kwargs: Any) -> None:
        """pykern logs every request through here; the test's output stays quiet."""

    def remote_peer(self, request: Any) -> str:
        connection = getattr(request, "connection", None)
        stream = getattr(connection, "stream", None)
        sock = getattr(stream, "socket", None)
        if sock is not None:
            try:
                return "{}:{}".format(*sock.getpeername()[:2])
            except OSError:
                pass
        return "rpctest-local:0"


# -- the socket-less connection ----------------------------------------------------------------------


class _LocalHandler:
    """What pykern's server needs of a tornado WebSocket handler: messages are kept, not sent."""

    def __init__(self) -> None:
        self.pykern_api_context: Any = None
        self.request = SimpleNamespace(connection=None, headers={}, remote_ip="rpctest-local", uri="/local")
        self.closed = False
        self.messages: asyncio.Queue[bytes] = asyncio.Queue()

    def write_message(self, message: bytes, binary: bool = False) -> None:
        if not self.closed:
            self.messages.put_nowait(bytes(message))

    def close(self, *args: Any) -> None:
        self.closed = True


class _LocalConnection:
    """One pykern connection without a socket: frames go through pykern's own codec both ways."""

    def __init__(self, server: Any) -> None:
        from pykern.pkcollections import PKDict

        self.handler = _LocalHandler()
        self.handler.pykern_api_context = PKDict()
        self.connection = server.handle_open(self.handler)
        if self.connection is None:
            raise RuntimeError("pykern's server refused to open a local connection")
        self._ids = itertools.count(1)

    @property
    def closed(self) -> bool:
        return self.handler.closed

    async def exchange(self, api_name: str, api_args: Any, subscribe: bool, timeout: float) -> Reply:
        from pykern.api import util
        from pykern.pkcollections import PKDict

        call_id = next(self._ids)
        kind = util.MsgKind.SUBSCRIBE if subscribe else util.MsgKind.CALL
        frame = util.msg_pack(PKDict(api_name=api_name, api_args=api_args, call_id=call_id, msg_kind=kind))
        try:
            await asyncio.wait_for(self.connection.handle_on_message(frame), timeout)
        except asyncio.TimeoutError:
            return _timeout_reply(api_name, timeout)
        items: list[Any] = []
        while not self.handler.messages.empty():
            message, error = util.msg_unpack(self.handler.messages.get_nowait(), "client")
            if error:
                return _transport_reply(f"pykern's server sent a frame its own client refuses: {error}")
            if message.msg_kind.is_unsubscribe():
                return Reply(body=items, items=items)
            if message.get("api_error"):
                return Reply(errors=[parse_api_error(message.api_error)])
            if not subscribe:
                return Reply(body=_plain(message.api_result))
            items.append(_plain(message.api_result))
        if self.closed:
            return _disconnected_reply("pykern's server closed the connection without a reply")
        return _transport_reply(
            f"pykern's server sent no reply to {api_name!r} (it drops a reply it cannot pack with msgpack)"
        )

    def close(self) -> None:
        self.connection.destroy()


# -- replies -----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """PKDicts as plain dicts, all the way down (the neutral model holds plain values)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _transport_reply(message: str) -> Reply:
    return Reply(errors=[RpcError("TRANSPORT", message, kind=ErrorKind.TRANSPORT)])


def _timeout_reply(api_name: str, timeout: float) -> Reply:
    return _transport_reply(f"no reply to {api_name!r} within {timeout:g}s")


def _disconnected_reply(message: str) -> Reply:
    return Reply(errors=[RpcError("APIDisconnected", message, kind=ErrorKind.TRANSPORT)])


# -- the hosted service ------------------------------------------------------------------------------


class PykernService(LoopHosted, HostedService):
    """A real pykern.api server in this process; :meth:`call` goes through its whole stack.

    ``address`` is ``ws://127.0.0.1:PORT/api`` for the websocket transport (None for local);
    ``client`` is a connected, authenticated ``pykern.api.client.Client`` on the websocket
    transport, usable from the loop the service runs on (:attr:`loop`).
    """

    stack_title = "pykern.api"

    def __init__(
        self,
        provider: PykernProvider,
        *,
        transport: Transport = "websocket",
        path: str = "/api",
        token: str | None = None,
        timeout: float = 5.0,
        record: bool = False,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ConfigError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
        if not path.startswith("/"):
            raise ConfigError(f"path must start with '/', not {path!r}")
        self.provider = provider
        self.service_name = provider.service
        self.transport = transport
        self.path = path
        self.token = token
        self.timeout = timeout
        self.record = record
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._adapter: _LoopAdapter | None = None
        self._server: Any = None
        self._connections: list[Any] = []
        self._local: _LocalConnection | None = None
        self._stopped = False

    # starting ----------------------------------------------------------------------------------

    async def _start(self) -> None:
        """Build the real server on the running loop (and, for websocket, connect a client)."""
        server_module = require_pykern()
        from pykern.pkcollections import PKDict

        self.loop = asyncio.get_running_loop()
        self._adapter = _LoopAdapter(bind=self.transport == "websocket")
        self._server = server_module._Server(
            self._adapter, self.provider.api_classes, self.provider.attr_classes, PKDict(api_uri=self.path)
        )
        opened = self._server.handle_open

        def handle_open(handler: Any) -> Any:  # remembered, so stop() can close what clients left open
            connection = opened(handler)
            if connection is not None:
                self._connections.append(connection)
            return connection

        self._server.handle_open = handle_open
        if self.transport == "websocket":
            self.address = f"ws://127.0.0.1:{self._adapter.port}{self.path}"
            self.client = await self._connect()

    async def _connect(self) -> Any:
        from pykern.api.client import Client
        from pykern.pkcollections import PKDict

        client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=self._adapter.port, api_uri=self.path))  # type: ignore[union-attr]
        try:
            await asyncio.wait_for(client.connect(PKDict(token=self.token)), self.timeout)
        except BaseException as exc:
            client.destroy()
            import pykern.util

            if isinstance(exc, pykern.util.APIError) and str(exc).startswith("APIForbidden"):
                # the provider's own AuthAPI refused: the caller's setup, said as a usage error
                sent = "the token sent" if self.token is not None else "a connection without a token"
                raise ConfigError(
                    f"{self.service_name}'s authenticate_connection refused {sent} ({exc}): the provider authenticates "
                    "itself; give its token (--token VALUE, or client_token=)"
                ) from None
            raise
        return client

    def api_names(self) -> dict[str, bool]:
        """Every API the server dispatches, with whether it is a subscription."""
        return {name: bool(api.is_subscription) for name, api in self._server.api_map.items()}

    # calling -----------------------------------------------------------------------------------

    async def acall(self, operation: str, body: Any = None, *, timeout: float | None = None, subscribe: bool | None = None) -> Reply:
        """Call one API on the service's own loop; a subscription collects its items (``Reply.items``).

        ``subscribe`` defaults to what the server declares for ``operation``; errors, timeouts and
        disconnects come back in the :class:`Reply`, never raised, and never hang.
        """
        self._check_usable()
        wait = self.timeout if timeout is None else timeout
        if subscribe is None:
            subscribe = self.api_names().get(operation, False)
        args = {} if body is None else body
        if self.transport == "local":
            if self._local is None or self._local.closed:
                self._local = _LocalConnection(self._server)
            reply = await self._local.exchange(operation, args, subscribe, wait)
        else:
            reply = await self._ws_call(operation, args, subscribe, wait)
        if self.record:
            from rpctest.contracts.recorder import observe

            meta = {"kind": "subscribe"} if subscribe else {}
            # "local": a call through rpctest's in-process host (contract files know stub, client, local)
            observe(Call("pykern", self.service_name, operation, body, meta=meta), reply, source="local")
        return reply

    async def _ws_call(self, operation: str, args: Any, subscribe: bool, timeout: float) -> Reply:
        import pykern.util
        from pykern.api.util import APIDisconnected

        if self.client is None or getattr(self.client, "_destroyed", False):
            self.client = await self._connect()
        client = self.client
        try:
            if not subscribe:
                result = await asyncio.wait_for(client.call_api(operation, args), timeout)
                return Reply(body=_plain(result))
            return await asyncio.wait_for(self._collect(client, operation, args), timeout)
        except asyncio.TimeoutError:
            return _timeout_reply(operation, timeout)
        except APIDisconnected:
            self._drop_client(client)
            return _disconnected_reply("the connection closed before the reply")
        except pykern.util.APIError as exc:
            error = parse_api_error(str(exc))
            if error.code in PROTOCOL_CLASSES:  # the server closes after it: the next call reconnects
                self._drop_client(client)
            return Reply(errors=[error])

    def _drop_client(self, client: Any) -> None:
        stream = _client_stream(client)
        client.destroy()
        if self.client is client:
            self.client = None
        if stream is not None:
            asyncio.ensure_future(_closed(stream))

    @staticmethod
    async def _collect(client: Any, operation: str, args: Any) -> Reply:
        items: list[Any] = []
        call = await client.subscribe_api(operation, args)
        with call:
            while len(items) < MAX_ITEMS:
                item = await call.result_get()
                if item is None:
                    break
                items.append(_plain(item))
        return Reply(body=items, items=items)

    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """:meth:`acall` from synchronous code (a service started by :func:`serve`, on its thread)."""
        self._check_usable()
        if self._thread is None:
            raise RuntimeError(
                "this pykern service runs on the test's own event loop (serve_async): use 'await service.acall(...)'"
            )
        timeout = meta.pop("timeout", None)
        subscribe = meta.pop("kind", None)
        future = asyncio.run_coroutine_threadsafe(
            self.acall(operation, body, timeout=timeout, subscribe=None if subscribe is None else subscribe == "subscribe"),
            self.loop,  # type: ignore[arg-type]
        )
        return future.result()

    def _check_usable(self) -> None:
        if self._stopped:
            raise RuntimeError(f"{self!r} is stopped")
        if self._server is None:
            raise RuntimeError(f"{self!r} is not started")

    # stopping ----------------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        """Close our client, every server connection and the listening socket; let closes finish."""
        if self.client is not None:
            client, self.client = self.client, None
            await close_client(client)
        if self._local is not None:
            self._local.close()
            self._local = None
        streams = [getattr(getattr(getattr(c, "handler", None), "ws_connection", None), "stream", None) for c in self._connections]
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                connection.destroy()
        self._connections.clear()
        if self._adapter is not None and self._adapter.http is not None:
            self._adapter.http.stop()
            await self._adapter.http.close_all_connections()
        # let the close handshakes finish (bounded): clients on this loop, including ones pykern
        # destroyed itself (a refused handshake), see the server close and release their sockets
        deadline = asyncio.get_running_loop().time() + 1.0
        open_streams = [stream for stream in streams if stream is not None]
        while any(not stream.closed() for stream in open_streams) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.005)
        if self._adapter is not None and self._adapter.port is not None:
            await until_clients_closed(self._adapter.port)
        current = asyncio.current_task()
        for _ in range(3):
            await asyncio.sleep(0.001)
        pending = [t for t in asyncio.all_tasks() if t is not current and _is_ours(t)]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def __repr__(self) -> str:
        where = self.address or "local transport"
        state = " stopped" if self._stopped else ""
        return f"<PykernService {self.service_name} {where}{state}>"


def _client_stream(client: Any) -> Any:
    """The TCP stream under a pykern ``Client``'s WebSocket, taken before ``destroy()``: tornado's
    ``close()`` drops the connection's protocol, the only way to the stream, at once."""
    return getattr(getattr(getattr(client, "_connection", None), "protocol", None), "stream", None)


async def _closed(stream: Any, wait: float = 1.0) -> None:
    """Let a tornado stream under a closing WebSocket client finish closing, then drop its socket if it
    has not: pykern's ``Client.destroy`` only starts the close handshake, and a socket left to the
    garbage collector is a ResourceWarning in the user's test run."""
    deadline = asyncio.get_running_loop().time() + wait
    while not stream.closed() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.005)
    if not stream.closed():
        stream.close()


async def close_client(client: Any) -> None:
    """Destroy a ``pykern.api.client.Client`` and wait until its socket is closed.

    pykern's ``destroy()`` only starts the WebSocket close handshake; when the loop ends (an async
    test returning, ``asyncio.run`` finishing) before it completes, the socket is left to the garbage
    collector: a ResourceWarning in a strict test run. Await this instead of calling ``destroy()``.
    """
    stream = _client_stream(client)
    client.destroy()
    if stream is not None:
        await _closed(stream)


def _is_ours(task: asyncio.Task[Any]) -> bool:
    """Tasks pykern or tornado left behind for this server (reading loops, message handlers)."""
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", "") or ""
    module = getattr(getattr(coro, "cr_code", None), "co_filename", "") or ""
    return "pykern" in module or "tornado" in module or name.startswith(("_ServerConnection", "Client._read_loop"))


# -- entry points ------------------------------------------------------------------------------------


def serve(
    provider: Any,
    *,
    transport: Transport = "websocket",
    attr_classes: Iterable[type] | None = None,
    service: str | None = None,
    path: str = "/api",
    token: str | None = None,
    timeout: float = 5.0,
    record: bool = False,
    client_token: str | None = None,
) -> PykernService:
    """Serve ``provider`` on a background thread's event loop and return it, ready.

    For synchronous tests, the CLI and fixtures wider than one test's loop. ``transport="local"``
    skips the socket; ``token`` makes the server require it (an ``AuthAPI`` subclass is added
    unless the provider brings its own ``api_authenticate_connection``) and its client send it;
    ``client_token`` is sent by the client without being required (a provider's own AuthAPI checks it).
    """
    resolved = _with_token(resolve_provider(provider, attr_classes=attr_classes, service=service), token)
    sent = client_token if client_token is not None else token
    hosted = PykernService(resolved, transport=transport, path=path, token=sent, timeout=timeout, record=record)
    hosted.start_in_thread(f"rpctest-pykern-{resolved.service}")
    return hosted


@contextlib.asynccontextmanager
async def serve_async(
    provider: Any,
    *,
    transport: Transport = "websocket",
    attr_classes: Iterable[type] | None = None,
    service: str | None = None,
    path: str = "/api",
    token: str | None = None,
    timeout: float = 5.0,
    record: bool = False,
) -> AsyncIterator[PykernService]:
    """Serve ``provider`` on the **running** loop (an async test's own) for the ``async with`` block."""
    resolved = _with_token(resolve_provider(provider, attr_classes=attr_classes, service=service), token)
    hosted = PykernService(resolved, transport=transport, path=path, token=token, timeout=timeout, record=record)
    try:
        await hosted._start()
        yield hosted
    finally:
        await hosted.astop()


def _with_token(provider: PykernProvider, token: str | None) -> PykernProvider:
    """Add an ``AuthAPI`` that requires ``token`` unless the provider authenticates itself."""
    if token is None:
        return provider
    if any(hasattr(cls, "api_authenticate_connection") for cls in provider.api_classes):
        raise ConfigError(
            "token= adds an AuthAPI requiring that token, but the provider already defines "
            "api_authenticate_connection; leave token= out and authenticate with its own AuthAPI"
        )
    from pykern.api.auth_api import AuthAPI

    required = token

    class TokenAuthAPI(AuthAPI):
        def token(self) -> str:
            return required

    return PykernProvider((*provider.api_classes, TokenAuthAPI), provider.attr_classes, provider.service)
