"""``stub_action``: one signature for all five stacks, as decorator, context manager or start/stop."""

from __future__ import annotations

import contextlib
import copy
from typing import Any, Callable, Iterator, Mapping, TypeVar
from unittest import mock

from rpctest.exceptions import StubUsageError
from rpctest.matchers import Matcher, Rules, split
from rpctest.model import RpcError
from rpctest.stubs import patching
from rpctest.stubs.handle import StubHandle
from rpctest.stubs.router import Stub, StubRouter, router as default_router
from rpctest.stubs.states import make_state

__all__ = ["stub_action", "resolve_stack"]

_T = TypeVar("_T")


def resolve_stack(service: str, stack: str | None) -> str:
    """The argument wins, then ``[tool.rpctest.services]``, then PySOA where it is installed.

    PySOA is the default because ``pysoa.test``'s ``stub_action(service, action)`` names no stack and
    its users keep their tests unchanged. Where PySOA is not installed, guessing would point the stub
    at a stack the code under test does not speak, so the caller is told how to name one.
    """
    __tracebackhide__ = True  # pytest shows the user's line and this message, not rpctest's frames
    if stack is not None:
        return stack
    from rpctest import config

    current = config.current()
    configured = current.stack_for(service)
    if configured:
        return configured
    if _installed("pysoa"):
        return "pysoa"
    raise StubUsageError(_no_stack_message(service, current))


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _no_stack_message(service: str, current: Any) -> str:
    from rpctest.stacks import STACKS

    here = [name for name, (_, _, library) in STACKS.items() if _installed(library)]
    where = current.source.name if current.source is not None else "pyproject.toml"
    # rpctest.toml holds rpctest's tables at its top level; pyproject.toml under [tool.rpctest]
    table = f"{'services' if where == 'rpctest.toml' else 'tool.rpctest.services'}.{_toml_key(service)}"
    configured = ", ".join(f"{name} ({entry.stack})" for name, entry in sorted(current.services.items()))
    example = here[0] if here else "STACK"
    return (
        f"which stack does service {service!r} speak? stub_action got no stack= and {where} names no "
        f"[{table}]; configured services: {configured or 'none'}. PySOA, the default for "
        f"unconfigured services, is not installed here. Pass stack= (one of {', '.join(STACKS)}; installed here: "
        f"{', '.join(here) or 'none'}), e.g. stub_action({service!r}, ..., stack={example!r}), or name it once in "
        f"{where}:\n    [{table}]\n    stack = \"{example}\""
    )


def _toml_key(name: str) -> str:
    return name if all(c.isalnum() or c in "-_" for c in name) else '"' + name.replace('"', '\\"') + '"'


def split_errors(errors: Any) -> tuple[Any, Rules]:
    """``errors=`` with the matchers in its fields replaced by their examples, and their rules
    (``/errors/0/message``): an error is a mapping or an :class:`RpcError` whose message or field
    may be a matcher."""
    if errors is None or isinstance(errors, (str, int, bytes)):
        return errors, {}
    single = isinstance(errors, (Mapping, RpcError))
    items = [errors] if single else errors
    if not isinstance(items, (list, tuple)):
        return errors, {}
    rules: Rules = {}
    plain = []
    for index, error in enumerate(items):
        where = f"/errors/{index}"
        if isinstance(error, Mapping):
            error, found = split(dict(error), where)
            rules.update(found)
        elif isinstance(error, RpcError) and any(isinstance(v, Matcher) for v in (error.message, error.field)):
            message, found = split(error.message, where + "/message")
            field, found_field = split(error.field, where + "/field")
            rules.update(found)
            rules.update(found_field)
            error = RpcError(error.code, message, field=field, kind=error.kind, details=error.details)
        plain.append(error)
    return (plain[0] if single else plain), rules


class stub_action:
    """Stub one operation of one service, for code that calls it through any of the five stacks.

    ``body`` is the reply payload, ``errors`` are codes or error objects, ``side_effect`` is a body,
    an exception, a callable taking the request body, or a sequence of those (one per call).
    ``body``, ``errors`` and ``side_effect`` may be given positionally, in pysoa.test's order, so
    its stubs migrate unchanged. ``state`` (with ``state_params``) names the provider state the reply
    assumes ("user 1 exists"): it is recorded with each call, so that live verification can ask the
    provider's state handler to set it up. Stack-specific extras are keyword ``options`` (``match=`` narrows the
    stub to request bodies that contain the given items). As a decorator, the handle is passed as an extra positional
    argument, so it fills the function's first parameter (after ``self``); with several decorators
    the bottom one's handle comes first, exactly as with ``mock.patch``.
    """

    def __init__(
        self,
        service: str,
        action: str,
        body: Any = None,
        errors: Any = None,
        side_effect: Any = None,
        *,
        stack: str | None = None,
        router: StubRouter | None = None,
        state: str | None = None,
        state_params: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        __tracebackhide__ = True  # a usage error points at the user's stub_action line
        from rpctest.stacks import get_adapter

        for name, value in (("service", service), ("action", action)):
            if not isinstance(value, str) or not value:
                raise StubUsageError(f"stub_action {name} must be a non-empty str, not {value!r}")
        if stack is not None and not isinstance(stack, str):
            raise StubUsageError(f"stub_action stack must be a str, not {stack!r}")
        self.service = service
        self.action = action
        self.adapter = get_adapter(resolve_stack(service, stack))
        # matchers (rpctest.matchers) anywhere in a body, an error or a pattern: the stub answers
        # and compares examples; the rules go with the stub to whoever records or matches by them
        body, response_rules = split(body, "/body")
        errors, error_rules = split_errors(errors)
        self.adapter.check_body(body)
        self.body = body
        self.errors = self.adapter.normalize_errors(errors)
        if isinstance(side_effect, (str, bytes)):
            raise StubUsageError(
                f"side_effect must be a body, an exception, a callable or a sequence of them, not {side_effect!r}"
            )
        self.side_effect = side_effect
        if state is None and state_params is not None:
            raise StubUsageError("stub_action got state_params= without state=: name the provider state they are for")
        #: the provider state the stubbed reply assumes, recorded with every call the stub answers
        self.states = (make_state(state, state_params, where="stub_action state"),) if state is not None else ()
        self.match, request_rules = split(options.pop("match", None))
        if "items" in options:
            options["items"], item_rules = split(options["items"], "/items")
            response_rules = {**response_rules, **item_rules}
        self.matchers = {
            side: rules
            for side, rules in (("request", request_rules), ("response", {**response_rules, **error_rules}))
            if rules
        }
        unknown = set(options) - self.adapter.stub_options
        if unknown:
            allowed = ", ".join(sorted({"match", *self.adapter.stub_options}))
            raise StubUsageError(
                f"stub_action got unknown option(s) {', '.join(sorted(unknown))} for stack {self.adapter.name!r}; "
                f"allowed: {allowed}"
            )
        self.options = options
        self.router = router or default_router
        self._stub: Stub | None = None
        self._depth = 0
        #: set by copy() for the stubs a class decorator gives its test methods (see start())
        self._from_class = False
        # mock.patch's decorator protocol (rpctest.stubs.patching): a positional extra argument, not a
        # keyword one; ``new`` becomes another mock module's sentinel when the stub joins its wrapper
        self.attribute_name: str | None = None
        self.new: Any = mock.DEFAULT

    def __repr__(self) -> str:
        return f"stub_action({self.service!r}, {self.action!r}, stack={self.adapter.name!r})"

    @property
    def enabled(self) -> bool:
        """Whether the stub is active (entered and not yet left as often as entered)."""
        return self._stub is not None

    #: mock's name for the same thing
    is_local = enabled

    def copy(self) -> "stub_action":
        """A stub of the same action with the same answers, not entered: what a class decorator gives
        each test method, so that each test gets its own handle."""
        twin = copy.copy(self)
        twin._stub, twin._depth, twin.new = None, 0, mock.DEFAULT
        return twin

    # context manager ----------------------------------------------------------------------------

    def start(self) -> StubHandle:
        """Activate the stub and return its handle; a stub already active returns the same handle and
        stays active until it is stopped as often as it was started (as a nested ``with`` of one
        stub object, or a decorated test that enters its own stub again, expect)."""
        __tracebackhide__ = True  # a stub refused here fails at the test's line, not in rpctest's frames
        if self._stub is not None:
            self._depth += 1
            return self._stub.handle
        # Checked when the stub starts, not when a decorator is applied: the test that declares a
        # drifted stub fails, not the collection of its whole module, and contracts a fixture
        # registers for the test apply too.
        from rpctest.contracts.drift import check_stub

        check_stub(self.adapter.name, self.service, self.action, self.body, self.errors, self.side_effect)
        handle = StubHandle(name=f"{self.service}.{self.action}")
        stub = Stub(
            adapter=self.adapter,
            service=self.service,
            action=self.action,
            handle=handle,
            body=self.body,
            errors=list(self.errors),
            side_effect=self.side_effect,
            match=self.match,
            matchers=self.matchers,
            options=dict(self.options),
            # A class decorator stubs every test of the class, as pysoa.test's does "for all or most
            # of these tests": strict mode does not fail the ones that do not call it.
            required=not self._from_class,
            states=self.states,
        )
        handle.__dict__["_rpctest_stub"] = stub
        self.router.add(stub)
        self._stub, self._depth = stub, 1
        return handle

    def stop(self) -> None:
        """Undo one :meth:`start`; the last one deactivates the stub (a stopped stub ignores it)."""
        if self._stub is None:
            return
        self._depth -= 1
        if self._depth == 0:
            stub, self._stub = self._stub, None
            self.router.remove(stub)

    def __enter__(self) -> StubHandle:
        __tracebackhide__ = True
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # decorator ----------------------------------------------------------------------------------

    def __call__(self, target: _T) -> _T:
        if isinstance(target, type):
            return self.decorate_class(target)  # type: ignore[return-value]
        if callable(target):
            return self.decorate_callable(target)  # type: ignore[return-value]
        raise StubUsageError(f"stub_action decorates functions, methods and classes, not {target!r}")

    def decorate_class(self, cls: type) -> type:
        """Stub every test method of ``cls`` (``mock.patch.TEST_PREFIX``), inherited ones too."""
        return patching.decorate_class(cls, self._class_copy)

    def _class_copy(self) -> "stub_action":
        twin = self.copy()
        twin._from_class = True
        return twin

    def decorate_callable(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap ``func``, or join the ``patchings`` of a function another patcher already wrapped."""
        return patching.decorate_callable(func, self)

    def decorate_async_callable(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """As :meth:`decorate_callable`, with a coroutine wrapper (``parameterized`` asks for one)."""
        return patching.decorate_callable(func, self, is_async=True)


@contextlib.contextmanager
def started_stubs() -> Iterator[Callable[..., StubHandle]]:
    """A factory of started stubs, ``make(service, action, ...)`` taking what :class:`stub_action`
    takes, whose stubs all stop, newest first, when the block ends: the stubber fixtures
    (``rpc_stub``, pysoa's ``action_stubber``) are this block around a test."""
    started: list[stub_action] = []

    def make(service: str, action: str, *args: Any, **kwargs: Any) -> StubHandle:
        __tracebackhide__ = True
        stub = stub_action(service, action, *args, **kwargs)
        handle = stub.start()
        started.append(stub)
        return handle

    try:
        yield make
    finally:
        for stub in reversed(started):
            stub.stop()
