"""An in-process ZeroJSON server (ROUTER) answering as PyCOM 0.6.0's ``PyComServer`` answers.

:class:`ZeroJSONServer` binds a ROUTER socket (``inproc://``, ``ipc://`` or ``tcp://127.0.0.1:0``;
:attr:`~ZeroJSONServer.address` is the endpoint really bound) and serves, on a background thread:

* **service objects** declared with :mod:`rpctest.stacks.zerojson.service` (instances, or classes
  instantiated with no arguments), and
* **stubs** from a :class:`~rpctest.stubs.router.StubRouter`: every interface the router has
  ``zerojson`` stubs for is served, and a matching stub answers before any hosted service.

Every request goes through PyCOM's checks in PyCOM's order, with PyCOM's codes and messages; the
first failing step decides the reply:

1. fewer than 2 frames after the delimiter: **no reply**; command not ``CALL``: 4
2. body not UTF-8: 4; not JSON (an integer of more than 4300 digits included): 4; nested deeper than
   the decoder can recurse: **no reply**; not a JSON object: **no reply**; no ``interface``/``method``: 4
3. more than 3 frames: 4
4. interface neither hosted nor stubbed: 4 ``Unsupported interface: X``
5. stateful interface: ``session_id`` unknown or expired: 6 (none: a new session)
6. method unknown: 2 (an ``interface``, ``method`` or ``session_id`` of the wrong JSON type: 1)
7. ``extensions`` not an object: 1; ``authentication="required"`` without a valid token: 5
8. declared parameters: ``args`` not an object or null: 4; then prehooks (4); then the first
   missing required argument (4)
9. the method: its result, its RemoteError's code, or 1 for any other exception
10. declared results of the wrong count: 1

**What gets no reply** is what PyCOM's server crashes on (a message without the empty delimiter,
0 or 1 frames after it, a body nested too deeply to decode, a body that is valid JSON but not an
object): like PyCOM, this server sends nothing and keeps serving, and it records a diagnostic saying
what was wrong and why no reply came. Whatever else handling one message raises fails that message
alone (no reply, a diagnostic, as :func:`rpctest.untrusted.contained` reports it): no frame can end the loop.
Diagnostics (:attr:`~ZeroJSONServer.diagnostics`, also logged at WARNING on ``rpctest.serve``)
also cover calls no stub matched and exceptions in handlers.

A call no stub matches gets PyCOM's code 2 when no stub exists for that method, and code 4 naming
the nearest stub and how the call differs when one does (``match=`` did not fit).

Authentication (``org.pycom.auth`` token in ``extensions``) is validated by ``authenticator``: a
callable ``token -> user info``, or the address of a server hosting ``org.pycom.authenticator``;
by default an ``org.pycom.authenticator`` hosted by this same server (called locally, where PyCOM
would deadlock calling itself), else one located through a nameserver hosted here or at
``nameserver=``; none found is PyCOM's code 3.

Stopping is prompt: :meth:`stop` wakes the loop's blocking receive with a message to the ROUTER itself,
from a socket of the server's own under a routing id no peer can have.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

import zmq

from rpctest.binding import check_bind_host
from rpctest.model import Call, Reply, RpcError
from rpctest.stacks.base import HostedService
from rpctest.stacks.zerojson import wire
from rpctest.stacks.zerojson.errors import RemoteError, ServiceNotFound, to_wire
from rpctest.stacks.zerojson.frames import NOBLOCK, recv_frames, send_frames
from rpctest.stacks.zerojson.service import (
    InterfaceInfo,
    Request,
    Session,
    interface_of,
)
from rpctest.untrusted import report_uncontained

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stacks.zerojson.client import ZeroJSONClient
    from rpctest.stubs.router import Stub, StubRouter

__all__ = [
    "AUTHENTICATOR_INTERFACE",
    "DEFAULT_SESSION_TIMEOUT",
    "UNKNOWN_ERROR_MESSAGE",
    "SessionStore",
    "ZeroJSONServer",
    "serve",
    "serve_stubs",
]

_logger = logging.getLogger("rpctest.serve")
_STACK = "zerojson"

#: the interface PyCOM locates to validate tokens
AUTHENTICATOR_INTERFACE = "org.pycom.authenticator"
#: PyCOM's session idle timeout (``PROTO_SESSION_TIMEOUT``, 1 h), in seconds
DEFAULT_SESSION_TIMEOUT = 3600.0
#: what PyCOM answers (code 1) for any exception that is not a RemoteError
UNKNOWN_ERROR_MESSAGE = "Unknown error during request"
_POLL_MS = 1000
_PURGE_SECONDS = 1.0
_JOIN_SECONDS = 10.0


class _Answer(Exception):
    """Internal: stop processing and answer ``code`` with ``message``."""

    def __init__(self, code: int, message: str | None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


# -- sessions --------------------------------------------------------------------------------------------


class SessionStore:
    """Sessions of one server, with PyCOM's sliding idle timeout (re-armed on every lookup).

    Ids are ``uuid1().hex`` as in PyCOM. Thread-safe; expiry is checked on lookup, and
    :meth:`purge` drops idle sessions so an abandoned one does not live forever.
    """

    def __init__(self, idle_timeout: float = DEFAULT_SESSION_TIMEOUT, *, clock: Callable[[], float] = time.monotonic) -> None:
        if idle_timeout <= 0:
            raise ValueError(f"session idle timeout must be positive seconds, not {idle_timeout!r}")
        self.idle_timeout = float(idle_timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[Session, float]] = {}

    def create(self) -> Session:
        session = Session(uuid.uuid1().hex, on_discard=self.discard)
        with self._lock:
            self._sessions[session.session_id] = (session, self._clock())
        return session

    def lookup(self, session_id: Any) -> Session | None:
        """The live session with this id (its idle timer re-armed), or None if unknown or expired."""
        now = self._clock()
        with self._lock:
            try:
                session, last_used = self._sessions[session_id]
            except (KeyError, TypeError):
                return None
            if now - last_used > self.idle_timeout:
                del self._sessions[session_id]
                return None
            self._sessions[session_id] = (session, now)
            return session

    def discard(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def purge(self) -> int:
        """Drop every idle-expired session; how many were dropped."""
        now = self._clock()
        with self._lock:
            expired = [sid for sid, (_, used) in self._sessions.items() if now - used > self.idle_timeout]
            for sid in expired:
                del self._sessions[sid]
        return len(expired)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


# -- the server ------------------------------------------------------------------------------------------


class _Hosted:
    """One hosted interface: its declaration and the instance whose methods run."""

    __slots__ = ("info", "instance")

    def __init__(self, info: InterfaceInfo, instance: Any) -> None:
        self.info = info
        self.instance = instance


class _Encoded:
    """A reply already encoded: its application frames (a stub's constant reply, encoded once)."""

    __slots__ = ("frames",)

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames


#: what handling one request settles on: a reply to encode, or (a stub's) one encoded already
_Answered = TypeVar("_Answered", bound="wire.Response | _Encoded")


class _CallState:
    """What processing one request attached to it (the session, whose id every reply then carries)."""

    __slots__ = ("session",)

    def __init__(self) -> None:
        self.session: Session | None = None


class ZeroJSONServer(HostedService):
    """Serves ``services`` and ``router``'s stubs on a ROUTER socket until :meth:`stop`.

    ``address`` defaults to a private ``inproc://`` name; ``tcp://127.0.0.1:0`` binds a free port
    (``address`` then holds the real one). ``context`` defaults to ``zmq.Context.instance()``
    (``inproc://`` clients must share it). ``session_timeout`` is the idle timeout of sessions in
    seconds; ``default_authentication`` the policy of interfaces declared with
    ``authentication=None`` (PyCOM's global configuration); ``nested_timeout`` bounds calls this
    server makes to an authenticator or nameserver. Start it with :meth:`start`, ``with`` or
    :func:`serve`.
    """

    def __init__(
        self,
        services: Iterable[Any] = (),
        *,
        router: StubRouter | None = None,
        address: str | None = None,
        context: zmq.Context | None = None,
        session_timeout: float = DEFAULT_SESSION_TIMEOUT,
        authenticator: Callable[[Any], Mapping[str, Any]] | str | None = None,
        nameserver: str | None = None,
        default_authentication: str | None = None,
        nested_timeout: float = 5.0,
        public: bool = False,
    ) -> None:
        if address and address.startswith("tcp://"):  # inproc:// and ipc:// never leave the machine
            check_bind_host(address[len("tcp://"):].rsplit(":", 1)[0], server="ZeroJSON server", public=public)
        self.router = router
        self.requested_address = address or f"inproc://rpctest-zerojson-{uuid.uuid4().hex}"
        self.address: str = self.requested_address
        self.context: zmq.Context = context or zmq.Context.instance()
        self.sessions = SessionStore(session_timeout)
        self.authenticator = authenticator
        self.nameserver = nameserver
        self.default_authentication = default_authentication
        self.nested_timeout = nested_timeout
        #: what went wrong with requests (unanswerable input, unmatched calls, handler exceptions)
        self.diagnostics: list[str] = []
        #: the exception that ended the loop early, if one did (it never should)
        self.error: BaseException | None = None
        self._hosted: dict[str, _Hosted] = {}
        for service in services:
            self.add_service(service)
        self._socket: zmq.Socket | None = None
        self._wake: zmq.Socket | None = None
        self._wake_id = b"rpctest-wake-" + uuid.uuid4().bytes
        self._thread: threading.Thread | None = None
        self._state_lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = False
        self._client: ZeroJSONClient | None = None

    # -- what is served --------------------------------------------------------------------------------

    def add_service(self, service: Any) -> InterfaceInfo:
        """Host a declared service (an instance, or a class to instantiate with no arguments)."""
        info = interface_of(service)
        instance = service() if isinstance(service, type) else service
        if info.name in self._hosted:
            raise RuntimeError(f"interface {info.name} is already hosted by this server")
        self._hosted[info.name] = _Hosted(info, instance)
        return info

    @property
    def interfaces(self) -> list[str]:
        """The interfaces answered now: hosted ones and those the router has stubs for."""
        return sorted(set(self._hosted) | self._stubbed_interfaces())

    def hosted(self, name: str) -> Any:
        """The instance hosting interface ``name`` (KeyError if none)."""
        return self._hosted[name].instance

    def _stubbed_interfaces(self) -> set[Any]:
        if self.router is None:
            return set()
        return {stub.service for stub in self.router.active(_STACK)}

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind (failing here, clearly, on a bad or busy address) and start serving."""
        with self._state_lock:
            if self._stopped:
                raise RuntimeError(f"{self!r} was stopped; build a new one")
            if self._thread is not None:
                return self
            sock = self.context.socket(zmq.ROUTER)
            sock.linger = 0
            try:
                sock.bind(self.requested_address)
                self.address = sock.getsockopt_string(zmq.LAST_ENDPOINT)
                sock.rcvtimeo = _POLL_MS  # the loop's receive wakes once a second when idle (purge, stop)
                self._wake = self._wake_socket()
            except BaseException as exc:
                sock.close(linger=0)
                self._close_wake()
                if isinstance(exc, zmq.ZMQError):
                    raise OSError(f"cannot bind a ZeroJSON server to {self.requested_address!r}: {exc}") from exc
                raise
            self._socket = sock
            self._thread = threading.Thread(target=self._run, name=f"rpctest-zerojson-{self.address}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop promptly, wait for its thread and close every socket this server opened."""
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
            thread = self._thread
        self._stopping.set()
        try:
            if thread is not None and thread is not threading.current_thread():
                if self._wake is not None:
                    try:  # never block: queued on the wake socket's own pipe, it arrives once connected
                        send_frames(self._wake, [b"stop"], NOBLOCK)
                    except zmq.ZMQError:  # the loop still sees _stopping within its 1 s receive timeout
                        pass
                thread.join(_JOIN_SECONDS)
                if thread.is_alive():  # pragma: no cover - a handler that never returns
                    _logger.warning("the ZeroJSON server loop at %s did not stop in time", self.address)
            elif thread is None and self._socket is not None:  # pragma: no cover - start failed half-way
                self._socket.close(linger=0)
        finally:
            if self._client is not None:
                self._client.close()
            self._close_wake()

    def _wake_socket(self) -> zmq.Socket | None:
        """A DEALER connected to this server's own ROUTER under a routing id no peer can have (a
        random one; libzmq reserves ids starting with a zero byte for the ones it makes): its message
        ends the loop's blocking receive, so the loop waits on one socket, without a poll per message.
        None when it cannot connect (an address this process cannot dial): :meth:`stop` then takes
        up to the loop's 1 s receive timeout."""
        wake = self.context.socket(zmq.DEALER)
        wake.linger = 0
        try:
            wake.setsockopt(zmq.ROUTING_ID, self._wake_id)
            wake.ipv6 = "[" in self.address
            wake.connect(self.address)
        except zmq.ZMQError:
            wake.close(linger=0)
            return None
        return wake

    def _close_wake(self) -> None:
        if self._wake is not None:
            self._wake.close(linger=0)
            self._wake = None

    def __enter__(self) -> Self:
        return self.start()

    @property
    def alive(self) -> bool:
        """True while the request loop runs."""
        return self._thread is not None and self._thread.is_alive()

    # -- calling it --------------------------------------------------------------------------------------

    @property
    def client(self) -> ZeroJSONClient:
        """A client of this server on its context (closed by :meth:`stop`)."""
        from rpctest.stacks.zerojson.client import ZeroJSONClient

        with self._state_lock:
            if self._stopped:
                raise RuntimeError(f"{self!r} is stopped")
            if self._client is None:
                self._client = ZeroJSONClient(self.address, context=self.context)
            return self._client

    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """Call ``operation`` over the wire; ``interface=`` names the interface unless one is served."""
        interface = meta.pop("interface", None)
        if interface is None:
            served = self.interfaces
            if len(served) != 1:
                raise TypeError(f"this server answers {served}; pass interface=...")
            interface = served[0]
        attachment = meta.pop("attachment", None)
        return self.client.call(Call(_STACK, interface, operation, body, meta=meta, attachment=attachment))

    def send_call(self, call: Call) -> Reply:
        """The call as it is, to the interface it names: its meta (session, token) and its attachment
        travel too (live verify replays a recorded upload with the attachment the consumer sent)."""
        return self.client.call(call)

    # -- the loop ----------------------------------------------------------------------------------------

    def _run(self) -> None:
        """Receive from the ROUTER, blocking up to a second at a time; answer each message, end on
        :meth:`stop`'s wake message (:meth:`_wake_socket`), and drop idle sessions once a second
        (expiry is checked on lookup: purging only frees their memory).

        One blocking receive per message, as the bare echo's one receive: a poll of the ROUTER and a
        wake socket cost a ``zmq_poll`` (and a ``zmq.Poller`` call in Python) on top of every
        message's receive, and draining until ``zmq.Again`` built an exception for every message.
        """
        sock, wake_id = self._socket, self._wake_id
        assert sock is not None
        next_purge = time.monotonic() + _PURGE_SECONDS
        try:
            while not self._stopping.is_set():
                try:
                    frames = recv_frames(sock)
                except zmq.Again:  # a second without a message
                    frames = None
                now = time.monotonic()  # before answering: after its last frame, straight back to the receive
                if now >= next_purge:
                    self.sessions.purge()
                    next_purge = now + _PURGE_SECONDS
                if frames is not None:
                    if frames[0] == wake_id:
                        break
                    self._answer_one(sock, frames)
        except Exception as exc:  # pragma: no cover - a bug in this module; recorded, not raised in a thread
            self.error = exc
            _logger.exception("the ZeroJSON server loop at %s failed", self.address)
            self.diagnostics.append(f"the server loop stopped on an internal error: {exc!r}")
        finally:
            self._remove_ipc_file()
            sock.close(linger=0)

    def _remove_ipc_file(self) -> None:
        """Unlink the socket file of an ``ipc://`` endpoint: libzmq 4.3 leaves it behind on close."""
        if not self.address.startswith("ipc://"):
            return
        path = self.address[len("ipc://") :]
        if not path or path.startswith("@"):  # the abstract namespace has no file
            return
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                os.unlink(path)
        except OSError:
            _logger.debug("could not remove the ipc socket file %s", path, exc_info=True)

    def _answer_one(self, sock: zmq.Socket, frames: list[bytes]) -> None:
        """Send the reply to one received message; whatever handling it raises fails it alone."""
        try:  # contained(), as a try: the context manager cost three Python calls per message
            reply = self.handle(frames)
            if reply is not None:
                try:
                    send_frames(sock, reply)
                except zmq.ZMQError as exc:  # pragma: no cover - ROUTER drops rather than fails
                    self._diagnose(f"could not send a reply: {exc!r}")
        except Exception as exc:  # noqa: BLE001 - one message's failure must not reach the loop
            report_uncontained(exc, f"a message of {len(frames)} frame(s)", self._diagnose, then="no reply was sent")

    def _diagnose(self, text: str) -> None:
        _logger.warning("ZeroJSON server %s: %s", self.address, text)
        self.diagnostics.append(text)

    # -- one message ---------------------------------------------------------------------------------

    def handle(self, frames: list[bytes]) -> list[bytes] | None:
        """The reply message (envelope included) for one message a ROUTER received, or None."""
        app: list[bytes] | None
        if len(frames) > 2 and not frames[1] and frames[0]:  # one routing id (every DEALER or REQ peer):
            envelope, app = frames[:1], frames[2:]  # split_envelope's first case, without the call
        else:
            envelope, app = wire.split_envelope(frames)
        if app is None:
            self._diagnose(
                f"a message of {len(frames)} frames from peer {frames[0].hex() if frames else '?'} has no empty "
                "delimiter frame, so it got no reply (PyCOM's server drops it too; a DEALER client must send "
                "b'' first, as REQ does)"
            )
            return None
        response = self._answer(app, encoded=True)
        if response is None:
            return None
        if isinstance(response, _Encoded):
            return [*envelope, b"", *response.frames]
        return [*envelope, b"", *self._encode(response)[0]]

    def _encode(self, response: wire.Response) -> tuple[list[bytes], bool]:
        """(the application frames of ``response``, whether they are its own): a result JSON cannot
        hold is reported and answered code 1 instead."""
        try:
            return wire.encode_response(response), True
        except TypeError as exc:
            self._diagnose(f"the result is not JSON-serializable ({exc}); answered code 1 instead")
            failed = wire.Response(code=wire.UNKNOWN, error=UNKNOWN_ERROR_MESSAGE, session_id=response.session_id)
            return wire.encode_response(failed), False

    def answer(self, app: list[bytes]) -> wire.Response | None:
        """The reply to the application frames of one request (None: PyCOM sends none)."""
        response = self._answer(app, encoded=False)
        assert not isinstance(response, _Encoded)
        return response

    def _answer(self, app: list[bytes], *, encoded: bool) -> wire.Response | _Encoded | None:
        """:meth:`answer`; with ``encoded``, a stub's reply may come already encoded (see
        :meth:`_stub_frames`)."""
        if len(app) < 2:
            self._diagnose(
                f"a request of {len(app)} frame(s) after the delimiter got no reply: ZeroJSON needs "
                "[command, body(, attachment)] (PyCOM's server crashes on it and sends nothing)"
            )
            return None
        command = app[0]
        if command != wire.COMMAND_CALL:
            return wire.Response(code=wire.BAD_REQUEST, error=f"Unknown command: {command!r}")
        try:
            data = wire.loads(app[1])
        except wire.WireError as exc:
            if exc.code is None:
                self._diagnose(f"a request body got no reply: {exc} (PyCOM's handler crashes on it and sends nothing)")
                return None
            return wire.Response(code=exc.code, error=exc.reply_message)
        if not isinstance(data, dict):
            self._diagnose(
                f"a request body that is a JSON {type(data).__name__}, not an object, got no reply "
                "(PyCOM's server crashes on it and sends nothing)"
            )
            return None
        for name in ("interface", "method"):
            if name not in data:
                return wire.Response(code=wire.BAD_REQUEST, error=f"Field {name} is required")
        if len(app) > 3:
            return wire.Response(code=wire.BAD_REQUEST, error=f"Expected 2-3 parts, got {len(app)}")
        attachment = app[2] if len(app) == 3 else None
        state = _CallState()
        try:
            response: wire.Response | _Encoded = self._dispatch(data, attachment, state, encoded)
        except Exception as exc:
            response = self._refusal(exc, data)
        if state.session is not None:
            assert not isinstance(response, _Encoded)  # only a call with no session gets one
            response.session_id = state.session.session_id
        return response

    def _guarded(self, work: Callable[[], _Answered], data: Mapping[str, Any]) -> _Answered | wire.Response:
        """Run ``work``, turning what it raises into PyCOM's answer (:meth:`_refusal`)."""
        try:
            return work()
        except Exception as exc:
            return self._refusal(exc, data)

    def _refusal(self, exc: Exception, data: Mapping[str, Any]) -> wire.Response:
        """PyCOM's answer to what handling ``data`` raised: RemoteError codes, else 1."""
        if isinstance(exc, _Answer):
            return wire.Response(code=exc.code, error=exc.message)
        if isinstance(exc, RemoteError):
            return wire.Response(code=exc.code, error=exc.message)
        if isinstance(exc, RpcError):
            try:
                code, message = to_wire(exc)
            except ValueError as bad:
                self._diagnose(f"{_where(data)} raised {exc!r}, whose code is not a ZeroJSON code ({bad}); answered 1")
                return wire.Response(code=wire.UNKNOWN, error=UNKNOWN_ERROR_MESSAGE)
            return wire.Response(code=code, error=message)
        _logger.error("ZeroJSON server %s: %s raised", self.address, _where(data), exc_info=exc)
        self.diagnostics.append(f"{_where(data)} raised {exc!r}; answered code 1 {UNKNOWN_ERROR_MESSAGE!r}")
        return wire.Response(code=wire.UNKNOWN, error=UNKNOWN_ERROR_MESSAGE)

    def _type_confusion(self, data: Mapping[str, Any], name: str) -> _Answer:
        self._diagnose(
            f"{_where(data)}: {name} is a JSON {type(data.get(name)).__name__}; PyCOM fails on it internally "
            f"and answers code 1"
        )
        return _Answer(wire.UNKNOWN, UNKNOWN_ERROR_MESSAGE)

    def _dispatch(
        self, data: Mapping[str, Any], attachment: bytes | None, state: _CallState, encoded: bool
    ) -> wire.Response | _Encoded:
        interface, method = data["interface"], data["method"]
        if not _hashable(interface):
            raise self._type_confusion(data, "interface")
        hosted = self._hosted.get(interface)
        router = self.router
        call = None
        if hosted is None and router is not None and isinstance(method, str):
            # a stub server's every call: a stub that matches settles it (its interface is stubbed,
            # and with nothing hosted there is no session to check), before the interfaces are listed
            call = _stub_call(data, attachment)
            stub = router.match(call)
            if stub is not None:
                return self._stub_frames(stub, call) if encoded else self._stub_response(stub, call)
        stubbed = router is not None and interface in self._stubbed_interfaces()
        if hosted is None and not stubbed:
            raise _Answer(wire.BAD_REQUEST, f"Unsupported interface: {interface}")
        if hosted is not None and hosted.info.stateful:
            state.session = self._session(data)
        if not _hashable(method):
            raise self._type_confusion(data, "method")
        if stubbed and isinstance(method, str) and call is None:
            call = _stub_call(data, attachment)
            assert router is not None
            stub = router.match(call)
            if stub is not None:
                return self._stub_response(stub, call)
        if hosted is None or method not in hosted.info.methods:
            if call is not None:
                return self._unmatched(call)
            raise _Answer(wire.METHOD_NOT_FOUND, f"Method '{method}' not found in interface {interface}")
        return self._invoke(hosted, data, attachment, state)

    def _session(self, data: Mapping[str, Any]) -> Session:
        session_id = data.get("session_id")
        if session_id is None:
            return self.sessions.create()
        if not _hashable(session_id):
            raise self._type_confusion(data, "session_id")
        session = self.sessions.lookup(session_id)
        if session is None:
            raise _Answer(wire.SESSION_EXPIRED, f"Session '{session_id}' has expired")
        return session

    def _invoke(
        self, hosted: _Hosted, data: Mapping[str, Any], attachment: bytes | None, state: _CallState
    ) -> wire.Response:
        """Steps 7 to 10 for a hosted method: extensions and auth, arguments, the call, the results."""
        info = hosted.info
        method = info.methods[data["method"]]
        extensions = data.get("extensions")
        if extensions is None:
            extensions = {}
        if not isinstance(extensions, dict):
            raise self._type_confusion(data, "extensions")
        request = Request(
            info.name,
            method.name,
            data.get("args"),
            extensions=extensions,
            attachment=attachment,
            session=state.session,
            validate=self.validate_token,
        )
        policy = info.authentication or self.default_authentication
        if policy == "required":
            request.user_info()
        positional, keywords = method.bind(info, request)
        value = method.wrapped(hosted.instance, request, *positional, **keywords)
        response = method.shape(value)
        for hook in method.posthooks:
            hook(info, method, response)
        return response

    # -- stubs -----------------------------------------------------------------------------------------

    def _stub_response(self, stub: Stub, call: Call) -> wire.Response:
        assert self.router is not None
        try:
            reply = self.router.respond(stub, call)
        except Exception as exc:
            return self._stub_raised(exc, call)
        return self._response_from_reply(reply, call)[0]

    def _stub_frames(self, stub: Stub, call: Call) -> wire.Response | _Encoded:
        """:meth:`_stub_response`, encoded: a stub answering its own reply to every call has it
        encoded once (:meth:`StubRouter.respond_encoded`), the JSON encoding being most of what
        answering it cost. Only a call with no session comes here (a session's id is in the reply)."""
        assert self.router is not None
        encoding = False

        def encode(reply: Reply) -> tuple[list[bytes], bool]:
            nonlocal encoding
            encoding = True
            response, clean = self._response_from_reply(reply, call)
            frames, encodable = self._encode(response)
            return frames, clean and encodable  # kept only when nothing had to be reported

        try:
            return _Encoded(self.router.respond_encoded(stub, call, _STACK, encode))
        except Exception as exc:
            if encoding:  # not the stub's: as from handle(), the message fails alone
                raise
            return self._stub_raised(exc, call)

    def _stub_raised(self, exc: Exception, call: Call) -> wire.Response:
        _logger.error("ZeroJSON server %s: the stub for %s.%s raised", self.address, call.service, call.operation, exc_info=True)
        self.diagnostics.append(f"the stub for {call.service}.{call.operation} raised {exc!r}; answered code 1")
        return wire.Response(code=wire.UNKNOWN, error=UNKNOWN_ERROR_MESSAGE)

    def _response_from_reply(self, reply: Reply, call: Call) -> tuple[wire.Response, bool]:
        """(the response for a stub's reply, whether it needed nothing reported)."""
        meta = reply.meta or {}
        errors = list(reply.all_errors)
        response = wire.Response(
            session_id=meta.get("session_id"), extensions=meta.get("extensions"), attachment=reply.attachment
        )
        if not errors:
            response.result = reply.body
            return response, True
        clean = True
        if len(errors) > 1:
            clean = False
            self._diagnose(
                f"the stub for {call.service}.{call.operation} gave {len(errors)} errors; a ZeroJSON reply carries "
                f"one, so only the first was sent"
            )
        try:
            response.code, response.error = to_wire(errors[0])
        except ValueError as exc:
            clean = False
            self._diagnose(f"the stub for {call.service}.{call.operation}: {exc}; answered code 1")
            response.code, response.error = wire.UNKNOWN, UNKNOWN_ERROR_MESSAGE
        return response, clean

    def _unmatched(self, call: Call) -> wire.Response:
        """PyCOM's code 2 when nothing is stubbed for the method, else 4 naming the nearest stub."""
        assert self.router is not None
        self._diagnose(self.router.explain_unmatched(call))
        candidates = [
            stub for stub in self.router.active(_STACK) if stub.service == call.service and stub.action == call.operation
        ]
        if not candidates:
            return wire.Response(
                code=wire.METHOD_NOT_FOUND, error=f"Method '{call.operation}' not found in interface {call.service}"
            )
        nearest = self.router.nearest(call, candidates) or candidates[0]
        differences = "; ".join(nearest.differences(call)) or "no difference found"
        return wire.Response(
            code=wire.BAD_REQUEST,
            error=f"No stub matches this {call.service}.{call.operation} request. Nearest stub {nearest!r}: {differences}.",
        )

    # -- authentication ---------------------------------------------------------------------------------

    def validate_token(self, token: Any) -> Mapping[str, Any]:
        """The user info for ``token`` from the configured authenticator (RemoteError on refusal).

        See the module docstring for where the authenticator is looked for; none found is PyCOM's
        ServiceNotFound (3).
        """
        authenticator = self.authenticator
        if callable(authenticator):
            return authenticator(token)
        if isinstance(authenticator, str):
            return self._remote_validate(authenticator, token)
        local = self._hosted.get(AUTHENTICATOR_INTERFACE)
        if local is not None:
            data = {"interface": AUTHENTICATOR_INTERFACE, "method": "validate", "args": {"token": token}}
            response = self._guarded(lambda: self._invoke(local, data, None, _CallState()), data)
            if response.code != wire.OK:
                raise RemoteError(response.error, code=response.code)
            result: Mapping[str, Any] = response.result
            return result
        address = self._locate(AUTHENTICATOR_INTERFACE)
        if address is None:
            raise ServiceNotFound(f"Service with interface '{AUTHENTICATOR_INTERFACE}' not found")
        return self._remote_validate(address, token)

    def _locate(self, interface: str) -> str | None:
        """A provider's address from a nameserver hosted here, or from the one at ``nameserver``."""
        from rpctest.stacks.zerojson.nameserver import NS_INTERFACE, NameServer

        hosted = self._hosted.get(NS_INTERFACE)
        if hosted is not None and isinstance(hosted.instance, NameServer):
            found = hosted.instance.find(interface)
            return found["address"] if found else None
        if self.nameserver is None:
            return None
        reply = self._nested_call(self.nameserver, NS_INTERFACE, "locate", {"interface": interface})
        if reply.errors:
            return None
        return reply.body.get("address") if isinstance(reply.body, Mapping) else None

    def _remote_validate(self, address: str, token: Any) -> Mapping[str, Any]:
        reply = self._nested_call(address, AUTHENTICATOR_INTERFACE, "validate", {"token": token})
        if reply.errors:
            error = reply.errors[0]
            raise RemoteError(error.message or None, code=int(error.code))
        body: Mapping[str, Any] = reply.body
        return body

    def _nested_call(self, address: str, interface: str, method: str, args: Any) -> Reply:
        """A blocking call from this server's thread to another server (CallTimeout answers 1)."""
        from rpctest.stacks.zerojson.client import ZeroJSONClient

        with ZeroJSONClient(address, context=self.context, timeout=self.nested_timeout) as client:
            return client.call(interface, method, args, session=None, token=None)

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else ("running" if self.alive else "not started")
        return f"<ZeroJSONServer {', '.join(self.interfaces) or '(nothing)'} on {self.address} ({state})>"


# -- small pieces ----------------------------------------------------------------------------------------


def _hashable(value: Any) -> bool:
    return not isinstance(value, (list, dict))


def _where(data: Mapping[str, Any]) -> str:
    return f"{data.get('interface')}.{data.get('method')}"


def _stub_call(data: Mapping[str, Any], attachment: bytes | None) -> Call:
    """The neutral call a stub sees: args as body, session/extensions/token in meta when sent."""
    meta: dict[str, Any] = {}
    session_id = data.get("session_id")
    if session_id is not None:
        meta["session_id"] = session_id
    extensions = data.get("extensions")
    if extensions is not None:  # (isinstance of an ABC is a Python call: not for a call without any)
        meta["extensions"] = extensions
        if isinstance(extensions, Mapping) and extensions.get(wire.AUTH_EXTENSION) is not None:
            meta["token"] = extensions[wire.AUTH_EXTENSION]
    return Call(_STACK, data["interface"], data["method"], data.get("args"), meta=meta, attachment=attachment)


def serve(*services: Any, router: StubRouter | None = None, address: str | None = None, **options: Any) -> ZeroJSONServer:
    """Start a :class:`ZeroJSONServer` hosting ``services`` (and ``router``'s stubs); it is running."""
    return ZeroJSONServer(services, router=router, address=address, **options).start()


def serve_stubs(router: StubRouter, *, address: str | None = None, **options: Any) -> ZeroJSONServer:
    """Start a server answering from ``router``'s ``zerojson`` stubs (interfaces looked up per call)."""
    return ZeroJSONServer((), router=router, address=address, **options).start()
