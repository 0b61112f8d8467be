"""``stub_action``: one signature for all five stacks, as decorator, context manager or start/stop."""

from __future__ import annotations

import contextlib
import functools
import inspect
from unittest import mock
from typing import Any, Callable, TypeVar

from rpctest.exceptions import StubUsageError
from rpctest.stubs.handle import StubHandle
from rpctest.stubs.router import Stub, StubRouter, router as default_router

__all__ = ["stub_action", "resolve_stack"]

_T = TypeVar("_T")

#: methods of a decorated class that get the stub (as ``mock.patch`` does)
TEST_PREFIX = "test"


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


class stub_action:
    """Stub one operation of one service, for code that calls it through any of the five stacks.

    ``body`` is the reply payload, ``errors`` are codes or error objects, ``side_effect`` is a body,
    an exception, a callable taking the request body, or a sequence of those (one per call).
    Stack-specific extras are keyword ``options`` (``match=`` narrows the stub to request bodies
    that contain the given items). As a decorator, the handle is passed as an extra positional
    argument, so it fills the function's first parameter (after ``self``); with several decorators
    the bottom one's handle comes first, exactly as with ``mock.patch``.
    """

    def __init__(
        self,
        service: str,
        action: str,
        *,
        body: Any = None,
        errors: Any = None,
        side_effect: Any = None,
        stack: str | None = None,
        router: StubRouter | None = None,
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
        self.adapter.check_body(body)
        self.body = body
        self.errors = self.adapter.normalize_errors(errors)
        if isinstance(side_effect, (str, bytes)):
            raise StubUsageError(
                f"side_effect must be a body, an exception, a callable or a sequence of them, not {side_effect!r}"
            )
        self.side_effect = side_effect
        self.match = options.pop("match", None)
        unknown = set(options) - self.adapter.stub_options
        if unknown:
            allowed = ", ".join(sorted({"match", *self.adapter.stub_options}))
            raise StubUsageError(
                f"stub_action got unknown option(s) {', '.join(sorted(unknown))} for stack {self.adapter.name!r}; "
                f"allowed: {allowed}"
            )
        self.options = options
        self.router = router or default_router
        self._active: list[Stub] = []

    # mock.patch's decorator protocol: a positional extra argument, not a keyword one
    attribute_name = None
    new = mock.DEFAULT

    def __repr__(self) -> str:
        return f"stub_action({self.service!r}, {self.action!r}, stack={self.adapter.name!r})"

    # context manager ----------------------------------------------------------------------------

    def start(self) -> StubHandle:
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
            options=dict(self.options),
        )
        handle.__dict__["_rpctest_stub"] = stub
        self.router.add(stub)
        self._active.append(stub)
        return handle

    def stop(self) -> None:
        if self._active:
            self.router.remove(self._active.pop())

    def __enter__(self) -> StubHandle:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # decorator ----------------------------------------------------------------------------------

    def __call__(self, target: _T) -> _T:
        if isinstance(target, type):
            return self._decorate_class(target)  # type: ignore[return-value]
        if callable(target):
            return _decorate_callable(target, self)  # type: ignore[return-value]
        raise StubUsageError(f"stub_action decorates functions, methods and classes, not {target!r}")

    def _decorate_class(self, cls: type) -> type:
        for name, value in list(vars(cls).items()):
            if name.startswith(TEST_PREFIX) and inspect.isfunction(value):
                setattr(cls, name, _decorate_callable(value, self))
        return cls


def _decorate_callable(func: Callable[..., Any], stub: stub_action) -> Callable[..., Any]:
    """Wrap ``func`` with the ``patchings`` protocol of ``unittest.mock.patch``.

    Sharing that protocol means stub_action and ``mock.patch`` decorators stack in any order on one
    function, the handles arrive as extra positional arguments (bottom decorator first), and
    pytest already knows not to treat those leading parameters as fixtures.
    """
    patchings: list[Any] | None = getattr(func, "patchings", None)
    if patchings is not None:
        patchings.append(stub)
        _check_handle_parameters(func, patchings)
        return func
    _check_handle_parameters(func, [stub])

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            with contextlib.ExitStack() as stack:
                extra = _enter_all(stack, wrapper.patchings, kwargs)  # type: ignore[attr-defined]
                return await func(*args, *extra, **kwargs)

    else:

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with contextlib.ExitStack() as stack:
                extra = _enter_all(stack, wrapper.patchings, kwargs)  # type: ignore[attr-defined]
                return func(*args, *extra, **kwargs)

    wrapper.patchings = [stub]  # type: ignore[attr-defined]
    return wrapper


def _enter_all(stack: contextlib.ExitStack, patchings: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """Enter every patching in order; collect the positional extras as mock.patch does."""
    extra = []
    for patching in patchings:
        value = stack.enter_context(patching)
        if getattr(patching, "attribute_name", None) is not None:
            kwargs.update(value)
        elif getattr(patching, "new", None) is mock.DEFAULT:
            extra.append(value)
    return extra


def _check_handle_parameters(func: Callable[..., Any], patchings: list[Any]) -> None:
    """Fail at decoration time, not with a TypeError mid-test, when there is no room for the handles."""
    try:
        params = list(inspect.signature(func, follow_wrapped=False).parameters.values())
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if positional and positional[0].name in ("self", "cls") and "." in func.__qualname__:
        positional = positional[1:]
    wanted = sum(1 for p in patchings if getattr(p, "attribute_name", None) is None and getattr(p, "new", None) is mock.DEFAULT)
    if len(positional) < wanted:
        raise StubUsageError(
            f"{func.__qualname__} has no parameter to receive the handle of {patchings[-1]!r}: add one "
            f"(handles come first, the bottom decorator's first, as with mock.patch), or use stub_action "
            f"as a context manager or through the rpc_stub fixture"
        )
