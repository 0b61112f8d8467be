"""The stack-adapter interface: what each of the five stacks provides to the neutral core.

An adapter has two halves (``docs/architecture.md`` draws the layers around them):

* the **wire half** needs no stack library: codec, client, stub server, black-box calls against a
  running endpoint. It is what makes rpctest useful to a consumer that only speaks the protocol;
* the **host half** runs the user's real service in the test process and intercepts the stack's own
  client library for stubbing. It imports the stack library lazily, through :meth:`HostHalf.require`,
  which turns a missing or broken install into a :class:`~rpctest.exceptions.StackUnavailable`
  naming the extra to install.

The interface is deliberately wider than PySOA needs: sync and async clients, jobs of several
operations, subscriptions, attachments and sessions are all expressible, so that later stacks plug in
without changing the core.
"""

from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterable, Mapping, Protocol

from rpctest.exceptions import StackUnavailable, StubUsageError
from rpctest.model import Call, ErrorKind, Reply, RpcError

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.contracts.format import OperationSpec, ProviderContract
    from rpctest.credentials import Credentials
    from rpctest.fuzz.checks import Case
    from rpctest.fuzz.framing import FramingReport
    from rpctest.fuzz.garbage import GarbageTarget
    from rpctest.stacklogs import StackLogs
    from rpctest.strategies.defects import Defect, Expected, Routed
    from rpctest.stubs.router import StubRouter

__all__ = [
    "Capabilities",
    "RpcClient",
    "AsyncRpcClient",
    "HostedService",
    "WireHalf",
    "HostHalf",
    "StackAdapter",
]


@dataclass(frozen=True)
class Capabilities:
    """What a stack can express; the core uses it to decide which checks and stubs apply."""

    sync_client: bool = False
    async_client: bool = False
    jobs: bool = False  # several operations in one request, with stop-on-first-error semantics
    subscriptions: bool = False  # one call, a stream of results
    attachments: bool = False  # binary side payloads
    sessions: bool = False  # server-side state keyed by a session id or a connection
    fields_in_errors: bool = False  # errors name the offending field


class RpcClient(Protocol):
    """A blocking client speaking a stack's wire protocol; every call has a timeout."""

    def call(self, call: Call, *, timeout: float | None = None) -> Reply: ...

    def call_many(self, calls: Iterable[Call], *, timeout: float | None = None) -> list[Reply]: ...

    def close(self) -> None: ...


class AsyncRpcClient(Protocol):
    """The asyncio twin of :class:`RpcClient`, plus subscriptions."""

    async def call(self, call: Call, *, timeout: float | None = None) -> Reply: ...

    def subscribe(self, call: Call, *, timeout: float | None = None) -> AsyncIterator[Any]: ...

    async def aclose(self) -> None: ...


class HostedService(abc.ABC):
    """A real service (or a stub server) running in the test process, stoppable.

    ``address`` is what a client of this stack connects to (None for a socket-less transport);
    ``client`` is a ready client of the stack's *own* library where one exists (a
    ``pysoa.client.Client`` for PySOA), else rpctest's wire client.
    """

    address: str | None = None
    client: Any = None

    @abc.abstractmethod
    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """Call one operation through the hosted service's full stack, in neutral terms."""

    def send_call(self, call: Call) -> Reply:
        """Send a neutral call as contract verification and the fuzzer do; :meth:`call` with the call's
        operation and body unless the stack carries more in the call (Kyoukai: a request envelope)."""
        return self.call(call.operation, call.body)

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the service and release every thread, socket and event loop it holds."""

    def __enter__(self) -> "HostedService":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class WireHalf(abc.ABC):
    """The half of an adapter that needs no stack library."""

    def client(self, address: str, *, timeout: float = 5.0, **options: Any) -> RpcClient:
        """A client of the endpoint at ``address``; ``credentials=`` (a :class:`~rpctest.credentials.Credentials`,
        only ever the parts :attr:`StackAdapter.credential_options` names) goes with every call."""
        raise NotImplementedError(f"{type(self).__name__} has no wire client yet")

    def stub_server(self, router: "StubRouter", *, address: str | None = None, **options: Any) -> HostedService:
        """A server of this stack's protocol answering from ``router`` (at ``address``, or wherever
        the stack can bind privately: port 0, an inproc address, a private Redis). It binds loopback
        only; ``public=True`` (``rpctest serve``) allows another address, with a warning."""
        raise NotImplementedError(f"{type(self).__name__} has no stub server yet")


class HostHalf(abc.ABC):
    """The half of an adapter that imports the stack library (lazily) and hosts real services."""

    #: the importable top-level module of the stack library
    library: str = ""
    #: the pip extra of rpctest that installs it, e.g. ``rpctest[pysoa]``
    extra: str = ""

    def require(self, module: str | None = None) -> ModuleType:
        """Import ``module`` (default: the stack library) or say exactly what to install."""
        name = module or self.library
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            raise StackUnavailable(f"{name} is not importable ({exc}). {self.install_advice()}") from exc

    def install_advice(self) -> str:
        """How to get this stack here, never a command that would break the stacks already installed."""
        from rpctest.stacks.environments import INSTALLS, install_advice

        advice = install_advice(self.extra) if self.extra in INSTALLS else f"Install it with: pip install 'rpctest[{self.extra}]'"
        return f"{advice} (run 'rpctest doctor' to see what this environment can run)."

    def unavailable_reason(self) -> str | None:
        """None when the stack library can be used here, else why not (for skips and doctor)."""
        try:
            self.require()
        except StackUnavailable as exc:
            return str(exc)
        return None

    @abc.abstractmethod
    def serve(self, provider: Any, **options: Any) -> HostedService:
        """Run the user's real service in-process."""

    @abc.abstractmethod
    def install_stub_interceptor(self, router: "StubRouter") -> Callable[[], None]:
        """Route the stack's own client library through ``router``; return the undo function."""

    def export_schema(self, provider: Any, **options: Any) -> Mapping[str, Any]:
        """The provider's operations in the neutral schema: ``{"service", "operations", "notes"}``."""
        raise NotImplementedError(f"{type(self).__name__} cannot export a schema yet")

    def export_from_address(
        self, address: str, service: str | None = None, *, timeout: float = 5.0, credentials: "Credentials | None" = None
    ) -> Mapping[str, Any]:
        """As :meth:`export_schema`, from a running service (through its introspection operation),
        sending ``credentials`` as the wire client would (None: none)."""
        raise NotImplementedError(f"{type(self).__name__} cannot export a schema from a running service yet")

    def errors_from_exception(self, exc: BaseException) -> list[RpcError] | None:
        """The neutral errors a native exception carries, or None if it is not one of this stack's."""
        return None

    #: the loggers of the stack library and of rpctest's host of it (children included), whose records
    #: a command sends to its log file instead of the terminal (:mod:`rpctest.stacklogs`)
    log_names: tuple[str, ...] = ()

    def capture_logs(self, logs: "StackLogs") -> Callable[[], None]:
        """Send what the stack library logs to ``logs`` (a command's log file, not the terminal, whose
        output is rpctest's report); return the undo. Python's logging of :attr:`log_names` by
        default; a library with output of its own (pykern's pkdebug) or that logs on the root logger
        (AsyncAPY) overrides this."""
        from rpctest.stacklogs import take_loggers

        return take_loggers(self.log_names, logs.handler)


class StackAdapter(abc.ABC):
    """One stack: its name, its capabilities, its two halves and its error mapping."""

    name: str = ""
    title: str = ""
    capabilities: Capabilities = Capabilities()
    wire: WireHalf
    host: HostHalf

    #: whether a request body of None reaches the service as null (PySOA's client sends {} instead,
    #: and pykern's server closes the connection on a nil api_args), so the fuzzer generates no null
    #: body where it is False: neither a "null body" defect nor a valid null for a schema-less operation
    null_body_sendable: bool = False

    #: how deep the fuzzer's one defect sits at least: 1 keeps the body itself an object (AsyncAPY
    #: packets are maps; a non-map payload is a framing matter, and AsyncAPY's server hangs on it)
    min_defect_depth: int = 0

    #: the body of the unknown-operation probe (AsyncAPY routes by body, and refuses an empty one as
    #: malformed before any routing, so its probe must be a packet no handler matches)
    unknown_operation_body: Any = {}

    #: codes the stack itself answers for any operation (validation, not-found, server errors); a
    #: contract's stubbed error may use them even when the provider declares no codes of its own
    standard_error_codes: frozenset[str | int] = frozenset()

    #: which parts of :class:`~rpctest.credentials.Credentials` this stack's wire client sends
    #: (``header``, ``token``, ``auth``, ``context``, ``switch``), and why the others have no place
    credential_options: frozenset[str] = frozenset()
    credential_note: str = "it has no authentication or request context"

    def check_credentials(self, credentials: "Credentials") -> None:
        """Refuse, with a usage error naming what this stack takes, credentials it cannot send: a
        token silently dropped would only come back as "access denied" on every call."""
        credentials.refuse_unsupported(self.title or self.name, self.credential_options, self.credential_note)

    @abc.abstractmethod
    def classify(self, code: str | int, *, field: str | None = None, **native: Any) -> ErrorKind:
        """The :class:`ErrorKind` of a native error code (with its field and native attributes)."""

    def make_error(self, code: str | int, message: str = "", *, field: str | None = None, **details: Any) -> RpcError:
        """A neutral error from native parts, classified by this stack's rules."""
        kind = self.classify(code, field=field, **details)
        return RpcError(code, message, field=field, kind=kind, details=details)

    def normalize_errors(self, errors: Any) -> list[RpcError]:
        """Turn what a user passes as ``errors=`` into neutral errors, or explain what is wrong.

        Accepted everywhere: a code, an :class:`RpcError`, a mapping with ``code`` (and ``message``,
        ``field``), or a list of those. Adapters add their native error objects.
        """
        if errors is None:
            return []
        if isinstance(errors, (str, int, RpcError, Mapping)) and not isinstance(errors, bool):
            errors = [errors]
        try:
            items = list(errors)
        except TypeError:
            raise StubUsageError(
                f"errors= must be a code, an error object or a list of them, not {type(errors).__name__}: {errors!r}"
            ) from None
        return [self.normalize_error(item) for item in items]

    def normalize_error(self, item: Any) -> RpcError:
        if isinstance(item, RpcError):
            if item.kind is None:
                return self.make_error(item.code, item.message, field=item.field, **item.details)
            return item
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            return self.make_error(item)
        if isinstance(item, Mapping):
            if "code" not in item:
                raise StubUsageError(f"an error mapping needs a 'code' key: {dict(item)!r}")
            data = dict(item)
            code = data.pop("code")
            message = data.pop("message", "") or ""
            field = data.pop("field", None)
            data.pop("kind", None)
            return self.make_error(code, message, field=field, **data)
        native = self.error_from_native(item)
        if native is not None:
            return native
        raise StubUsageError(
            f"cannot use {item!r} ({type(item).__name__}) as a {self.title or self.name} error: give a code "
            f"string, rpctest.RpcError, a dict with 'code', or the stack's own error object"
        )

    def error_from_native(self, item: Any) -> RpcError | None:
        """Convert one of the stack's own error objects (e.g. ``pysoa.common.errors.Error``)."""
        return None

    # stubbing hooks: the neutral stub layer asks the adapter where stacks differ ---------------

    #: stack-specific keyword options ``stub_action`` accepts (besides the neutral ``match``)
    stub_options: frozenset[str] = frozenset()

    def check_body(self, body: Any) -> None:
        """Refuse a stub ``body`` this stack cannot carry (raise StubUsageError)."""

    def match_differences(self, match: Any, body: Any) -> list[str]:
        """How ``body`` fails the stub's ``match=`` pattern, in words (empty when it matches).

        The default is subset equality for mappings (every key of ``match`` present with an equal
        value, nested mappings compared the same way) and a predicate for callables. AsyncAPY
        overrides it with regular expressions, as its own filters do.
        """
        return _subset_differences(match, body, "")

    # fuzz oracle hooks: the stack's native answer to each kind of bad request -------------------

    def expected_for_defect(self, defect: "Defect") -> "Expected":
        """What this stack natively answers to a request with ``defect`` (``docs/architecture.md`` has
        the table for the five stacks).

        The default is a caller error naming the field in dotted form, with any code; stacks
        override it with their native codes and field conventions.
        """
        from rpctest.strategies.defects import Expected, path_text

        return Expected(ErrorKind.CALLER_ERROR, path_text(defect.path) or None)

    def expected_for_defect_in(self, defect: "Defect", operation: "OperationSpec") -> "Expected":
        """:meth:`expected_for_defect` for a defect in a request to ``operation``: for stacks whose
        operations declare their own answers (Kyoukai routes: ``invalid`` statuses; a bad path
        variable is a 404)."""
        return self.expected_for_defect(defect)

    def route_request(self, body: Any, contract: "ProviderContract") -> "Routed | None":
        """Where this stack sends ``body`` when it routes by content rather than by the operation a
        request names (AsyncAPY: its filters; a packet refused by one handler may be another's valid
        input, and handlers of several groups all answer). None, the default: by the operation's name,
        so a request is judged by the operation it was generated for."""
        return None

    def sendable_defect(self, item: Any, operation: "OperationSpec") -> bool:
        """Whether this stack's wire carries the invalid request ``item`` (an InvalidRequest) as
        invalid; HTTP turns an int 5 for a string path value into the text "5", which is valid."""
        return True

    def probe_cases(self, contract: "ProviderContract") -> list["Case"]:
        """Fixed cases the fuzzer sends after the unknown-operation probe (Kyoukai: a wrong method per
        route must be answered 405)."""
        return []

    def contract_operation(self, provider: "ProviderContract", operation: str, request: Any) -> tuple[str, Any] | None:
        """The provider's operation (and the request as it receives it) that a consumer's ``operation``
        names; None when it names none. Stacks whose stubs may name an operation otherwise override it
        (Kyoukai: ``"GET /items/5"`` is the route ``"GET /items/<int:item_id>"``)."""
        return (operation, request) if operation in provider.operations else None

    def to_openapi(self, contract: "ProviderContract") -> dict[str, Any]:
        """The contract as an OpenAPI 3.1 document, for stacks that speak HTTP."""
        from rpctest.exceptions import ConfigError

        raise ConfigError(f"--format openapi is for HTTP stacks (kyoukai); {self.name} has no OpenAPI form")

    def framing_fuzz(
        self,
        address: str,
        *,
        service: str,
        operation: "OperationSpec",
        args: Any,
        timeout: float,
        strict: bool = False,
        hosted: Any = None,
        budget: float | None = None,
    ) -> "FramingReport":
        """Attack the framing of the endpoint at ``address`` (malformed frames, wrong counts, bad
        encodings), ``operation`` with valid ``args`` serving as the liveness probe; see
        :mod:`rpctest.fuzz.framing`. ``hosted`` is what :meth:`framing_host` started (None for a
        running endpoint); ``budget`` bounds the run in seconds. Stacks without framing cases say so."""
        from rpctest.exceptions import ConfigError

        raise ConfigError(f"rpctest has no framing fuzz for {self.title or self.name} yet")

    def garbage_target(self, address: str, probe: Call, *, timeout: float = 5.0, **options: Any) -> "GarbageTarget":
        """The endpoint at ``address`` as a target for random malformed frames
        (:mod:`rpctest.fuzz.garbage`): this stack's transport unit around ``probe`` (a valid call the
        endpoint answers, which is also the liveness check, each within ``timeout``) and a raw
        sender of units. Each stack builds it in its ``framing`` module."""
        from rpctest.exceptions import ConfigError

        raise ConfigError(f"rpctest has no garbage frames for {self.title or self.name} yet")

    def recorded_differences(self, recorded: Any, body: Any) -> list[str]:
        """How a request ``body`` differs from a ``recorded`` one, in words (empty when it is the same).

        ``rpctest serve`` answers a recorded reply only to the very request recorded: the real
        server may well answer ``add {"a": 1, "b": 1}`` otherwise than ``add {"a": 1}``. Equal means
        the same keys with equal values, all the way down, with JSON's one number type (``1`` is
        ``1.0``) but a bool never a number; an empty request is ``{}`` or none at all. Stacks whose
        wire changes a request override it (Kyoukai: path and query values arrive as text).
        """
        if _empty_request(recorded) and _empty_request(body):
            return []
        return _exact_differences(recorded, body, "")

    #: how a Pact V4 file holds this stack's interactions: ``Synchronous/Messages`` (the verifier
    #: reaches the provider through ``rpctest pact-relay``), or ``Synchronous/HTTP`` for a stack whose
    #: provider speaks HTTP itself (the verifier calls it directly; the relay serves provider states)
    pact_interaction_type: str = "Synchronous/Messages"

    #: stub options that describe the reply rather than which requests the stub takes: they travel
    #: in the reply's ``meta`` (so a stub server answers with them and a recording keeps them)
    reply_options: frozenset[str] = frozenset()

    def recorded_meta(self, reply: Reply) -> dict[str, Any]:
        """What of ``reply.meta`` a consumer contract keeps: the reply options it carries (see
        :attr:`reply_options`); stacks leave out what says nothing beyond the rest of the reply."""
        meta = reply.meta or {}
        return {name: meta[name] for name in sorted(self.reply_options) if name in meta}

    def errors_in_meta(self, meta: Mapping[str, Any]) -> list[tuple[str, RpcError]]:
        """The errors a recorded success's reply options amount to, each with the option that says it
        (Kyoukai: ``status=422`` on a body is the route's 422, which schema verification checks as
        that error, not as a body of the success schema); none by default."""
        return []

    def reply_as_recorded(self, reply: Reply, meta: Mapping[str, Any]) -> Reply:
        """The provider's ``reply`` in the terms of a recording whose reply options are ``meta``
        (Kyoukai: a recorded success with status 422 is what an app answering 422 says as an error)."""
        return reply

    def meta_differences(self, recorded: Mapping[str, Any], reply: Reply, *, exact: bool = False) -> list[tuple[str, str, str]]:
        """(option, expected, actual) for each recorded reply option ``reply`` does not carry alike."""
        meta = reply.meta or {}
        return [
            (name, _shown(value), _shown(meta.get(name)) if name in meta else "missing")
            for name, value in recorded.items()
            if meta.get(name) != value
        ]

    #: whether the stack's calls are HTTP requests (Kyoukai): a Pact export writes them as
    #: ``Synchronous/HTTP`` interactions, which Pact's verifier sends to the app itself, and the
    #: other stacks' as ``Synchronous/Messages`` (``rpctest.contracts.pact``)
    http: bool = False

    def http_request(self, operation: str, request: Any) -> dict[str, Any]:
        """The HTTP request a call is, for a stack whose calls are (:attr:`http`): ``{"method",
        "path", "query": {name: [values]}}`` and ``"body"`` when it has one."""
        raise NotImplementedError(f"{self.name} calls are not HTTP requests")

    def request_from_http(self, operation: str, http: Mapping[str, Any]) -> Any:
        """The recorded request of ``operation`` for an HTTP request given as :meth:`http_request` says it."""
        raise NotImplementedError(f"{self.name} calls are not HTTP requests")

    def http_response(self, reply: Reply) -> dict[str, Any]:
        """The HTTP response a stub answers ``reply`` with: ``{"status", "headers": {name: value}}``
        (the reply options' headers) and ``"body"`` for a success with one."""
        raise NotImplementedError(f"{self.name} replies are not HTTP responses")

    def reply_from_http(self, status: int, headers: Mapping[str, Any], body: Any) -> Reply:
        """The neutral reply an HTTP response says (an error status is that error)."""
        raise NotImplementedError(f"{self.name} replies are not HTTP responses")

    def framing_host(self, provider: Any) -> Any:
        """Start ``provider`` (the CLI's ``MODULE:OBJECT``) for a framing run: an object with an
        ``address`` that stops on ``__exit__``. In-process by default; a stack whose server can spin
        or hang on malformed frames hosts it in a child process it can measure and kill."""
        return self.host.serve(provider)

    def strategy_options(self) -> dict[str, Any]:
        """Keyword options for :func:`rpctest.strategies.from_schema` so that generated values are
        what this stack's own client can send (PySOA: aware datetimes in ``pytz.UTC``)."""
        return {}

    def expected_for_unknown_operation(self, operation: str) -> "Expected":
        """What this stack answers to an operation the service does not have."""
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.NOT_FOUND, None, check_field=False)

    def reply_from_native(self, value: Any) -> Reply | None:
        """A neutral reply for a native reply object a side effect returned (None if not one)."""
        return None

    def reply_from_exception(self, exc: BaseException) -> Reply | None:
        """A neutral reply for a native error a side effect raised (None: let it propagate)."""
        return None


def _shown(value: Any, limit: int = 120) -> str:
    text = str(value) if isinstance(value, (int, float, str)) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _empty_request(value: Any) -> bool:
    return value is None or (isinstance(value, Mapping) and not value)


def _same_scalar(recorded: Any, body: Any) -> bool:
    if isinstance(recorded, bool) or isinstance(body, bool):
        return type(recorded) is type(body) and recorded == body
    if isinstance(recorded, (int, float)) and isinstance(body, (int, float)):
        return recorded == body
    return type(recorded) is type(body) and recorded == body


def _exact_differences(recorded: Any, body: Any, path: str) -> list[str]:
    """How ``body`` differs from ``recorded`` (iterative: a recorded request may nest deeply)."""
    diffs: list[str] = []
    pending = [(recorded, body, path)]
    while pending:
        expected, actual, where = pending.pop()
        shown = where or "body"
        if isinstance(expected, Mapping) and isinstance(actual, Mapping):
            inside = []
            for key in expected:
                inner = f"{where}.{key}" if where else str(key)
                if key not in actual:
                    diffs.append(f"body has no {inner!r} (the recorded request has {inner}={expected[key]!r})")
                else:
                    inside.append((expected[key], actual[key], inner))
            pending.extend(reversed(inside))
            diffs.extend(
                f"body has {(f'{where}.{key}' if where else str(key))!r}={actual[key]!r}, which is not in the recorded request"
                for key in actual if key not in expected
            )
        elif isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
            if len(expected) != len(actual):
                diffs.append(f"{shown} has {len(actual)} item(s), the recorded request {len(expected)}: {_shown(actual)} vs {_shown(expected)}")
            else:
                pending.extend(reversed([(e, a, f"{where}.{i}" if where else str(i)) for i, (e, a) in enumerate(zip(expected, actual))]))
        elif isinstance(expected, (Mapping, list, tuple)) or isinstance(actual, (Mapping, list, tuple)) or not _same_scalar(expected, actual):
            diffs.append(f"{shown} is {actual!r}, the recorded request has {expected!r}")
    return diffs


def _subset_differences(match: Any, body: Any, path: str) -> list[str]:
    if callable(match) and not isinstance(match, Mapping):
        try:
            ok = bool(match(body))
        except Exception as exc:  # a predicate that crashes is a mismatch, explained
            return [f"match predicate raised {exc!r}"]
        return [] if ok else [f"match predicate {getattr(match, '__name__', match)!r} returned false"]
    if isinstance(match, Mapping):
        if not isinstance(body, Mapping):
            return [f"body{path} is {type(body).__name__}, stub matches a mapping"]
        diffs: list[str] = []
        for key, expected in match.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in body:
                diffs.append(f"body has no {where!r} (stub matches {where}={expected!r})")
            else:
                diffs.extend(_subset_differences(expected, body[key], where))
        return diffs
    if match != body:
        return [f"{path or 'body'} is {body!r}, stub matches {match!r}"]
    return []
