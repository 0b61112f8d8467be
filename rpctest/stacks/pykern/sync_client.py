"""The blocking pykern.api client: the caller's own thread speaks WebSocket on one blocking socket.

It used to be :class:`~rpctest.stacks.pykern.client.PykernWireClient` on a private event loop in a
thread of its own, each call handed to that thread and its reply handed back; on a loaded machine
those two hand-offs were most of a round trip. A blocking caller has one call outstanding at a time,
so it needs no loop: it sends the CALL and reads frames until the REPLY with its ``call_id`` comes.

It behaves as the asyncio client does, through the same functions of :mod:`.client` (the messages,
their checks, the error texts and the handshake's verdict): every call has a deadline
(:class:`~rpctest.exceptions.CallTimeout`; the connection stays open and a late reply is dropped by
its ``call_id``), a closed connection is an ``APIDisconnected`` error in the Reply, a frame pykern's
client cannot read is a :class:`~rpctest.stacks.pykern.wire.WireError` and a dropped connection,
``reconnect=True`` opens a new connection (a new pykern session) after the server closed one.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any, Iterable, Sequence

from rpctest.model import Call, CallFailed, Reply
from rpctest.stacks.pykern import wire
from rpctest.stacks.pykern.blocking_ws import BlockingWebSocket
from rpctest.stacks.pykern.client import (
    _CLOSE_WAIT,
    _EMPTY,
    DEFAULT_SERVICE,
    END,
    PykernUnreachable,
    as_call,
    broken_frame_reason,
    call_timeout,
    check_client_options,
    check_handshake,
    closed_reason,
    collect_timeout,
    disconnected_reply,
    encode_request,
    protocol_error_of,
    reconnect_refused,
    record,
    reply_of,
    subscription_item,
)

__all__ = ["PykernSyncClient", "open_websocket"]

_logger = logging.getLogger("rpctest.pykern.client")
#: how long a call after an APIProtocolError reply looks for the server's close that follows it
_POLL = 0.001
#: the largest message it reads, as pykern's client (``max_message_size=2e8``)
_MAX_MESSAGE = int(2e8)


def open_websocket(address: str, timeout: float) -> BlockingWebSocket:
    """A blocking WebSocket to a pykern.api address, or PykernUnreachable saying why not."""
    try:
        return BlockingWebSocket.open(address, timeout, max_message_size=_MAX_MESSAGE)
    except OSError as exc:  # refused, unreachable, timed out, not a WebSocket (WebSocketRefused)
        raise PykernUnreachable.because(address, exc) from exc


class PykernSyncClient:
    """The blocking :class:`~rpctest.stacks.base.RpcClient` for pykern.api.

    Arguments are those of :meth:`PykernWireClient.connect <rpctest.stacks.pykern.client.PykernWireClient.connect>`;
    the connection (and handshake) happens here, so a wrong token raises
    :class:`~rpctest.stacks.pykern.client.HandshakeFailed` from the constructor and an address nobody
    answers :class:`~rpctest.stacks.pykern.client.PykernUnreachable`. :meth:`close` runs the closing
    handshake; use it (or ``with``) always. Calls from several threads take turns.
    """

    def __init__(
        self,
        address: str,
        *,
        token: Any = None,
        version: Any = wire.AUTH_API_VERSION,
        authenticate: bool = True,
        timeout: float = 5.0,
        service: str | None = None,
        record: bool = False,
        reconnect: bool = False,
    ) -> None:
        check_client_options(address, timeout)
        self.address = address
        self.timeout = float(timeout)
        self.service = service or DEFAULT_SERVICE
        self.record = record
        self.reconnect = reconnect
        self._lock = threading.Lock()
        self._ws: BlockingWebSocket | None = None
        self._ids = itertools.count(1)
        self._gone: str | None = None  # why the connection is gone, once it is
        self._protocol_error: str | None = None  # an APIProtocolError reply: the server closes next
        self._closed = False
        self._handshake: tuple[Any, Any] | None = (token, version) if authenticate else None
        self._open()
        if self._handshake is not None:
            try:
                reply = self._authenticate()
                if not reply.ok:
                    self._close_socket()
                    check_handshake(reply, address, token)
            except BaseException:
                self._closed = True
                if self._ws is not None:
                    self._ws.abort()
                raise

    # -- connecting ------------------------------------------------------------------------------------

    def _open(self) -> None:
        self._ws = open_websocket(self.address, self.timeout)

    def _authenticate(self) -> Reply:
        assert self._handshake is not None
        token, version = self._handshake
        return self._call(wire.AUTH_API_NAME, wire.auth_args(token, version), self.timeout)

    def _reconnect_if_closed(self) -> Reply | None:
        """With ``reconnect``: a new connection when the server closed the old one (or announced it
        would, with an APIProtocolError reply); None when ready, else the reply for the caller."""
        if not self.reconnect or (self._gone is None and self._protocol_error is None):
            return None
        if self._gone is None:  # the server closes after its APIProtocolError reply: let it
            self._wait_closed(time.monotonic() + self.timeout)
        assert self._ws is not None
        self._ws.abort()
        self._gone = self._protocol_error = None
        self._ids = itertools.count(1)  # a new connection, as a new pykern client counts from 1
        self._open()
        if self._handshake is not None:
            refused = reconnect_refused(self.address, self._authenticate())
            if refused is not None:
                return refused
        _logger.debug("reconnected to %s (a new pykern session)", self.address)
        return None

    # -- incoming messages -----------------------------------------------------------------------------

    def _next(self, deadline: float) -> wire.Message | None:
        """The next message for this client (any call id), None once the connection is closed.

        TimeoutError past ``deadline``; WireError (and the connection dropped, as pykern's client
        drops it) for a message pykern's client cannot read.
        """
        ws = self._ws
        assert ws is not None
        data = ws.receive(deadline)
        if data is None:
            self._on_closed(ws)
            return None
        message, problem = wire.check(data, "client")
        if message is None:
            self._gone = broken_frame_reason(self.address, problem or "invalid message")
            _logger.warning("%s", self._gone)
            ws.close(_CLOSE_WAIT)
            raise wire.WireError(self._gone)
        protocol_error = protocol_error_of(message)
        if protocol_error is not None:
            self._protocol_error = protocol_error
        return message

    def _on_closed(self, ws: BlockingWebSocket) -> None:
        if self._gone is None:
            if ws.problem is not None:
                self._gone = broken_frame_reason(self.address, ws.problem)
            else:
                self._gone = closed_reason(self.address, by_client=self._closed, protocol_error=self._protocol_error,
                                           code=ws.close_code)

    def _wait_closed(self, deadline: float) -> bool:
        """Read (and drop) messages until the connection closes or ``deadline``; True if it closed."""
        try:
            while self._next(deadline) is not None:
                pass
        except TimeoutError:
            return False
        except wire.WireError:
            pass
        return True

    def _send(self, data: bytes, deadline: float) -> bool:
        """Send one message; False (the reason recorded) when the connection turned out to be gone.
        TimeoutError past ``deadline`` (nothing sent if it had passed already)."""
        ws = self._ws
        assert ws is not None
        if self._protocol_error is not None and self._gone is None:
            self._wait_closed(time.monotonic() + _POLL)  # the server's close may already be here
        if self._gone is not None:
            return False
        try:
            if ws.send(data, deadline):
                return True
        except TimeoutError:
            if ws.closed:  # cut short mid-frame: the connection was dropped
                self._on_closed(ws)
            raise
        self._on_closed(ws)
        return False

    # -- calls -----------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return not self._closed and self._gone is None and self._ws is not None and not self._ws.closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"this PykernSyncClient for {self.address} is closed")

    def call(self, call: str | Call, api_args: Any = _EMPTY, *, timeout: float | None = None) -> Reply:
        """Call one API: ``call("echo", {"a": 1})`` or ``call(Call(...))``; always a neutral Reply
        (a Call whose ``meta["kind"] == "subscribe"`` collects the subscription's results into
        ``Reply.items`` until the server ends it, all within ``timeout``)."""
        self._check_open()
        neutral = as_call(call, api_args, self.service)
        wait = self.timeout if timeout is None else float(timeout)
        with self._lock:
            self._check_open()
            refused = self._reconnect_if_closed()
            if refused is not None:
                reply = refused
            elif neutral.meta.get("kind") == "subscribe":
                reply = self._collect(neutral.operation, neutral.body, wait)
            else:
                reply = self._call(neutral.operation, neutral.body, wait)
        if self.record:
            record(neutral, reply)
        return reply

    def _call(self, api_name: Any, api_args: Any, wait: float) -> Reply:
        call_id = next(self._ids)
        data = encode_request(api_name, api_args, call_id, wire.CALL)
        deadline = time.monotonic() + wait
        try:
            if not self._send(data, deadline):
                return disconnected_reply(self._gone or f"not connected to {self.address}")
            while True:
                message = self._next(deadline)
                if message is None:
                    return disconnected_reply(self._gone or f"not connected to {self.address}")
                if message.call_id == call_id:
                    return reply_of(message)
                _logger.debug("dropped a %s for call %d, which nobody awaits (late or cancelled)", message.kind_name, message.call_id)
        except TimeoutError:
            raise call_timeout(api_name, self.address, wait, call_id) from None

    def _collect(self, api_name: Any, api_args: Any, wait: float) -> Reply:
        """All results of a subscription until the server ends it, within ``wait`` seconds in total;
        a subscription left early (a timeout) is cancelled with the client's UNSUBSCRIBE."""
        call_id = next(self._ids)
        data = encode_request(api_name, api_args, call_id, wire.SUBSCRIBE)
        deadline = time.monotonic() + wait
        items: list[Any] = []
        try:
            sent = self._send(data, deadline)
        except TimeoutError:
            raise collect_timeout(api_name, self.address, wait, 0) from None
        if not sent:
            return Reply(items=items, errors=disconnected_reply(self._gone or f"not connected to {self.address}").errors)
        ended = False
        try:
            while True:
                try:
                    message = self._next(deadline)
                except TimeoutError:
                    raise collect_timeout(api_name, self.address, wait, len(items)) from None
                except wire.WireError:
                    ended = True
                    raise
                if message is None:
                    ended = True
                    return Reply(items=items, errors=disconnected_reply(self._gone or "").errors)
                if message.call_id != call_id:
                    continue
                try:
                    result = subscription_item(message)
                except CallFailed as exc:  # pykern's server sends no UNSUBSCRIBE after an error
                    ended = True
                    return Reply(items=items, errors=list(exc.errors))
                except wire.WireError:
                    ended = True
                    raise
                if result is END:  # the list is the body, as for hosted and stubbed subscriptions
                    ended = True
                    return Reply(body=items, items=items)
                items.append(result)
        finally:
            if not ended and self._gone is None:
                self._unsubscribe(call_id)

    def _unsubscribe(self, call_id: int) -> None:
        """Tell the server to stop a subscription this client gave up on (it does not answer)."""
        try:
            self._send(wire.encode_unsubscribe(call_id), time.monotonic() + self.timeout)
        except TimeoutError:
            pass  # the server does not read: the connection was dropped, and the subscription with it

    def call_many(self, calls: Iterable[Call], *, timeout: float | None = None) -> list[Reply]:
        """The calls one after another on this connection (pykern has no batches)."""
        return [self.call(call, timeout=timeout) for call in calls]

    def subscribe_all(self, api: str | Call, api_args: Any = _EMPTY, *, timeout: float | None = None) -> Sequence[Any]:
        """Every result of one subscription (waiting for its end); CallFailed on an error reply."""
        call = as_call(api, api_args, self.service)
        call = Call(call.stack, call.service, call.operation, call.body, meta={**call.meta, "kind": "subscribe"})
        reply = self.call(call, timeout=timeout)
        if reply.errors:
            raise CallFailed(reply)
        return list(reply.items or [])

    # -- closing ---------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection: a close frame, then the server's (idempotent)."""
        if self._closed:
            return
        with self._lock:
            self._closed = True
            self._close_socket()

    def _close_socket(self) -> None:
        ws = self._ws
        if ws is not None and not ws.closed and not ws.close(_CLOSE_WAIT):
            _logger.warning("the server at %s did not answer the close frame in %s s; dropped the socket", self.address, _CLOSE_WAIT)

    def __enter__(self) -> "PykernSyncClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<PykernSyncClient {self.address}{' (closed)' if self._closed else ''}>"
