"""A ZeroJSON client on pyzmq: what PyCOM's ``zerojson.Client`` sends, without its wedges.

:class:`ZeroJSONClient` connects to a ZeroJSON server (PyCOM's is a ROUTER) and sends exactly the
frames the stock REQ client sends (:mod:`.wire` does the bytes), returning neutral
:class:`~rpctest.model.Reply` objects: ``body`` is the result, ``errors`` holds one
:class:`~rpctest.model.RpcError` for a non-zero code, ``attachment`` the reply's attachment frame
and ``meta`` the reply's ``session_id`` and ``extensions`` when it has them.

Decisions, and why:

* **DEALER by default, REQ on request.** A DEALER adds the empty delimiter frame itself so that
  the server sees what a REQ sends (without it PyCOM's server never answers). ``socket_type="req"``
  uses a REQ socket, as the stock client does.
* **One deadline per call.** ``timeout`` bounds the whole call (waiting to send plus waiting for
  the reply); PyCOM applies its timeout to each wait, so its worst case is twice as long.
* **Timeouts raise and never poison the next call.** No reply in time raises
  :class:`~rpctest.exceptions.CallTimeout` naming interface, method, address and timeout. ZeroJSON
  has no request id, so a late reply could not be told apart from the next call's reply; the
  client therefore closes the socket that waited (linger 0, so nothing lingers in it) and connects
  a fresh one. A late reply goes to the dead socket and is dropped by ZeroMQ. This also un-wedges
  REQ, which PyCOM's client leaves unusable after a timeout.
* **Sessions as PyCOM's client keeps them.** The client sends its ``session_id`` on every call and
  adopts the id of every *successful* reply; an error reply's id is ignored and code 6 does not
  clear it (call :meth:`reset_session`). A per-call ``session=`` is sent for that call only and
  leaves the client's id alone.
* **Broken replies raise** :class:`~rpctest.stacks.zerojson.wire.WireError` naming the call: a
  peer that answers with non-ZeroJSON bytes is broken, which a test must hear loudly.
* **Contexts:** sockets live on ``zmq.Context.instance()`` unless a context is given (``inproc://``
  needs the server's context). :meth:`close` closes the socket with linger 0 and never terminates
  a context it did not create; ``private_context=True`` makes one that :meth:`close` terminates.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Self, overload

import zmq

from rpctest.exceptions import CallTimeout, ConfigError
from rpctest.model import Call, Reply
from rpctest.stacks.zerojson import wire
from rpctest.stacks.zerojson.errors import from_wire
from rpctest.stacks.zerojson.frames import NOBLOCK, recv_frames, send_frames

__all__ = ["STACK", "ZeroJSONClient", "reply_from_response"]

STACK = "zerojson"
_UNSET: Any = object()
_SOCKET_TYPES = {"dealer": zmq.DEALER, "req": zmq.REQ}


def reply_from_response(response: wire.Response) -> Reply:
    """The neutral :class:`Reply` for a decoded ZeroJSON reply."""
    meta: dict[str, Any] = {}
    if response.session_id is not None:
        meta["session_id"] = response.session_id
    if response.extensions:
        meta["extensions"] = dict(response.extensions)
    if response.code == wire.OK:
        return Reply(body=response.result, attachment=response.attachment, meta=meta)
    return Reply(errors=[from_wire(response.code, response.error)], attachment=response.attachment, meta=meta)


class ZeroJSONClient:
    """Calls ZeroJSON methods at ``address`` (``tcp://``, ``ipc://`` or ``inproc://``).

    ``session_id`` and ``token`` are the client's session and ``org.pycom.auth`` token, sent with
    every call; ``record=True`` tells contract recorders about each call. Thread-safe: calls are
    serialized on the one socket.
    """

    def __init__(
        self,
        address: str,
        *,
        timeout: float = 5.0,
        socket_type: Literal["dealer", "req"] = "dealer",
        context: zmq.Context | None = None,
        private_context: bool = False,
        session_id: str | None = None,
        token: str | None = None,
        record: bool = False,
    ) -> None:
        if not isinstance(address, str) or "://" not in address:
            raise ConfigError(f"a ZeroJSON address is 'tcp://host:port', 'ipc://path' or 'inproc://name', not {address!r}")
        if socket_type not in _SOCKET_TYPES:
            raise ConfigError(f"socket_type must be 'dealer' or 'req', not {socket_type!r}")
        if timeout is None or timeout <= 0:
            raise ConfigError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if context is not None and private_context:
            raise ConfigError("pass either context= or private_context=True, not both")
        self.address = address
        self.timeout = float(timeout)
        self.socket_type = socket_type
        self.session_id = session_id
        self.token = token
        self.record = record
        self._own_context = private_context
        self.context: zmq.Context = zmq.Context() if private_context else (context or zmq.Context.instance())
        self._lock = threading.RLock()
        self._closed = False
        self._socket: zmq.Socket | None = None
        self._receive_timeout = -1  # the RCVTIMEO (ms) last set on the socket
        try:
            self._socket = self._connect()
        except BaseException:
            self._release_context()
            raise

    # -- sockets ---------------------------------------------------------------------------------

    def _connect(self) -> zmq.Socket:
        sock = self.context.socket(_SOCKET_TYPES[self.socket_type])
        sock.linger = 0
        self._receive_timeout = -1  # the new socket's RCVTIMEO: libzmq's default, wait for ever
        try:
            sock.connect(self.address)
        except zmq.ZMQError as exc:
            sock.close(linger=0)
            raise ConfigError(f"cannot connect a ZeroJSON client to {self.address!r}: {exc}") from exc
        return sock

    def reconnect(self) -> None:
        """Replace the socket with a fresh one: whatever the old one still had queued is dropped."""
        with self._lock:
            self._check_open()
            old, self._socket = self._socket, None
            if old is not None:
                old.close(linger=0)
            self._socket = self._connect()

    def reset_session(self) -> None:
        """Forget the session id (what a caller does after code 6; PyCOM's client never does)."""
        self.session_id = None

    # -- calls -------------------------------------------------------------------------------------

    @overload
    def call(self, call: Call, /, *, timeout: float | None = None) -> Reply: ...

    @overload
    def call(
        self,
        interface: str,
        method: str,
        args: Any = None,
        *,
        attachment: bytes | None = None,
        session: str | None = ...,
        token: str | None = ...,
        extensions: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Reply: ...

    def call(
        self,
        interface: Any,
        method: Any = None,
        args: Any = None,
        *,
        attachment: bytes | None = None,
        session: Any = _UNSET,
        token: Any = _UNSET,
        extensions: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """Call ``interface.method(args)``, or a neutral :class:`Call`, and return the reply.

        For a Call, ``service`` is the interface, ``operation`` the method, ``body`` the args and
        ``meta`` may hold ``session_id`` (or ``session``), ``token`` and ``extensions``.
        ``session``/``token`` given here (None: send none) override the client's for this call, and,
        with a Call, the Call's own (as ``attachment`` and ``extensions`` do).
        """
        if isinstance(interface, Call):
            if method is not None or args is not None:
                raise TypeError("call(Call) takes no method or args: they are in the Call")
            base = interface
        else:
            if not isinstance(method, str):
                raise TypeError(f"call(interface, method, args): method is a str, not {method!r}")
            base = Call(STACK, interface, method, args)
        if session is _UNSET and token is _UNSET and not extensions and attachment is None and not self.record:
            return self._call(base, timeout)  # nothing to override, and no recorder keeps the call
        meta: dict[str, Any] = dict(base.meta or {})
        if session is not _UNSET:
            meta.pop("session", None)
            meta["session_id"] = session
        if token is not _UNSET:
            meta["token"] = token
        if extensions:
            meta["extensions"] = {**(meta.get("extensions") or {}), **extensions}
        call = dataclasses.replace(base, meta=meta, attachment=attachment if attachment is not None else base.attachment)
        return self._call(call, timeout)

    def call_many(self, calls: Iterable[Call], *, timeout: float | None = None) -> list[Reply]:
        """One reply per call, in order (ZeroJSON has no batches: the calls go one after another)."""
        return [self._call(call, timeout) for call in calls]

    def _call(self, call: Call, timeout: float | None) -> Reply:
        request, explicit_session = self._request(call)
        frames = wire.encode_request(request)
        wait = self.timeout if timeout is None else float(timeout)
        with self._lock:
            answer = self._exchange(frames, wait, delimiter=True)
            if answer is None:
                raise CallTimeout(
                    f"no reply from {self._what(call)} within {wait:g} s (the socket that waited was replaced, "
                    f"so a late reply cannot reach a later call)"
                )
            try:
                response = wire.decode_response(answer)
            except wire.WireError as exc:
                raise wire.WireError(f"broken reply from {self._what(call)}: {exc}") from exc
            if not explicit_session and response.ok and response.session_id is not None:
                self.session_id = response.session_id
        reply = reply_from_response(response)
        if self.record:
            from rpctest.contracts.recorder import observe

            observe(call, reply, source="client")
        return reply

    def _what(self, call: Call) -> str:
        return f"ZeroJSON interface {call.service!r} method {call.operation!r} at {self.address}"

    def _request(self, call: Call) -> tuple[wire.Request, bool]:
        """(the wire request for ``call``, whether its session id was given for this call only)."""
        meta = call.meta or {}
        explicit_session = "session_id" in meta or "session" in meta
        session_id = meta.get("session_id", meta.get("session")) if explicit_session else self.session_id
        extensions = dict(meta.get("extensions") or {})
        token = meta["token"] if "token" in meta else self.token
        if token is not None:
            extensions[wire.AUTH_EXTENSION] = token
        request = wire.Request(
            interface=call.service,
            method=call.operation,
            args=call.body,
            session_id=session_id,
            extensions=extensions or None,
            attachment=call.attachment,
        )
        return request, explicit_session

    # -- raw frames ----------------------------------------------------------------------------------

    def exchange(
        self, frames: Iterable[bytes], *, timeout: float | None = None, delimiter: bool = True
    ) -> list[bytes] | None:
        """Send raw application frames; the reply's application frames, or None if none came in time.

        For replaying recorded bytes and for fuzzing the framing. ``delimiter=False`` (DEALER only)
        leaves out the empty frame REQ would add, which PyCOM's server never answers. After None
        the socket has been replaced, as after a call's timeout.
        """
        frames = [bytes(frame) for frame in frames]
        if not delimiter and self.socket_type != "dealer":
            raise ConfigError("delimiter=False needs socket_type='dealer' (a REQ socket always adds it)")
        wait = self.timeout if timeout is None else float(timeout)
        with self._lock:
            return self._exchange(frames, wait, delimiter=delimiter)

    def _exchange(self, frames: list[bytes], wait: float, *, delimiter: bool) -> list[bytes] | None:
        """Send ``frames`` and receive one reply before ``wait`` runs out; None (and a fresh socket)
        when it does. Any interruption also replaces the socket, whose state is then unknown.

        The send is tried at once (a DEALER's queue has room unless a thousand requests wait in it)
        and waits for room only when there is none; the reply is one blocking receive bounded by the
        socket's receive timeout. A poll before each step cost a second call into libzmq (and a
        ``zmq.Poller`` built in Python) every time, on the path every call takes.
        """
        self._check_open()
        sock = self._socket
        assert sock is not None
        deadline = time.monotonic() + wait
        done = False
        try:
            if self.socket_type == "dealer" and delimiter:
                frames = [b"", *frames]
            # the receive's bound is set before sending, so that the last frame sent goes straight
            # into the receive: the server, woken by that frame, waits for this thread's GIL until then
            self._receive_within(sock, deadline)
            try:
                send_frames(sock, frames, NOBLOCK)
            except zmq.Again:
                if not self._wait(sock, zmq.POLLOUT, deadline):
                    return None
                send_frames(sock, frames, NOBLOCK)
                self._receive_within(sock, deadline)  # the wait took part of the time
            try:
                answer = recv_frames(sock)
            except zmq.Again:  # the receive timeout ran out
                return None
            done = True
        finally:
            if not done:
                self.reconnect()
        if self.socket_type == "dealer":
            if not answer or answer[0] != b"":
                raise wire.WireError(
                    f"a reply from {self.address} lacks the empty delimiter frame a ROUTER puts before it: "
                    f"{answer[:3]!r}"
                )
            answer = answer[1:]
        return answer

    def _receive_within(self, sock: zmq.Socket, deadline: float) -> None:
        """Bound the next receive by ``deadline`` (the socket option is set only when it changes:
        calls with the same timeout, most of them, set it once)."""
        milliseconds = max(0, int((deadline - time.monotonic()) * 1000))
        if milliseconds != self._receive_timeout:
            sock.setsockopt(zmq.RCVTIMEO, milliseconds)
            self._receive_timeout = milliseconds

    @staticmethod
    def _wait(sock: zmq.Socket, event: int, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        return bool(sock.poll(max(0, int(remaining * 1000)), event))

    # -- lifecycle ---------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")

    def close(self) -> None:
        """Close the socket (linger 0); terminate the context only if this client created it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._socket is not None:
                self._socket.close(linger=0)
                self._socket = None
            self._release_context()

    def _release_context(self) -> None:
        if self._own_context:
            self.context.term()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " (closed)" if self._closed else ""
        return f"<ZeroJSONClient {self.socket_type} {self.address}{state}>"
