"""A PySOA stub server on the Redis gateway, answered by the stub router; needs no pysoa.

:class:`PySOAStubServer` is what a consumer's real ``pysoa.client.Client`` (or any PySOA client)
talks to when the provider is stubbed over the wire: a background thread pops requests from each
served service's queue (``pysoa:service.<name>``), decodes them with
:mod:`rpctest.stacks.pysoa.wire`, answers each action from a
:class:`~rpctest.stubs.router.StubRouter`, and pushes the response envelope onto
``pysoa:<reply_to>`` exactly as a PySOA 1.4 server builds and sends it:

* the response ``meta`` is the request's, with a fresh ``__expiry__`` (now + 60 s, key TTL 60);
* the body is ``{errors, context: {correlation_id}, actions: [{action, errors, body}]}``, in the
  request's protocol version and content type (an unknown content type is read, and answered, as
  msgpack, as PySOA does); ``is_caller_error`` is left out for clients older than 0.70.0;
* the job stops at the first action with errors unless ``control.continue_on_error``; a stub's job
  error replaces the whole response (``{errors, context: {}, actions: []}``), as a ``JobError``
  raised in an action does; ``control.suppress_response`` sends nothing;
* a job envelope that breaks PySOA's ``JobRequestSchema`` gets job errors with PySOA's codes,
  pointers and messages (``is_caller_error`` false); responses larger than 250 KiB become the job
  error RESPONSE_TOO_LARGE (or are chunked, when ``chunk_messages_larger_than_bytes`` is set), and
  unserializable ones RESPONSE_NOT_SERIALIZABLE;
* a call no stub matches gets PySOA's own not-found answer (UNKNOWN on field ``action``) when the
  router has no stub for that action at all, else a caller error INVALID whose message names the
  nearest stub and how the request differs; both are logged at WARNING on ``rpctest.serve`` and
  kept in :attr:`PySOAStubServer.diagnostics`.

Where a real PySOA server *exits* (a frame it cannot decode, a message without ``request_id`` or
``reply_to``), the stub server records a diagnostic and goes on: a stub must survive what the code
under test sends, and say what was wrong. Expired requests are dropped unanswered, as PySOA does.

Stopping is prompt: the blocking pop also watches a private wake key that :meth:`stop` pushes to.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Self

from rpctest.exceptions import StubUsageError
from rpctest.model import Call, Reply, RpcError
from rpctest.stacks.base import HostedService
from rpctest.stacks.pysoa import fastpack, wire
from rpctest.stacks.pysoa.errors import to_wire
from rpctest.stacks.pysoa.redis_client import (
    DEFAULT_MESSAGE_EXPIRY,
    DEFAULT_QUEUE_CAPACITY,
    GatewayConnection,
    PySOAWireClient,
    is_expired,
)
from rpctest.untrusted import contained

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.redis_backend import RedisServerProcess, RedisTarget
    from rpctest.stubs.router import Stub, StubRouter

__all__ = [
    "SERVER_MAXIMUM_MESSAGE_BYTES",
    "PySOAStubServer",
    "job_request_errors",
    "not_found_error",
    "serve_stubs",
]

_logger = logging.getLogger("rpctest.serve")

#: PySOA's server refuses to send a serialized response larger than this (RESPONSE_TOO_LARGE)
SERVER_MAXIMUM_MESSAGE_BYTES = 250 * 1024
#: ``Error.is_caller_error`` was added in PySOA 0.70.0; the server hides it from older clients
_IS_CALLER_ERROR_SINCE = (0, 70, 0)
#: what PySOA's server assumes when a request has no ``meta.client_version``
_UNKNOWN_CLIENT_VERSION = (0, 40, 0)
_STACK = "pysoa"
_UNMATCHED_PREFIX = "No recorded/stubbed request matches"


# -- PySOA's JobRequestSchema, as data checks ----------------------------------------------------------
#
# A check takes (value, pointer) and returns (code, pointer, message) triples worded as Conformity
# words them, in Conformity's order (a dict's declared keys in order, then its extra keys).

_Problem = tuple[str, "str | None", str]
_Check = Callable[[Any, "str | None"], list[_Problem]]


def _join(pointer: str | None, key: Any) -> str:
    return f"{pointer}.{key}" if pointer else str(key)


def _string(value: Any, pointer: str | None) -> list[_Problem]:
    return [] if isinstance(value, str) else [("INVALID", pointer, "Not a unicode string")]


def _boolean(value: Any, pointer: str | None) -> list[_Problem]:
    return [] if isinstance(value, bool) else [("INVALID", pointer, "Not a boolean")]


def _integer(value: Any, pointer: str | None) -> list[_Problem]:
    ok = isinstance(value, int) and not isinstance(value, bool)
    return [] if ok else [("INVALID", pointer, "Not an integer")]


def _list_of(item: _Check, min_length: int = 0) -> _Check:
    def check(value: Any, pointer: str | None) -> list[_Problem]:
        if not isinstance(value, list):
            return [("INVALID", pointer, "Not a list")]
        if len(value) < min_length:
            return [("INVALID", pointer, f"List is shorter than {min_length}")]
        return [problem for index, element in enumerate(value) for problem in item(element, _join(pointer, index))]

    return check


def _string_keyed_dict(value: Any, pointer: str | None) -> list[_Problem]:
    if not isinstance(value, dict):
        return [("INVALID", pointer, "Not a dict")]
    if all(type(key) is str for key in value):  # the usual body: no problem, and no pointer to build
        return []
    return [problem for key in value for problem in _string(key, _join(pointer, key))]


#: what each scalar check accepts, tested first so that a field that passes costs no pointer or list
#: (a stub server checks every request; the pointers were most of that)
_ACCEPTS: dict[_Check, Callable[[Any], bool]] = {
    _string: lambda value: isinstance(value, str),
    _boolean: lambda value: isinstance(value, bool),
}


def _dictionary(contents: Mapping[str, _Check], *, optional: Iterable[str] = (), extra_keys: bool = False) -> _Check:
    optional_keys = frozenset(optional)
    declared = frozenset(contents)
    fields = [(key, field_check, _ACCEPTS.get(field_check)) for key, field_check in contents.items()]

    def check(value: Any, pointer: str | None) -> list[_Problem]:
        if not isinstance(value, dict):
            return [("INVALID", pointer, "Not a dict")]
        problems: list[_Problem] = []
        for key, field_check, accepts in fields:
            if key in value:
                item = value[key]
                if accepts is None or not accepts(item):
                    problems.extend(field_check(item, _join(pointer, key)))
            elif key not in optional_keys:
                problems.append(("MISSING", _join(pointer, key), f"Missing key: {key}"))
        extra = value.keys() - declared
        if extra and not extra_keys:
            names = ", ".join(sorted(str(key) for key in extra))
            problems.append(("UNKNOWN", pointer, f"Extra keys present: {names}"))
        return problems

    return check


_JOB_REQUEST = _dictionary(
    {
        "control": _dictionary(
            {"continue_on_error": _boolean, "suppress_response": _boolean},
            optional=("suppress_response",),
            extra_keys=True,
        ),
        "context": _dictionary(
            {"caller": _string, "calling_service": _string, "correlation_id": _string, "switches": _list_of(_integer)},
            optional=("caller", "calling_service"),
            extra_keys=True,
        ),
        "actions": _list_of(_dictionary({"action": _string, "body": _string_keyed_dict}, optional=("body",)), 1),
    }
)


def job_request_errors(job: Any) -> list[RpcError]:
    """How ``job`` (a request envelope's body) breaks PySOA's JobRequestSchema, as PySOA reports it.

    A real server answers such a job with these as *job* errors and ``is_caller_error`` false
    (PySOA's reasoning: only a buggy client library sends them).
    """
    return [
        RpcError(code, message, field=pointer, details={"is_caller_error": False})
        for code, pointer, message in _JOB_REQUEST(job, None)
    ]


def not_found_error(action: str) -> RpcError:
    """PySOA's answer to an action its server does not have, worded as the real server words it."""
    return RpcError(
        "UNKNOWN",
        f'The action "{action}" was not found on this server.',
        field="action",
        details={"is_caller_error": True},
    )


# -- the server ----------------------------------------------------------------------------------------


class _Request:
    """One decoded request: what the response needs to be addressed and framed like it."""

    __slots__ = ("envelope", "message", "service")

    def __init__(self, service: str, message: wire.RedisMessage) -> None:
        self.service = service
        self.message = message
        self.envelope = message.envelope

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.envelope["meta"]
        return meta

    @property
    def job(self) -> Any:
        return self.envelope.get("body")

    def shows_is_caller_error(self) -> bool:
        """Whether the client is new enough (>= 0.70.0) to be sent ``is_caller_error``."""
        version = self.meta.get("client_version", _UNKNOWN_CLIENT_VERSION)
        try:
            return tuple(version) >= _IS_CALLER_ERROR_SINCE
        except TypeError:
            return False


class _Answer(NamedTuple):
    """One action answered: the reply (its errors decide the job), its ActionResponse as sent, and
    that response packed once (:class:`fastpack.Packed`, where fastpack packs and could pack it)."""

    reply: Reply
    response: dict[str, Any]
    packed: fastpack.Packed | None


class _Response(NamedTuple):
    """A response body, and its actions packed once when every one of them could be (else None)."""

    body: dict[str, Any]
    packed_actions: list[fastpack.Packed] | None = None


class _Outgoing(NamedTuple):
    """A response to push: onto ``key``, its list elements, for a request that came on ``request_key``."""

    key: str
    frames: list[bytes]
    request_key: str


class PySOAStubServer(HostedService):
    """Serves ``services`` on ``target`` from ``router``'s PySOA stubs until :meth:`stop`.

    ``address`` is ``<redis address>#service.<name>`` when one service is served (else the Redis
    address; ``addresses`` maps every service to its address). ``diagnostics`` collects, as text,
    every call no stub matched and every request that could not be answered. ``client`` is a
    :class:`~rpctest.stacks.pysoa.redis_client.PySOAWireClient` on the same Redis (the wire half
    has no stack library to offer a native client); :meth:`call` goes through it.

    Build it with :func:`serve_stubs` (or ``adapter.wire.stub_server``), which also starts it; a
    server built directly starts with :meth:`start` or on entering ``with``. Options mirror PySOA's
    server transport settings: ``message_expiry`` (60), ``queue_capacity`` (10000),
    ``maximum_message_size`` (250 KiB), ``chunk_messages_larger_than_bytes`` (off), and
    ``default_content_type`` for frames that name none; ``poll_interval`` bounds each blocking pop.
    """

    def __init__(
        self,
        router: StubRouter,
        target: RedisTarget,
        services: Sequence[str],
        *,
        poll_interval: float = 1.0,
        message_expiry: int = DEFAULT_MESSAGE_EXPIRY,
        queue_capacity: int = DEFAULT_QUEUE_CAPACITY,
        maximum_message_size: int = SERVER_MAXIMUM_MESSAGE_BYTES,
        chunk_messages_larger_than_bytes: int | None = None,
        default_content_type: str = wire.CONTENT_TYPE_MSGPACK,
        timeout: float = 5.0,
        redis_process: RedisServerProcess | None = None,
    ) -> None:
        self.router = router
        self.redis = target
        self.services = _checked_services(services)
        self.addresses = {name: f"{target.address}#service.{name}" for name in self.services}
        self.address = self.addresses[self.services[0]] if len(self.services) == 1 else target.address
        self.diagnostics: list[str] = []
        #: the exception that ended the request loop early, if one did (it never should)
        self.error: BaseException | None = None
        self.poll_interval = poll_interval
        self.message_expiry = message_expiry
        self.maximum_message_size = maximum_message_size
        self.chunk_size = chunk_messages_larger_than_bytes if chunk_messages_larger_than_bytes else None
        self.default_content_type = default_content_type
        self.timeout = timeout
        self._queue_capacity = queue_capacity
        self._redis_process = redis_process
        self._queue_services = {wire.request_queue_key(name): name for name in self.services}
        self._wake_key = f"{wire.QUEUE_KEY_PREFIX}rpctest-stub-wake.{uuid.uuid4().hex}"
        self._connection: GatewayConnection | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._state_lock = threading.Lock()
        self._stopped = False
        self._client: PySOAWireClient | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Connect (failing here, clearly, if Redis is unreachable) and start the request loop."""
        with self._state_lock:
            if self._stopped:
                raise RuntimeError(f"{self!r} was stopped; build a new one")
            if self._thread is not None:
                return self
            connection = GatewayConnection(self.redis, queue_capacity=self._queue_capacity)
            try:
                connection.ping()
            except BaseException:
                connection.close()
                raise
            self._connection = connection
            self._thread = threading.Thread(
                target=self._run, name=f"rpctest-pysoa-stub-{'+'.join(self.services)}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop, wait for it, and close every Redis connection (and a private redis-server)."""
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
        self._stopping.set()
        try:
            self._join_loop()
        finally:
            self._release()

    def _join_loop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + self.poll_interval + 5.0
        while thread.is_alive() and time.monotonic() < deadline:
            self._wake()
            thread.join(0.05)
        if thread.is_alive():  # pragma: no cover - a side effect that never returns
            _logger.warning("the PySOA stub server loop for %s did not stop in time", ", ".join(self.services))

    def _wake(self) -> None:
        """End a blocked pop at once: push to the private key the loop also watches."""
        assert self._connection is not None
        try:
            self._connection.redis.rpush(self._wake_key, b"stop")
        except Exception:  # the loop then ends at its poll interval
            _logger.debug("could not wake the stub server loop", exc_info=True)

    def _release(self) -> None:
        try:
            if self._client is not None:
                self._client.close()
            if self._connection is not None:
                try:
                    self._connection.redis.delete(self._wake_key)
                except Exception:
                    _logger.debug("could not delete the wake key %s", self._wake_key, exc_info=True)
                self._connection.close()
        finally:
            if self._redis_process is not None:
                self._redis_process.stop()

    def __enter__(self) -> Self:
        return self.start()

    @property
    def alive(self) -> bool:
        """True while the request loop runs."""
        return self._thread is not None and self._thread.is_alive()

    # -- calling it ------------------------------------------------------------------------------

    @property
    def client(self) -> PySOAWireClient:
        """A wire client on this server's Redis (closed by :meth:`stop`)."""
        with self._state_lock:
            if self._stopped:
                raise RuntimeError(f"{self!r} is stopped")
            if self._client is None:
                default = self.services[0] if len(self.services) == 1 else None
                self._client = PySOAWireClient(self.redis, default, timeout=self.timeout)
            return self._client

    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """Call one action over the wire; ``service=`` picks one when several are served."""
        service = meta.pop("service", None) or (self.services[0] if len(self.services) == 1 else None)
        if service is None:
            raise ValueError(f"this stub server serves {self.services}; pass service=...")
        return self.client.call(Call(_STACK, service, operation, body, meta=meta))

    # -- the request loop --------------------------------------------------------------------------

    def _run(self) -> None:
        """Pop and answer until stopped; nothing a client sends may end the loop."""
        try:
            self._serve_until_stopped()
        except Exception as exc:  # pragma: no cover - a bug in this module; recorded, not raised in a thread
            self.error = exc
            _logger.exception("the PySOA stub server loop failed")
            self.diagnostics.append(f"the stub server loop stopped on an internal error: {exc!r}")

    def _serve_until_stopped(self) -> None:
        import redis

        assert self._connection is not None
        keys = [*self._queue_services, self._wake_key]
        failures = 0
        answer: _Outgoing | None = None
        while not self._stopping.is_set():
            try:
                deadline = time.monotonic() + self.poll_interval
                if answer is None:
                    popped = self._connection.pop(keys, deadline)
                else:
                    outgoing, answer = answer, None
                    popped = self._send_then_pop(outgoing, keys, deadline)
            except (redis.exceptions.RedisError, OSError) as exc:  # Redis went away: say so once, back off, retry
                if self._stopping.is_set():
                    return
                failures += 1
                if failures == 1:
                    self._diagnose(f"Redis error while waiting for requests on {self.redis.address}: {exc!r}")
                self._stopping.wait(min(0.05 * 2**failures, 1.0))
                continue
            failures = 0
            if popped is not None and popped[0] != self._wake_key:
                answer = self._handle(self._queue_services[popped[0]], popped[0], popped[1])
        if answer is not None:  # stopped with an answer in hand: it still goes out
            with contained(f"a request on {answer.request_key}", self._diagnose, then="no response was sent"):
                self._connection.push(answer.key, answer.frames, self.message_expiry)

    def _handle(self, service: str, key: str, data: bytes) -> _Outgoing | None:
        """The answer to one list element, to push; every failure becomes a diagnostic, never an exception."""
        with contained(f"a request on {key}", self._diagnose, then="no response was sent"):
            request = self._decode(service, key, data)
            if request is None:
                return None
            response = self._process_job(request)
            if _suppressed(request.job):
                return None
            return self._respond(request, response, key)
        return None

    def _send_then_pop(self, outgoing: _Outgoing, keys: list[str], deadline: float) -> tuple[str, bytes] | None:
        """Push an answer and wait for the next request, in one write to Redis
        (:meth:`GatewayConnection.push_and_pop`); a push that fails is diagnosed as the request's
        failure, as before, and the wait goes on alone (an error there is the loop's to report)."""
        assert self._connection is not None

        def push_failed(exc: Exception) -> None:
            with contained(f"a request on {outgoing.request_key}", self._diagnose, then="no response was sent"):
                raise exc

        return self._connection.push_and_pop(
            outgoing.key, outgoing.frames, self.message_expiry, keys, deadline, wake=self._wake, push_failed=push_failed
        )

    def _diagnose(self, text: str) -> None:
        _logger.warning("%s", text)
        self.diagnostics.append(text)

    # -- decoding --------------------------------------------------------------------------------

    def _decode(self, service: str, key: str, data: bytes) -> _Request | None:
        """The request in ``data``, or None (with a diagnostic) where PySOA would not answer it."""
        try:
            message = wire.decode_message(data, default_content_type=self.default_content_type)
        except wire.WireError as exc:
            self._diagnose(
                f"malformed request on {key} ({len(data)} bytes) dropped: {exc} (a real PySOA server would exit)"
            )
            return None
        problem = _unanswerable(message)
        if problem:
            self._diagnose(f"request on {key} dropped: {problem} (a real PySOA server would exit)")
            return None
        try:
            expired = is_expired(message.envelope)
        except wire.WireError as exc:
            self._diagnose(f"request on {key} dropped: {exc}")
            return None
        if expired:
            self._diagnose(
                f"expired request {message.envelope['request_id']!r} on {key} dropped unanswered, as PySOA does "
                f"(meta.__expiry__ {message.envelope['meta']['__expiry__']!r} is in the past)"
            )
            return None
        return _Request(service, message)

    # -- answering -------------------------------------------------------------------------------

    def _process_job(self, request: _Request) -> _Response:
        """The response body PySOA's server would build for this job, actions answered by stubs."""
        job = request.job
        problems = job_request_errors(job)
        if problems:
            return _Response(_job_error_body(problems, request))
        context = job["context"]
        continue_on_error = job["control"].get("continue_on_error", False)
        answers: list[_Answer] = []
        for action in job["actions"]:
            answer = self._answer(_call_for(request.service, action, job), request)
            reply = answer.reply
            if reply.job_errors:  # a JobError raised in an action: it replaces the whole response
                return _Response(_job_error_body(list(reply.job_errors), request))
            answers.append(answer)
            if reply.errors and not continue_on_error:
                break
        body = {
            "errors": [],
            "context": {"correlation_id": context["correlation_id"]},
            "actions": [answer.response for answer in answers],
        }
        packed = [answer.packed for answer in answers if answer.packed is not None]
        return _Response(body, packed if len(packed) == len(answers) else None)

    def _answer(self, call: Call, request: _Request) -> _Answer:
        """One action answered by the router, or PySOA's not-found / a near-miss caller error.

        A stub answering its own reply to every call has its ActionResponse built and packed once
        (:meth:`StubRouter.respond_encoded`; the key holds what of the request shapes it: whether the
        client is shown ``is_caller_error``), the call still recorded each time.
        """
        stub = self.router.match(call)
        if stub is None:
            return _answered(self._unmatched(call), call, request)
        encoding = False

        def encode(reply: Reply) -> tuple[_Answer, bool]:
            nonlocal encoding
            encoding = True
            return _answered(reply, call, request), True

        try:
            return self.router.respond_encoded(stub, call, (_STACK, request.shows_is_caller_error()), encode)
        except Exception as exc:  # what a real server does with an exception in an action
            if encoding:  # not the stub's: as before, the request fails alone (a diagnostic, no response)
                raise
            _logger.exception("the stub for %s.%s raised", call.service, call.operation)
            self.diagnostics.append(f"the stub for {call.service}.{call.operation} raised {exc!r}")
            return _answered(Reply(errors=[_server_error(exc)]), call, request)

    def _unmatched(self, call: Call) -> Reply:
        explanation = self.router.explain_unmatched(call)
        self._diagnose(explanation)
        candidates = [stub for stub in self.router.active(_STACK) if _stubs_operation(stub, call)]
        if not candidates:
            return Reply(body={}, errors=[not_found_error(call.operation)])
        return Reply(body={}, errors=[_near_miss_error(call, candidates, self.router)])

    # -- sending ---------------------------------------------------------------------------------

    def _respond(self, request: _Request, response: _Response, request_key: str) -> _Outgoing:
        """The response framed like the request, to push onto ``pysoa:<reply_to>``."""
        meta = dict(request.meta)
        expiry = time.time() + self.message_expiry
        meta["__expiry__"] = expiry
        envelope = {"request_id": request.envelope["request_id"], "meta": meta, "body": response.body}
        frames = self._frames(request, envelope, response.packed_actions)
        return _Outgoing(wire.response_queue_key(request.meta["reply_to"]), frames, request_key)

    def _frames(
        self, request: _Request, envelope: dict[str, Any], packed_actions: list[fastpack.Packed] | None = None
    ) -> list[bytes]:
        """The list elements to push; an oversized or unserializable body becomes PySOA's job error."""
        message = request.message
        try:
            return self._encode(envelope, message, packed_actions)
        except _TooLarge as exc:
            error = RpcError("RESPONSE_TOO_LARGE", "Could not send the response because it was too large")
            self._diagnose(f"response to request {envelope['request_id']!r} too large: {exc}")
        except wire.WireError as exc:
            error = RpcError("RESPONSE_NOT_SERIALIZABLE", "Could not send the response because it failed to serialize")
            self._diagnose(f"response to request {envelope['request_id']!r} not serializable: {exc}")
        error.details["is_caller_error"] = False
        envelope["body"] = _job_error_body([error], request)
        return self._encode(envelope, message)

    def _encode(
        self, envelope: dict[str, Any], message: wire.RedisMessage, packed_actions: list[fastpack.Packed] | None = None
    ) -> list[bytes]:
        payload = None
        if packed_actions is not None and message.content_type == wire.CONTENT_TYPE_MSGPACK:
            payload = _spliced(envelope, packed_actions)
        if payload is None:
            payload = wire.encode_payload(envelope, message.content_type)
        if len(payload) > self.maximum_message_size:
            raise _TooLarge(f"{len(payload)} bytes, the limit is {self.maximum_message_size}")
        if self.chunk_size is not None and len(payload) > self.chunk_size:
            if message.protocol_version < 3:
                raise _TooLarge(f"{len(payload)} bytes need chunking, which protocol {message.protocol_version} lacks")
            return wire.chunks_from_payload(payload, self.chunk_size, content_type=message.content_type)
        # the bytes just measured, not a second encoding (msgpack's pure-Python fallback under pysoa's
        # pin made each encoding a large part of a round trip)
        return [wire.message_from_payload(payload, protocol_version=message.protocol_version, content_type=message.content_type)]

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else ("running" if self.alive else "not started")
        return f"<PySOAStubServer {', '.join(self.services)} on {self.redis.address} ({state})>"


class _TooLarge(Exception):
    """Internal: the response exceeds the server's message size limit."""


# -- small pieces of the server ------------------------------------------------------------------------


def _checked_services(services: Sequence[str]) -> list[str]:
    if isinstance(services, str):
        services = [services]
    names = list(services)
    if not names:
        raise StubUsageError("a PySOA stub server needs at least one service to serve")
    for name in names:
        if not isinstance(name, str) or not name:
            raise StubUsageError(f"a PySOA service name is a non-empty str, not {name!r}")
    return names


def _unanswerable(message: wire.RedisMessage) -> str | None:
    """Why PySOA's server could not answer this message at all (it raises InvalidMessageError)."""
    envelope = message.envelope
    if "chunk-count" in message.headers:
        return "it is chunked; PySOA servers refuse chunked requests"
    meta = envelope.get("meta")
    if not isinstance(meta, dict):
        return f"meta is {meta!r}, not a map"
    if envelope.get("request_id") is None:
        return "it has no request_id"
    if not isinstance(meta.get("reply_to"), str) or not meta["reply_to"]:
        return "meta.reply_to is missing, so there is nowhere to answer"
    return None


def _suppressed(job: Any) -> bool:
    control = job.get("control") if isinstance(job, dict) else None
    return isinstance(control, dict) and bool(control.get("suppress_response", False))


def _call_for(service: str, action: Mapping[str, Any], job: Mapping[str, Any]) -> Call:
    """The neutral call for one action, with the job headers in ``meta`` as the in-process stubs see them.

    ``context`` holds the caller's extra context keys (``correlation_id`` and ``switches`` have keys
    of their own), ``control`` the extra control keys, if any.
    """
    context = dict(job["context"])
    meta: dict[str, Any] = {
        "switches": context.pop("switches"),
        "correlation_id": context.pop("correlation_id"),
        "context": context,
    }
    control = {k: v for k, v in job["control"].items() if k not in ("continue_on_error", "suppress_response")}
    if control:
        meta["control"] = control
    return Call(_STACK, service, action["action"], action.get("body", {}), meta=meta)


def _stubs_operation(stub: Stub, call: Call) -> bool:
    return stub.service == call.service and stub.action == call.operation


def _near_miss_error(call: Call, candidates: list[Stub], router: StubRouter) -> RpcError:
    """INVALID naming the nearest stub of this very action and how the request differs from it."""
    nearest = router.nearest(call, candidates) or candidates[0]
    differences = "; ".join(nearest.differences(call)) or "no difference found"
    return RpcError(
        "INVALID",
        f"{_UNMATCHED_PREFIX} this {call.service}.{call.operation} request. Nearest stub {nearest!r}: {differences}.",
        field=None,
        details={"is_caller_error": True},
    )


def _server_error(exc: BaseException) -> RpcError:
    """PySOA's SERVER_ERROR for an unhandled exception in an action (message and traceback alike)."""
    return RpcError(
        "SERVER_ERROR",
        f"Internal server error: {exc}",
        details={"traceback": "".join(traceback.format_exception(exc)), "is_caller_error": False},
    )


def _wire_error(error: RpcError, request: _Request) -> dict[str, Any]:
    data = to_wire(error)
    if not request.shows_is_caller_error():
        del data["is_caller_error"]
    return data


def _action_response(name: str, reply: Reply, request: _Request) -> dict[str, Any]:
    """``{action, errors, body}`` in ActionResponse's field order; a missing body is ``{}``."""
    return {
        "action": name,
        "errors": [_wire_error(error, request) for error in reply.errors],
        "body": {} if reply.body is None else reply.body,
    }


def _answered(reply: Reply, call: Call, request: _Request) -> _Answer:
    """The :class:`_Answer` for ``reply``: its ActionResponse, packed where fastpack pays and can."""
    response = _action_response(call.operation, reply, request)
    packed = None
    if fastpack.PAYS:
        try:
            packed = fastpack.Packed(fastpack.packb(response))
        except fastpack.NotFast:  # msgpack's own types or limits: packed with the envelope, by msgpack
            pass
    return _Answer(reply, response, packed)


def _spliced(envelope: dict[str, Any], packed_actions: list[fastpack.Packed]) -> bytes | None:
    """The envelope packed with its actions' bytes spliced in (what msgpack packs for it, byte for
    byte), or None where fastpack leaves the envelope (its request meta) to msgpack."""
    body = {**envelope["body"], "actions": packed_actions}
    try:
        return fastpack.packb({**envelope, "body": body})
    except fastpack.NotFast:
        return None


def _job_error_body(errors: Sequence[RpcError], request: _Request) -> dict[str, Any]:
    """A response with job errors only: PySOA builds a fresh JobResponse, so no context, no actions."""
    return {"errors": [_wire_error(error, request) for error in errors], "context": {}, "actions": []}


# -- building ------------------------------------------------------------------------------------------


def resolve_target(redis: Any) -> tuple[RedisTarget, RedisServerProcess | None]:
    """(target, the redis-server process we started for it or None) from what a user passes.

    None starts a private ``redis-server`` (RedisUnavailable when there is none); ``"fake"`` is a
    new in-memory fakeredis; a RedisTarget is used as is; a string is a ``redis://`` URL.
    """
    from rpctest import redis_backend

    if redis is None:
        process = redis_backend.RedisServerProcess()
        return process.start(), process
    if isinstance(redis, redis_backend.RedisTarget):
        return redis, None
    if redis == "fake":
        return redis_backend.fake(), None
    if isinstance(redis, str):
        target = redis_backend.real(redis.partition("#")[0])
        assert target is not None
        return target, None
    raise TypeError(f"redis= must be None, 'fake', a RedisTarget or a redis:// URL, not {redis!r}")


def serve_stubs(
    router: StubRouter, *, redis: Any = None, services: Sequence[str] | None = None, **options: Any
) -> PySOAStubServer:
    """Start a :class:`PySOAStubServer` for ``router`` and return it, running.

    ``services`` defaults to every service the router has PySOA stubs for now. With ``redis=None``
    a private redis-server is started, and stopped with the server.
    """
    if services is None:
        services = sorted({stub.service for stub in router.active(_STACK)})
        if not services:
            raise StubUsageError("the router has no PySOA stubs, so there is no service to serve; pass services=[...]")
    target, process = resolve_target(redis)
    try:
        server = PySOAStubServer(router, target, services, redis_process=process, **options)
        return server.start()
    except BaseException:
        if process is not None:
            process.stop()
        raise
