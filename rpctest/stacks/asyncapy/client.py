"""An AsyncAProto client on asyncio, and a blocking wrapper: what AsyncAPY's client sends, told apart.

AsyncAPY answers one request per TCP connection with **zero or more frames and then a close**;
there is no request id and no end-of-reply marker, so a reply is only complete when the server
closes, even when no handler replied. This client therefore opens a connection per request,
sends the frame in one write (as ``asyncapy.client.Client`` does), and reads until the server
closes or the deadline passes. It never waits longer than its timeout, which covers the connect,
the send and every read.

What came back is an :class:`Exchange` (:meth:`AsyncAPYClient.request`,
:meth:`AsyncAPYClient.send_raw`): the bytes, the frames, and how the connection ended, one of

* ``"closed"``: the server closed it (FIN): the frames are the whole reply; no bytes at all is a
  *silent close*, AsyncAPY's answer when no handler matches, a handler raises, or the payload
  cannot be read;
* ``"timeout"``: the deadline passed with the connection still open (what arrived so far is kept);
* ``"reset"``: the server reset the connection.

The neutral :meth:`AsyncAPYClient.call` turns an exchange into a :class:`~rpctest.model.Reply`:

* one reply packet → ``body`` is that packet; several → ``body`` and ``items`` are the list of
  packets (as a stub with ``items=`` answers);
* a failure packet (``{"status": "failure", "error": CODE}``) → an error of that code in
  ``errors`` (:mod:`.errors` has the kinds);
* data packets and failure packets may come together (a handler's frames, then ``ERR_TIMED_OUT``
  at the deadline): the reply then has both a body and errors;
* a close without any frame → one error ``CLOSED_WITHOUT_REPLY`` (kind ``transport``); a reset
  without any frame → ``CONNECTION_RESET`` (kind ``transport``); frames and then a reset → the
  frames are the reply, with ``meta["end"] == "reset"``;
* no close before the timeout → :class:`~rpctest.exceptions.CallTimeout`, saying what arrived;
* bytes that are not AsyncAProto → :class:`~.wire.WireError` naming the address.

Addresses are ``asyncapy://HOST:PORT``, with the framing in the query when it is not AsyncAPY's
default, e.g. ``asyncapy://127.0.0.1:8081?header_size=2&byteorder=little&encoding=ziproto``
(:func:`parse_address`); ``tcp://HOST:PORT`` and ``HOST:PORT`` are accepted too. The framing must be
agreed out of band, so the address is where it travels.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from rpctest.exceptions import CallTimeout, ConfigError, RpctestError
from rpctest.model import Call, Reply
from rpctest.stacks.asyncapy import blocking, errors
from rpctest.stacks.asyncapy.blocking import End
from rpctest.stacks.asyncapy.wire import Frame, FrameDecoder, Framing, WireError, encoding_number

__all__ = [
    "STACK",
    "SCHEME",
    "DEFAULT_SERVICE",
    "AsyncAPYUnreachable",
    "Exchange",
    "AsyncAPYClient",
    "AsyncAPYSyncClient",
    "parse_address",
    "format_address",
    "build_exchange",
    "reply_from_exchange",
]

_logger = logging.getLogger("rpctest.asyncapy.client")
_T = TypeVar("_T")

STACK = "asyncapy"
SCHEME = "asyncapy"
#: the neutral service name of calls made without one (nothing on AsyncAPY's wire names a service)
DEFAULT_SERVICE = "asyncapy"
_CLOSE_WAIT = 1.0
_FRAMING_KEYS = ("header_size", "byteorder", "encoding", "version")



class AsyncAPYUnreachable(RpctestError, ConnectionError):
    """No TCP connection could be opened to the address (refused, unroutable, no answer in time)."""


# -- addresses -----------------------------------------------------------------------------------------


def parse_address(address: str) -> tuple[str, int, dict[str, Any]]:
    """``(host, port, framing options)`` of ``asyncapy://HOST:PORT?...``, ``tcp://HOST:PORT`` or ``HOST:PORT``.

    The query may set ``header_size`` (2, 4, 8), ``byteorder`` (big, little), ``encoding`` (json,
    ziproto) and ``version``; anything else is a ConfigError naming it.
    """
    if not isinstance(address, str) or not address:
        raise ConfigError(f"an AsyncAPY address is asyncapy://HOST:PORT, not {address!r}")
    text = address if "://" in address else f"{SCHEME}://{address}"
    parts = urlsplit(text)
    if parts.scheme not in (SCHEME, "tcp"):
        raise ConfigError(f"an AsyncAPY address is asyncapy://HOST:PORT (or tcp://HOST:PORT), not {address!r}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ConfigError(f"an AsyncAPY address is asyncapy://HOST:PORT, with a host and a port, not {address!r}")
    options: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _FRAMING_KEYS:
            raise ConfigError(f"{address}: unknown option {key!r}; an AsyncAPY address may set {', '.join(_FRAMING_KEYS)}")
        options[key] = int(value) if key in ("header_size", "version") and value.isdigit() else value
    try:
        Framing(**options)
    except ValueError as exc:
        raise ConfigError(f"{address}: {exc}") from None
    return parts.hostname, port, options


def format_address(host: str, port: int, framing: Framing | None = None) -> str:
    """The ``asyncapy://`` address of host:port, with the framing options that are not the default."""
    netloc = f"[{host}]" if ":" in host else host
    query = urlencode((framing or Framing()).to_query())
    return f"{SCHEME}://{netloc}:{port}" + (f"?{query}" if query else "")


def _framing(framing: Framing | None, options: Mapping[str, Any]) -> Framing:
    """``framing`` with the address's options applied (the address wins: it says what the server speaks)."""
    base = framing or Framing()
    if not options:
        return base
    values: dict[str, Any] = {"header_size": base.header_size, "byteorder": base.byteorder, "version": base.version, "encoding": base.encoding}
    values.update(options)
    return Framing(**values)


# -- the exchange --------------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One connection: what was sent, what came back, and how it ended (see the module docstring).

    ``elapsed`` is seconds from the start of the connect to the end; ``error`` is the first broken
    frame in what came back (``frames`` holds the ones before it); ``send_error`` says why not every
    byte could be sent (the server had closed or reset the connection first).
    """

    address: str
    sent: bytes
    received: bytes
    frames: list[Frame]
    end: End
    elapsed: float
    leftover: bytes = b""
    error: WireError | None = None
    send_error: str | None = None
    waited: float = 0.0

    @property
    def packets(self) -> list[Any]:
        return [frame.packet for frame in self.frames]

    @property
    def silent(self) -> bool:
        """The server closed (or reset) the connection without sending a byte."""
        return self.end != "timeout" and not self.received

    @property
    def error_codes(self) -> list[str]:
        """The codes of the failure packets that came back, in order."""
        return [frame.packet["error"] for frame in self.frames if frame.is_error]

    def describe(self) -> str:
        """In a few words, e.g. ``2 frame(s), then closed after 0.01 s``."""
        what = f"{len(self.frames)} frame(s)" if self.received else "nothing"
        if self.leftover:
            what += f" and {len(self.leftover)} byte(s) of an incomplete frame"
        if self.error is not None:
            what += f" (broken: {self.error})"
        ends = {"closed": "then the server closed the connection", "reset": "then the connection was reset",
                "timeout": f"and the connection was still open after {self.waited:g} s"}
        return f"{what}, {ends[self.end]} ({self.elapsed:.2f} s after connecting)"


def build_exchange(
    address: str, framing: Framing, *, sent: bytes, received: bytes, end: End, elapsed: float,
    send_error: str | None, waited: float,
) -> Exchange:
    """The :class:`Exchange` of one connection, its received bytes cut into frames (the socket
    client and the in-memory transport of a hosted AsyncAPY server both end here)."""
    decoder = FrameDecoder(framing)
    frames: list[Frame] = []
    error: WireError | None = None
    try:
        frames = decoder.feed(received)
    except WireError as exc:
        frames, error = exc.frames, exc
    return Exchange(
        address=address,
        sent=sent,
        received=received,
        frames=frames,
        end=end,
        elapsed=elapsed,
        leftover=decoder.buffered if error is None else b"",
        error=error,
        send_error=send_error,
        waited=waited,
    )


def reply_from_exchange(exchange: Exchange, *, operation: str | None = None) -> Reply:
    """The neutral reply of an exchange (see the module docstring), or the exception it amounts to."""
    what = f"{operation!r} at {exchange.address}" if operation else exchange.address
    if exchange.error is not None:
        raise WireError(f"the reply from {what} is not AsyncAProto: {exchange.error}", code=exchange.error.code)
    if exchange.end == "timeout":
        raise CallTimeout(
            f"no complete reply from {what} within {exchange.waited:g} s: {exchange.describe()}; an AsyncAPY reply "
            f"ends only when the server closes the connection"
        )
    if exchange.leftover:
        raise WireError(
            f"the server at {what} ended the connection inside a frame: {exchange.describe()}", code=None
        )
    meta: dict[str, Any] = {"end": "reset"} if exchange.end == "reset" else {}
    if not exchange.frames:
        if exchange.end == "reset":
            return Reply(errors=[errors.connection_reset(exchange.address)], meta=meta)
        return Reply(errors=[errors.closed_without_reply(exchange.address)], meta=meta)
    packets = [frame.packet for frame in exchange.frames if not frame.is_error]
    failures = [errors.error_from_packet(frame.packet) for frame in exchange.frames if frame.is_error]
    if len(packets) > 1:
        return Reply(body=list(packets), items=list(packets), errors=failures, meta=meta)
    return Reply(body=packets[0] if packets else None, errors=failures, meta=meta)


def unreachable(address: str, wait: float, exc: OSError) -> AsyncAPYUnreachable:
    """The error of a connection that could not be opened (both clients raise it): a timeout says the
    wait, anything else says the system's reason and keeps it as the cause."""
    if isinstance(exc, TimeoutError):
        error = AsyncAPYUnreachable(f"cannot connect to the AsyncAPY server at {address} within {wait:g} s")
        error.__suppress_context__ = True  # as ``raise ... from None``: the timeout says nothing more
        return error
    error = AsyncAPYUnreachable(f"cannot connect to the AsyncAPY server at {address}: {exc}")
    error.__cause__ = exc
    return error


def call_frame(framing: Framing, call: Call) -> bytes:
    """The frame a neutral call sends: its body as the packet, in ``call.meta["encoding"]`` if given
    (the operation is not sent: AsyncAPY routes by the packet's fields)."""
    if not isinstance(call, Call):
        raise TypeError(f"call() takes a rpctest Call, not {type(call).__name__}; send a packet with request()")
    encoding = call.meta.get("encoding")
    return framing.encode_value(call.body, encoding=encoding_number(encoding) if encoding is not None else None)


def finish_call(call: Call, exchange: Exchange, *, record: bool) -> Reply:
    """The neutral reply of a call's exchange, told to the contract recorders when ``record``."""
    reply = reply_from_exchange(exchange, operation=call.operation)
    if record:
        from rpctest.contracts.recorder import observe

        observe(call, reply, source="client")
    return reply


def split_writes(data: bytes | Sequence[bytes], chunks: int | None) -> list[bytes]:
    """The writes to make: ``data`` as one write (or its items, if a sequence), each cut into ``chunks`` bytes."""
    writes = [bytes(data)] if isinstance(data, (bytes, bytearray, memoryview)) else [bytes(item) for item in data]
    if chunks is not None:
        if chunks <= 0:
            raise ValueError(f"chunks must be a positive number of bytes, not {chunks!r}")
        writes = [piece[i : i + chunks] for piece in writes for i in range(0, len(piece), chunks)]
    return [piece for piece in writes if piece]


# -- the asyncio client -----------------------------------------------------------------------------------


class AsyncAPYClient:
    """Sends AsyncAProto requests to one server; every request is a connection of its own.

    ``framing`` is what the server expects (AsyncAPY's default: 4-byte big-endian length, JSON);
    ``timeout`` bounds each request as a whole; ``service`` is the neutral service name of the calls
    it makes (AsyncAPY has none on the wire); ``record=True`` tells contract recorders about each
    :meth:`call`. Build it from an address with :meth:`from_address`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        framing: Framing | None = None,
        timeout: float = 5.0,
        service: str | None = None,
        record: bool = False,
    ) -> None:
        if timeout is None or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.host = host
        self.port = int(port)
        self.framing = framing or Framing()
        self.timeout = float(timeout)
        self.service = service or DEFAULT_SERVICE
        self.record = record

    @classmethod
    def from_address(cls, address: str, *, framing: Framing | None = None, **options: Any) -> "AsyncAPYClient":
        """A client for ``asyncapy://HOST:PORT[?framing]`` (see :func:`parse_address`)."""
        host, port, framing_options = parse_address(address)
        return cls(host, port, framing=_framing(framing, framing_options), **options)

    @property
    def address(self) -> str:
        return format_address(self.host, self.port, self.framing)

    def _wait(self, timeout: float | None) -> float:
        wait = self.timeout if timeout is None else float(timeout)
        if wait <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        return wait

    # -- requests ------------------------------------------------------------------------------------

    async def request(self, packet: Any, *, timeout: float | None = None, encoding: int | str | None = None) -> Exchange:
        """Send one packet (a map; other values are sent as they are, for tests) and collect the reply."""
        data = self.framing.encode_value(packet, encoding=encoding)
        return await self.send_raw(data, timeout=timeout)

    async def send_raw(
        self,
        data: bytes | Sequence[bytes] = b"",
        *,
        chunks: int | None = None,
        pause: float = 0.0,
        shut_wr: bool = False,
        timeout: float | None = None,
    ) -> Exchange:
        """Send bytes as they are and collect whatever comes back, for framing tests.

        ``data`` is one write, or a sequence of writes; ``chunks`` cuts every write into pieces of
        that many bytes, and ``pause`` waits between writes (how the vectors' ``chunking`` sends).
        ``shut_wr`` half-closes the connection after the last write. Empty ``data`` sends nothing
        (an idle connection). The timeout covers the whole exchange.
        """
        wait = self._wait(timeout)
        pieces = split_writes(data, chunks)
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + wait
        try:
            async with asyncio.timeout_at(deadline):
                _transport, peer = await loop.create_connection(_Peer, self.host, self.port)
        except OSError as exc:  # TimeoutError included
            raise unreachable(self.address, wait, exc)  # unreachable() sets its cause
        try:
            send_error = await peer.send(pieces, pause, shut_wr, deadline)
            await peer.wait_end(deadline)
            end: End = peer.end or "timeout"  # before our own close, which ends it too
            received = bytes(peer.data)
            elapsed = (peer.ended_at if peer.ended_at is not None else loop.time()) - started
        finally:
            await peer.close()
        return build_exchange(
            self.address, self.framing, sent=b"".join(pieces), received=received, end=end, elapsed=elapsed,
            send_error=send_error, waited=wait,
        )

    # -- neutral calls -------------------------------------------------------------------------------

    async def call(self, call: Call, *, timeout: float | None = None) -> Reply:
        """Send the call's body as the packet and return the neutral reply (see the module docstring).

        ``call.meta["encoding"]`` (``"json"``/``"ziproto"``) overrides the framing's encoding for this
        call. The operation name is not sent: AsyncAPY routes by the packet's fields.
        """
        exchange = await self.send_raw(call_frame(self.framing, call), timeout=timeout)
        return finish_call(call, exchange, record=self.record)

    async def call_many(self, calls: Iterable[Call], *, timeout: float | None = None) -> list[Reply]:
        """The calls one after another, a connection each (AsyncAPY has no batches)."""
        return [await self.call(call, timeout=timeout) for call in calls]

    async def aclose(self) -> None:
        """Nothing to release: every request closed its own connection."""

    async def __aenter__(self) -> "AsyncAPYClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncAPYClient {self.address}>"


class _Peer(asyncio.Protocol):
    """One connection's bytes and how it ended, kept whatever happens next.

    Not a StreamReader: that one raises a reset before handing over what it buffered, and writing
    to a server that has answered and closed makes its kernel reset the connection, which would
    lose the answer.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.data = bytearray()
        self.end: End | None = None
        self.ended_at: float | None = None
        self.lost = False
        self._changed = asyncio.Event()
        self._closed = asyncio.get_running_loop().create_future()
        self._writable = asyncio.Event()
        self._writable.set()

    # -- protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.data += data
        self._changed.set()

    def eof_received(self) -> bool:
        self._ended("closed")
        return True  # keep the socket: the caller may still be writing, and closes it itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._ended("closed" if exc is None else "reset")  # an error without a FIN first: a reset
        self._writable.set()
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def _ended(self, how: End) -> None:
        if self.end is None:
            self.end = how
            self.ended_at = asyncio.get_running_loop().time()
        self._changed.set()

    # -- driving it

    async def send(self, pieces: list[bytes], pause: float, shut_wr: bool, deadline: float) -> str | None:
        """Write the pieces before the deadline; why sending stopped early, or None."""
        assert self.transport is not None
        if len(pieces) <= 1 and not self.lost:  # the common case, one write: no timer needed unless it backs up
            if pieces:
                self.transport.write(pieces[0])
            if self._writable.is_set():
                if shut_wr and self.transport.can_write_eof():
                    self.transport.write_eof()
                return None
        try:
            async with asyncio.timeout_at(deadline):
                for index, piece in enumerate(pieces):
                    if index and pause > 0:
                        await asyncio.sleep(pause)
                    if self.lost:
                        return f"the connection was gone after {index} of {len(pieces)} write(s)"
                    self.transport.write(piece)
                    await self._writable.wait()
                if shut_wr and not self.lost and self.transport.can_write_eof():
                    self.transport.write_eof()
        except TimeoutError:
            return "the deadline passed while sending"
        return None

    async def wait_end(self, deadline: float) -> None:
        """Until the server ends the connection, or the deadline."""
        if self.end is not None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                while self.end is None:
                    self._changed.clear()
                    await self._changed.wait()

    async def close(self) -> None:
        """Close the socket and wait (briefly) until it is gone; drop it if the peer does not take our bytes."""
        if self.transport is None:
            return
        flushed = self.lost or self.transport.get_write_buffer_size() == 0
        self.transport.close()
        if flushed:  # nothing left to send: asyncio closes the socket on its next turn, for sure
            await self._closed
            return
        try:
            async with asyncio.timeout(_CLOSE_WAIT):
                await asyncio.shield(self._closed)
        except TimeoutError:
            self.transport.abort()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_CLOSE_WAIT):
                    await asyncio.shield(self._closed)


# -- the blocking wrapper ----------------------------------------------------------------------------------


@dataclass
class _LoopThread:
    """A private event loop running in a daemon thread until stopped."""

    name: str
    loop: asyncio.AbstractEventLoop | None = None
    stop_event: asyncio.Event | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), name=self.name, daemon=True)
        self.thread.start()
        self.ready.wait()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        self.ready.set()
        await self.stop_event.wait()

    def run(self, coroutine: Any, wait: float) -> Any:
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        done, _ = concurrent.futures.wait([future], wait + 2 * _CLOSE_WAIT)
        if not done:  # the coroutine's own deadline should have ended it first
            future.cancel()
            raise CallTimeout(f"{self.name} did not answer within {wait:g} s")
        return future.result()

    def stop(self) -> None:
        loop, event, thread = self.loop, self.stop_event, self.thread
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already finished
                loop.call_soon_threadsafe(event.set)
        if thread is not None:
            thread.join(10)
            if thread.is_alive():  # pragma: no cover - a callback that never returns
                _logger.warning("%s did not stop", self.name)


class AsyncAPYSyncClient:
    """The blocking :class:`~rpctest.stacks.base.RpcClient` for AsyncAPY.

    Arguments are those of :class:`AsyncAPYClient`, and so are the results and errors. To an IP
    address, a request (and every :meth:`call`, and a :meth:`send_raw` of one write) goes over a plain
    blocking socket in the caller's thread (:mod:`.blocking`): no thread hop and no event loop per
    call. A :meth:`send_raw` in several writes (pieces, pauses), and every exchange with a host
    *name* (whose resolver takes no timeout), run the :class:`AsyncAPYClient` on a private event loop,
    started in a daemon thread the first time one is needed. :meth:`close` stops that loop and joins its
    thread; use it (or ``with``) always.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        framing: Framing | None = None,
        timeout: float = 5.0,
        service: str | None = None,
        record: bool = False,
    ) -> None:
        self._client = AsyncAPYClient(host, port, framing=framing, timeout=timeout, service=service, record=record)
        self._address = self._client.address  # built once: every exchange and error names it
        self._literal = blocking.literal_address(self._client.host, self._client.port)
        self._closed = False
        self._lock = threading.Lock()
        self._runner: _LoopThread | None = None

    @classmethod
    def from_address(cls, address: str, *, framing: Framing | None = None, **options: Any) -> "AsyncAPYSyncClient":
        host, port, framing_options = parse_address(address)
        return cls(host, port, framing=_framing(framing, framing_options), **options)

    @property
    def client(self) -> AsyncAPYClient:
        """The asyncio client underneath (its settings; run it on a loop of your own)."""
        return self._client

    @property
    def address(self) -> str:
        return self._address

    @property
    def framing(self) -> Framing:
        return self._client.framing

    @property
    def timeout(self) -> float:
        return self._client.timeout

    def _wait(self, timeout: float | None) -> float:
        """The seconds this exchange may take; RuntimeError once closed, ValueError for a bad timeout."""
        if self._closed:
            raise RuntimeError(f"this AsyncAPYSyncClient for {self.address} is closed")
        return self._client._wait(timeout)

    def _exchange(self, data: bytes, shut_wr: bool, wait: float) -> Exchange:
        """One connection: ``data`` in one write, then everything until the server ends it; over a
        blocking socket in this thread for an IP address, on the private loop for a host name."""
        if self._literal is None:
            return self._on_loop(self._client.send_raw(data, shut_wr=shut_wr, timeout=wait), wait)
        started = time.monotonic()
        deadline = started + wait
        try:
            sock = blocking.connect(self._literal, deadline)
        except OSError as exc:  # TimeoutError included
            raise unreachable(self.address, wait, exc)  # unreachable() sets its cause
        with sock:
            got = blocking.exchange(sock, data, shut_wr, deadline)
        return build_exchange(
            self.address, self._client.framing, sent=data, received=got.data, end=got.end,
            elapsed=got.ended_at - started, send_error=got.send_error, waited=wait,
        )

    def _on_loop(self, coroutine: Coroutine[Any, Any, _T], wait: float) -> _T:
        """Run ``coroutine`` on the private loop (started now if it is not yet)."""
        with self._lock:
            if self._closed:
                coroutine.close()  # never started: close it, or it warns that it was never awaited
                raise RuntimeError(f"this AsyncAPYSyncClient for {self.address} is closed")
            if self._runner is None:
                self._runner = _LoopThread(f"rpctest-asyncapy-client {self.address}")
                self._runner.start()
            runner = self._runner
        result: _T = runner.run(coroutine, wait)
        return result

    def call(self, call: Call, *, timeout: float | None = None) -> Reply:
        """As :meth:`AsyncAPYClient.call`, blocking."""
        wait = self._wait(timeout)
        exchange = self._exchange(call_frame(self.framing, call), False, wait)
        return finish_call(call, exchange, record=self._client.record)

    def call_many(self, calls: Iterable[Call], *, timeout: float | None = None) -> list[Reply]:
        return [self.call(call, timeout=timeout) for call in calls]

    def request(self, packet: Any, *, timeout: float | None = None, encoding: int | str | None = None) -> Exchange:
        """As :meth:`AsyncAPYClient.request`, blocking."""
        wait = self._wait(timeout)
        return self._exchange(self.framing.encode_value(packet, encoding=encoding), False, wait)

    def send_raw(
        self,
        data: bytes | Sequence[bytes] = b"",
        *,
        chunks: int | None = None,
        pause: float = 0.0,
        shut_wr: bool = False,
        timeout: float | None = None,
    ) -> Exchange:
        """As :meth:`AsyncAPYClient.send_raw`, blocking."""
        wait = self._wait(timeout)
        pieces = split_writes(data, chunks)
        if len(pieces) <= 1:
            return self._exchange(pieces[0] if pieces else b"", shut_wr, wait)
        return self._on_loop(self._client.send_raw(pieces, pause=pause, shut_wr=shut_wr, timeout=wait), wait)

    def close(self) -> None:
        """Stop the private loop, if one was started, and join its thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            runner, self._runner = self._runner, None
        if runner is not None:
            runner.stop()

    def __enter__(self) -> "AsyncAPYSyncClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<AsyncAPYSyncClient {self.address}{' (closed)' if self._closed else ''}>"
