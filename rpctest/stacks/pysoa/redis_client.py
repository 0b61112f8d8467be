"""A PySOA client over the Redis gateway that needs no pysoa: the wire half's client.

:class:`PySOAWireClient` puts on Redis exactly what ``pysoa.client.Client`` with its Redis
transport puts there (the codec is :mod:`rpctest.stacks.pysoa.wire`): the same request envelope
(``client_version``, ``reply_to``, ``__expiry__``; ``control``, ``context``, ``actions``), the same
queue keys (``pysoa:service.<name>`` for requests, ``pysoa:<reply_to>`` for the reply), the same
capacity-checked push with the same key TTL, so a real PySOA server answers it as it answers its
own client. It returns neutral :class:`~rpctest.model.Reply` objects, one per action.

Decisions, and why:

* **Timeouts raise.** No reply within the timeout raises
  :class:`~rpctest.exceptions.CallTimeout` naming service, action, address and timeout: a silent
  service is a fact about the endpoint, not an error the service reported, so it must not look
  like a ``Reply``.
* **Late replies are dropped.** The reply queue is private to this client and thread (as in
  PySOA: ``service.<name>.<client uuid>!<thread id>``), and each request has its own
  ``request_id``; a reply whose id is not the one awaited (an answer to a request that timed out
  earlier) is discarded, so it is never delivered to the next call. Expired replies are dropped
  too, as PySOA's transport drops them, but the wait goes on until the deadline.
* **Broken reply frames raise** :class:`~rpctest.stacks.pysoa.wire.WireError`. A frame on our own
  reply queue that is not a PySOA response cannot be attributed to any action, and a test wants to
  hear loudly that its peer is broken; a ``Reply`` with a transport error would be easy to miss.
* **Message expiry** is PySOA's default (60 s) unless ``message_expiry`` is given; then, like
  ``Client.call_actions(timeout=N)``, the request carries ``control.timeout = N``, expires after N
  seconds and its key lives N + 10 seconds.

:class:`GatewayConnection` holds the Redis side both this client and the stub server use: PySOA's
capacity-checked push (a Lua script that refuses with "queue full", retried with back-off) and a
pop bounded by a deadline that also works on fakeredis, whose BLPOP takes whole seconds only.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

from rpctest.exceptions import CallTimeout, ConfigError, RpctestError
from rpctest.model import Call, Reply
from rpctest.stacks.pysoa import wire
from rpctest.stacks.pysoa.errors import from_wire

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.redis_backend import RedisTarget

__all__ = [
    "CLIENT_MAXIMUM_MESSAGE_BYTES",
    "DEFAULT_MESSAGE_EXPIRY",
    "DEFAULT_QUEUE_CAPACITY",
    "GatewayConnection",
    "PySOAWireClient",
    "QueueFull",
    "is_expired",
    "message_expiry",
    "parse_address",
    "reply_from_envelope",
]

_logger = logging.getLogger("rpctest.pysoa.client")

#: PySOA's default ``message_expiry_in_seconds`` (client and server)
DEFAULT_MESSAGE_EXPIRY = 60
#: PySOA's default ``queue_capacity``: a push onto a list this long is refused
DEFAULT_QUEUE_CAPACITY = 10000
#: PySOA's client refuses to send a serialized request larger than this (``MessageTooLarge``)
CLIENT_MAXIMUM_MESSAGE_BYTES = 100 * 1024
#: how often PySOA retries a push refused with "queue full" before giving up
QUEUE_FULL_RETRIES = 10
_BACK_OFF_FACTOR = 4.0  # PySOA sleeps (2**i + random()) / 4 seconds before retry i

# KEYS[1] queue, ARGV[1] TTL, ARGV[2] capacity, ARGV[3] message: PySOA's send, done atomically.
_SEND_SCRIPT = """
if redis.call('llen', KEYS[1]) >= tonumber(ARGV[2]) then
    return redis.error_reply('queue full')
end
redis.call('rpush', KEYS[1], ARGV[3])
redis.call('expire', KEYS[1], ARGV[1])
"""
_SERVICE_FRAGMENT = "service."


class QueueFull(RpctestError, RuntimeError):
    """A Redis list stayed at PySOA's queue capacity through every retry (nobody consumes it)."""


class _FractionalTimeoutRefused(Exception):
    """Internal: the server refused a fractional BLPOP timeout; retry in whole seconds."""


# -- addresses, expiry ------------------------------------------------------------------------------


def parse_address(address: RedisTarget | str) -> tuple[RedisTarget, str | None]:
    """(target, service) from a RedisTarget or ``redis://host:port/db[#service.NAME]``.

    The fragment form is what ``PySOAService.address`` and ``PySOAStubServer.address`` give. An
    in-memory fakeredis has no address another process could use, so ``fakeredis...`` strings are
    refused with a hint to pass the :class:`RedisTarget` itself.
    """
    from rpctest.redis_backend import RedisTarget, real

    if isinstance(address, RedisTarget):
        return address, None
    if not isinstance(address, str) or not address:
        raise TypeError(f"a PySOA wire address is a RedisTarget or a redis:// URL, not {address!r}")
    url, _, fragment = address.partition("#")
    service = _service_from_fragment(address, fragment)
    if url.startswith("fakeredis"):
        raise ConfigError(
            f"{address!r} names an in-memory fakeredis, which no URL can reach; pass its RedisTarget "
            "(e.g. server.redis or service.redis) instead of the address string"
        )
    target = real(url)
    assert target is not None  # url is not empty
    return target, service


def _service_from_fragment(address: str, fragment: str) -> str | None:
    if not fragment:
        return None
    if not fragment.startswith(_SERVICE_FRAGMENT) or len(fragment) == len(_SERVICE_FRAGMENT):
        raise ConfigError(f"the fragment of {address!r} must be '#service.<name>', not '#{fragment}'")
    return fragment[len(_SERVICE_FRAGMENT) :]


def message_expiry(seconds: float | None) -> tuple[float, int]:
    """(``meta.__expiry__``, key TTL) for a message sent now, by PySOA's rule.

    Without an explicit expiry: now + 60 and a TTL of 60; with one: now + N and N + 10, so the
    key outlives the message a little (seen as TTL 11 for 1 s in the vectors).
    """
    if seconds:
        return time.time() + seconds, int(seconds) + 10
    return time.time() + DEFAULT_MESSAGE_EXPIRY, DEFAULT_MESSAGE_EXPIRY


def is_expired(envelope: Mapping[str, Any], now: float | None = None) -> bool:
    """Whether PySOA's transport would drop this message as expired (a falsy expiry never expires)."""
    meta = envelope.get("meta")
    expiry = meta.get("__expiry__") if isinstance(meta, Mapping) else None
    if not expiry:
        return False
    if not isinstance(expiry, (int, float)) or isinstance(expiry, bool):
        raise wire.WireError(f"meta.__expiry__ must be epoch seconds, not {expiry!r}")
    return expiry < (time.time() if now is None else now)


# -- the Redis side ------------------------------------------------------------------------------------


class GatewayConnection:
    """One redis-py (or fakeredis) client plus PySOA's two queue operations on it.

    Thread-safe as redis-py is (a connection pool); :meth:`close` disconnects the pool, which the
    test suite needs because an unclosed socket is a ResourceWarning there. The queue operations run
    on a connection each thread holds (redis-py's ``single_connection_client``): taking a pooled
    connection for every command also made redis-py check it for stray data, a ``recv`` and two
    blocking-mode switches per command, and that ``recv`` handed the GIL to the other side's thread.
    """

    def __init__(
        self, target: RedisTarget, *, queue_capacity: int = DEFAULT_QUEUE_CAPACITY, socket_timeout: float | None = None
    ) -> None:
        self.target = target
        self.queue_capacity = queue_capacity
        #: the longest any one Redis command may wait for its answer (None: forever, for a server loop),
        #: at least 2 s so that a BLPOP slice of whole seconds (Redis < 6) fits in it; BLPOP waits are cut
        #: into slices of half of it, so only a silent peer ever reaches it
        self.socket_timeout = None if socket_timeout is None or target.is_fake else max(float(socket_timeout), 2.0)
        if self.socket_timeout is None:
            self.redis = target.client()
        else:
            from rpctest.stacks.pysoa.kernel_timeout import bounded_client

            self.redis = bounded_client(target, self.socket_timeout)
        self._send = self.redis.register_script(_SEND_SCRIPT.strip())
        import redis

        # looked up once, not imported on every command (each push and pop looked them up)
        self._response_error: type[Exception] = redis.exceptions.ResponseError
        #: what redis-py raises when Redis cannot be reached or does not answer in time
        self.unreachable_errors: tuple[type[Exception], ...] = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        # Redis >= 6 takes fractional BLPOP timeouts; fakeredis 2.7 and older servers whole seconds.
        self._float_timeouts = not target.is_fake
        self._local = threading.local()

    def _held(self) -> Any:
        """This thread's client on a connection of the pool it keeps (the pool's for fakeredis).

        A connection left broken by a failed command is dropped by redis-py and made anew by the next
        one; the client of a thread that ends gives its connection back to the pool when collected.
        """
        client = getattr(self._local, "client", None)
        if client is None:
            if self.target.is_fake:
                client = self.redis
            else:
                import redis

                client = redis.Redis(connection_pool=self.redis.connection_pool, single_connection_client=True)
            self._local.client = client
        return client

    def ping(self) -> None:
        """Fail now, in the caller's thread, when Redis cannot be reached (RedisUnavailable)."""
        from rpctest.redis_backend import RedisUnavailable

        try:
            self.redis.ping()
        except Exception as exc:
            raise RedisUnavailable(f"cannot reach Redis at {self.target.address}: {exc}") from exc

    def push(self, key: str, frames: Sequence[bytes], ttl: int) -> None:
        """RPUSH each frame onto ``key`` and set the key's TTL, refusing at capacity like PySOA.

        A "queue full" refusal is retried with PySOA's exponential back-off; then :class:`QueueFull`.
        """
        for frame in frames:
            self._push_one(key, frame, ttl)

    def _push_one(self, key: str, frame: bytes, ttl: int) -> None:
        for attempt in range(-1, QUEUE_FULL_RETRIES):
            if attempt >= 0:
                time.sleep((2**attempt + random.random()) / _BACK_OFF_FACTOR)
            try:
                self._send(keys=[key], args=[ttl, self.queue_capacity, frame], client=self._held())
                return
            except self._response_error as exc:
                if not exc.args or exc.args[0] != "queue full":
                    raise
        raise QueueFull(
            f"Redis list {key!r} at {self.target.address} stayed at its capacity of {self.queue_capacity} "
            f"messages through {QUEUE_FULL_RETRIES} retries: is anything consuming it?"
        )

    def push_and_pop(
        self,
        key: str,
        frames: Sequence[bytes],
        ttl: int,
        keys: Sequence[str],
        deadline: float,
        *,
        wake: Callable[[], None] | None = None,
        push_failed: Callable[[Exception], None] | None = None,
    ) -> tuple[str, bytes] | None:
        """:meth:`push`, then :meth:`pop`, the last push and the first BLPOP sent in one write.

        A client's request and its wait for the reply, a server's reply and its wait for the next
        request: two commands, one write and one read of the socket instead of two of each (in a
        profile of a round trip through redis-py's command machinery, about half the CPU time of the
        pair, and a hand-over of the GIL less). A refused push (queue full, the script unknown to
        Redis) leaves a BLPOP waiting behind it; the push then runs as :meth:`push` runs it, retries
        and all, and so does the wait. That BLPOP is ended first: with ``wake`` (a server's, which
        pushes onto a key among ``keys``) it returns at once and what it took is put back at the head
        of its list; without, the connection is dropped with it (a client's: what it may have taken
        was on the reply queue before the request was pushed, a late reply the client would discard).
        A push that fails goes to ``push_failed`` (a server's diagnostic), and the wait goes on alone;
        without it, it is raised. An error of the wait is raised either way.
        """
        try:
            waiting = self._push_with_wait(key, frames, ttl, keys, deadline, wake)
        except Exception as exc:
            if push_failed is None:
                raise
            push_failed(exc)
            waiting = None
        if waiting is None:
            return self.pop(keys, deadline)
        try:
            popped = waiting.read_response()
        except self._response_error as exc:
            if "timeout" not in str(exc).lower():
                raise
            self._float_timeouts = False  # an old server: whole seconds from now on, as pop() decides
            popped = None
        return self._popped(popped) if popped is not None else self.pop(keys, deadline)

    def _push_with_wait(
        self, key: str, frames: Sequence[bytes], ttl: int, keys: Sequence[str], deadline: float,
        wake: Callable[[], None] | None,
    ) -> Any:
        """Push ``frames``, a BLPOP on ``keys`` sent in the same write as the last: the connection
        whose answer to that BLPOP is to be read, or None when there is none (then pop() waits)."""
        *before, frame = frames
        if before:
            self.push(key, before, ttl)
        remaining = deadline - time.monotonic()
        if self.target.is_fake or not self._float_timeouts or remaining <= 0:
            self.push(key, [frame], ttl)
            return None
        connection = self._held().connection
        connection.send_packed_command(
            [_command("EVALSHA", self._send.sha, 1, key, ttl, self.queue_capacity, frame)
             + _command("BLPOP", *keys, self._slice(_fractional(remaining)))]
        )
        try:
            connection.read_response()
        except self._response_error:
            self._end_wait(connection, wake)
            self.push(key, [frame], ttl)
            return None
        return connection

    def _end_wait(self, connection: Any, wake: Callable[[], None] | None) -> None:
        """End the BLPOP that :meth:`push_and_pop` sent behind a refused push (see there)."""
        if wake is None:
            connection.disconnect()
            return
        wake()
        try:
            popped = connection.read_response()
        except self._response_error:  # an old server refusing the fractional timeout: it took nothing
            return
        if popped is not None:
            popped_key, value = self._popped(popped)
            self._held().lpush(popped_key, value)

    def pop(self, keys: Sequence[str], deadline: float) -> tuple[str, bytes] | None:
        """The first element of the first non-empty list among ``keys``, waiting until ``deadline``.

        ``deadline`` is a ``time.monotonic()`` value; None comes back when nothing arrived by then.
        """
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._pop_now(keys)
            if self._float_timeouts:
                try:
                    return self._blpop_fractional(keys, remaining)
                except _FractionalTimeoutRefused:
                    continue
            popped = self._pop_whole_seconds(keys, remaining)
            if popped is not None:
                return popped

    def _blpop_fractional(self, keys: Sequence[str], remaining: float) -> tuple[str, bytes] | None:
        """BLPOP with a fractional timeout; an old server that refuses it switches us to whole seconds."""
        try:
            return self._blpop(keys, _fractional(remaining))
        except self._response_error as exc:
            if "timeout" not in str(exc).lower():
                raise
            self._float_timeouts = False
            raise _FractionalTimeoutRefused() from exc

    def _pop_whole_seconds(self, keys: Sequence[str], remaining: float) -> tuple[str, bytes] | None:
        """One wait step where BLPOP takes whole seconds: block for those, poll the sub-second tail."""
        if remaining >= 1:
            return self._blpop(keys, int(remaining))
        popped = self._pop_now(keys)
        if popped is None:
            time.sleep(min(0.01, remaining))
        return popped

    def _slice(self, timeout: float) -> float:
        """A BLPOP timeout cut to a slice of the socket's bound: a Redis that is there answers a BLPOP
        within it, a silent peer trips the socket timeout."""
        if self.socket_timeout is None:
            return timeout
        half = self.socket_timeout / 2
        return min(timeout, half if self._float_timeouts else int(half))

    def _blpop(self, keys: Sequence[str], timeout: float) -> tuple[str, bytes] | None:
        popped = self._held().blpop(list(keys), timeout=self._slice(timeout))
        return None if popped is None else self._popped(popped)

    @staticmethod
    def _popped(popped: Sequence[Any]) -> tuple[str, bytes]:
        key, value = popped
        return (key.decode("utf-8") if isinstance(key, bytes) else key), value

    def _pop_now(self, keys: Sequence[str]) -> tuple[str, bytes] | None:
        for key in keys:
            value = self._held().lpop(key)
            if value is not None:
                return key, value
        return None

    def close(self) -> None:
        """Disconnect every pooled connection (idempotent)."""
        self.redis.connection_pool.disconnect()


def _command(*args: str | bytes | int | float) -> bytes:
    """One Redis command in RESP, its arguments encoded as redis-py encodes them (str as UTF-8, int
    by ``str``, float by ``repr``): redis-py's general packer, per argument, was the largest part of
    a pipelined push and wait after the socket calls."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else (repr(arg) if isinstance(arg, float) else str(arg)).encode("utf-8")
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


def _fractional(seconds: float) -> float:
    """A fractional BLPOP timeout for a wait of ``seconds`` (> 0): milliseconds, never 0 (forever)."""
    return max(round(seconds, 3), 0.001)


# -- replies -----------------------------------------------------------------------------------------


def reply_from_envelope(envelope: Mapping[str, Any], index: int = 0) -> Reply:
    """The neutral :class:`Reply` for action ``index`` of a response envelope, as on the wire.

    The same shape as :func:`rpctest.stacks.pysoa.host.reply_from_job` gives for a ``JobResponse``
    (job errors in ``job_errors``; no body and no action errors for an action the job never ran;
    ``meta`` holds ``context`` and ``action``), so wire and host replies compare equal.
    """
    job_errors, action_errors = wire.envelope_errors(envelope)
    body = envelope["body"]
    context = body.get("context") or {}
    if not isinstance(context, Mapping):
        raise wire.WireError(f"response body.context must be a map, not {context!r}")
    meta: dict[str, Any] = {"context": dict(context)}
    reply_job_errors = [from_wire(_error_map(error)) for error in job_errors]
    actions = body.get("actions") or []
    if index >= len(actions):
        return Reply(body=None, errors=[], job_errors=reply_job_errors, meta=meta)
    action = actions[index]
    if not isinstance(action, Mapping):
        raise wire.WireError(f"response action {index} must be a map, not {action!r}")
    meta["action"] = action.get("action")
    return Reply(
        body=action.get("body"),
        errors=[from_wire(_error_map(error)) for error in action_errors[index]],
        job_errors=reply_job_errors,
        meta=meta,
    )


def _error_map(error: Any) -> Mapping[str, Any]:
    if not isinstance(error, Mapping) or "code" not in error:
        raise wire.WireError(f"a PySOA error on the wire is a map with a 'code', not {error!r}")
    return error


# -- the client ----------------------------------------------------------------------------------------


class PySOAWireClient:
    """Calls PySOA services over the Redis gateway exactly as ``pysoa.client.Client`` does.

    ``target`` is a :class:`~rpctest.redis_backend.RedisTarget` or ``redis://host:port/db`` with an
    optional ``#service.NAME`` (then ``service`` may be None). ``call`` sends one action,
    ``call_many`` one job of several actions (the server stops at the first action with errors
    unless ``continue_on_error``). A call's ``meta`` may carry the job headers: ``context`` (extra
    context keys), ``switches``, ``correlation_id``, ``control`` (extra control keys, including
    ``continue_on_error`` and ``suppress_response``) and ``continue_on_error``.

    Options: ``content_type`` (msgpack or JSON), ``protocol_version`` (1-3), ``message_expiry``
    (seconds, as ``call_actions(timeout=...)``), ``client_version`` (what ``meta.client_version``
    says; below 0.70.0 a server leaves ``is_caller_error`` out), ``queue_capacity`` and
    ``maximum_message_size`` (None: no limit; PySOA's client refuses more than 100 KiB); ``context``
    and ``switches``: sent with every job (under a call's own), as a PySOA client's
    ``context=``/``switches=`` on each call (``rpctest fuzz --context/--switch``).

    A job sent with ``control={"suppress_response": True}`` gets no answer from a PySOA server, so
    ``call_many`` returns at once with empty replies whose ``meta`` is ``{"suppressed": True}``.
    The client is thread-safe: each thread reads its own reply queue, as PySOA's client does.
    """

    def __init__(
        self,
        target: RedisTarget | str,
        service: str | None = None,
        *,
        timeout: float = 5.0,
        content_type: str = wire.CONTENT_TYPE_MSGPACK,
        protocol_version: int = 3,
        message_expiry: int | None = None,
        client_version: Sequence[int] = wire.DEFAULT_CLIENT_VERSION,
        queue_capacity: int = DEFAULT_QUEUE_CAPACITY,
        maximum_message_size: int | None = CLIENT_MAXIMUM_MESSAGE_BYTES,
        record: bool = False,
        context: Mapping[str, Any] | None = None,
        switches: Iterable[int] = (),
    ) -> None:
        #: tell contract recorders about every call (``--rpctest-record`` then writes them)
        self.record = record
        self.context: dict[str, Any] = dict(context or {})
        self.switches: list[int] = list(switches)
        self.redis, address_service = parse_address(target)
        if service is not None and address_service is not None and service != address_service:
            raise ConfigError(f"service {service!r} contradicts the address's #service.{address_service}")
        self.service = service or address_service
        if timeout is None or timeout <= 0:
            raise ConfigError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if content_type not in wire.CONTENT_TYPES:
            raise ConfigError(f"content_type must be one of {wire.CONTENT_TYPES}, not {content_type!r}")
        if protocol_version not in (1, 2, 3):
            raise ConfigError(f"protocol_version must be 1, 2 or 3, not {protocol_version!r}")
        self.timeout = float(timeout)
        self.content_type = content_type
        self.protocol_version = protocol_version
        self.message_expiry = message_expiry
        self.client_version = tuple(client_version)
        self.maximum_message_size = maximum_message_size
        self.client_id = uuid.uuid4().hex
        # PySOA starts each client's counter at a random point; so do we (ids look like the real ones).
        self._request_ids = itertools.count(random.randint(1, 1000000))
        self._ids_lock = threading.Lock()
        # every Redis command waits at most the client's timeout: an endpoint that accepts TCP and never
        # answers (not Redis, or a stuck one) ends the call with RedisUnavailable, never a hang
        self._connection = GatewayConnection(self.redis, queue_capacity=queue_capacity, socket_timeout=self.timeout)
        self._closed = False

    # -- addresses ---------------------------------------------------------------------------------

    def address(self, service: str | None = None) -> str:
        """``<redis address>#service.<name>``: the form PySOA hosts and stub servers report."""
        return f"{self.redis.address}#service.{self._service(service)}"

    def reply_to(self, service: str | None = None) -> str:
        """``meta.reply_to`` of this client's requests to ``service`` from the calling thread."""
        return wire.make_reply_to(self._service(service), self.client_id, threading.get_ident())

    def response_queue(self, service: str | None = None) -> str:
        """The Redis key this client, in the calling thread, reads its replies from."""
        return wire.response_queue_key(self.reply_to(service))

    def _service(self, service: str | None) -> str:
        name = service or self.service
        if not name:
            raise ConfigError(
                "no service: give PySOAWireClient a service, an address with #service.NAME, or Call.service"
            )
        return name

    # -- calls -----------------------------------------------------------------------------------

    def call(self, call: Call, *, timeout: float | None = None) -> Reply:
        """Send one action and wait for its reply (CallTimeout when none comes in time)."""
        return self.call_many([call], timeout=timeout)[0]

    def call_many(self, calls: Iterable[Call], *, timeout: float | None = None) -> list[Reply]:
        """Send one job of several actions to one service; one Reply per call, in order.

        Actions the server did not run (after an error, without ``continue_on_error``) get a Reply
        with no body and no errors, as :func:`reply_from_envelope` documents.
        """
        calls = list(calls)
        if not calls:
            raise ConfigError("call_many needs at least one Call (PySOA jobs have at least one action)")
        self._check_open()
        service = self._job_service(calls)
        request_id = self._next_request_id()
        envelope, ttl = self._request(calls, service, request_id)
        try:
            frame = self._frame(service, envelope)
            request_key = wire.request_queue_key(service)
            if envelope["body"]["control"].get("suppress_response"):
                self._connection.push(request_key, [frame], ttl)
                return [Reply(meta={"suppressed": True}) for _ in calls]
            wait = self.timeout if timeout is None else float(timeout)
            key = self.response_queue(service)
            deadline = time.monotonic() + wait
            # the request and the first wait for its reply go to Redis in one write
            first = self._connection.push_and_pop(request_key, [frame], ttl, [key], deadline)
            response = self._receive(service, request_id, wait, calls, key, deadline, first)
        except self._connection.unreachable_errors as exc:
            raise self._unreachable(exc) from exc
        replies = [reply_from_envelope(response, index) for index in range(len(calls))]
        if self.record:
            from rpctest.contracts.recorder import observe

            for call, reply in zip(calls, replies, strict=True):
                observe(call, reply, source="client")
        return replies

    def _unreachable(self, exc: Exception) -> Exception:
        """A Redis that is down or unreachable is a RedisUnavailable naming it, not redis-py's error."""
        from rpctest.redis_backend import RedisUnavailable

        return RedisUnavailable(f"cannot reach Redis at {self.redis.address} for {self.service!r}: {exc}")

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this PySOAWireClient is closed")

    def _job_service(self, calls: Sequence[Call]) -> str:
        services = {self._service(call.service) for call in calls}
        if len(services) != 1:
            raise ConfigError(f"one PySOA job goes to one service; these calls name {sorted(services)}")
        return services.pop()

    def _next_request_id(self) -> int:
        with self._ids_lock:
            return next(self._request_ids)

    def _request(self, calls: Sequence[Call], service: str, request_id: int) -> tuple[dict[str, Any], int]:
        """The request envelope and its key TTL, with job headers from the calls' meta."""
        headers = _job_headers(calls)
        control = dict(headers.control)
        if self.message_expiry and "timeout" not in control:
            control["timeout"] = self.message_expiry  # what call_actions(timeout=N) adds
        continue_on_error = bool(control.pop("continue_on_error", headers.continue_on_error))
        suppress_response = bool(control.pop("suppress_response", False))
        expiry, ttl = message_expiry(self.message_expiry)
        envelope = wire.request_envelope(
            [{"action": call.operation, "body": {} if call.body is None else call.body} for call in calls],
            request_id=request_id,
            reply_to=self.reply_to(service),
            expiry=expiry,
            # PySOA's own correlation id, uuid1().hex; with the node given, uuid1 skips libuuid, which
            # tries the uuidd daemon's socket on every call (a socket and a failed connect each time)
            correlation_id=headers.correlation_id or uuid.uuid1(uuid.getnode()).hex,
            switches=[*self.switches, *headers.switches],
            continue_on_error=continue_on_error,
            suppress_response=suppress_response,
            client_version=self.client_version,
            context_extra={**self.context, **headers.context},
            control_extra=control,
        )
        return envelope, ttl

    def _frame(self, service: str, envelope: dict[str, Any]) -> bytes:
        """The request's list element; larger than the client's limit is PySOA's MessageTooLarge."""
        frame = wire.encode_message(envelope, protocol_version=self.protocol_version, content_type=self.content_type)
        if self.maximum_message_size is not None and len(frame) > self.maximum_message_size:
            raise wire.WireError(
                f"the request to {service!r} is {len(frame)} bytes; PySOA's client refuses more than "
                f"{self.maximum_message_size} (MessageTooLarge). Pass maximum_message_size=None to send it anyway"
            )
        return frame

    def _receive(
        self,
        service: str,
        request_id: int,
        wait: float,
        calls: Sequence[Call],
        key: str,
        deadline: float,
        popped: tuple[str, bytes] | None,
    ) -> dict[str, Any]:
        """The response envelope for ``request_id``, starting from the first ``popped`` from ``key``;
        drops late and expired replies on the way, waiting on until ``deadline``."""
        while True:
            if popped is None:
                raise self._timeout_error(service, calls, wait, request_id)
            message = self._decode_reply(popped[1], key, deadline, service, calls)
            envelope = message.envelope
            if envelope.get("request_id") != request_id:
                _logger.info(
                    "discarded a reply to request %r on %s while awaiting request %d (a late reply to a call "
                    "that timed out)",
                    envelope.get("request_id"),
                    key,
                    request_id,
                )
            elif is_expired(envelope):
                _logger.info("discarded an expired reply to request %d on %s", request_id, key)
            else:
                return envelope
            popped = self._connection.pop([key], deadline)

    def _decode_reply(
        self, frame: bytes, key: str, deadline: float, service: str, calls: Sequence[Call]
    ) -> wire.RedisMessage:
        """Decode one reply (joining chunks); a broken frame raises WireError naming the call."""
        try:
            parsed = wire.parse_frame(frame)
            count = int(parsed.headers.get("chunk-count", "1"))
            chunks = [frame]
            while len(chunks) < count:
                popped = self._connection.pop([key], deadline)
                if popped is None:
                    raise wire.WireError(f"chunk {len(chunks) + 1} of {count} never arrived")
                chunks.append(popped[1])
            if count > 1:
                return wire.decode_chunks(chunks, default_content_type=self.content_type)
            return wire.decode_frame(parsed, default_content_type=self.content_type)
        except (wire.WireError, ValueError) as exc:
            raise wire.WireError(
                f"broken reply from PySOA service {service!r} to {_describe(calls)} at {self.address(service)} "
                f"(Redis key {key!r}): {exc}"
            ) from exc

    def _timeout_error(self, service: str, calls: Sequence[Call], wait: float, request_id: int) -> CallTimeout:
        request_key = wire.request_queue_key(service)
        return CallTimeout(
            f"no reply from PySOA service {service!r} to {_describe(calls)} at {self.address(service)} within "
            f"{wait:g} s (request {request_id} was pushed onto {request_key!r}; is a server consuming it?)"
        )

    # -- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the Redis connections (idempotent)."""
        if not self._closed:
            self._closed = True
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f"{self.redis.address}#service.{self.service}" if self.service else self.redis.address
        return f"<PySOAWireClient {where}{' (closed)' if self._closed else ''}>"


class _JobHeaders:
    """The job-level parts of the calls' meta (PySOA puts them once per job, not per action)."""

    __slots__ = ("context", "continue_on_error", "control", "correlation_id", "switches")

    def __init__(self, meta: Mapping[str, Any]) -> None:
        self.context: dict[str, Any] = dict(meta.get("context") or {})
        self.switches: list[int] = list(meta.get("switches") or ())
        self.correlation_id: str | None = meta.get("correlation_id")
        self.control: dict[str, Any] = dict(meta.get("control") or meta.get("control_extra") or {})
        self.continue_on_error = bool(meta.get("continue_on_error", False))

    def key(self) -> tuple[Any, ...]:
        return (self.context, self.switches, self.correlation_id, self.control, self.continue_on_error)


#: the job headers of calls that set none (never changed: _request copies what it uses)
_NO_HEADERS = _JobHeaders({})


def _job_headers(calls: Sequence[Call]) -> _JobHeaders:
    """One set of job headers for the calls; calls that set different ones cannot share a job."""
    if not any(call.meta for call in calls):
        return _NO_HEADERS
    found = [_JobHeaders(call.meta or {}) for call in calls]
    given = [headers for headers, call in zip(found, calls) if call.meta]
    for other in given[1:]:
        if other.key() != given[0].key():
            raise ConfigError(
                "the calls of one job carry different job headers (context, switches, control, correlation_id, "
                "continue_on_error); set them on one call or make them equal"
            )
    return given[0] if given else found[0]


def _describe(calls: Sequence[Call]) -> str:
    names = [call.operation for call in calls]
    return f"action {names[0]!r}" if len(names) == 1 else f"job of actions {names!r}"
