"""Consumer-driven contracts for RPC: recorded from stubs, exported from providers, verified in CI.

The public surface is small: :func:`verify_paths` / :func:`verify` (what ``rpctest contracts
verify`` runs, importable into a provider's own test suite), :func:`verify_live`, :func:`export`,
:func:`load` / :func:`write`, and :func:`use_providers` for drift checks at stub time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rpctest._lazy import lazy_getattr

if TYPE_CHECKING:  # pragma: no cover - what __getattr__ below loads, named for type checkers
    from rpctest.contracts.drift import ContractDrift, use_providers
    from rpctest.contracts.export import export
    from rpctest.contracts.format import ConsumerContract, ContractError, ProviderContract, load, load_many, write
    from rpctest.contracts.live import verify_live
    from rpctest.contracts.verify import Finding, Report, verify, verify_paths

__all__ = [
    "ContractError",
    "ConsumerContract",
    "ProviderContract",
    "load",
    "load_many",
    "write",
    "verify",
    "verify_paths",
    "verify_live",
    "export",
    "use_providers",
    "ContractDrift",
    "Report",
    "Finding",
]

_LAZY = {
    "ContractError": "rpctest.contracts.format",
    "ConsumerContract": "rpctest.contracts.format",
    "ProviderContract": "rpctest.contracts.format",
    "load": "rpctest.contracts.format",
    "load_many": "rpctest.contracts.format",
    "write": "rpctest.contracts.format",
    "verify": "rpctest.contracts.verify",
    "verify_paths": "rpctest.contracts.verify",
    "Report": "rpctest.contracts.verify",
    "Finding": "rpctest.contracts.verify",
    "verify_live": "rpctest.contracts.live",
    "export": "rpctest.contracts.export",
    "use_providers": "rpctest.contracts.drift",
    "ContractDrift": "rpctest.contracts.drift",
}


if not TYPE_CHECKING:  # hidden from type checkers: rpctest/_lazy.py says why
    __getattr__ = lazy_getattr(__name__, _LAZY)
