"""Drift at stub time: a stub that contradicts a known provider contract fails when it is created.

Verification in CI catches a drifted stub eventually; catching it in the test that declares it is
cheaper: the message points at the ``stub_action`` line, not at a contract file. Provider
contracts become known through ``[tool.rpctest] providers`` / ``rpctest_providers`` /
``--rpctest-providers`` (loaded lazily, once), or for one test through :func:`use_providers` (the
``rpctest_providers`` fixture wraps it).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from rpctest.contracts.format import Contract, ProviderContract, load_many
from rpctest.exceptions import StubUsageError

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.model import RpcError

__all__ = ["ContractDrift", "ProviderRegistry", "registry", "use_providers", "check_stub"]


class ContractDrift(StubUsageError):
    """A stub's body or errors break its provider's contract."""


class ProviderRegistry:
    """Provider contracts by (stack, service): configured ones, plus any a test adds for itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configured: tuple[Path, ...] | None = None
        self._loaded: dict[tuple[str, str], ProviderContract] = {}
        self._extra: list[dict[tuple[str, str], ProviderContract]] = []
        self._compiled: dict[int, Any] = {}

    def _configured_contracts(self) -> dict[tuple[str, str], ProviderContract]:
        from rpctest import config

        paths = config.current().providers
        with self._lock:
            if paths != self._configured:
                self._loaded = _by_key(load_many(paths)) if paths else {}
                self._configured = paths
            return self._loaded

    def get(self, stack: str, service: str) -> ProviderContract | None:
        for layer in reversed(self._extra):
            if (stack, service) in layer:
                return layer[(stack, service)]
        if not self._extra and not _has_configured():
            return None
        return self._configured_contracts().get((stack, service))

    @contextlib.contextmanager
    def use(self, contracts: Iterable[Contract | Path | str]) -> Iterator[None]:
        items = [c for c in contracts]
        paths = [c for c in items if isinstance(c, (str, Path))]
        loaded = [c for c in items if isinstance(c, ProviderContract)] + [
            c for c in load_many(paths) if isinstance(c, ProviderContract)
        ]
        layer = _by_key(loaded)
        self._extra.append(layer)
        try:
            yield
        finally:
            self._extra.remove(layer)

    def compiled(self, schema: Mapping[str, Any] | bool) -> Any:
        from rpctest.schema.validate import compile_schema

        key = id(schema)
        if key not in self._compiled:
            self._compiled[key] = (schema, compile_schema(schema))  # keep schema alive: ids stay unique
        return self._compiled[key][1]


def _has_configured() -> bool:
    from rpctest import config

    return bool(config.current().providers)


def _by_key(contracts: Iterable[Contract]) -> dict[tuple[str, str], ProviderContract]:
    return {c.key: c for c in contracts if isinstance(c, ProviderContract)}


#: the process-wide registry the stub API consults
registry = ProviderRegistry()


def use_providers(*contracts: Contract | Path | str) -> contextlib.AbstractContextManager[None]:
    """Within the block, stubs of these providers are checked against their contracts."""
    return registry.use(contracts)


def check_stub(stack: str, service: str, action: str, body: Any, errors: list["RpcError"], side_effect: Any) -> None:
    """Raise :class:`ContractDrift` if this stub contradicts a known provider contract.

    Hidden from pytest's tracebacks (``__tracebackhide__``): the message says what is wrong, the
    user's line says where; this function's source only buried both (74 lines for one drift)."""
    __tracebackhide__ = True
    provider = registry.get(stack, service)
    if provider is None:
        return
    where = f"stub_action({service!r}, {action!r}, stack={stack!r})"
    op = provider.operations.get(action)
    if op is None:
        from rpctest.contracts.verify import _operation_resolver

        resolve = _operation_resolver(stack)  # Kyoukai: a concrete path or an endpoint names a route
        found = resolve(provider, action, None) if resolve is not None else None
        op = provider.operations[found[0]] if found is not None else None
    if op is None:
        import difflib

        close = difflib.get_close_matches(action, list(provider.operations), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; it has: {', '.join(sorted(provider.operations))}"
        raise ContractDrift(f"{where}: the provider contract {_name(provider)} has no operation {action!r}{hint}")
    problems: list[str] = []
    bodies = [body] if body is not None else []
    if isinstance(side_effect, Mapping):
        bodies.append(side_effect)
    elif isinstance(side_effect, (list, tuple)):
        bodies.extend(item for item in side_effect if isinstance(item, Mapping))
    schema = registry.compiled(op.response)
    for candidate in bodies:
        problems.extend(f"body {violation}" for violation in schema.violations(candidate))
    from rpctest.contracts.verify import standard_error_codes

    allowed = set(op.errors) | standard_error_codes(stack)
    for error in errors:
        if error.code not in allowed and not op.errors_open:  # open codes: the export could not list them
            problems.append(f"error code {error.code!r} is not one {service}.{action} can produce (it can: {', '.join(sorted(map(str, allowed)))})")
    if problems:
        raise ContractDrift(f"{where} breaks the provider contract {_name(provider)}:\n  - " + "\n  - ".join(problems))


def _name(provider: ProviderContract) -> str:
    return str(provider.path) if provider.path else f"{provider.stack}:{provider.service}"
