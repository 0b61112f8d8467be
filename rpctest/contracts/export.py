"""Provider contracts from a provider's own declarations: ``rpctest contracts export``.

The stack adapter does the reading (PySOA: Conformity schemas of each Action, or the ``introspect``
action of a running service); this module resolves the target the user named, adds the error codes
declared in ``[tool.rpctest.services.NAME] expected_errors`` and wraps the result as a
:class:`~rpctest.contracts.format.ProviderContract`.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from rpctest._version import __version__
from rpctest.contracts.format import ProviderContract
from rpctest.exceptions import ConfigError

__all__ = ["import_object", "export", "infer_stack"]


def import_object(spec: str) -> Any:
    """``module.path:Object.attr`` -> the object, or a ConfigError that says which part failed.

    The working directory is importable, as it is for ``python -m`` and pytest's rootdir, so
    ``rpctest ... --provider myservice.server:Server`` works from the project root.
    """
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise ConfigError(f"--provider must be MODULE:OBJECT (e.g. myservice.server:Server), not {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name!r} for provider {spec!r}: {exc}") from None
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"provider {spec!r}: {module_name} has no attribute {attr_path!r}") from None
    return obj


def infer_stack(provider: str | None = None, address: str | None = None, service: str | None = None) -> str | None:
    """The stack configured for this provider or service in ``[tool.rpctest.services]``, if any."""
    from rpctest import config

    cfg = config.current()
    for entry in cfg.services.values():
        if (provider and entry.provider == provider) or (service and entry.name == service) or (address and entry.address == address):
            return entry.stack
    return None


def export(
    stack: str,
    *,
    provider: str | Any | None = None,
    address: str | None = None,
    service: str | None = None,
    timeout: float = 5.0,
    **options: Any,
) -> ProviderContract:
    """Export the provider contract of an in-process ``provider`` or a running service at ``address``.

    ``options`` go to the adapter's ``export_schema`` (e.g. pykern's ``schemas={api: {...}}``).
    """
    from rpctest import config
    from rpctest.stacks import get_adapter

    if (provider is None) == (address is None):
        raise ConfigError("export needs exactly one target: --provider MODULE:OBJECT or --address ADDRESS")
    adapter = get_adapter(stack)
    if provider is not None:
        target = import_object(provider) if isinstance(provider, str) else provider
        exported = adapter.host.export_schema(target, **options)
        source = {"provider": provider if isinstance(provider, str) else _qualname(target)}
    else:
        assert address is not None  # exactly one of the two, checked above
        exported = adapter.host.export_from_address(address, service, timeout=timeout)
        source = {"address": address}
    contract = ProviderContract.from_export(stack, exported, **source, exported_by=f"rpctest {__version__}")
    entry = config.current().services.get(contract.service)
    if entry is not None:
        for name, codes in entry.expected_errors.items():
            op = contract.operations.get(name)
            if op is None:
                raise ConfigError(
                    f"[tool.rpctest.services.{contract.service}.expected_errors] names operation {name!r}, which "
                    f"{contract.service} does not have (it has: {', '.join(sorted(contract.operations))})"
                )
            op.errors = sorted({*op.errors, *codes}, key=str)
    return contract


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', type(obj).__qualname__)}"
