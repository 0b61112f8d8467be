"""Building a fuzz :class:`~rpctest.fuzz.engine.Target` from what a user names on the command line.

A provider in-process (``pkg.mod:Server``: its contract is exported from its declarations) or a
running endpoint (``--address``: the contract comes from ``--contract FILE`` or the service's own
introspection). The sender is the one live contract verification uses.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from rpctest.contracts.format import ProviderContract, load
from rpctest.exceptions import ConfigError
from rpctest.fuzz.engine import Target

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.credentials import Credentials

__all__ = ["open_target", "provider_spec"]


def provider_spec(provider: Any) -> str:
    """``module:QualName`` of a provider object (what a replay file stores to find it again).

    A provider that is an instance (an AsyncAPY ``Server``) has no qualified name: it is found by the
    module-level name bound to it, or named ``module:<Type instance>``, which a replay then asks to
    be given with ``--provider``.
    """
    if isinstance(provider, str):
        return provider
    qualname = getattr(provider, "__qualname__", None)
    if isinstance(qualname, str):
        return f"{provider.__module__}:{qualname}"
    import sys

    module_name = getattr(type(provider), "__module__", "?")
    for name in ("__main__", module_name):
        for attribute, value in list(vars(sys.modules.get(name, object())).items()):
            if value is provider:
                return f"{name}:{attribute}"
    return f"{module_name}:<{type(provider).__qualname__} instance>"


def _contract(
    stack: str, provider: Any, address: str | None, service: str | None, contract: Any, timeout: float, credentials: "Credentials | None"
) -> ProviderContract:
    from rpctest.contracts.export import export

    if contract is not None:
        loaded = contract if isinstance(contract, ProviderContract) else load(Path(contract))
        if not isinstance(loaded, ProviderContract):
            raise ConfigError(f"{contract}: a consumer contract; fuzzing needs the provider's contract")
        return loaded
    # an in-process provider's contract is read from its code: only an introspection call takes them
    return export(stack, provider=provider, address=address, service=service, timeout=timeout,
                  credentials=credentials if address is not None else None)


@contextlib.contextmanager
def open_target(
    stack: str,
    *,
    provider: Any = None,
    address: str | None = None,
    service: str | None = None,
    contract: Any = None,
    timeout: float = 5.0,
    credentials: "Credentials | None" = None,
) -> Iterator[Target]:
    """A ready target (the in-process provider is stopped on exit); ``credentials`` go with every
    call to ``address`` (the replay files name which parts, never their values)."""
    from rpctest import config
    from rpctest.contracts.export import import_object
    from rpctest.contracts.live import open_sender

    if isinstance(provider, str):
        origin: dict[str, Any] = {"provider": provider}
        provider = import_object(provider)
    elif provider is not None:
        origin = {"provider": provider_spec(provider)}
    else:
        origin = {"address": address}
    if isinstance(contract, (str, os.PathLike)):
        # rpctest replay needs it again: a stack without introspection (AsyncAPY, Kyoukai) cannot export
        # the contract from an address
        origin["contract"] = str(Path(contract).resolve())
    if credentials:
        origin["credentials"] = credentials.given()
    spec = _contract(stack, provider, address, service, contract, timeout, credentials)
    if service is not None and service != spec.service:
        raise ConfigError(f"the contract is for service {spec.service!r}, not {service!r}")
    entry = config.current().services.get(spec.service)
    expected = {name: tuple(codes) for name, codes in entry.expected_errors.items()} if entry is not None else {}
    with open_sender(stack, provider=provider, address=address, service=spec.service, timeout=timeout, credentials=credentials) as send:
        yield Target(stack=stack, contract=spec, send=send, origin={"stack": stack, **origin}, expected_errors=expected)
