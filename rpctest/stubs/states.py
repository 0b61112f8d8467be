"""The consumer's side of provider states: which state a stubbed call assumes.

A consumer names a state in three places: on one stub (``stub_action(..., state=, state_params=)``),
for a whole test (``@pytest.mark.rpctest(state=..., state_params=...)``), or from a fixture
(``provider_state("user 1 exists", id=1)``). The test's states live here, in one process-wide list
that the pytest plugin clears around each test, because stub servers answer on their own threads:
a context variable would not reach them. A recording joins the stub's states and the test's
(:func:`states_of`), and every recorded interaction keeps them.
"""

from __future__ import annotations

import threading
from typing import Any, Iterable, Mapping

from rpctest.exceptions import StubUsageError
from rpctest.model import ProviderState

__all__ = ["make_state", "given", "test_states", "clear_test_states", "states_of"]

_lock = threading.Lock()
_test_states: list[ProviderState] = []


def make_state(name: Any, params: Any = None, *, where: str = "state") -> ProviderState:
    """A checked :class:`ProviderState`: a bad name or params is a usage error saying what to pass."""
    __tracebackhide__ = True
    if not isinstance(name, str) or not name.strip():
        raise StubUsageError(f"{where} must be a non-empty str naming the provider state (e.g. 'user 1 exists'), not {name!r}")
    if params is None:
        params = {}
    if not isinstance(params, Mapping) or not all(isinstance(key, str) for key in params):
        raise StubUsageError(
            f"{where} params must be a dict with str keys (passed to the provider's state handler as keyword "
            f"arguments), not {params!r}"
        )
    import json

    try:  # plain JSON: the provider's handler may be in any language (a Pact export keeps them as they are)
        json.dumps(dict(params), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StubUsageError(
            f"{where} params of {name!r} cannot be recorded in a contract ({exc}): give JSON values "
            f"(str, int, float, bool, None, and lists and dicts of them)"
        ) from None
    return ProviderState(name, dict(params))


def given(name: str, **params: Any) -> ProviderState:
    """Declare that the running test assumes ``name`` (what the ``provider_state`` fixture calls)."""
    __tracebackhide__ = True
    state = make_state(name, params)
    with _lock:
        _test_states[:] = [s for s in _test_states if s.name != state.name] + [state]
    return state


def set_test_states(states: Iterable[ProviderState]) -> None:
    """The states of the test that starts (its marker's); the plugin calls this before each test."""
    with _lock:
        _test_states[:] = list(states)


def clear_test_states() -> None:
    with _lock:
        _test_states.clear()


def test_states() -> tuple[ProviderState, ...]:
    with _lock:
        return tuple(_test_states)


def states_of(stub_states: Iterable[ProviderState]) -> tuple[ProviderState, ...]:
    """A call's states: the stub's own first, then the test's that the stub does not name again
    (a stub's ``state_params`` win over the test's for the same state)."""
    own = tuple(stub_states)
    names = {state.name for state in own}
    return own + tuple(state for state in test_states() if state.name not in names)


def marker_states(kwargs: Mapping[str, Any]) -> list[ProviderState]:
    """The states an ``rpctest`` marker names: ``state="a"`` (with ``state_params={...}``), or
    ``state=["a", "b"]`` for several (params then per name: ``state_params={"a": {...}}``)."""
    __tracebackhide__ = True
    state = kwargs.get("state")
    params = kwargs.get("state_params")
    if state is None:
        if params is not None:
            raise StubUsageError("@pytest.mark.rpctest(state_params=...) needs state= naming the provider state")
        return []
    if isinstance(state, str):
        return [make_state(state, params, where="@pytest.mark.rpctest(state=...)")]
    if isinstance(state, (list, tuple)):
        per_name = params or {}
        if not isinstance(per_name, Mapping):
            raise StubUsageError("with several states, state_params maps each state name to its params")
        return [make_state(name, per_name.get(name), where="@pytest.mark.rpctest(state=...)") for name in state]
    raise StubUsageError(f"@pytest.mark.rpctest(state=...) takes a state name or a list of them, not {state!r}")
