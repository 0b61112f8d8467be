"""The patcher protocol of ``mock.patch``, spoken by ``stub_action`` so other decorators can drive it.

Decorators that stack patchers (``unittest.mock.patch``, the ``mock`` backport's ``patch``,
``parameterized.expand``, pysoa.test's ``stub_action``) agree on a small protocol rather than an API:
the wrapped function carries a ``patchings`` list; a patcher decorating a function that already has one
appends itself instead of wrapping again; the wrapper made by the first (bottom) patcher enters them all
in order, and passes a patcher's value as an extra positional argument when its ``attribute_name`` is
None and its ``new`` *is* the ``DEFAULT`` sentinel of the wrapper's own mock module; ``parameterized``
re-applies each patcher with ``decorate_callable`` / ``decorate_async_callable``; class decoration wraps
every callable attribute whose name starts with ``patch.TEST_PREFIX``, with a copy of the patcher each.

The one trap is the sentinel: the ``mock`` backport has its own ``DEFAULT``, so a patcher whose ``new``
is ``unittest.mock.DEFAULT`` gets no argument from the backport's wrapper (and the other way round).
Here, a wrapper of rpctest's accepts every mock module's sentinel, and a stub that joins another
module's wrapper takes on that module's sentinel (:func:`sentinel_of`).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import unittest.mock
from typing import Any, Callable

from rpctest.exceptions import StubUsageError

__all__ = ["decorate_callable", "decorate_class", "is_default", "sentinel_of"]


def _test_prefix() -> str:
    """The prefix of the methods a class decorator patches: ``mock.patch.TEST_PREFIX``, read when used,
    since a suite may change it (as unittest's loader prefix)."""
    return unittest.mock.patch.TEST_PREFIX


def _defaults() -> list[Any]:
    """The ``DEFAULT`` sentinel of every mock module loaded (the standard one, the backport's)."""
    found = [unittest.mock.DEFAULT]
    backport = sys.modules.get("mock")
    default = getattr(backport, "DEFAULT", None)
    if default is not None and default is not unittest.mock.DEFAULT:
        found.append(default)
    return found


def _module_default(patcher: Any) -> Any:
    """The sentinel the module that defines ``patcher``'s class compares with, if it has one: the
    module's own ``DEFAULT`` (``mock.mock``, ``unittest.mock``), or that of the mock it imported as
    ``mock`` (``pysoa.test.stub_service``)."""
    for cls in type(patcher).__mro__:
        module = sys.modules.get(cls.__module__)
        default = getattr(module, "DEFAULT", None)
        if default is None:
            default = getattr(getattr(module, "mock", None), "DEFAULT", None)
        if default is not None:
            return default
    return None


def is_default(patcher: Any) -> bool:
    """Whether ``patcher`` wants its value passed as an extra positional argument (mock's rule, for
    the sentinel of any mock module)."""
    if getattr(patcher, "attribute_name", None) is not None:
        return False
    new = getattr(patcher, "new", None)
    return any(new is default for default in _defaults()) or (new is not None and new is _module_default(patcher))


def sentinel_of(patchings: list[Any]) -> Any:
    """The sentinel the wrapper that owns ``patchings`` compares ``new`` with: its bottom patcher made
    the wrapper (every implementation of the protocol does), so it is that patcher's module's."""
    from rpctest.stubs.api import stub_action

    first = patchings[0] if patchings else None
    if first is None or isinstance(first, stub_action):
        return unittest.mock.DEFAULT
    default = _module_default(first)
    return unittest.mock.DEFAULT if default is None else default


def decorate_callable(func: Callable[..., Any], patcher: Any, *, is_async: bool | None = None) -> Callable[..., Any]:
    """Wrap ``func`` so ``patcher`` (and every patcher stacked on it later) is entered around each call.

    A ``func`` that already carries ``patchings`` gets ``patcher`` appended, whoever made the list, so
    rpctest's stubs and mock's patches stack in any order on one function and the handles arrive as
    extra positional arguments, bottom decorator first. ``is_async`` forces a coroutine wrapper for a
    plain function that returns a coroutine (``parameterized`` wraps async tests in one).
    """
    patchings: list[Any] | None = getattr(func, "patchings", None)
    if patchings is not None:
        patcher.new = sentinel_of(patchings)
        patchings.append(patcher)
        _check_handle_parameters(func, patchings)
        return func
    _check_handle_parameters(func, [patcher])

    if inspect.iscoroutinefunction(func) if is_async is None else is_async:

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # a failing stub is reported at the test, not in rpctest's wrapper
            with contextlib.ExitStack() as stack:
                extra = _enter_all(stack, wrapper.patchings, kwargs)  # type: ignore[attr-defined]
                return await func(*args, *extra, **kwargs)

    else:

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # a failing stub is reported at the test, not in rpctest's wrapper
            with contextlib.ExitStack() as stack:
                extra = _enter_all(stack, wrapper.patchings, kwargs)  # type: ignore[attr-defined]
                return func(*args, *extra, **kwargs)

    wrapper.patchings = [patcher]  # type: ignore[attr-defined]
    return wrapper


def decorate_class(cls: type, copy: Callable[[], Callable[[Any], Any]]) -> type:
    """Decorate every callable attribute of ``cls`` named like a test, inherited ones included, each
    with a patcher of its own made by ``copy`` (as ``mock.patch`` and pysoa's ``stub_action`` do)."""
    prefix = _test_prefix()
    for name in dir(cls):
        if not name.startswith(prefix):
            continue
        value = getattr(cls, name)
        if not callable(value):
            continue
        setattr(cls, name, copy()(value))
    return cls


def _enter_all(stack: contextlib.ExitStack, patchings: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """Enter every patching in order; collect the positional extras as mock.patch does.

    Entered by hand rather than with ``stack.enter_context``, so that a stub refused when it starts
    (a drifted stub) leaves no contextlib frame between the test and the message."""
    __tracebackhide__ = True
    extra = []
    for patching in patchings:
        value = type(patching).__enter__(patching)
        stack.push(functools.partial(type(patching).__exit__, patching))
        if getattr(patching, "attribute_name", None) is not None:
            kwargs.update(value)
        elif is_default(patching):
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
    wanted = sum(1 for p in patchings if is_default(p))
    if len(positional) < wanted:
        raise StubUsageError(
            f"{func.__qualname__} has no parameter to receive the handle of {patchings[-1]!r}: add one "
            f"(handles come first, the bottom decorator's first, as with mock.patch), or use stub_action "
            f"as a context manager or through the rpc_stub fixture"
        )
