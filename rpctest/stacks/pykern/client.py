"""A pykern.api wire client on tornado's WebSocket client, and what the blocking client
(:mod:`rpctest.stacks.pykern.sync_client`, on a socket of its own) shares with it.

Both speak exactly what ``pykern.api.client.Client`` speaks (same messages, same handshake, call ids
counting from 1), but behaves as a test tool must: every call has a timeout, a timed-out call
leaves the client usable (its late reply is dropped), a disconnect fails every pending call at once
instead of hanging, and every error comes back in rpctest's neutral terms.

How outcomes are reported (the choices a caller needs to know):

* an error reply → a :class:`~rpctest.model.Reply` whose ``errors`` hold
  :func:`~rpctest.stacks.pykern.errors.parse_api_error` of the ``api_error`` text;
* the connection is gone (the server closed it, e.g. after an ``APIProtocolError`` reply, or it
  dropped) → a Reply with one error of code ``APIDisconnected`` (kind ``transport``) whose message
  says why. pykern's own client raises ``APIDisconnected`` as an ``APIError`` like every other API
  error, so it is an error reply here too, for pending calls and for calls made afterwards, unless
  the client was made with ``reconnect=True``: then the next call opens a new connection (and runs
  the handshake again), which is a new pykern session. The fuzzer and live verification use that,
  so one request that makes the server close does not fail every request after it;
* no reply in time → :class:`~rpctest.exceptions.CallTimeout` naming the API, the address and the
  timeout;
* the server sent a frame pykern's client cannot read → :class:`~rpctest.stacks.pykern.wire.WireError`
  for the pending calls (a provider defect, not a protocol outcome); the client then drops the
  connection, as pykern's does.

tornado is pykern's own dependency; it is imported only when a client connects.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import TYPE_CHECKING, Any, Iterable

from rpctest.exceptions import CallTimeout, RpctestError, StackUnavailable
from rpctest.model import Call, CallFailed, ErrorKind, Reply, RpcError
from rpctest.stacks.pykern import wire
from rpctest.stacks.pykern.errors import PROTOCOL_CLASSES, parse_api_error

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

__all__ = [
    "DISCONNECTED",
    "STACK",
    "DEFAULT_SERVICE",
    "PykernUnreachable",
    "HandshakeFailed",
    "PykernWireClient",
    "PykernSyncClient",
    "Subscription",
    "disconnected_reply",
    "require_tornado",
]

_logger = logging.getLogger("rpctest.pykern.client")

STACK = "pykern"
#: the code of the error a call gets when the connection is gone (pykern's client-side class)
DISCONNECTED = "APIDisconnected"
#: the neutral service name of calls made with an API name only (pykern has no service names)
DEFAULT_SERVICE = "api"
#: how long aclose waits for the server's answer to the close frame before dropping the socket
_CLOSE_WAIT = 2.0
_EMPTY: Any = object()


class PykernUnreachable(RpctestError, ConnectionError):
    """No WebSocket could be opened to the address (refused, wrong path, not a pykern.api server)."""

    @classmethod
    def because(cls, address: str, exc: BaseException) -> "PykernUnreachable":
        return cls(f"cannot open a pykern.api WebSocket to {address}: {exc!r}")


class HandshakeFailed(CallFailed, RpctestError):
    """``authenticate_connection`` was answered with an error (wrong token, wrong version...).

    It is also an :class:`RpctestError`: the caller's setup is wrong, not the server, so the CLI
    reports it as a usage error (exit 2) with what to give, not as a crash of its own.
    """

    def __init__(self, reply: Reply, address: str, *, token_sent: bool = False) -> None:
        super().__init__(reply)
        self.address = address
        hint = ""
        if any(error.code == "APIForbidden" for error in self.errors):
            hint = ("; the server refused " + ("the token sent" if token_sent else "the connection without a token")
                    + ": give the token it requires (--token VALUE, token = in [tool.rpctest.services], or token=)")
        self.args = (f"pykern.api handshake with {address} failed: {'; '.join(map(str, self.errors))}{hint}",)


def require_tornado() -> "ModuleType":
    """``tornado.websocket``, or StackUnavailable saying how to install it."""
    try:
        import tornado.httpclient  # noqa: F401 - websocket_connect needs it loaded
        import tornado.websocket
    except ImportError as exc:
        raise StackUnavailable(
            f"the pykern.api wire client and stub server run on tornado, which is not importable ({exc}). "
            "Install it with: pip install 'tornado>=6.1' (the wire half needs no pykern)"
        ) from exc
    websocket: ModuleType = tornado.websocket
    return websocket


def disconnected_reply(reason: str) -> Reply:
    """The reply of a call that cannot be answered because the connection is gone."""
    return Reply(errors=[RpcError(DISCONNECTED, reason, kind=ErrorKind.TRANSPORT)])


def _describe_api(api_name: Any) -> str:
    return f"pykern API {api_name!r}"


# -- what both clients (asyncio and blocking) say and decide the same way ------------------------------


def check_client_options(address: Any, timeout: Any) -> None:
    """ValueError for an address that is not ``ws://`` or ``wss://``, or a timeout that is not positive."""
    if not isinstance(address, str) or not address.startswith(("ws://", "wss://")):
        raise ValueError(f"a pykern.api address is ws://host:port/path, not {address!r}")
    if timeout is None or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")


def as_call(api: str | Call, api_args: Any, service: str) -> Call:
    """``call(name, args)`` or ``call(Call)`` as one Call (args default to ``{}``)."""
    if isinstance(api, Call):
        if api_args is not _EMPTY:
            raise TypeError("call(Call) takes no api_args: they are the Call's body")
        return api
    body = {} if api_args is _EMPTY else api_args
    return Call(STACK, service, api, body, meta={"kind": "call"})


def encode_request(api_name: Any, api_args: Any, call_id: int, kind: int) -> bytes:
    """A CALL or SUBSCRIBE; Unpackable naming the API when msgpack cannot pack its arguments."""
    try:
        return wire.encode_call(api_name, api_args, call_id, kind=kind)
    except wire.Unpackable as exc:
        raise wire.Unpackable(f"cannot send api_args of {_describe_api(api_name)}: {exc}") from None


def protocol_error_of(message: wire.Message) -> str | None:
    """The ``api_error`` of a REPLY after which pykern's server closes the connection, else None."""
    error = message.get("api_error") if message.kind == wire.REPLY else None
    if isinstance(error, str) and parse_api_error(error).code in PROTOCOL_CLASSES:
        return error
    return None


def call_timeout(api_name: Any, address: str, wait: float, call_id: int) -> CallTimeout:
    return CallTimeout(
        f"no reply from {_describe_api(api_name)} at {address} within {wait:g} s (call {call_id}; "
        f"the connection stays open and a late reply is dropped)"
    )


def collect_timeout(api_name: Any, address: str, wait: float, count: int) -> CallTimeout:
    return CallTimeout(
        f"the subscription to {_describe_api(api_name)} at {address} did not end within "
        f"{wait:g} s ({count} result(s) so far); it was unsubscribed"
    )


def broken_frame_reason(address: str, problem: str) -> str:
    return f"the server at {address} sent a message pykern's client cannot read ({problem}); like it, this client dropped the connection"


def closed_reason(address: str, *, by_client: bool, protocol_error: str | None, code: int | None) -> str:
    """Why calls get APIDisconnected: who closed the connection, after which reply, with which code."""
    how = f" (close code {code})" if code is not None else ""
    after = f" after the reply {protocol_error!r}" if protocol_error else ""
    who = "this client closed the connection" if by_client else "the server closed the connection"
    return f"{who} to {address}{after}{how}"


def check_handshake(reply: Reply, address: str, token: Any) -> None:
    """HandshakeFailed if ``authenticate_connection`` was answered with an error."""
    if not reply.ok:
        raise HandshakeFailed(reply, address, token_sent=token is not None)


def reconnect_refused(address: str, reply: Reply) -> Reply | None:
    """The reply of a call whose reconnection's handshake failed; None if it succeeded."""
    if reply.ok:
        return None
    return Reply(errors=[RpcError(DISCONNECTED, f"reconnected to {address}, but the handshake failed: "
                                  + "; ".join(map(str, reply.errors)), kind=ErrorKind.TRANSPORT)])


#: what :func:`subscription_item` returns for the server's UNSUBSCRIBE (the end of the results)
END = object()


def subscription_item(message: wire.Message) -> Any:
    """One result of a subscription, or :data:`END`; CallFailed for an error reply (after which
    pykern's server sends no UNSUBSCRIBE: the stream is over), WireError for a malformed one."""
    if message.kind == wire.UNSUBSCRIBE:
        return END
    result, error = wire.reply_fields(message)
    if error:
        raise CallFailed(Reply(errors=[parse_api_error(error)]))
    return result


def record(call: Call, reply: Reply) -> None:
    """Tell the contract recorders about a call made with ``record=True``."""
    from rpctest.contracts.recorder import observe

    observe(call, reply, source="client")


class _Failure:
    """What a pending call or subscription gets instead of a message: a reply or an exception."""

    __slots__ = ("reply", "error")

    def __init__(self, reply: Reply | None = None, error: BaseException | None = None) -> None:
        self.reply = reply
        self.error = error


class _Pending:
    """One call awaiting its reply, or one subscription awaiting its items."""

    __slots__ = ("api_name", "future", "queue")

    def __init__(self, api_name: Any, *, subscription: bool) -> None:
        self.api_name = api_name
        self.future: asyncio.Future[Any] | None = None if subscription else asyncio.get_running_loop().create_future()
        self.queue: asyncio.Queue[Any] | None = asyncio.Queue() if subscription else None

    @property
    def is_subscription(self) -> bool:
        return self.queue is not None

    def put(self, item: wire.Message | _Failure) -> None:
        if self.queue is not None:
            self.queue.put_nowait(item)
        elif self.future is not None and not self.future.done():
            self.future.set_result(item)


class Subscription:
    """The results of one SUBSCRIBE, as an async iterator that ends on the server's UNSUBSCRIBE.

    ``async with client.subscribe(name, args) as sub: async for item in sub: ...``; leaving the
    block (or :meth:`unsubscribe`) cancels the subscription if the server has not ended it. Each
    item waits at most ``timeout`` (CallTimeout; the subscription stays active). An error reply
    raises :class:`~rpctest.model.CallFailed` (with the neutral error) and ends the iteration, as a
    disconnect does (with ``APIDisconnected``).
    """

    def __init__(
        self, client: "PykernWireClient", api_name: Any, call_id: int | None, timeout: float, *, failure: Reply | None = None
    ) -> None:
        self._client = client
        self.api_name = api_name
        self.call_id = call_id
        self.timeout = timeout
        self.ended = False
        self._failure = failure  # reported by the first next(): the connection was gone at subscribe time
        self._pending: _Pending | None = client._pending.get(call_id) if call_id is not None else None

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> Any:
        return await self.next(self.timeout)

    async def next(self, timeout: float | None = None) -> Any:
        """The next result (StopAsyncIteration once the server ended the subscription)."""
        if self._failure is not None:
            failure, self._failure = self._failure, None
            self._finish()
            raise CallFailed(failure)
        if self._pending is None:
            raise StopAsyncIteration
        wait = self.timeout if timeout is None else timeout
        assert self._pending.queue is not None
        try:
            item = await asyncio.wait_for(self._pending.queue.get(), wait)
        except asyncio.TimeoutError:
            raise CallTimeout(
                f"no result from subscription to {_describe_api(self.api_name)} (call {self.call_id}) at "
                f"{self._client.address} within {wait:g} s; it is still active"
            ) from None
        return self._item(item)

    def _item(self, item: Any) -> Any:
        if isinstance(item, _Failure):
            self._finish()
            if item.error is not None:
                raise item.error
            assert item.reply is not None
            raise CallFailed(item.reply)
        assert isinstance(item, wire.Message)
        try:
            result = subscription_item(item)
        except (wire.WireError, CallFailed):
            self._finish()
            raise
        if result is END:
            self._finish()
            raise StopAsyncIteration
        return result

    def _finish(self) -> None:
        self.ended = True
        self._pending = None
        if self.call_id is not None:
            self._client._pending.pop(self.call_id, None)

    def unsubscribe(self) -> None:
        """Cancel the subscription (idempotent; nothing is sent once the server has ended it)."""
        if self.ended:
            return
        self._finish()
        self._client._cancel_subscription(self.call_id)

    async def __aenter__(self) -> "Subscription":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.unsubscribe()

    def __repr__(self) -> str:
        return f"<Subscription {self.api_name!r}#{self.call_id}{' ended' if self.ended else ''}>"


class PykernWireClient:
    """An asyncio pykern.api client for one ``ws://host:port/path`` address; build it with :meth:`connect`.

    ``call(api_name, api_args)`` or ``call(Call)`` returns a neutral :class:`~rpctest.model.Reply`
    (a Call whose ``meta["kind"] == "subscribe"`` collects the subscription's results into
    ``Reply.items``); ``subscribe`` streams results. ``record=True`` tells contract recorders about
    every call (what ``--rpctest-record`` writes). ``service`` is the neutral service name of calls
    made by API name (pykern itself has none).
    """

    def __init__(
        self, address: str, *, timeout: float = 5.0, service: str | None = None, record: bool = False,
        reconnect: bool = False,
    ) -> None:
        check_client_options(address, timeout)
        self.address = address
        self.timeout = float(timeout)
        self.service = service or DEFAULT_SERVICE
        self.record = record
        self._connection: Any = None
        self._stream: Any = None  # the TCP stream under the WebSocket (see _open)
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._closed_event: asyncio.Event | None = None
        self._gone: str | None = None  # why the connection is gone, once it is
        self._protocol_error: str | None = None  # an APIProtocolError reply: the server closes next
        self._user_closed = False
        self.reconnect = reconnect
        self._handshake: tuple[Any, Any] | None = None  # (token, version) to run again on a reconnect

    # -- connecting --------------------------------------------------------------------------------

    @classmethod
    async def connect(
        cls,
        address: str,
        *,
        token: Any = None,
        version: Any = wire.AUTH_API_VERSION,
        authenticate: bool = True,
        timeout: float = 5.0,
        service: str | None = None,
        record: bool = False,
        reconnect: bool = False,
    ) -> "PykernWireClient":
        """Open the WebSocket and (unless ``authenticate=False``) run pykern's handshake.

        A handshake answered with an error raises :class:`HandshakeFailed` (after closing: pykern's
        client gives up on the connection too); an address nobody answers raises
        :class:`PykernUnreachable`. ``reconnect=True``: a call after the server closed the
        connection opens a new one (see the module docstring).
        """
        client = cls(address, timeout=timeout, service=service, record=record, reconnect=reconnect)
        await client._open()
        if authenticate:
            client._handshake = (token, version)
            try:
                reply = await client._authenticate()
            except BaseException:
                await client.aclose()
                raise
            if not reply.ok:
                await client.aclose()
                check_handshake(reply, address, token)
        return client

    async def _authenticate(self) -> Reply:
        assert self._handshake is not None
        token, version = self._handshake
        return await self._call(wire.AUTH_API_NAME, wire.auth_args(token, version), self.timeout)

    async def _reconnect_if_closed(self) -> Reply | None:
        """With ``reconnect``: a new connection when the server closed the old one (or announced it
        would, with an APIProtocolError reply); None when ready, else the reply for the caller."""
        if not self.reconnect or self._user_closed or self._connection is None:
            return None
        if self._gone is None and self._protocol_error is None:
            return None
        if self._gone is None:  # the server closes after its APIProtocolError reply: let it
            await self.wait_closed(self.timeout)
        self._close_stream(getattr(getattr(self._connection, "protocol", None), "stream", None))
        self._gone = self._protocol_error = None
        self._pending = {}
        self._ids = itertools.count(1)  # a new connection, as a new pykern client counts from 1
        await self._open()
        if self._handshake is not None:
            refused = reconnect_refused(self.address, await self._authenticate())
            if refused is not None:
                return refused
        _logger.debug("reconnected to %s (a new pykern session)", self.address)
        return None

    async def _open(self) -> None:
        websocket = require_tornado()
        import tornado.httpclient

        request = tornado.httpclient.HTTPRequest(
            self.address, method="GET", connect_timeout=self.timeout, request_timeout=self.timeout
        )
        self._closed_event = asyncio.Event()
        try:
            self._connection = await websocket.websocket_connect(
                request, on_message_callback=self._on_message, max_message_size=int(2e8)
            )
        except Exception as exc:
            raise PykernUnreachable.because(self.address, exc) from exc
        # kept for aclose: tornado drops connection.protocol when the connection closes, and with it the
        # only way to the TCP stream, which may still hold the socket
        self._stream = getattr(getattr(self._connection, "protocol", None), "stream", None)

    # -- incoming messages ---------------------------------------------------------------------------

    def _on_message(self, data: bytes | str | None) -> None:
        """tornado's callback for each message (None once the connection is closed)."""
        if data is None:
            self._on_connection_closed()
            return
        message, problem = wire.check(data, "client")
        if message is None:
            self._on_broken_frame(problem or "invalid message")
            return
        pending = self._pending.get(message.call_id)
        if pending is None:
            _logger.debug("dropped a %s for call %d, which nobody awaits (late or cancelled)", message.kind_name, message.call_id)
            return
        if not pending.is_subscription or message.kind == wire.UNSUBSCRIBE:
            del self._pending[message.call_id]
        protocol_error = protocol_error_of(message)
        if protocol_error is not None:
            self._protocol_error = protocol_error
        pending.put(message)

    def _on_broken_frame(self, problem: str) -> None:
        reason = broken_frame_reason(self.address, problem)
        _logger.warning("%s", reason)
        self._gone = reason
        self._fail_pending(_Failure(error=wire.WireError(reason)))
        if self._connection is not None:
            self._connection.close()

    def _on_connection_closed(self) -> None:
        if self._gone is None:
            self._gone = closed_reason(self.address, by_client=self._user_closed, protocol_error=self._protocol_error,
                                       code=getattr(self._connection, "close_code", None))
        self._fail_pending(_Failure(reply=disconnected_reply(self._gone)))
        if self._connection is not None:
            self._connection.close()  # releases tornado's protocol object (else it warns when collected)
        if self._closed_event is not None:
            self._closed_event.set()

    def _fail_pending(self, failure: _Failure) -> None:
        pending, self._pending = self._pending, {}
        for item in pending.values():
            item.put(failure)

    def _disconnect_reason(self) -> str:
        return self._gone or f"not connected to {self.address}"

    # -- sending -------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the WebSocket is open (False after a disconnect or :meth:`aclose`)."""
        return self._connection is not None and self._gone is None

    def _check_open(self) -> None:
        if self._user_closed:
            raise RuntimeError(f"this PykernWireClient for {self.address} is closed")
        if self._connection is None:
            raise RuntimeError("not connected: build the client with 'await PykernWireClient.connect(address)'")

    def _write(self, data: bytes) -> bool:
        """Send one binary message; False when the connection turned out to be gone."""
        websocket = require_tornado()
        try:
            future = self._connection.write_message(data, binary=True)
        except websocket.WebSocketClosedError:
            return False
        future.add_done_callback(_consume)
        return True

    def _start(self, api_name: Any, api_args: Any, kind: int) -> int | None:
        """Register and send one CALL/SUBSCRIBE; None when the connection is gone."""
        self._check_open()
        if self._gone is not None:
            return None
        call_id = next(self._ids)
        data = encode_request(api_name, api_args, call_id, kind)
        self._pending[call_id] = _Pending(api_name, subscription=kind == wire.SUBSCRIBE)
        if not self._write(data):
            self._pending.pop(call_id, None)
            return None
        return call_id

    def _cancel_subscription(self, call_id: int | None) -> None:
        """Tell the server to stop a subscription this client gave up on (it does not answer)."""
        self._pending.pop(call_id, None)  # type: ignore[arg-type]
        if call_id is None or self._gone is not None or self._user_closed:
            return
        self._write(wire.encode_unsubscribe(call_id))

    # -- calls ---------------------------------------------------------------------------------------

    async def call(self, api: str | Call, api_args: Any = _EMPTY, *, timeout: float | None = None, _record: bool = True) -> Reply:
        """Call one API: ``call("echo", {"a": 1})`` or ``call(Call(...))``; always a neutral Reply.

        ``api_args`` defaults to ``{}`` and is sent verbatim (None is sent as nil, which pykern's
        server answers with APIProtocolError and a close).
        """
        call = self._as_call(api, api_args)
        wait = self.timeout if timeout is None else float(timeout)
        refused = await self._reconnect_if_closed()
        if refused is not None:
            reply = refused
        elif call.meta.get("kind") == "subscribe":
            reply = await self._collect(call, wait)
        else:
            reply = await self._call(call.operation, call.body, wait)
        if self.record and _record:
            record(call, reply)
        return reply

    async def call_many(self, calls: Iterable[Call], *, timeout: float | None = None) -> list[Reply]:
        """The calls one after another on this connection (pykern has no batches)."""
        return [await self.call(call, timeout=timeout) for call in calls]

    def _as_call(self, api: str | Call, api_args: Any) -> Call:
        return as_call(api, api_args, self.service)

    async def _call(self, api_name: Any, api_args: Any, wait: float) -> Reply:
        call_id = self._start(api_name, api_args, wire.CALL)
        if call_id is None:
            return disconnected_reply(self._disconnect_reason())
        pending = self._pending[call_id]
        assert pending.future is not None
        try:
            outcome = await asyncio.wait_for(pending.future, wait)
        except asyncio.TimeoutError:
            raise call_timeout(api_name, self.address, wait, call_id) from None
        finally:
            self._pending.pop(call_id, None)
        return reply_of(outcome)

    def subscribe(self, api: str | Call, api_args: Any = _EMPTY, *, timeout: float | None = None) -> Subscription:
        """Send a SUBSCRIBE and return its :class:`Subscription` (iterate it, or ``async with`` it)."""
        call = self._as_call(api, api_args)
        wait = self.timeout if timeout is None else float(timeout)
        call_id = self._start(call.operation, call.body, wire.SUBSCRIBE)
        failure = disconnected_reply(self._disconnect_reason()) if call_id is None else None
        return Subscription(self, call.operation, call_id, wait, failure=failure)

    async def _collect(self, call: Call, wait: float) -> Reply:
        """All results of a subscription until the server ends it, within ``wait`` seconds in total."""
        subscription = self.subscribe(call.operation, call.body, timeout=wait)
        deadline = time.monotonic() + wait
        items: list[Any] = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise collect_timeout(call.operation, self.address, wait, len(items))
                try:
                    items.append(await subscription.next(remaining))
                except StopAsyncIteration:  # the list is the body, as for hosted and stubbed subscriptions
                    return Reply(body=items, items=items)
                except CallFailed as exc:
                    return Reply(items=items, errors=list(exc.errors))
                except CallTimeout:
                    raise collect_timeout(call.operation, self.address, wait, len(items)) from None
        finally:
            subscription.unsubscribe()

    async def send_raw(self, data: bytes | str) -> bool:
        """Send one message as is (bytes: binary, str: text), for protocol tests; False if disconnected."""
        self._check_open()
        if self._gone is not None:
            return False
        websocket = require_tornado()
        try:
            await self._connection.write_message(data, binary=isinstance(data, (bytes, bytearray)))
        except websocket.WebSocketClosedError:
            return False
        return True

    # -- closing -------------------------------------------------------------------------------------

    async def wait_closed(self, timeout: float | None = None) -> bool:
        """Wait until the connection is closed (by either side); True if it is."""
        if self._closed_event is None:
            return True
        try:
            await asyncio.wait_for(self._closed_event.wait(), self.timeout if timeout is None else timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def aclose(self) -> None:
        """Close the WebSocket (waiting for the close handshake) and fail what is still pending."""
        if self._user_closed:
            return
        self._user_closed = True
        connection = self._connection
        if connection is None:
            self._close_stream(None)
            return
        protocol = connection.protocol
        connection.close()
        if not await self.wait_closed(_CLOSE_WAIT):
            _logger.warning("the server at %s did not answer the close frame in %s s; dropped the socket", self.address, _CLOSE_WAIT)
            if protocol is not None:
                protocol._abort()  # tornado's own way to drop the socket at once
            await self.wait_closed(_CLOSE_WAIT)
        self._close_stream(getattr(protocol, "stream", None))

    def _close_stream(self, stream: Any) -> None:
        """Close the TCP stream if it is still open: closed as a WebSocket, the socket may linger."""
        for candidate in (stream, self._stream):
            if candidate is not None and not candidate.closed():
                candidate.close()

    async def __aenter__(self) -> "PykernWireClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._user_closed else ("disconnected" if self._gone else "open")
        return f"<PykernWireClient {self.address} ({state})>"


def _consume(future: "asyncio.Future[Any]") -> None:
    """Retrieve a write's outcome, so a failed write is not reported as never retrieved."""
    if not future.cancelled():
        future.exception()


def reply_of(outcome: wire.Message | _Failure) -> Reply:
    """The neutral Reply of a REPLY (or of the UNSUBSCRIBE that ends a call, or of a failure)."""
    if isinstance(outcome, _Failure):
        if outcome.error is not None:
            raise outcome.error
        assert outcome.reply is not None
        return outcome.reply
    if outcome.kind == wire.UNSUBSCRIBE:  # pykern's client returns None for a call ended this way
        return Reply(body=None)
    result, error = wire.reply_fields(outcome)
    if error:  # pykern's client treats an empty api_error as success too
        return Reply(errors=[parse_api_error(error)])
    return Reply(body=result)


def __getattr__(name: str) -> Any:
    """``PykernSyncClient`` lives in :mod:`.sync_client` (which builds on this module); kept importable here."""
    if name == "PykernSyncClient":
        from rpctest.stacks.pykern.sync_client import PykernSyncClient

        return PykernSyncClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
