"""Calling a user's provider factory with what the stack itself would pass it.

Users write factories the way their stack shapes them: a Kyoukai app is built on an event loop
(``make_app(loop)`` then ``Kyoukai(name, loop=loop)``); an AsyncAPY server is built for an address
(``build_server(host, port)`` then ``Server(addr=host, port=port)``). rpctest called every factory
with no argument, so those exited 3 with a ``TypeError``. Each stack's host half now says what it
supplies, by parameter name, and :func:`call_factory` passes exactly the required parameters it
knows (and the optional ones it knows, so that rpctest's loop or address wins over a default), and
refuses any other required parameter with a usage error naming it, before calling anything.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from rpctest.exceptions import ConfigError

__all__ = ["call_factory"]


def call_factory(factory: Callable[..., Any], supplies: Mapping[str, Callable[[], Any]], *, stack: str) -> Any:
    """``factory(**arguments)``: each parameter named in ``supplies`` gets ``supplies[name]()``;
    a required parameter it does not name is a :class:`ConfigError` (exit 2) naming it."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin or C callable: nothing to read, call it as it is
        return factory()
    arguments: dict[str, Any] = {}
    positional: list[Any] = []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        required = parameter.default is parameter.empty
        if parameter.name in supplies:
            value = supplies[parameter.name]()
            if parameter.kind is parameter.POSITIONAL_ONLY:
                positional.append(value)
            else:
                arguments[parameter.name] = value
        elif required:
            known = ", ".join(repr(name) for name in supplies) or "none"
            raise ConfigError(
                f"the {stack} factory {getattr(factory, '__qualname__', factory)!r} needs the parameter "
                f"{parameter.name!r}, which rpctest cannot supply (for {stack} it passes {known}); give it a default, "
                f"or name a function that builds the provider from what rpctest passes"
            )
        elif parameter.kind is parameter.POSITIONAL_ONLY:
            break  # an optional positional-only parameter: the ones after it cannot be passed by position
    return factory(*positional, **arguments)
