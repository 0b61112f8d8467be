"""rpctest: testing and contract verification for RPC services on five Python stacks.

The public names are loaded on first use, so ``import rpctest`` (and the pytest plugin) stays cheap
and imports no stack library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rpctest._lazy import lazy_getattr
from rpctest._version import __version__ as __version__

if TYPE_CHECKING:  # pragma: no cover
    # "import X as X" marks each name as re-exported, so `from rpctest import stub_action` type-checks
    # under mypy --strict (no_implicit_reexport); at run time __getattr__ below loads them lazily
    from rpctest.assertions import RaisedErrors as RaisedErrors
    from rpctest.assertions import raises_caller_error as raises_caller_error
    from rpctest.assertions import raises_error_codes as raises_error_codes
    from rpctest.assertions import raises_error_kind as raises_error_kind
    from rpctest.assertions import raises_field_errors as raises_field_errors
    from rpctest.assertions import raises_not_found as raises_not_found
    from rpctest.contracts.states import provider_state as provider_state
    from rpctest.matchers import any_of as any_of
    from rpctest.matchers import datetime as datetime
    from rpctest.matchers import decimal as decimal
    from rpctest.matchers import each_like as each_like
    from rpctest.matchers import integer as integer
    from rpctest.matchers import like as like
    from rpctest.matchers import regex as regex
    from rpctest.model import Call as Call
    from rpctest.model import CallFailed as CallFailed
    from rpctest.model import ErrorKind as ErrorKind
    from rpctest.model import Interaction as Interaction
    from rpctest.model import ProviderState as ProviderState
    from rpctest.model import Reply as Reply
    from rpctest.model import RpcError as RpcError
    from rpctest.stubs.api import stub_action as stub_action
    from rpctest.stubs.handle import StubHandle as StubHandle

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


if not TYPE_CHECKING:  # hidden from type checkers: rpctest/_lazy.py says why
    __getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)
