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
from typing import TYPE_CHECKING, Any

from rpctest._version import __version__
from rpctest.contracts.format import ProviderContract
from rpctest.exceptions import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.credentials import Credentials

__all__ = ["import_object", "export", "infer_stack", "service_entry"]


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
        raise ConfigError(
            f"cannot import {module_name!r} for provider {spec!r}: {type(exc).__name__}: {exc} (run rpctest from the "
            f"directory {module_name!r} imports from, usually the project root, with the project's dependencies installed; "
            f"or fix the MODULE part of MODULE:OBJECT)"
        ) from None
    owner = module_name
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            import difflib

            close = difflib.get_close_matches(part, [name for name in dir(obj) if not name.startswith("_")], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"provider {spec!r}: {owner} has no attribute {part!r}{hint}") from None
        owner = f"{owner}.{part}"
    return obj


def service_entry(provider: str | None = None, address: str | None = None, service: str | None = None) -> Any:
    """The ``[tool.rpctest.services]`` entry (a ``ServiceConfig``) of this provider, address or service, if any."""
    from rpctest import config

    cfg = config.current()
    for entry in cfg.services.values():
        if (provider and entry.provider == provider) or (service and entry.name == service) or (address and entry.address == address):
            return entry
    return None


def infer_stack(provider: str | None = None, address: str | None = None, service: str | None = None) -> str | None:
    """The stack configured for this provider or service in ``[tool.rpctest.services]``, if any."""
    entry = service_entry(provider, address, service)
    return entry.stack if entry is not None else None


def export(
    stack: str,
    *,
    provider: str | Any | None = None,
    address: str | None = None,
    service: str | None = None,
    timeout: float = 5.0,
    credentials: "Credentials | None" = None,
    **options: Any,
) -> ProviderContract:
    """Export the provider contract of an in-process ``provider`` or a running service at ``address``.

    ``options`` go to the adapter's ``export_schema`` (e.g. pykern's ``schemas={api: {...}}``);
    ``credentials`` go with the introspection call to ``address``.
    """
    from rpctest import config
    from rpctest.stacks import get_adapter

    if (provider is None) == (address is None):
        raise ConfigError("export needs exactly one target: --provider MODULE:OBJECT or --address ADDRESS")
    adapter = get_adapter(stack)
    if provider is not None:
        if credentials:
            raise ConfigError("exporting from --provider reads its declarations and calls nothing: credentials are for "
                              "exporting from a running service (--address)")
        target = import_object(provider) if isinstance(provider, str) else provider
        exported = adapter.host.export_schema(target, **options)
        source = {"provider": provider if isinstance(provider, str) else _qualname(target)}
    else:
        from rpctest.progress import current

        assert address is not None  # exactly one target, checked above
        if credentials:
            adapter.check_credentials(credentials)
        with current().task("contracts export", f"asking {address} for its operations (timeout {timeout:g} s per reply)"):
            exported = adapter.host.export_from_address(address, service, timeout=timeout, credentials=credentials or None)
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
