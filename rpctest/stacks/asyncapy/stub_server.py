"""An AsyncAPY stub server: plain TCP, answered from the stub router the way AsyncAPY's server answers.

What a consumer's AsyncAPY client (``asyncapy.client.Client``, rpctest's own, or a raw socket)
talks to when the provider is stubbed. It reproduces AsyncAPY 0.5.0's server byte for byte where the
golden vectors pin the bytes, including its defects, because a stub must fail where the real
server fails (``docs/stacks/asyncapy.md`` lists what was observed of it):

* **one request per connection**, one deadline per connection counted from accept (``timeout``,
  AsyncAPY's default 60 s; the vectors used 2 s). When it passes, a running stub is cancelled and
  ``ERR_TIMED_OUT`` (JSON) is sent, then the connection is closed;
* **reading as AsyncAPY reads**: one ``recv`` of up to ``buf`` bytes (1024); if the length header is
  incomplete, one byte at a time until it is; if that first read held exactly the frame, that is
  the body; otherwise the first read is *thrown away* and fresh reads collect at least
  Content-Length bytes. So a frame split right after the length header (or byte by byte) works,
  and any other split, a frame larger than ``buf``, two pipelined frames or a wrong length wait for
  the deadline. A client that half-closes mid-frame also waits for the deadline (AsyncAPY spins on
  the EOF at full CPU until then; this server just waits). EOF before any byte: a silent close;
* **the body as AsyncAPY's server judges it** (:func:`~.wire.server_verdict`): short bodies,
  versions and encodings get their error packets; unreadable payloads close silently; falsy ones
  hang until the deadline;
* ``session_limit`` (0: none): a parsed request is a session; one more than the limit gets
  ``ERR_SESSION_LIMIT_REACHED``. As in AsyncAPY, the count is per listening server (AsyncAPY keys
  it by the server's own address), and a request whose stub raises or is cut off by the deadline
  **never releases its session** (``leak_sessions=False`` releases it);
* **dispatch**: the packet is matched against the active ``stack="asyncapy"`` stubs (of
  ``service``, if given), newest first, by their patterns (see :mod:`rpctest.stacks.asyncapy`);
  the first that matches answers as ``Call(stack="asyncapy", service=<the stub's service>,
  operation=<the stub's action>, body=<the packet>)``. No stub matches: **silent close**, as
  AsyncAPY does when no handler matches, with a diagnostic naming the nearest stub and how the
  packet differs from it. A stub that raises: silent close (AsyncAPY logs a handler's exception and
  sends nothing);
* **replies** are in the request's encoding: ``items`` (one frame each) or ``body`` (one frame) or
  nothing (a silent close); ``errors`` become failure packets, JSON for the four framework codes
  (as the framework sends them), the request's encoding for an application's own codes;
  ``CLOSED_WITHOUT_REPLY`` closes silently. A packet that is not a JSON-serialisable map cannot be
  sent (AsyncAPY's ``Packet`` refuses it): the frames before it go out, then a silent close.
  ``delay`` (seconds, from the reply's ``meta`` or the stub's options) holds the reply back.

Every silent close, timeout and refusal is logged at WARNING on ``rpctest.serve`` and kept in
:attr:`AsyncAPYStubServer.diagnostics`, so a test sees why the connection went quiet, which
AsyncAPY only logs.

The address is ``asyncapy://127.0.0.1:PORT``, with the framing in the query when it is not the
default (:func:`~.client.format_address`). Run it on the running loop (``await
AsyncAPYStubServer.start_async(router)``, ``await server.astop()``) or on a private loop in a daemon
thread (:func:`serve_stubs`, ``start()``/``stop()``, which joins the thread).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rpctest.binding import check_bind_host
from rpctest.exceptions import ConfigError
from rpctest.loop_thread import LoopServer
from rpctest.model import Call, Reply
from rpctest.stacks.base import HostedService
from rpctest.stacks.asyncapy import errors, wire
from rpctest.stacks.asyncapy.client import STACK, AsyncAPYSyncClient, format_address, parse_address
from rpctest.stacks.asyncapy.wire import Framing, Verdict
from rpctest.untrusted import contained

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stubs.router import Stub, StubRouter

__all__ = ["DEFAULT_TIMEOUT", "DEFAULT_BUF", "AsyncAPYStubServer", "serve_stubs"]

_logger = logging.getLogger("rpctest.serve")

#: AsyncAPY's own defaults
DEFAULT_TIMEOUT = 60.0
DEFAULT_BUF = 1024
_STOP_WAIT = 5.0


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Connection:
    """One accepted socket and what happened on it (for diagnostics)."""

    def __init__(self, sock: socket.socket, number: int, peer: Any) -> None:
        self.sock = sock
        self.number = number
        self.peer = peer
        self.note = ""  # why the connection is waiting (reported if the deadline passes)
        self.session = False  # whether this connection holds a session
        self.leaks_session = False  # whether its session is never released (a stub raised or was cut off)

    def __str__(self) -> str:
        host, port = self.peer[:2] if isinstance(self.peer, tuple) else (self.peer, "?")
        return f"connection #{self.number} from {host}:{port}"


class AsyncAPYStubServer(LoopServer, HostedService):
    """Serves ``router``'s AsyncAPY stubs at ``asyncapy://HOST:PORT`` until stopped (see the module docstring).

    ``framing`` (or ``header_size=``/``byteorder=``) is what the server reads; ``timeout`` is its
    per-connection deadline in seconds; ``session_limit`` and ``leak_sessions`` as AsyncAPY's
    sessions; ``buf`` its read size; ``service`` limits it to that service's stubs (by default it
    answers for every AsyncAPY stub); ``client_timeout`` bounds the calls of :attr:`client`.
    """

    def __init__(
        self,
        router: "StubRouter",
        *,
        service: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        framing: Framing | None = None,
        header_size: int | None = None,
        byteorder: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        session_limit: int = 0,
        leak_sessions: bool = True,
        buf: int = DEFAULT_BUF,
        client_timeout: float = 5.0,
        public: bool = False,
    ) -> None:
        check_bind_host(host, server="AsyncAPY stub server", public=public)
        framing = framing or Framing()
        if header_size is not None or byteorder is not None:
            framing = Framing(
                header_size=header_size if header_size is not None else framing.header_size,
                byteorder=byteorder if byteorder is not None else framing.byteorder,  # type: ignore[arg-type]
                version=framing.version,
                encoding=framing.encoding,
            )
        if timeout is None or timeout <= 0:
            raise ConfigError(f"the AsyncAPY stub server's timeout is a positive number of seconds, not {timeout!r}")
        if isinstance(session_limit, bool) or not isinstance(session_limit, int) or session_limit < 0:
            raise ConfigError(f"session_limit is a count (0: no limit), not {session_limit!r}")
        if isinstance(buf, bool) or not isinstance(buf, int) or buf < 1:
            raise ConfigError(f"buf is a positive number of bytes, not {buf!r}")
        self.router = router
        self.service = service
        self.host = host
        self.port = port
        self.framing = framing
        self.timeout = float(timeout)
        self.session_limit = session_limit
        self.leak_sessions = leak_sessions
        self.buf = buf
        self.client_timeout = client_timeout
        self.address: str | None = None
        #: why connections went quiet: unmatched packets, stubs that raised, timeouts, refusals
        self.diagnostics: list[str] = []
        #: sessions open now (and leaked ones), as AsyncAPY counts them for ``session_limit``
        self.sessions = 0
        self._listener: socket.socket | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._numbers = itertools.count(1)
        self._init_loop_state()
        self.thread_name = "rpctest-asyncapy-stub"

    # -- running on the current loop ----------------------------------------------------------------

    @classmethod
    async def start_async(cls, router: "StubRouter", **options: Any) -> "AsyncAPYStubServer":
        """A server started on the running loop; stop it with ``await server.astop()``."""
        server = cls(router, **options)
        await server.astart()
        return server

    async def astart(self) -> "AsyncAPYStubServer":
        """Bind and start accepting on the running loop."""
        if self._stopped:
            raise RuntimeError(f"{self!r} was stopped; build a new one")
        if self._listener is not None:
            return self
        self._loop = asyncio.get_running_loop()
        self._listener = _listen(self.host, self.port)
        self.port = self._listener.getsockname()[1]
        self.address = format_address(self.host, self.port, Framing(self.framing.header_size, self.framing.byteorder))
        self._listener.setblocking(False)
        # one reader for the server's life: sock_accept would register and unregister it per connection
        self._loop.add_reader(self._listener.fileno(), self._accept_ready)
        _logger.info("AsyncAPY stub server at %s", self.address)
        return self

    async def astop(self) -> None:
        """Stop accepting, cancel every connection (their sockets close) and wait for them."""
        self._stopped = True
        listener, self._listener = self._listener, None
        if listener is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(listener.fileno())
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_WAIT)
        listener.close()

    # -- running in a thread -------------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        return self._listener is not None


    def _stop_wait(self) -> float:
        return _STOP_WAIT + 5

    # -- calling it ------------------------------------------------------------------------------------

    async_client_hint = "'AsyncAPYClient.from_address(server.address)'"

    def _make_client(self) -> AsyncAPYSyncClient:
        assert self.address is not None
        return AsyncAPYSyncClient.from_address(self.address, framing=self.framing, timeout=self.client_timeout, service=self.service)

    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """Send ``body`` as the packet (the operation is not on AsyncAPY's wire; it names the call)."""
        timeout = meta.pop("timeout", None)
        call = Call(STACK, self.service or self.client.client.service, operation, body, meta=meta)
        reply: Reply = self.client.call(call, timeout=timeout)
        return reply

    # -- connections -----------------------------------------------------------------------------------

    def _pause_accepting(self, seconds: float = 0.05) -> None:
        """Stop listening for a moment (a readable listener whose accept fails would spin the loop)."""
        assert self._loop is not None and self._listener is not None
        listener = self._listener
        self._loop.remove_reader(listener.fileno())

        def resume() -> None:
            if self._listener is listener:
                self._loop.add_reader(listener.fileno(), self._accept_ready)  # type: ignore[union-attr]

        self._loop.call_later(seconds, resume)

    def _accept_ready(self) -> None:
        """Accept one connection waiting on the listener (the loop calls this when it is readable).

        One, not every one: the loop's selector reports a listener as long as connections wait on it,
        so the others are accepted on its next turns, and a connection costs no second ``accept``
        that fails (a system call and an exception: an eighth of the server's time per request)."""
        if self._listener is None:
            return
        try:
            sock, peer = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # out of descriptors, an aborted handshake: pause, then keep serving
            _logger.warning("AsyncAPY stub server %s: accept failed: %r", self.address, exc)
            self._pause_accepting()
            return
        sock.setblocking(False)
        connection = _Connection(sock, next(self._numbers), peer)
        assert self._loop is not None
        task = self._loop.create_task(self._handle(connection))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _diagnose(self, text: str) -> None:
        _logger.warning("AsyncAPY stub server %s: %s", self.address, text)
        self.diagnostics.append(text)

    async def _handle(self, connection: _Connection) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            with contained(str(connection), self._diagnose, then="connection closed"):  # no frame stops the server
                try:
                    async with asyncio.timeout_at(deadline):
                        await self._serve(connection)
                except TimeoutError:
                    await self._timed_out(connection)
        except asyncio.CancelledError:
            pass  # the server is stopping: the socket closes below
        finally:
            if connection.session and not connection.leaks_session:
                self.sessions -= 1
            connection.session = False
            connection.sock.close()

    async def _timed_out(self, connection: _Connection) -> None:
        """AsyncAPY's deadline: ERR_TIMED_OUT (JSON), then the close."""
        why = f" ({connection.note})" if connection.note else ""
        leak = ""
        if connection.session and self.leak_sessions:
            connection.leaks_session = True
            leak = "; as in AsyncAPY, its session is never released"
        self._diagnose(f"{connection}: the {self.timeout:g} s deadline passed{why}: sent ERR_TIMED_OUT and closed{leak}")
        await self._send(connection, [self.framing.encode(errors.error_packet(errors.ERR_TIMED_OUT), encoding=wire.JSON)])

    async def _send(self, connection: _Connection, frames: list[bytes]) -> None:
        loop = asyncio.get_running_loop()
        for frame in frames:
            try:
                await loop.sock_sendall(connection.sock, frame)
            except OSError:  # the client is gone: AsyncAPY's send fails the same way, silently
                return

    async def _recv(self, connection: _Connection, size: int) -> bytes:
        try:
            return await asyncio.get_running_loop().sock_recv(connection.sock, size)
        except ConnectionResetError:
            return b""

    async def _wait_for_deadline(self, connection: _Connection, note: str) -> None:
        """Nothing more will happen on this connection until the deadline cancels the wait."""
        connection.note = note
        await asyncio.Event().wait()

    async def _serve(self, connection: _Connection) -> None:
        """Read one request as AsyncAPY reads it, then answer it (or not)."""
        size = self.framing.header_size
        connection.note = "nothing arrived"
        first = await self._recv(connection, self.buf)
        if not first:
            self._diagnose(f"{connection}: the client closed (or half-closed) before sending a byte: closed without a reply, as AsyncAPY does")
            return
        data = first
        while len(data) < size:
            byte = await self._recv(connection, 1)
            if not byte:
                await self._wait_for_deadline(connection, f"the client stopped sending inside the {size}-byte length header")
            data += byte
        length = self.framing.read_length(data)
        if len(data) - size == length:
            body = data[size:]
        else:
            discarded = len(data) - size
            why = (
                f"AsyncAPY discarded the {discarded} byte(s) after the length header that came with it, since they "
                f"were not exactly the announced {length}; it then waited for {length} more byte(s)"
                if discarded
                else f"waiting for the {length} byte(s) the length header announced"
            )
            body = b""
            connection.note = why
            while len(body) < length:
                chunk = await self._recv(connection, self.buf)
                if not chunk:
                    await self._wait_for_deadline(connection, f"{why}; the client half-closed after {len(body)}")
                body += chunk
                connection.note = f"{why}; {len(body)} arrived"
        verdict = wire.server_verdict(body, self.framing.version)
        await self._answer(connection, verdict)

    async def _answer(self, connection: _Connection, verdict: Verdict) -> None:
        if verdict.action == "error":
            assert verdict.code is not None
            self._diagnose(f"{connection}: {verdict.reason}: sent {verdict.code} and closed")
            await self._send(connection, [self.framing.encode(errors.error_packet(verdict.code), encoding=verdict.encoding)])
            return
        if verdict.action == "silent_close":
            self._diagnose(f"{connection}: {verdict.reason}: closed without a reply, as AsyncAPY does")
            return
        if verdict.action == "hang":
            await self._wait_for_deadline(connection, verdict.reason)
        assert verdict.packet is not None
        self.sessions += 1
        connection.session = True
        if self.session_limit and self.sessions > self.session_limit:
            self.sessions -= 1
            connection.session = False
            self._diagnose(
                f"{connection}: {self.sessions} session(s) open (or leaked) already, limit {self.session_limit}: sent "
                f"ERR_SESSION_LIMIT_REACHED and closed"
            )
            await self._send(connection, [self.framing.encode(errors.error_packet(errors.ERR_SESSION_LIMIT_REACHED), encoding=wire.JSON)])
            return
        await self._dispatch(connection, verdict.packet, verdict.encoding)

    # -- dispatch --------------------------------------------------------------------------------------

    def _candidates(self) -> tuple[tuple["Stub", Any], ...]:
        """The active AsyncAPY stubs this server answers for, newest first (as the router matches),
        each with its patterns: worked out once for as long as the stubs and the configuration stay
        the same (``router.memo``), not on every request."""
        return self.router.memo((STACK, "stub server", self.service), self._stubs_and_patterns)

    def _stubs_and_patterns(self) -> tuple[tuple["Stub", Any], ...]:
        from rpctest.stacks.asyncapy import stub_patterns

        stubs = [s for s in self.router.active(STACK) if self.service is None or s.service == self.service]
        return tuple((stub, stub_patterns(stub)) for stub in reversed(stubs))

    def _resolve(self, packet: dict[str, Any]) -> tuple["Stub | None", Call | None]:
        for candidate, patterns in self._candidates():
            if candidate.request_differences(packet, patterns):
                continue
            # the newest active stub whose fields take the packet: the router's own rule, already applied
            return candidate, Call(STACK, candidate.service, candidate.action, packet)
        return None, None

    def _explain_unmatched(self, packet: dict[str, Any]) -> str:
        candidates = self._candidates()
        scope = f" of service {self.service!r}" if self.service else ""
        lines = [f"no AsyncAPY stub{scope} matches the packet {_short(packet)}: closed without a reply, as AsyncAPY does when no handler matches."]
        if not candidates:
            lines.append(f"No AsyncAPY stubs{scope} are active.")
            return "\n".join(lines)
        scored = []
        for index, (stub, patterns) in enumerate(candidates):
            diffs = stub.request_differences(packet, patterns)
            # a recorded packet (rpctest serve) holds values, not patterns: as far as it differs
            distance = float(len(diffs)) if stub.exact else _distance(patterns, packet)
            scored.append((distance, index, stub, patterns, diffs))
        _, _, nearest, patterns, diffs = min(scored, key=lambda item: (item[0], item[1]))
        if nearest.exact:
            lines.append(f"Nearest stub: {nearest!r}: " + "; ".join(diffs) + ".")
        elif isinstance(patterns, Mapping) or patterns is None:
            lines.append(f"Nearest stub: {nearest!r} (fields {_short(patterns)}): " + "; ".join(diffs) + ".")
        for _, _, stub, predicate, why in scored:  # predicates say nothing about nearness: each says why
            if predicate is not None and not isinstance(predicate, Mapping) and not stub.exact:
                lines.append(f"Stub {stub!r}: " + "; ".join(why) + ".")
        lines.append("Active stubs: " + ", ".join(sorted({f"{s.service}.{s.action}" for s, _ in candidates})) + ".")
        return "\n".join(lines)

    async def _dispatch(self, connection: _Connection, packet: dict[str, Any], encoding: int) -> None:
        stub, call = self._resolve(packet)
        if stub is None or call is None:
            self._diagnose(f"{connection}: {self._explain_unmatched(packet)}")
            return
        where = f"the stub for {call.service}.{call.operation}"
        try:
            reply = self.router.respond(stub, call)
        except Exception as exc:  # AsyncAPY: a handler that raises is logged, nothing is sent
            self._diagnose(f"{connection}: {where} raised {exc!r}: closed without a reply, as AsyncAPY does{self._leak(connection)}")
            return
        delay = _seconds((reply.meta or {}).get("delay", stub.options.get("delay", 0)))
        if delay > 0:
            connection.note = f"{where} delays its reply {delay:g} s"
            await asyncio.sleep(delay)  # the deadline may cut it off (then the session leaks, as in AsyncAPY)
        frames, problem = self._frames(reply, encoding)
        if problem:
            self._diagnose(f"{connection}: {where}: {problem}")
        await self._send(connection, frames)

    def _leak(self, connection: _Connection) -> str:
        if not (self.leak_sessions and connection.session):
            return ""
        connection.leaks_session = True
        limit = f" (session_limit={self.session_limit}: {self.sessions} counted)" if self.session_limit else ""
        return f"; as in AsyncAPY, its session is never released{limit}"

    def _frames(self, reply: Reply, encoding: int) -> tuple[list[bytes], str]:
        """The frames of a stub's reply, and what could not be sent (empty: everything)."""
        failures = list(reply.all_errors)
        if failures:
            if any(error.code == errors.CLOSED_WITHOUT_REPLY for error in failures):
                note = "" if len(failures) == 1 else f"{errors.CLOSED_WITHOUT_REPLY} among other errors: nothing sent"
                return [], note or "answers CLOSED_WITHOUT_REPLY: closed without a reply"
            frames = []
            for error in failures:
                code = str(error.code)
                enc = wire.JSON if code in errors.FRAMEWORK_CODES else encoding
                frames.append(self.framing.encode(errors.error_packet(code), encoding=enc))
            return frames, ""
        packets = list(reply.items) if reply.items is not None else ([] if reply.body is None else [reply.body])
        if not packets:
            return [], "sent nothing (no body, items or errors): closed without a reply, as AsyncAPY does when a handler sends nothing"
        frames = []
        for index, packet in enumerate(packets):
            if not isinstance(packet, Mapping):
                return frames, f"packet {index} is a {type(packet).__name__}, not a map; AsyncAPY's Packet refuses it, so the connection closed after {index} frame(s)"
            try:
                frames.append(self.framing.frame(wire.packet_payload(packet, encoding), encoding=encoding))
            except (TypeError, ValueError) as exc:
                return frames, f"packet {index} cannot be sent ({exc}); AsyncAPY's Packet refuses it, so the connection closed after {index} frame(s)"
        return frames, ""

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else ("running" if self.alive else "not started")
        return f"<AsyncAPYStubServer at {self.address or '(unbound)'} ({state})>"


def _distance(patterns: Any, packet: Mapping[str, Any]) -> float:
    """How far a packet is from a stub's field patterns, to name the nearest stub: a missing or extra
    key counts 1, a value its pattern rejects 2 (the key set is right, the value is not); a predicate
    says nothing about nearness, so it comes last."""
    if patterns is None:
        return 0.0
    if not isinstance(patterns, Mapping):
        return float("inf")
    distance = float(sum(1 for key in patterns if key not in packet) + sum(1 for key in packet if key not in patterns))
    for key, pattern in patterns.items():
        if key in packet and pattern is not None:
            try:
                found = re.match(pattern, str(packet[key]))
            except (re.error, TypeError):
                found = None
            distance += 0 if found else 2
    return distance


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0


def _listen(host: str, port: int) -> socket.socket:
    """A non-blocking listening TCP socket (closed again if binding fails)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock



def serve_stubs(router: "StubRouter", *, address: str | None = None, **options: Any) -> AsyncAPYStubServer:
    """An :class:`AsyncAPYStubServer` for ``router``, started on its own thread's loop.

    ``address`` (``asyncapy://HOST:PORT[?header_size=..&byteorder=..]``) picks where to listen and
    the framing; by default 127.0.0.1, a free port, AsyncAPY's default framing. Stop it with
    ``stop()`` (or ``with``).
    """
    if address:
        host, port, framing_options = parse_address(address)
        options.setdefault("host", host)
        options.setdefault("port", port)
        for key in ("header_size", "byteorder"):
            if key in framing_options:
                options.setdefault(key, framing_options[key])
    return AsyncAPYStubServer(router, **options).start()
