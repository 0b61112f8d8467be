"""The registry of stack adapters.

Adapters are named here by import path and loaded on first use, so importing rpctest (or its pytest
plugin) costs nothing for stacks a project does not use. The adapter modules themselves import no
stack library at module level either: only their host halves do, lazily.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Iterator

from rpctest.exceptions import ConfigError
from rpctest.model import RpcError

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stacks.base import StackAdapter

__all__ = ["STACKS", "get_adapter", "loaded_adapters", "errors_from_exception"]

#: stack name -> (adapter import path, pip extra, the stack library's top-level module)
STACKS: dict[str, tuple[str, str, str]] = {
    "pysoa": ("rpctest.stacks.pysoa:adapter", "pysoa", "pysoa"),
    "pykern": ("rpctest.stacks.pykern:adapter", "pykern", "pykern"),
    "zerojson": ("rpctest.stacks.zerojson:adapter", "zerojson", "zmq"),
    "kyoukai": ("rpctest.stacks.kyoukai:adapter", "kyoukai", "kyoukai"),
    "asyncapy": ("rpctest.stacks.asyncapy:adapter", "asyncapy", "asyncapy"),
}

_loaded: dict[str, "StackAdapter"] = {}


def get_adapter(stack: str) -> "StackAdapter":
    """The adapter for ``stack``; a clear error for unknown or not-yet-supported stacks."""
    if not isinstance(stack, str):
        raise ConfigError(f"stack must be a string naming one of {sorted(STACKS)}, not {stack!r}")
    name = stack.lower()
    if name in _loaded:
        return _loaded[name]
    if name not in STACKS:
        raise ConfigError(f"unknown stack {stack!r}: rpctest knows {', '.join(sorted(STACKS))}")
    path = STACKS[name][0]
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise ConfigError(
                f"the {name} stack is not supported by this version of rpctest yet ({module_name} is missing)"
            ) from None
        raise
    adapter: StackAdapter = getattr(module, attr)
    _loaded[name] = adapter
    return adapter


def loaded_adapters() -> Iterator["StackAdapter"]:
    """Adapters whose stack library the process has already imported (cheap to consult)."""
    for name, (_, _, library) in STACKS.items():
        if name in _loaded or library in sys.modules:
            try:
                yield get_adapter(name)
            except ConfigError:
                continue


def errors_from_exception(exc: BaseException) -> list[RpcError] | None:
    """The neutral errors carried by ``exc``, whichever stack raised it (None if no stack claims it)."""
    from rpctest.model import CallFailed

    if isinstance(exc, RpcError):
        return [exc]
    if isinstance(exc, CallFailed):
        return list(exc.errors)
    for adapter in loaded_adapters():
        errors = adapter.host.errors_from_exception(exc)
        if errors is not None:
            return errors
    return None
