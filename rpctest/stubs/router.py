"""The stub router: every active stub of every stack, matched against calls in one place.

Like respx's router, there is one registry and each stack installs a single interception point into
its client library (or a stub server asks the router), instead of each stub wrapping the previous
one. That makes "which stub came nearest" answerable, keeps strictness checks in one place and lets
contract recording observe every stubbed interaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import inspect
import itertools
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable, Iterator, Mapping, TypeVar

from rpctest.exceptions import StubUsageError, UnmatchedCall
from rpctest.matchers import blank_where_ruled, rule_differences, with_examples_where_ruled
from rpctest.model import Call, Interaction, ProviderState, Reply, RpcError
from rpctest.stubs.copying import copy_body, template
from rpctest.stubs.session import SESSION

from rpctest.stubs.handle import UNSET as _UNSET

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stacks.base import StackAdapter
    from rpctest.stubs.handle import StubHandle

__all__ = ["Stub", "StubScope", "StubRouter", "router", "describe_call", "ANY_ATTACHMENT"]

_MISSING = object()
_T = TypeVar("_T")
#: ``rpctest.config``, imported on first use (:meth:`StubRouter.memo` runs on every call; the module,
#: not its ``current``, so that a test patching ``config.current`` is obeyed)
_config: Any = None


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_call(call: Call) -> str:
    return f"{call.stack} call {call.service}.{call.operation}({_short(call.body)})"


#: a stub's ``match_attachment`` default: it answers whatever attachment the request carries, or none
ANY_ATTACHMENT: Any = type("AnyAttachment", (), {"__repr__": lambda self: "ANY_ATTACHMENT"})()


def _describe_attachment(attachment: Any) -> str:
    return "no attachment" if attachment is None else f"an attachment of {len(attachment)} byte(s)"


@dataclass(eq=False)
class Stub:
    """One active stub: where it applies (stack, service, action, optional ``match``) and what it answers."""

    adapter: "StackAdapter"
    service: str
    action: str
    handle: "StubHandle"
    body: Any = None
    errors: list[RpcError] = field(default_factory=list)
    side_effect: Any = None
    match: Any = None
    #: the request attachment this stub answers (:data:`ANY_ATTACHMENT`: whatever comes; None: none):
    #: a served contract tells apart requests that differ only in it
    match_attachment: Any = ANY_ATTACHMENT
    options: dict[str, Any] = field(default_factory=dict)
    #: the consumer's rules (:mod:`rpctest.matchers`) by side, ``{"request": {...}, "response":
    #: {...}}``: request rules widen what ``match`` takes, response rules are recorded with the reply
    matchers: dict[str, Any] = field(default_factory=dict)
    #: ``match`` is a recorded request that the call's body must equal (``rpctest serve``), not a
    #: pattern it must contain (what ``match=`` means in a test's stubs)
    exact: bool = False
    #: strict mode fails a test whose required stub went uncalled; a class decorator's stubs are not
    #: required (they stand for every test of the class, and not every test calls them)
    required: bool = True
    #: the provider states the stub assumes (``stub_action(..., state=)``): recorded with its calls
    states: tuple[ProviderState, ...] = ()
    _effects: Iterator[Any] | None = None
    _effects_given: int = 0

    def __post_init__(self) -> None:
        effect = self.side_effect
        if effect is not None and _is_sequence_effect(effect):
            items = list(effect) if not hasattr(effect, "__next__") else None
            self._effects_given = len(items) if items is not None else -1
            self._effects = iter(items) if items is not None else effect
        # The fast path's prebuilt parts (:meth:`respond`): a stub answering its own body answers the
        # same thing every call, so what can be worked out once is.
        self._plain = effect is None and self.options.get("items") is None
        self._make_body = template(self.body)
        self._attachment = self.options.get("attachment")  # a binary side payload (ZeroJSON)
        self._reply_meta = {name: self.options[name] for name in self.adapter.reply_options if name in self.options}
        self._encoded: dict[Hashable, Any] = {}  # respond_encoded's values, by key

    @property
    def stack(self) -> str:
        return self.adapter.name

    def __repr__(self) -> str:
        if self.exact:
            extra = f", recorded request {self.match!r}"
        else:
            extra = f", match={self.match!r}" if self.match is not None else ""
        return f"stub_action({self.service!r}, {self.action!r}, stack={self.stack!r}{extra})"

    # matching -----------------------------------------------------------------------------------

    def differences(self, call: Call) -> list[str]:
        """Why ``call`` is not for this stub, in words (empty when it matches)."""
        diffs = []
        if call.stack != self.stack:
            diffs.append(f"stack differs: called {call.stack!r}, stubbed {self.stack!r}")
        if call.service != self.service:
            diffs.append(f"service differs: called {call.service!r}, stubbed {self.service!r}")
        if call.operation != self.action:
            diffs.append(f"action differs: called {call.operation!r}, stubbed {self.action!r}")
        if not diffs:
            diffs.extend(self.request_differences(call.body))
        if not diffs and not self._attachment_matches(call):
            diffs.append(f"attachment differs: called {_describe_attachment(call.attachment)}, "
                         f"stubbed {_describe_attachment(self.match_attachment)}")
        return diffs

    def request_differences(self, body: Any, match: Any = _MISSING) -> list[str]:
        """How a request ``body`` fails this stub (empty when it is taken): a recorded request must be
        equal (:meth:`~rpctest.stacks.base.StackAdapter.recorded_differences`), a ``match=`` pattern
        contained (:meth:`~rpctest.stacks.base.StackAdapter.match_differences`). ``match`` replaces
        the stub's own pattern where the stack has another source for it (AsyncAPY's configured fields)."""
        rules = self.matchers.get("request") if self.matchers else None
        if self.exact:
            if rules:  # the ruled parts judged by their rules, the rest compared as before
                return _ruled(rules, self.match, body) + self.adapter.recorded_differences(
                    self.match, with_examples_where_ruled(rules, self.match, body))
            return self.adapter.recorded_differences(self.match, body)
        pattern = self.match if match is _MISSING else match
        if pattern is None:
            return []
        if rules and pattern is self.match:  # the stub's own pattern, whose rules these are
            if "" in rules:  # the whole pattern is a rule (match=like({...}))
                return _ruled(rules, pattern, body)
            return _ruled(rules, pattern, body) + self.adapter.match_differences(
                blank_where_ruled(rules, pattern, pattern), blank_where_ruled(rules, pattern, body))
        return self.adapter.match_differences(pattern, body)

    def recorded_matchers(self) -> dict[str, Any]:
        """The rules a recording keeps with this stub's interaction: the request's always, the
        response's only when the stub answered with its own body (a side effect or a value the test
        set on the handle answers something the rules were not written for)."""
        if not self.matchers:
            return {}
        if self.side_effect is not None or self.handle._rpctest_user_configured():
            return {side: rules for side, rules in self.matchers.items() if side == "request"}
        return self.matchers

    def matches(self, call: Call) -> bool:
        # every call of every stack asks every stub this: the cheapest tests first, and a stub with
        # no request pattern (most) skips the pattern's machinery
        return (
            call.operation == self.action
            and call.service == self.service
            and call.stack == self.adapter.name
            and ((self.match is None and not self.exact) or not self.request_differences(call.body))
            and (self.match_attachment is ANY_ATTACHMENT or call.attachment == self.match_attachment)
        )

    def _attachment_matches(self, call: Call) -> bool:
        return self.match_attachment is ANY_ATTACHMENT or call.attachment == self.match_attachment

    # answering ----------------------------------------------------------------------------------

    def respond(self, call: Call) -> Reply:
        """Record the call on the handle and work out the reply; may raise what a side effect raises.

        The stub's options that describe the reply itself (the adapter's ``reply_options``: Kyoukai's
        ``status=`` and ``headers=``) go into the reply's ``meta``, so that whoever answers from the
        reply (a stub server) and whoever records it (contract recording) sees them.
        """
        if self.answers_constant():
            return self._own_reply(call)
        reply = self._reply(call)
        given = self._reply_meta
        if given:
            reply = dataclasses.replace(reply, meta={**(reply.meta or {}), **given})
        return reply

    def respond_encoded(self, call: Call, key: Hashable, encode: Callable[[Reply], tuple[_T, bool]]) -> _T:
        """What ``encode`` makes of :meth:`respond`'s reply, worked out once while the stub answers
        its own reply (no side effect, nothing set on the handle): every such reply is the same, so
        a stub server encodes it for the first call and sends those bytes again, the call recorded
        as :meth:`respond` records it. ``encode`` returns (value, keep): keep False (it reported
        something about this reply, which must be reported again next time) keeps nothing. ``key``
        tells encoders apart (a stack's name); the kept value is shared by calls, not to be mutated.
        """
        if not self.answers_constant():
            return encode(self.respond(call))[0]
        kept = self._encoded.get(key, _MISSING)
        if kept is not _MISSING:
            self.handle._rpctest_record(call)
            return kept  # type: ignore[no-any-return]
        value, keep = encode(self._own_reply(call))
        if keep:
            self._encoded[key] = value
        return value

    def answers_constant(self) -> bool:
        """Whether :meth:`respond` answers every call with the same reply (its own body, errors,
        attachment and options: no side effect, nothing the test set on the handle), so that what a
        server makes of that reply (its bytes) can be made once (:meth:`respond_encoded`)."""
        handle = self.handle
        return self._plain and handle._mock_side_effect is None and handle._mock_return_value is _UNSET

    def _own_reply(self, call: Call) -> Reply:
        # the fast path every in-process stub and stub server shares: record, then answer a
        # fresh copy of the prebuilt body (a consumer mutating it changes no later reply)
        self.handle._rpctest_record(call)
        return Reply(body=self._make_body(), errors=list(self.errors), attachment=self._attachment,
                     meta=dict(self._reply_meta))

    def _reply(self, call: Call) -> Reply:
        handle = self.handle
        user_configured = handle._rpctest_user_configured()
        try:
            value = handle._rpctest_record(call)
        except BaseException as exc:  # a side_effect the test set on the handle itself
            return self._from_exception(exc)
        if user_configured:
            return self._from_value(value, call)
        if self._effects is not None:
            try:
                effect = next(self._effects)
            except StopIteration:
                raise StubUsageError(
                    f"{self!r}: side_effect ran out after {handle.call_count - 1} call(s); "
                    f"give one item per expected call"
                ) from None
            return self._apply(effect, call)
        if self.side_effect is not None:
            return self._apply(self.side_effect, call)
        items = self.options.get("items")
        attachment = self.options.get("attachment")  # a binary side payload (ZeroJSON)
        if items is not None:  # a subscription stub (``items=``): the stream, and its list as the body
            items = [copy_body(item) for item in items]
            return Reply(body=list(items), errors=list(self.errors), items=items, attachment=attachment)
        return Reply(body=self._make_body(), errors=list(self.errors), attachment=attachment)

    def _apply(self, effect: Any, call: Call) -> Reply:
        if isinstance(effect, BaseException) or (isinstance(effect, type) and issubclass(effect, BaseException)):
            exc = effect() if isinstance(effect, type) else effect
            return self._from_exception(exc)
        if callable(effect) and not isinstance(effect, (Mapping, RpcError)):
            try:
                value = effect(copy_body(call.body), **_context_arguments(effect, call))
            except BaseException as exc:
                return self._from_exception(exc)
            return self._from_value(value, call)
        return self._from_value(effect, call)

    def _from_value(self, value: Any, call: Call) -> Reply:
        if isinstance(value, Reply):
            return value
        if isinstance(value, RpcError):
            return Reply(errors=[self.adapter.normalize_error(value)])
        native = self.adapter.reply_from_native(value)
        if native is not None:
            return native
        return Reply(body=copy_body(value))

    def _from_exception(self, exc: BaseException) -> Reply:
        if isinstance(exc, RpcError):
            return Reply(errors=[self.adapter.normalize_error(exc)])
        reply = self.adapter.reply_from_exception(exc)
        if reply is None:
            raise exc
        return reply


def _ruled(rules: Any, example: Any, body: Any) -> list[str]:
    return [f"{pointer or '/'} must be {rule}: {problem}" for pointer, rule, problem in rule_differences(rules, example, body)]


def _context_arguments(effect: Callable[..., Any], call: Call) -> dict[str, Any]:
    """What a side effect asks for beyond the body, by parameter name: ``call`` (the neutral call,
    with its ``meta``) and ``session`` (the connection's :class:`~rpctest.stubs.session.StubSession`,
    on stacks that keep one per connection, else None)."""
    names = _context_parameters_of(effect)
    if not names:
        return {}
    context = {"call": call, "session": call.meta.get(SESSION)}
    return {name: context[name] for name in names}


def _context_parameters_of(effect: Callable[..., Any]) -> tuple[str, ...]:
    try:
        parameters = inspect.signature(effect).parameters
    except (TypeError, ValueError):  # a builtin without a signature: the body alone
        return ()
    usable = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    body = next(iter(parameters), None)  # the first parameter takes the body, whatever its name
    return tuple(name for name in ("call", "session") if name != body and name in parameters and parameters[name].kind in usable)


def _no_interceptor() -> None:
    """The undo function of a router that installed no interceptor."""


def _is_sequence_effect(effect: Any) -> bool:
    if isinstance(effect, (str, bytes, Mapping, BaseException, type, RpcError, Reply)) or callable(effect):
        return False
    return hasattr(effect, "__iter__")


@dataclass
class StubScope:
    """What happened to stubs between open and close (one per test under the pytest plugin)."""

    stubs: list[Stub] = field(default_factory=list)
    unmatched: list[tuple[Call, str]] = field(default_factory=list)

    def never_called(self) -> list[Stub]:
        return [stub for stub in self.stubs if stub.required and stub.handle.call_count == 0]


class StubRouter:
    """The process-wide registry of active stubs (thread-safe; each xdist worker has its own).

    ``intercept=False`` makes a router that never patches a stack's in-process client library: a
    router that backs a stub server must leave the real client in the same process untouched, so
    that the client really goes over the wire to that server.
    """

    def __init__(self, *, intercept: bool = True) -> None:
        self.intercept = intercept
        self._lock = threading.RLock()
        self._stubs: list[Stub] = []
        # newest first, replaced (never mutated) under the lock, so matching reads it without locking
        self._lookup: tuple[Stub, ...] = ()
        self._interceptors: dict[str, tuple[Callable[[], None], int]] = {}
        self._scopes: list[StubScope] = []
        self._listeners: list[Callable[[Interaction], None]] = []
        self._ids = itertools.count(1)
        self._memo: tuple[tuple[object, object], dict[Hashable, Any]] | None = None

    # registration -------------------------------------------------------------------------------

    def add(self, stub: Stub) -> None:
        self.add_many([stub])

    def add_many(self, stubs: Iterable[Stub]) -> None:
        """Add ``stubs`` in order, as many :meth:`add` calls would, with the lookup rebuilt once: a
        served contract brings thousands, and a rebuild per stub made adding them quadratic."""
        with self._lock:
            try:
                for stub in stubs:
                    undo, count = self._interceptors.get(stub.stack, (None, 0))
                    if count == 0:
                        undo = stub.adapter.host.install_stub_interceptor(self) if self.intercept else _no_interceptor
                    self._interceptors[stub.stack] = (undo, count + 1)  # type: ignore[assignment]
                    self._stubs.append(stub)
                    for scope in self._scopes:
                        scope.stubs.append(stub)
            finally:  # the stubs added before an interceptor failed are active, and matched
                self._lookup = tuple(reversed(self._stubs))

    def remove(self, stub: Stub) -> None:
        with self._lock:
            if stub not in self._stubs:
                return
            self._stubs.remove(stub)
            self._lookup = tuple(reversed(self._stubs))
            undo, count = self._interceptors[stub.stack]
            if count == 1:
                del self._interceptors[stub.stack]
                undo()
            else:
                self._interceptors[stub.stack] = (undo, count - 1)

    def memo(self, key: Hashable, compute: Callable[[], _T], *, uses_config: bool = True) -> _T:
        """``compute()``, worked out once per ``key`` for as long as the active stubs and the
        configuration stay the same: what an interceptor would otherwise work out on every call
        from both (which service a pykern client's URI or an httpx request's base URL is for).
        ``uses_config=False``: ``compute`` reads the active stubs alone, so the configuration is not
        looked up (outside pytest that asks the working directory, a system call, on every call)."""
        memo = self._memo
        lookup = self._lookup
        if uses_config or memo is None:
            global _config
            config = _config
            if config is None:
                from rpctest import config

                _config = config
            state = (lookup, config.current())
        else:
            state = (lookup, memo[0][1])  # entries that use it are checked against it when asked
        if memo is None or memo[0][0] is not lookup or memo[0][1] is not state[1]:
            memo = self._memo = (state, {})
        table = memo[1]
        try:
            return table[key]  # type: ignore[no-any-return]
        except KeyError:
            value = table[key] = compute()
            return value

    def active(self, stack: str | None = None) -> list[Stub]:
        with self._lock:
            return [s for s in self._stubs if stack is None or s.stack == stack]

    def stubs_service(self, stack: str, service: str) -> bool:
        return any(s.service == service for s in self.active(stack))

    # matching -----------------------------------------------------------------------------------

    def match(self, call: Call) -> Stub | None:
        """The newest active stub that matches ``call`` (newer stubs shadow older ones)."""
        for stub in self._lookup:
            if stub.matches(call):
                return stub
        return None

    def respond(self, stub: Stub, call: Call) -> Reply:
        reply = stub.respond(call)
        if self._listeners:
            self.emit(Interaction(call=call, reply=reply, source="stub", states=stub.states,
                                  matchers=stub.recorded_matchers()))
        return reply

    def respond_encoded(self, stub: Stub, call: Call, key: Hashable, encode: Callable[[Reply], tuple[_T, bool]]) -> _T:
        """:meth:`Stub.respond_encoded` (a stub server's reply, encoded once while it stays the same),
        except while someone observes the interactions: a recorder needs each reply itself."""
        if self._listeners:
            return encode(self.respond(stub, call))[0]
        return stub.respond_encoded(call, key, encode)

    def unmatched(self, call: Call, *, reason: str = "") -> UnmatchedCall:
        """Build (and remember, for strict mode) the error for a call no stub matched."""
        message = self.explain_unmatched(call, reason=reason)
        with self._lock:
            for scope in self._scopes:
                scope.unmatched.append((call, message))
        return UnmatchedCall(message)

    def explain_unmatched(self, call: Call, *, reason: str = "") -> str:
        lines = [f"No stub matches {describe_call(call)}" + (f" ({reason})" if reason else "") + "."]
        candidates = self.active(call.stack) or self.active()
        nearest = self.nearest(call, candidates)
        if nearest is not None:
            lines.append(f"Nearest stub: {nearest!r}: " + "; ".join(nearest.differences(call)) + ".")
        if candidates:
            names = sorted({f"{s.service}.{s.action}" for s in candidates})
            lines.append("Active stubs: " + ", ".join(names) + ".")
        else:
            lines.append("No stubs are active.")
        return "\n".join(lines)

    @staticmethod
    def nearest(call: Call, candidates: list[Stub]) -> Stub | None:
        """The stub ``call`` came nearest to: same stack, service and operation count most; among
        stubs of the call's very operation (a served contract has many), the one whose request
        differs in the fewest ways."""
        same = [s for s in reversed(candidates) if (s.stack, s.service, s.action) == (call.stack, call.service, call.operation)]
        if same:
            return min(same, key=lambda stub: len(stub.request_differences(call.body)))

        def score(stub: Stub) -> float:
            value = 0.0
            value += 4 if stub.stack == call.stack else 0
            value += 2 if stub.service == call.service else difflib.SequenceMatcher(None, stub.service, call.service).ratio()
            value += 2 if stub.action == call.operation else difflib.SequenceMatcher(None, stub.action, call.operation).ratio()
            return value

        return max(reversed(candidates), key=score, default=None)

    # observation --------------------------------------------------------------------------------

    def add_listener(self, listener: Callable[[Interaction], None]) -> Callable[[], None]:
        """Observe every stubbed interaction (contract recording); returns the function that stops it."""
        with self._lock:
            self._listeners.append(listener)
        return lambda: self._remove_listener(listener)

    def _remove_listener(self, listener: Callable[[Interaction], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def emit(self, interaction: Interaction) -> None:
        for listener in list(self._listeners):
            listener(interaction)

    @contextlib.contextmanager
    def scope(self) -> Iterator[StubScope]:
        scope = StubScope()
        with self._lock:
            self._scopes.append(scope)
        try:
            yield scope
        finally:
            with self._lock:
                self._scopes.remove(scope)

    def next_id(self) -> int:
        return next(self._ids)


#: the one router of this process
router = StubRouter()
