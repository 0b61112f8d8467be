"""The host half: a user's real ``asyncapy.server.Server`` running in the test process.

AsyncAPY is trio all the way down, and rpctest's tests and clients are asyncio (or blocking), so
the server runs under ``trio.run`` on a thread of its own, serving its real ``_handle_client``
(handlers, filters, groups, timeouts, session limit: everything its own ``start()`` would run)
either

* on ``127.0.0.1`` port 0 through ``trio.serve_tcp`` (``transport="tcp"``, the default): any
  AsyncAProto client can connect to :attr:`AsyncAPYService.address`; or
* without a socket (``transport="local"``): each exchange gets a ``trio.testing.memory_stream_pair``
  whose server end is handed to the same ``_handle_client``. AsyncAPY asks that end for
  ``.socket.getsockname()`` (the address it keys sessions on), so it gets a stand-in that answers
  ``("127.0.0.1", 0)``; like ``trio.serve_tcp``, the stream is closed when the handler returns.

Both give the same bytes back for the same bytes sent (a test compares them over many requests).

Three things AsyncAPY does to the process are handled here, and said, rather than hidden:

* ``Server.__init__`` calls ``socket.setdefaulttimeout(timeout)`` for the whole process; every
  socket a test opens afterwards would inherit it. :func:`isolated_server` puts the previous
  default back, and the host resets it when it finds AsyncAPY's value there.
* ``Server._handlers`` and ``Server._sessions`` are class attributes: handlers registered on one
  ``Server()`` show up in the next. :func:`isolated_server` makes a server whose handlers and
  sessions are its own.
* it logs every connection on the *root* logger (``logging.error`` for a raising handler): the CLI
  drops those records (:func:`quiet_logs`), tests keep them (pytest shows them on failure).

``setup()`` is awaited before the first connection and ``shutdown()`` after the last, as the
server's own ``start()`` does for setup (and, on Ctrl+C, for shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from rpctest.exceptions import CallTimeout, ConfigError, StackUnavailable
from rpctest.model import Call, ErrorKind, Reply, RpcError
from rpctest.stacks.asyncapy.client import (
    AsyncAPYSyncClient,
    Exchange,
    build_exchange,
    format_address,
    reply_from_exchange,
    split_writes,
)
from rpctest.stacks.asyncapy.wire import Framing
from rpctest.stacks.base import HostedService

__all__ = [
    "AsyncAPYProvider",
    "AsyncAPYService",
    "SESSION_LEAKED",
    "isolated_server",
    "quiet_logs",
    "require_asyncapy",
    "resolve_provider",
    "serve",
    "TRANSPORTS",
]

_logger = logging.getLogger("rpctest.asyncapy.host")

#: the code of the server error a hosted call reports when AsyncAPY kept its session (a host observation)
SESSION_LEAKED = "SESSION_LEAKED"

TRANSPORTS = ("tcp", "local")
#: how long start() waits for the server's thread to listen, and stop() for it to end
_START_WAIT = 10.0
_STOP_WAIT = 10.0
#: the address a hosted server's in-memory connections report as theirs (AsyncAPY keys sessions on it)
_LOCAL_SOCKNAME = ("127.0.0.1", 0)
#: where rpctest hosts a server (and what a factory's address parameter gets)
LOOPBACK = "127.0.0.1"

def require_asyncapy() -> Any:
    """The ``asyncapy`` package (and trio), or StackUnavailable saying how to install them."""
    try:
        import trio  # noqa: F401
        import asyncapy
        import asyncapy.server  # noqa: F401
    except ImportError as exc:
        from rpctest.stacks.environments import install_advice

        raise StackUnavailable(f"hosting an AsyncAPY server needs AsyncAPY and trio ({exc}). {install_advice('asyncapy')}") from exc
    return asyncapy


def isolated_server(**options: Any) -> Any:
    """A new ``asyncapy.Server(**options)`` whose handlers and sessions are its own.

    AsyncAPY keeps both in class attributes, so handlers registered on one ``Server()`` are also
    dispatched by every later one: tests that build several servers see each other's handlers. This
    builds it from a fresh subclass, and undoes the process-wide ``socket.setdefaulttimeout`` its
    constructor makes.
    """
    asyncapy = require_asyncapy()
    fresh = type("Server", (asyncapy.Server,), {"_handlers": {}, "_sessions": defaultdict(list), "__module__": __name__})
    before = socket.getdefaulttimeout()
    try:
        return fresh(**options)
    finally:
        socket.setdefaulttimeout(before)


def quiet_logs() -> None:
    """Drop AsyncAPY's records from the root logger (it logs every connection there): the child
    process of a framing run, whose output nobody reads."""
    root = logging.getLogger()
    if not any(isinstance(f, _AsyncAPYRecords) for f in root.filters):
        root.addFilter(_AsyncAPYRecords())


def divert_logs(handler: logging.Handler) -> Callable[[], None]:
    """Send AsyncAPY's records on the root logger to ``handler`` instead (a command's log file);
    return the undo."""
    diverter = _AsyncAPYRecords(handler)
    root = logging.getLogger()
    root.addFilter(diverter)
    return lambda: root.removeFilter(diverter)


class _AsyncAPYRecords(logging.Filter):
    """Takes AsyncAPY's records off the root logger (to ``handler``, if any); the others pass."""

    def __init__(self, handler: logging.Handler | None = None) -> None:
        super().__init__()
        self.handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        if "asyncapy" not in record.pathname.replace("\\", "/").split("/"):
            return True
        if self.handler is not None:
            self.handler.handle(record)
        return False


# -- what is hosted --------------------------------------------------------------------------------------


@dataclass
class AsyncAPYProvider:
    """A server to host, with the neutral service name its calls and contracts carry."""

    server: Any
    service_name: str

    @property
    def framing(self) -> Framing:
        """What clients of this server must speak (AsyncAPY fixes header size and byte order per server)."""
        return Framing(header_size=self.server.header_size, byteorder=self.server.byteorder)


#: what a server factory is given, by parameter name, as ``asyncapy.Server(addr, port)`` takes it:
#: rpctest hosts on loopback, on a port of its own choosing
FACTORY_SUPPLIES = {"addr": lambda: LOOPBACK, "host": lambda: LOOPBACK, "address": lambda: LOOPBACK, "port": lambda: 0}


def resolve_provider(provider: Any, *, service: str | None = None) -> AsyncAPYProvider:
    """What a user names as an AsyncAPY provider: an ``asyncapy.Server`` instance, a callable
    returning one (given the address parameters ``asyncapy.Server`` takes, :data:`FACTORY_SUPPLIES`),
    or ``"module:object"`` naming either. The service name is ``service``, else the server's
    ``service_name`` attribute, else ``"asyncapy"``."""
    from rpctest.contracts.export import import_object
    from rpctest.stacks.factories import call_factory
    from rpctest.stacks.asyncapy.client import DEFAULT_SERVICE

    if isinstance(provider, AsyncAPYProvider):
        return provider if service is None else AsyncAPYProvider(provider.server, service)
    asyncapy = require_asyncapy()
    if isinstance(provider, str):
        provider = import_object(provider)
    server = provider
    if not isinstance(server, asyncapy.Server) and callable(server) and not isinstance(server, type):
        server = call_factory(server, FACTORY_SUPPLIES, stack="AsyncAPY")
    if not isinstance(server, asyncapy.Server):
        raise ConfigError(
            f"an AsyncAPY provider is an asyncapy.Server instance (or a function returning one), not {provider!r}; "
            f"build it with rpctest.stacks.asyncapy.isolated_server() or asyncapy.Server()"
        )
    named = getattr(server, "service_name", None)
    return AsyncAPYProvider(server, service or (named if isinstance(named, str) and named else DEFAULT_SERVICE))


# -- the in-memory socket stand-in --------------------------------------------------------------------------


class _LocalSocket:
    """What AsyncAPY asks a stream's ``.socket`` for: its own address (it never touches the rest)."""

    def getsockname(self) -> tuple[str, int]:
        return _LOCAL_SOCKNAME


# -- the hosted service ----------------------------------------------------------------------------------


class AsyncAPYService(HostedService):
    """A real AsyncAPY server under ``trio.run`` on a thread of its own (see the module docstring).

    ``address`` (tcp) is ``asyncapy://127.0.0.1:PORT`` with the server's framing; ``call`` sends
    a packet through the full server and returns the neutral reply; ``exchange``/``request`` return
    the raw :class:`~.client.Exchange` (bytes, frames, how it ended) for framing tests;
    ``open_sessions`` counts what AsyncAPY holds in its session table (it leaks entries when a handler
    raises). ``timeout`` bounds each call from the client's side (the server has its own).
    """

    def __init__(
        self,
        provider: AsyncAPYProvider,
        *,
        transport: str = "tcp",
        timeout: float = 5.0,
        record: bool = False,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ConfigError(f"an AsyncAPY server is hosted over transport 'tcp' or 'local', not {transport!r}")
        if timeout is None or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.provider = provider
        self.server = provider.server
        self.service_name = provider.service_name
        self.framing = provider.framing
        self.transport = transport
        self.timeout = float(timeout)
        self.record = record
        self.address: str | None = None
        self.port: int | None = None
        self._thread: threading.Thread | None = None
        self._token: Any = None
        self._cancel: Any = None
        self._nursery: Any = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._client: AsyncAPYSyncClient | None = None
        self._stopped = False

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> "AsyncAPYService":
        """Run the server's thread and wait until it serves (or say why it could not)."""
        import trio

        if self._thread is not None:
            raise RuntimeError(f"{self!r} is already started")
        _undo_default_timeout(self.server)
        self._thread = threading.Thread(target=trio.run, args=(self._main,), name=f"rpctest-asyncapy {self.service_name}", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_WAIT):
            self.stop()  # cancels a setup() still running and ends the thread
            raise CallTimeout(f"the AsyncAPY server {self.service_name!r} did not start within {_START_WAIT:g} s (its setup() hangs?)")
        if self._failure is not None:
            self._thread.join(_STOP_WAIT)
            failure, self._failure = self._failure, None
            raise ConfigError(f"the AsyncAPY server {self.service_name!r} could not start: {failure!r}") from failure
        if self.transport == "tcp":
            self.address = format_address("127.0.0.1", self.port or 0, self.framing)
            self._client = AsyncAPYSyncClient("127.0.0.1", self.port or 0, framing=self.framing, timeout=self.timeout, service=self.service_name)
        return self

    async def _main(self) -> None:
        import trio

        self._token = trio.lowlevel.current_trio_token()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._cancel = nursery.cancel_scope  # set first: stop() can cancel a setup() that hangs
                await self.server.setup()
                if self.transport == "tcp":
                    listeners = await nursery.start(_serve_tcp, self.server._handle_client)
                    self.port = listeners[0].socket.getsockname()[1]
                self._ready.set()
                await trio.sleep_forever()
        except BaseException as exc:  # noqa: BLE001 - reported to start(), which re-raises it
            while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:  # trio groups what a nursery raises
                exc = exc.exceptions[0]
            if not self._ready.is_set():
                self._failure = exc
            else:
                _logger.error("the AsyncAPY server %r failed: %r", self.service_name, exc)
        finally:
            self._ready.set()
            try:
                with trio.move_on_after(_STOP_WAIT) as scope:
                    scope.shield = True
                    await self.server.shutdown()
            except Exception as exc:  # noqa: BLE001 - a user's shutdown hook: say it, keep stopping
                _logger.error("the AsyncAPY server %r shutdown() raised %r", self.service_name, exc)

    def stop(self) -> None:
        """Close every connection, await ``shutdown()``, end the thread (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._client is not None:
            self._client.close()
            self._client = None
        thread = self._thread
        if thread is None:
            return
        if thread.is_alive() and self._token is not None and self._cancel is not None:
            import trio

            try:
                trio.from_thread.run_sync(self._cancel.cancel, trio_token=self._token)
            except trio.RunFinishedError:
                pass
        thread.join(_STOP_WAIT)
        if thread.is_alive():  # pragma: no cover - a handler that shields itself from cancellation
            _logger.warning("the AsyncAPY server %r did not stop within %g s", self.service_name, _STOP_WAIT)

    def __enter__(self) -> "AsyncAPYService":
        return self if self._thread is not None else self.start()

    # -- exchanges -------------------------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._stopped:
            raise RuntimeError(f"{self!r} is stopped")
        if self._thread is None:
            raise RuntimeError(f"{self!r} is not started")

    def exchange(
        self,
        data: bytes | Sequence[bytes] = b"",
        *,
        chunks: int | None = None,
        pause: float = 0.0,
        shut_wr: bool = False,
        timeout: float | None = None,
    ) -> Exchange:
        """Send bytes as they are through the hosted server's transport; collect what comes back
        (the arguments of :meth:`~.client.AsyncAPYClient.send_raw`)."""
        self._check_usable()
        if self._client is not None:
            return self._client.send_raw(data, chunks=chunks, pause=pause, shut_wr=shut_wr, timeout=timeout)
        wait = self.timeout if timeout is None else float(timeout)
        if wait <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        import trio

        pieces = split_writes(data, chunks)
        try:
            received, end, elapsed, send_error = trio.from_thread.run(
                self._local_exchange, pieces, pause, shut_wr, wait, trio_token=self._token
            )
        except trio.RunFinishedError:
            raise RuntimeError(f"{self!r} has stopped: its server thread ended") from None
        return build_exchange(
            f"local:{self.service_name}", self.framing, sent=b"".join(pieces), received=received, end=end,
            elapsed=elapsed, send_error=send_error, waited=wait,
        )

    async def _local_exchange(self, pieces: list[bytes], pause: float, shut_wr: bool, wait: float) -> tuple[bytes, str, float, str | None]:
        import trio
        import trio.testing

        client, server_end = trio.testing.memory_stream_pair()
        server_end.socket = _LocalSocket()
        server_end.rpctest_closed = False  # what leaked_sessions() asks of a memory stream
        self._nursery.start_soon(_run_handler, self.server._handle_client, server_end)
        started = trio.current_time()
        received = bytearray()
        end = "timeout"
        send_error: str | None = None
        ended_at: float | None = None
        with trio.move_on_after(wait):
            try:
                for index, piece in enumerate(pieces):
                    if index and pause:
                        await trio.sleep(pause)
                    await client.send_all(piece)
                if shut_wr:
                    await client.send_stream.aclose()
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                send_error = f"the server closed the connection before every byte was sent ({type(exc).__name__})"
            while True:
                try:
                    chunk = await client.receive_some()
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    chunk = b""
                if not chunk:
                    end, ended_at = "closed", trio.current_time()
                    break
                received += chunk
        await trio.aclose_forcefully(client)
        return bytes(received), end, (ended_at if ended_at is not None else trio.current_time()) - started, send_error

    def request(self, packet: Any, *, encoding: int | str | None = None, timeout: float | None = None) -> Exchange:
        """Send one packet (encoded with the server's framing) and collect the reply's exchange."""
        return self.exchange(self.framing.encode_value(packet, encoding=encoding), timeout=timeout)

    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """Send ``body`` as the packet (AsyncAPY routes by its fields; ``operation`` names it in the
        reply's record and contracts) and return the neutral reply; ``timeout=`` and
        ``encoding="ziproto"`` may be given."""
        timeout = meta.pop("timeout", None)
        encoding = meta.pop("encoding", None)
        leaked = self.leaked_sessions()
        exchange = self.request({} if body is None else body, encoding=encoding, timeout=timeout)
        reply = reply_from_exchange(exchange, operation=operation)
        if self.leaked_sessions() > leaked:
            reply = Reply(body=reply.body, errors=[*reply.errors, _session_leaked(self.service_name)], items=reply.items, meta=reply.meta)
        if self.record:
            from rpctest.contracts.recorder import observe

            # "local": a call through rpctest's in-process host (contract files know stub, client, local)
            observe(Call("asyncapy", self.service_name, operation, body, meta=meta), reply, source="local")
        return reply

    async def acall(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """:meth:`call` from async code (the server runs on its own thread, so this never blocks the loop)."""
        return await asyncio.to_thread(self.call, operation, body, **meta)

    # -- what AsyncAPY holds -----------------------------------------------------------------------------

    def open_sessions(self) -> int:
        """How many sessions AsyncAPY's table holds now; it removes a session after dispatch, except
        when a handler raised, stopped propagation or was cancelled (AsyncAPY 0.5.0 leaks those)."""
        return sum(len(sessions) for sessions in self.server._sessions.values())

    def leaked_sessions(self) -> int:
        """Sessions AsyncAPY still holds for connections that are closed: each was leaked (a handler
        raised, stopped propagation or was cancelled), and with ``session_limit`` set they add up
        until the server refuses every request with ERR_SESSION_LIMIT_REACHED."""
        return sum(1 for sessions in list(self.server._sessions.values()) for session in list(sessions) if _connection_closed(session))

    def __repr__(self) -> str:
        where = self.address or f"{self.transport} transport"
        state = " (stopped)" if self._stopped else ""
        return f"<AsyncAPYService {self.service_name!r} at {where}{state}>"


def _session_leaked(service: str) -> RpcError:
    """The finding a call carries when its connection left a session behind in the server."""
    return RpcError(
        SESSION_LEAKED,
        f"the AsyncAPY server {service!r} kept this connection's session after closing it (a handler raised, "
        f"stopped propagation or was cancelled); leaked sessions count against session_limit forever",
        kind=ErrorKind.SERVER_ERROR,
    )


async def _serve_tcp(handler: Any, *, task_status: Any) -> None:
    import trio

    await trio.serve_tcp(handler, 0, host="127.0.0.1", task_status=task_status)


async def _run_handler(handler: Any, stream: Any) -> None:
    """As ``trio.serve_tcp`` runs a connection: the handler, then the stream closed whatever happened."""
    import trio

    try:
        await handler(stream)
    finally:
        await trio.aclose_forcefully(stream)
        stream.rpctest_closed = True


def _connection_closed(session: Any) -> bool:
    """Whether the connection of one of AsyncAPY's sessions is gone (its entry should be too)."""
    stream = getattr(getattr(session, "client", None), "_stream", None)
    closed = getattr(stream, "rpctest_closed", None)
    if closed is not None:
        return bool(closed)
    try:
        return bool(stream.socket.fileno() == -1)  # type: ignore[union-attr]  # no stream: AttributeError, caught
    except (AttributeError, OSError):
        return False


def _undo_default_timeout(server: Any) -> None:
    """Put back the process's default socket timeout if AsyncAPY's constructor set it to its own."""
    current = socket.getdefaulttimeout()
    if current is not None and current == getattr(server, "timeout", object()):
        _logger.debug("undoing AsyncAPY's socket.setdefaulttimeout(%r) for the whole process", current)
        socket.setdefaulttimeout(None)


def serve(provider: Any, *, transport: str = "tcp", timeout: float = 5.0, record: bool = False, service: str | None = None) -> AsyncAPYService:
    """Host the user's AsyncAPY server (see :func:`resolve_provider`) and return it running; stop it
    with ``.stop()`` or use it as a context manager."""
    return AsyncAPYService(resolve_provider(provider, service=service), transport=transport, timeout=timeout, record=record).start()
