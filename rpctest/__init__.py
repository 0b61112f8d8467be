"""rpctest: testing and contract verification for RPC services on five Python stacks.

The public names are loaded on first use, so ``import rpctest`` (and the pytest plugin) stays cheap
and imports no stack library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rpctest._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.assertions import (
        RaisedErrors,
        raises_caller_error,
        raises_error_codes,
        raises_error_kind,
        raises_field_errors,
        raises_not_found,
    )
    from rpctest.contracts.states import provider_state
    from rpctest.matchers import any_of, datetime, decimal, each_like, integer, like, regex
    from rpctest.model import Call, CallFailed, ErrorKind, Interaction, ProviderState, Reply, RpcError
    from rpctest.stubs.api import stub_action
    from rpctest.stubs.handle import StubHandle

_EXPORTS = {
    "stub_action": "rpctest.stubs.api",
    "provider_state": "rpctest.contracts.states",
    "ProviderState": "rpctest.model",
    "StubHandle": "rpctest.stubs.handle",
    "Call": "rpctest.model",
    "CallFailed": "rpctest.model",
    "ErrorKind": "rpctest.model",
    "Interaction": "rpctest.model",
    "Reply": "rpctest.model",
    "RpcError": "rpctest.model",
    "RaisedErrors": "rpctest.assertions",
    "raises_error_codes": "rpctest.assertions",
    "raises_field_errors": "rpctest.assertions",
    "raises_error_kind": "rpctest.assertions",
    "raises_not_found": "rpctest.assertions",
    "raises_caller_error": "rpctest.assertions",
    "like": "rpctest.matchers",
    "each_like": "rpctest.matchers",
    "regex": "rpctest.matchers",
    "integer": "rpctest.matchers",
    "decimal": "rpctest.matchers",
    "datetime": "rpctest.matchers",
    "any_of": "rpctest.matchers",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rpctest' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
