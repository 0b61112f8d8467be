"""The provider's side of provider states: handlers that put the provider's data into a named state.

A provider registers one handler per state name a consumer may record::

    @rpctest.provider_state("user 1 exists")
    def user_exists(id=1):
        db.insert(User(id=id))
        yield              # optional: what follows is the teardown
        db.delete(id)

The handler gets the recorded ``params`` as keyword arguments. A plain function is a setup alone; a
generator function sets up until its ``yield`` and tears down after it (as a pytest fixture does);
``async def`` handlers, plain or generators, run on an event loop of their own that lives from the
setup to the teardown. ``teardown=`` on the decorator is the other spelling of a teardown.

Handlers are found in the modules ``--states MODULE`` (repeatable) or ``[tool.rpctest.services.X]
states = [...]`` name: importing a module registers its handlers in the process-wide
:data:`registry`. ``verify --live`` sets each interaction's states up before replaying it and tears
them down after; ``rpctest fuzz --state`` resets through one before every example. A recorded state
with no handler is a finding naming it (:func:`missing`), never a silent pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from rpctest.exceptions import ConfigError, RpctestError
from rpctest.model import ProviderState

__all__ = ["provider_state", "StateHandlers", "StateFailed", "registry", "load_state_modules", "missing"]


class StateFailed(RpctestError):
    """A state handler raised: the interaction cannot be verified in the state it needs."""


@dataclass
class _Handler:
    name: str
    function: Callable[..., Any]
    teardown: Callable[..., Any] | None = None


class StateHandlers:
    """Handlers by state name; :meth:`entered` sets a list of states up and tears them down."""

    def __init__(self) -> None:
        self._handlers: dict[str, _Handler] = {}
        self._lock = threading.Lock()

    def register(self, name: str, function: Callable[..., Any], teardown: Callable[..., Any] | None = None) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"@rpctest.provider_state needs the state's name (a non-empty str), not {name!r}")
        with self._lock:
            known = self._handlers.get(name)
            if known is not None and _same(known.function, function):
                known.teardown = teardown or known.teardown  # a module imported twice (as a script and by name)
                return
            if known is not None:
                raise ConfigError(
                    f"two handlers for provider state {name!r}: {_where(known.function)} and {_where(function)}; "
                    f"keep one (a state's name says what data it sets up, so one handler must own it)"
                )
            self._handlers[name] = _Handler(name, function, teardown)

    def unregister(self, name: str) -> None:
        with self._lock:
            self._handlers.pop(name, None)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._handlers)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._handlers

    def missing(self, states: Iterable[ProviderState]) -> list[ProviderState]:
        """The states no handler is registered for."""
        return [state for state in states if state.name not in self]

    @contextlib.contextmanager
    def entered(self, states: Sequence[ProviderState]) -> Iterator[None]:
        """Set ``states`` up in order and tear them down in reverse; a handler that raises becomes
        :class:`StateFailed` naming the state (the states set up before it are torn down)."""
        with contextlib.ExitStack() as stack:
            for state in states:
                with self._lock:
                    handler = self._handlers.get(state.name)
                if handler is None:
                    raise StateFailed(f"no handler for provider state {state.describe()}")
                stack.enter_context(_run(handler, state))
            yield


def _same(first: Callable[..., Any], second: Callable[..., Any]) -> bool:
    """The same function defined twice (its module imported under two names): same place in the source."""
    return first is second or _origin(first) == _origin(second) is not None


def _origin(function: Callable[..., Any]) -> tuple[str, int] | None:
    code = getattr(function, "__code__", None)
    return (code.co_filename, code.co_firstlineno) if code is not None else None


def _where(function: Callable[..., Any]) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"


@contextlib.contextmanager
def _run(handler: _Handler, state: ProviderState) -> Iterator[None]:
    params = dict(state.params)
    function = handler.function
    loop: asyncio.AbstractEventLoop | None = None
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function) or (
        handler.teardown is not None and inspect.iscoroutinefunction(handler.teardown)
    ):
        loop = asyncio.new_event_loop()
    try:
        done = _call(loop, state, "setup", lambda: function(**params))
        try:
            yield
        finally:  # a later state's failed setup, or the replay's, still tears this one down
            if inspect.isgenerator(done):
                _call(loop, state, "teardown", lambda: _finish(done))
            elif inspect.isasyncgen(done):
                _call(loop, state, "teardown", lambda: _finish_async(done))
            if handler.teardown is not None:
                teardown = handler.teardown
                _call(loop, state, "teardown", lambda: teardown(**params))
    finally:
        if loop is not None:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def _call(loop: asyncio.AbstractEventLoop | None, state: ProviderState, step: str, action: Callable[[], Any]) -> Any:
    """Run one step of a handler (awaiting what it returns on ``loop``); an exception becomes
    :class:`StateFailed` saying which state and step failed."""
    try:
        result = action()
        if inspect.isgenerator(result):
            next(result)  # up to the yield: the setup
        elif inspect.isasyncgen(result):
            assert loop is not None
            loop.run_until_complete(result.__anext__())
        elif inspect.isawaitable(result):
            assert loop is not None
            result = loop.run_until_complete(result)
        return result
    except StopIteration:
        raise StateFailed(f"the {step} of provider state {state.describe()} failed: its generator did not yield") from None
    except StopAsyncIteration:
        raise StateFailed(f"the {step} of provider state {state.describe()} failed: its async generator did not yield") from None
    except StateFailed:
        raise
    except Exception as exc:
        raise StateFailed(f"the {step} of provider state {state.describe()} failed: {type(exc).__name__}: {exc}") from exc


def _finish(generator: Any) -> None:
    with contextlib.suppress(StopIteration):
        next(generator)
        raise RuntimeError("a state handler's generator must yield once (setup, yield, teardown), not twice")


async def _finish_async(generator: Any) -> None:
    with contextlib.suppress(StopAsyncIteration):
        await generator.__anext__()
        raise RuntimeError("a state handler's async generator must yield once (setup, yield, teardown), not twice")


#: the handlers of this process (what ``@rpctest.provider_state`` registers into)
registry = StateHandlers()


def provider_state(name: str, *, teardown: Callable[..., Any] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the handler of provider state ``name`` (see the module)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(function):
            raise ConfigError(f"@rpctest.provider_state({name!r}) decorates a function, not {function!r}")
        registry.register(name, function, teardown)
        return function

    if callable(name):  # @provider_state without a name
        raise ConfigError("@rpctest.provider_state needs the state's name: @rpctest.provider_state('user 1 exists')")
    return register


def load_state_modules(modules: Iterable[str]) -> StateHandlers:
    """Import each module (registering its handlers); a module that cannot be imported is a
    :class:`ConfigError` saying which and why. Returns the :data:`registry`."""
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # a module that fails while importing, not only one that is not found
            raise ConfigError(
                f"cannot import state handler module {module!r} (from --states or a service's states = [...]): "
                f"{type(exc).__name__}: {exc}; "
                f"give an importable module name (run from the project root, or add its directory to PYTHONPATH)"
            ) from None
    return registry


def missing(states: Iterable[ProviderState], handlers: StateHandlers | None = None) -> list[ProviderState]:
    """The states of ``states`` no handler is registered for (in :data:`registry` by default)."""
    return (handlers or registry).missing(states)
