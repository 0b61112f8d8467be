"""What ``rpctest report --html`` shows: for each provider operation, who calls it and which error
codes each side knows of.

Per operation of each provider contract: the consumers that call it (with the tests that recorded
the calls), and per error code whether the provider declares it (or the stack answers it by itself),
which consumers stub it, whether the last stored fuzz run got it from the provider and whether the
last live verification saw it. A source with no stored run for the service is *unknown*, which is
not the same as *never seen*. Calls of operations the provider does not declare get rows of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping

from rpctest.report.state import StoredRun

__all__ = ["CodeRow", "OperationRow", "ServiceCoverage", "Coverage", "coverage"]

#: how a code stands with the provider: declared, answered by the stack itself, or neither
Declared = Literal["declared", "stack", "open", "no"]


@dataclass
class CodeRow:
    """One error code of one operation, as each source knows it. ``fuzzed`` and ``live`` are None
    when no stored run of that kind covers the service."""

    code: str
    declared: Declared
    stubbed_by: list[str] = field(default_factory=list)
    fuzzed: bool | None = None
    live: bool | None = None

    @property
    def allowed(self) -> bool:
        return self.declared != "no"


@dataclass
class OperationRow:
    """One operation: its callers (consumer -> test ids) and its codes."""

    name: str
    declared: bool
    consumers: dict[str, list[str]] = field(default_factory=dict)
    codes: list[CodeRow] = field(default_factory=list)
    interactions: int = 0


@dataclass
class ServiceCoverage:
    stack: str
    service: str
    provider: str | None
    operations: list[OperationRow] = field(default_factory=list)
    fuzzed: bool = False
    live: bool = False

    @property
    def key(self) -> str:
        return f"{self.stack}:{self.service}"


@dataclass
class Coverage:
    services: list[ServiceCoverage]
    runs: dict[str, StoredRun | None]
    #: consumer contracts of services no provider contract describes (``stack:service`` -> consumers)
    orphans: dict[str, list[str]] = field(default_factory=dict)


def _observed(run: StoredRun | None, prefix: str) -> dict[str, list[str]] | None:
    """The codes a stored run saw per operation of the service ``prefix`` (``stack:service.``), or
    None when the run covers no operation of it."""
    if run is None:
        return None
    observed = run.get("observed")
    if not isinstance(observed, Mapping):
        return None
    found = {key[len(prefix):]: [str(c) for c in codes] for key, codes in observed.items()
             if isinstance(key, str) and key.startswith(prefix) and isinstance(codes, list)}
    return found or None


def _standard_codes(stack: str) -> frozenset[str]:
    from rpctest.contracts.verify import standard_error_codes

    return frozenset(str(code) for code in standard_error_codes(stack))


def coverage(contracts: Iterable[Any], runs: Mapping[str, StoredRun | None]) -> Coverage:
    """The coverage of the provider contracts among ``contracts`` by the consumer contracts among
    them and by the stored ``runs`` (command -> stored run JSON, or None)."""
    from rpctest.contracts.format import ConsumerContract, ProviderContract

    contracts = list(contracts)
    providers = sorted((c for c in contracts if isinstance(c, ProviderContract)), key=lambda c: c.key)
    consumers = [c for c in contracts if isinstance(c, ConsumerContract)]
    described = {p.key for p in providers}
    result = Coverage([], dict(runs))
    for consumer in consumers:
        if consumer.key not in described:
            result.orphans.setdefault(f"{consumer.stack}:{consumer.service}", []).append(consumer.consumer)
    for provider in providers:
        prefix = f"{provider.stack}:{provider.service}."
        fuzzed, live = _observed(runs.get("fuzz"), prefix), _observed(runs.get("verify"), prefix)
        service = ServiceCoverage(provider.stack, provider.service, str(provider.path) if provider.path else None,
                                  fuzzed=fuzzed is not None, live=live is not None)
        standard = _standard_codes(provider.stack)
        rows: dict[str, OperationRow] = {name: OperationRow(name, True) for name in sorted(provider.operations)}
        stubbed: dict[str, dict[str, list[str]]] = {}
        for consumer in consumers:
            if consumer.key != provider.key:
                continue
            for item in consumer.interactions:
                row = rows.setdefault(item.operation, OperationRow(item.operation, False))
                row.interactions += 1
                tests = row.consumers.setdefault(consumer.consumer, [])
                tests.extend(test for test in item.tests if test not in tests)
                for error in (*item.errors, *item.job_errors):
                    who = stubbed.setdefault(item.operation, {}).setdefault(str(error.code), [])
                    if consumer.consumer not in who:
                        who.append(consumer.consumer)
        for name, row in rows.items():
            spec = provider.operations.get(name)
            declared = {str(code) for code in spec.errors} if spec is not None else set()
            open_codes = bool(getattr(spec, "errors_open", False))
            got_fuzz = set((fuzzed or {}).get(name, []))
            got_live = set((live or {}).get(name, []))
            codes = sorted(declared | set(stubbed.get(name, {})) | got_fuzz | got_live)
            for code in codes:
                status: Declared = ("declared" if code in declared else "stack" if code in standard
                                    else "open" if open_codes else "no")
                row.codes.append(CodeRow(
                    code, status, stubbed.get(name, {}).get(code, []),
                    fuzzed=(code in got_fuzz) if fuzzed is not None and name in fuzzed else None,
                    live=(code in got_live) if live is not None and name in live else None,
                ))
            service.operations.append(row)
        result.services.append(service)
    return result
