"""Check consumer contracts against provider contracts: the heart of ``rpctest contracts verify``.

Each check is a plain function over one recorded interaction and the provider's operation (in the
manner of Schemathesis' checks), returning findings. A finding says where (the consumer contract file,
the interaction, a JSON pointer into the file), what was expected and what was there, and, when
nothing matched, what came nearest, so a red CI run can be fixed without opening the files.

The same function runs from the CLI and from a provider's own pytest suite::

    from rpctest.contracts import verify_paths
    report = verify_paths(["contracts/"])
    assert report.ok, report.render()
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from rpctest.contracts.format import (
    Contract,
    ConsumerContract,
    ContractError,
    OperationSpec,
    ProviderContract,
    RecordedInteraction,
    gc_paused,
    load_many,
)
from rpctest.matchers import describe_rule
from rpctest.model import ErrorKind
from rpctest.schema.validate import CompiledSchema, compile_schema

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.report.model import RunReport

__all__ = ["Finding", "Report", "verify", "verify_paths", "CHECKS", "Context", "standard_error_codes"]

ERROR = "error"
WARNING = "warning"


@dataclass
class Finding:
    """One way a consumer's expectation and a provider's declaration disagree."""

    check: str
    message: str
    consumer: str | None = None
    stack: str | None = None
    service: str | None = None
    operation: str | None = None
    interaction: int | None = None
    contract: Path | None = None
    provider: Path | None = None
    pointer: str | None = None
    expected: str | None = None
    actual: str | None = None
    nearest: str | None = None
    tests: list[str] = field(default_factory=list)
    severity: str = ERROR

    @property
    def where(self) -> str:
        parts = [str(self.contract) if self.contract else f"{self.consumer}->{self.stack}:{self.service}"]
        if self.interaction is not None:
            parts.append(f"interaction #{self.interaction} ({self.operation})")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = {key: value for key, value in self.__dict__.items() if value not in (None, [])}
        for key in ("contract", "provider"):
            if key in data:
                data[key] = str(data[key])
        return data


class Verdict:
    """What a report of findings decides, the same for every command that writes one (verify, diff):
    errors fail the run (exit status 1), warnings are reported and pass."""

    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


@dataclass(frozen=True)
class Replayed:
    """What a live verification replayed: its interactions, their consumer contracts, the provider."""

    interactions: int
    consumer_contracts: int
    provider: str


@dataclass
class Report(Verdict):
    """Everything one verification found, and what it looked at."""

    findings: list[Finding] = field(default_factory=list)
    interactions: int = 0
    consumers: list[ConsumerContract] = field(default_factory=list)
    providers: list[ProviderContract] = field(default_factory=list)
    #: the error codes live verification saw per operation (``stack:service.operation`` -> codes),
    #: for the coverage matrix of ``rpctest report --html``
    observed: dict[str, list[str]] = field(default_factory=dict)
    #: what ``--live`` replayed, when it ran: the interactions and consumer contracts of one provider
    #: (``stack:service``), fewer than the static checks looked at
    replayed: Replayed | None = None

    def summary(self) -> str:
        warnings = len(self.findings) - len(self.errors)
        tail = f", {warnings} warning(s)" if warnings else ""
        verdict = "passed" if self.ok else "FAILED"
        live = ""
        if self.replayed is not None:
            live = (f"; replayed {self.replayed.interactions} interaction(s) of {self.replayed.consumer_contracts} consumer "
                    f"contract(s) against the live provider {self.replayed.provider}")
        return (
            f"rpctest contracts verify {verdict}: {len(self.errors)} finding(s){tail} in {self.interactions} "
            f"interaction(s) of {len(self.consumers)} consumer contract(s) against {len(self.providers)} provider contract(s){live}"
        )

    def add_live(self, live: "Report", provider: str) -> None:
        """Take in the findings of a live verification of ``provider``, and count what it replayed."""
        self.findings.extend(live.findings)
        self.observed.update(live.observed)
        self.replayed = Replayed(live.interactions, len(live.consumers), provider)

    suite_name = "rpctest.contracts"

    def summary_data(self) -> dict[str, Any]:
        """The ``summary`` object of the JSON report."""
        return {
            "findings": len(self.errors),
            "warnings": len(self.findings) - len(self.errors),
            "interactions": self.interactions,
            "consumer_contracts": [str(c.path) if c.path else f"{c.consumer}:{c.stack}:{c.service}" for c in self.consumers],
            "provider_contracts": [str(p.path) if p.path else f"{p.stack}:{p.service}" for p in self.providers],
            **({"replayed": dataclasses.asdict(self.replayed)} if self.replayed is not None else {}),
        }

    def cases(self) -> list[tuple[str, str]]:
        """JUnit test cases: one per interaction, so a green one shows as passed (one per contract
        whose findings are about the whole file)."""
        cases: list[tuple[str, str]] = []
        contract_level = {self.case_of(f) for f in self.findings if f.interaction is None}
        for consumer in self.consumers:
            classname = f"{consumer.consumer}.{consumer.stack}.{consumer.service}"
            if (classname, "(contract)") in contract_level:
                cases.append((classname, "(contract)"))
                continue
            cases.extend((classname, f"#{i} {item.operation}") for i, item in enumerate(consumer.interactions))
        return cases

    def case_of(self, finding: Finding) -> tuple[str, str]:
        classname = f"{finding.consumer}.{finding.stack}.{finding.service}"
        if finding.interaction is None:
            return (classname, "(contract)")
        return (classname, f"#{finding.interaction} {finding.operation}")

    def run_report(self) -> "RunReport":
        """This report as the neutral model every format is written from."""
        from rpctest.contracts.report import run_report

        return run_report(self, "verify")

    def render(self, fmt: str = "text") -> str:
        from rpctest.report import render

        return render(self.run_report(), fmt)


# -- what each stack produces by itself -----------------------------------------------------------


def standard_error_codes(stack: str) -> frozenset[str | int]:
    """Codes the stack itself can answer for any operation (validation, server errors, ...)."""
    from rpctest.exceptions import ConfigError
    from rpctest.stacks import get_adapter

    try:
        return get_adapter(stack).standard_error_codes
    except ConfigError:
        return frozenset()


# -- the checks -------------------------------------------------------------------------------------


@dataclass
class Context:
    """What a check sees: one interaction, the operation it calls, compiled schemas, where it lives."""

    consumer: ConsumerContract
    provider: ProviderContract
    index: int
    interaction: RecordedInteraction
    operation: OperationSpec
    request_schema: CompiledSchema
    response_schema: CompiledSchema
    allowed_codes: frozenset[str | int]
    #: where each of ``interaction.errors`` is in the file, when a recorded reply option says them
    #: (a Kyoukai success recorded with ``"meta": {"status": 422}`` is checked as the error 422)
    error_pointers: tuple[str, ...] = ()

    def finding(self, check: str, message: str, *, pointer: str | None = None, **extra: Any) -> Finding:
        base = f"/interactions/{self.index}"
        return Finding(
            check=check,
            message=message,
            consumer=self.consumer.consumer,
            stack=self.consumer.stack,
            service=self.consumer.service,
            operation=self.interaction.operation,
            interaction=self.index,
            contract=self.consumer.path,
            provider=self.provider.path,
            pointer=base + (pointer or ""),
            tests=list(self.interaction.tests),
            **extra,
        )


def check_request(ctx: Context) -> Iterator[Finding]:
    """The consumer's request must be one the provider accepts.

    Unless the consumer stubbed a caller error for it: then it tests how it handles the provider's
    rejection of a bad request, and a request the provider's schema refuses is the consistent case
    (the stubbed code itself is still checked against the provider's codes).
    """
    if any(error.kind is ErrorKind.CALLER_ERROR for error in (*ctx.interaction.errors, *ctx.interaction.job_errors)):
        return
    for violation in ctx.request_schema.violations(ctx.interaction.request):
        yield ctx.finding(
            "request_schema",
            f"request {violation.message}",
            pointer="/request" + violation.pointer,
            expected=violation.expected,
            actual=violation.actual,
        )


def check_response(ctx: Context) -> Iterator[Finding]:
    """A stubbed success body must be one the provider can send."""
    if not ctx.interaction.ok:
        return
    for violation in ctx.response_schema.violations(ctx.interaction.body):
        yield ctx.finding(
            "response_schema",
            f"stubbed response body {violation.message}",
            pointer="/response/body" + violation.pointer,
            expected=violation.expected,
            actual=violation.actual,
        )


def check_error_codes(ctx: Context) -> Iterator[Finding]:
    """A stubbed error must be one the provider can produce: its declared codes or the stack's own."""
    for key, errors in (("errors", ctx.interaction.errors), ("job_errors", ctx.interaction.job_errors)):
        for position, error in enumerate(errors):
            if error.code in ctx.allowed_codes or ctx.operation.errors_open:
                continue
            pointer = ctx.error_pointers[position] if key == "errors" and ctx.error_pointers else f"/response/{key}/{position}/code"
            allowed = sorted(map(str, ctx.allowed_codes))
            close = difflib.get_close_matches(str(error.code), allowed, n=1)
            yield ctx.finding(
                "error_code",
                f"stubbed error code {error.code!r} is not one {ctx.provider.service}.{ctx.interaction.operation} "
                f"can produce",
                pointer=pointer,
                expected="one of " + ", ".join(allowed),
                actual=repr(error.code),
                nearest=close[0] if close else None,
            )


def check_error_fields(ctx: Context) -> Iterator[Finding]:
    """A caller error naming a field should name a field the request can have (a warning: stacks
    also name fields that are not in the schema, e.g. PySOA's ``action``)."""
    for position, error in enumerate(ctx.interaction.errors):
        if error.field is None or error.kind is not ErrorKind.CALLER_ERROR:
            continue
        if schema_has_path(ctx.operation.request, field_path(error.field)):
            continue
        known = sorted(_top_level_fields(ctx.operation.request))
        close = difflib.get_close_matches(error.field, known, n=1)
        yield ctx.finding(
            "error_field",
            f"stubbed error {error.code!r} names field {error.field!r}, which the request schema does not have",
            pointer=f"/response/errors/{position}/field",
            expected="a field of the request: " + (", ".join(known) or "(none declared)"),
            actual=repr(error.field),
            nearest=close[0] if close else None,
            severity=WARNING,
        )


def check_matchers(ctx: Context) -> Iterator[Finding]:
    """Each rule the consumer recorded must be one the provider's schema can keep: a rule
    ``integer`` on a field the provider declares a string, ``regex`` on a boolean field, or
    ``each_like(min=3)`` on an array of at most 2 items is a promise the provider never made (an
    error). A response field the provider declares with more types than the rule accepts (a
    ``number`` where the consumer relies on ``integer()``, a nullable string under ``regex()``) may
    break the rule, not must: a warning."""
    for side, schema, prefixes in (
        ("request", ctx.operation.request, ("",)),
        ("response", ctx.operation.response, ("/body", "/items")),
    ):
        for pointer, rule in sorted(ctx.interaction.rules(side).items()):
            prefix = next((p for p in prefixes if p == "" or pointer == p or pointer.startswith(p + "/")), None)
            if prefix is None:
                continue  # an error's fields: the provider contract has no schema for them
            parts = [_unescape(part) for part in pointer[len(prefix):].split("/")[1:]]
            conflict = _rule_conflicts(rule, schema_at(schema, parts), strict=side == "response")
            if conflict is None:
                continue
            problem, severity = conflict
            yield ctx.finding(
                "matcher_schema",
                f"the consumer's rule {describe_rule(rule)} at {side}{pointer} "
                f"{'cannot hold' if severity == ERROR else 'may not hold'}: the provider's schema {problem}",
                pointer=f"/{side}{pointer}",
                expected=f"a schema that allows {describe_rule(rule)}" if severity == ERROR else f"only values {describe_rule(rule)} accepts",
                actual=problem,
                severity=severity,
            )


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def schema_at(schema: Any, parts: Sequence[str]) -> list[Mapping[str, Any]]:
    """The schemas that may describe the value at ``parts`` (``*``: every item); none where the
    schema says nothing there (no rule can conflict with what is not declared)."""
    if not isinstance(schema, Mapping):
        return []
    if not parts:
        alternatives = [s for s in schema.get("anyOf", []) if isinstance(s, Mapping)]
        return [schema] if not alternatives else [s2 for s in alternatives for s2 in schema_at(s, parts)]
    found: list[Mapping[str, Any]] = []
    for alternative in schema.get("anyOf", []):
        found.extend(schema_at(alternative, parts))
    head, rest = parts[0], parts[1:]
    properties = schema.get("properties", {})
    if head in properties:
        found.extend(schema_at(properties[head], rest))
    elif head == "*" or head.isdigit():
        prefix = schema.get("prefixItems", [])
        if head.isdigit() and int(head) < len(prefix):
            found.extend(schema_at(prefix[int(head)], rest))
        elif isinstance(schema.get("items"), Mapping):
            found.extend(schema_at(schema["items"], rest))
    elif isinstance(schema.get("additionalProperties"), Mapping):
        found.extend(schema_at(schema["additionalProperties"], rest))
    return found


#: which declared JSON types can hold a value each rule accepts
_RULE_TYPES = {
    "integer": {"integer", "number"},
    "decimal": {"number"},
    "regex": {"string", "number", "integer"},
    "datetime": {"string"}, "timestamp": {"string"}, "date": {"string"}, "time": {"string"},
}
#: the declared JSON types all of whose values a rule may accept (``number`` holds 1.5: no integer)
_RULE_COVERS = {**_RULE_TYPES, "integer": {"integer"}}


def _rule_conflicts(rule: Mapping[str, Any], schemas: list[Mapping[str, Any]], *, strict: bool) -> tuple[str, str] | None:
    """Why the schemas that may describe the ruled value conflict with the rule, and how badly:
    (problem, ERROR) when none can hold a value the rule accepts; with ``strict`` (a response, where
    the provider decides the value), (problem, WARNING) when one may also send values the rule
    refuses. None when nothing is declared there, or nothing conflicts."""
    if not schemas:
        return None
    problems = [_conflict(rule, schema) for schema in schemas]
    if all(problems):
        return problems[0], ERROR  # type: ignore[return-value]
    if strict:
        loose = next((p for p in map(lambda schema: _loose(rule, schema), schemas) if p), None)
        if loose:
            return loose, WARNING
    return None


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    return {declared} if isinstance(declared, str) else set(declared or ())


def _conflict(rule: Mapping[str, Any], schema: Mapping[str, Any]) -> str | None:
    if rule.get("combine") == "OR":
        subs = [_conflict(sub, schema) for sub in rule.get("matchers", [])]
        return None if any(sub is None for sub in subs) else subs[0]
    types = _types(schema)
    wanted = _RULE_TYPES.get(rule.get("match", ""))
    if types and wanted and not types & wanted:
        return f"declares {'/'.join(sorted(types))}"
    if rule.get("match") == "type" and "min" in rule and isinstance(schema.get("maxItems"), int) and schema["maxItems"] < rule["min"]:
        return f"allows at most {schema['maxItems']} item(s)"
    if rule.get("match") == "type" and "max" in rule and isinstance(schema.get("minItems"), int) and schema["minItems"] > rule["max"]:
        return f"requires at least {schema['minItems']} item(s)"
    return None


def _loose(rule: Mapping[str, Any], schema: Mapping[str, Any]) -> str | None:
    """The types a schema allows beyond what the rule accepts (a response may send them)."""
    if rule.get("combine") == "OR":
        covered = set().union(*(_RULE_COVERS.get(sub.get("match", ""), {"*"}) for sub in rule.get("matchers", [])))
    else:
        covered = _RULE_COVERS.get(rule.get("match", ""), {"*"})
    extra = _types(schema) - covered
    if "*" in covered or not extra:
        return None
    return f"also declares {'/'.join(sorted(extra))}"


#: the checks run on every interaction, in order; extend or replace it to change what verify checks
CHECKS: list[Callable[[Context], Iterable[Finding]]] = [
    check_request, check_response, check_error_codes, check_error_fields, check_matchers,
]


def field_path(name: str) -> list[str]:
    """A stack's field name as path segments (PySOA spells nested fields ``a.b.0``)."""
    return [part for part in name.split(".") if part != ""]


def schema_has_path(schema: Any, parts: Sequence[str]) -> bool:
    if not parts:
        return True
    if not isinstance(schema, Mapping):
        return schema is not False
    head, rest = parts[0], parts[1:]
    for alternative in schema.get("anyOf", []):
        if schema_has_path(alternative, parts):
            return True
    properties = schema.get("properties", {})
    if head in properties:
        return schema_has_path(properties[head], rest)
    if head.isdigit():
        prefix = schema.get("prefixItems", [])
        if int(head) < len(prefix):
            return schema_has_path(prefix[int(head)], rest)
        if "items" in schema:
            return schema_has_path(schema["items"], rest)
    extra = schema.get("additionalProperties", True if not properties and "type" not in schema else False)
    return bool(extra) and schema_has_path(extra if isinstance(extra, Mapping) else {}, rest)


def _top_level_fields(schema: Any) -> set[str]:
    return set(schema.get("properties", {})) if isinstance(schema, Mapping) else set()


# -- the driver ---------------------------------------------------------------------------------


class _Compiled:
    """Operation schemas compiled once per run, however many interactions use them."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[CompiledSchema, CompiledSchema]] = {}

    def get(self, provider: ProviderContract, op: OperationSpec) -> tuple[CompiledSchema, CompiledSchema]:
        key = id(op)
        if key not in self._cache:
            try:
                self._cache[key] = (compile_schema(op.request), compile_schema(op.response))
            except Exception as exc:  # jsonschema.SchemaError: the provider file is broken
                raise ContractError(provider.path, f"operation {op.name!r} has an invalid schema: {exc}") from None
        return self._cache[key]

    def routed(self, provider: ProviderContract, op: OperationSpec, request: Any) -> tuple[CompiledSchema, frozenset[str | int]] | None:
        """The reply schema and codes of every operation that answers ``request`` when the stack routes
        by content and ``op`` is not the only one (:meth:`StackAdapter.route_request`); else None."""
        from rpctest.stacks import STACKS, get_adapter

        if provider.stack not in STACKS:
            return None
        routing = get_adapter(provider.stack).route_request(request, provider)
        if routing is None or op.name not in routing.operations or len(routing.operations) < 2:
            return None
        return compile_schema(routing.response if routing.response is not None else {}), frozenset(routing.errors)


def _index_providers(providers: Iterable[ProviderContract]) -> dict[tuple[str, str], ProviderContract]:
    index: dict[tuple[str, str], ProviderContract] = {}
    for provider in providers:
        if provider.key in index:
            raise ContractError(
                provider.path,
                f"a second provider contract for {provider.stack}:{provider.service} (the first is {index[provider.key].path}); "
                f"keep one per service",
            )
        index[provider.key] = provider
    return index


def verify(contracts: Iterable[Contract], *, checks: Sequence[Callable[[Context], Iterable[Finding]]] | None = None) -> Report:
    """Verify every consumer contract in ``contracts`` against the provider contracts among them."""
    contracts = list(contracts)
    consumers = [c for c in contracts if isinstance(c, ConsumerContract)]
    providers = [c for c in contracts if isinstance(c, ProviderContract)]
    report = Report(consumers=consumers, providers=providers)
    with gc_paused():
        _verify_all(report, _index_providers(providers), _Compiled(), checks or CHECKS)
    return report


def _verify_all(
    report: Report,
    index: Mapping[tuple[str, str], ProviderContract],
    compiled: _Compiled,
    checks: Sequence[Callable[[Context], Iterable[Finding]]],
) -> None:
    for consumer in report.consumers:
        provider = index.get(consumer.key)
        report.interactions += len(consumer.interactions)
        if provider is None:
            report.findings.append(_unknown_service(consumer, index))
            continue
        try:
            report.findings.extend(_verify_consumer(consumer, provider, compiled, checks))
        except RecursionError:  # loaded files nest at most MAX_DEPTH levels; contracts built in code may not
            raise ContractError(
                consumer.path, f"a request, body or schema is nested too deeply to verify (against {provider.path or provider.service})"
            ) from None


def _verify_consumer(
    consumer: ConsumerContract,
    provider: ProviderContract,
    compiled: _Compiled,
    checks: Sequence[Callable[[Context], Iterable[Finding]]],
) -> Iterator[Finding]:
    standard = standard_error_codes(provider.stack)
    resolve = _operation_resolver(provider.stack)
    adapter = _adapter(provider.stack)
    for index, interaction in enumerate(consumer.interactions):
        op = provider.operations.get(interaction.operation)
        if op is None and resolve is not None:
            # a stack whose stubs may name an operation otherwise (Kyoukai: "GET /items/5" is the
            # route "GET /items/<int:item_id>"): check the request as that operation receives it
            found = resolve(provider, interaction.operation, interaction.request)
            if found is not None:
                op = provider.operations[found[0]]
                interaction = dataclasses.replace(interaction, request=found[1])
        if op is None:
            yield _unknown_operation(consumer, provider, index, interaction)
            continue
        pointers: tuple[str, ...] = ()
        if interaction.meta and interaction.ok and adapter is not None:
            said = adapter.errors_in_meta(interaction.meta)
            if said:
                interaction = dataclasses.replace(interaction, errors=[error for _, error in said])
                pointers = tuple(f"/response/meta/{name}" for name, _ in said)
        request_schema, response_schema = compiled.get(provider, op)
        allowed = frozenset(op.errors) | standard
        routed = compiled.routed(provider, op, interaction.request)
        if routed is not None:  # several operations answer this request (AsyncAPY: one handler per group)
            response_schema, allowed = routed[0], allowed | routed[1]
        ctx = Context(
            consumer=consumer,
            provider=provider,
            index=index,
            interaction=interaction,
            operation=op,
            request_schema=request_schema,
            response_schema=response_schema,
            allowed_codes=allowed,
            error_pointers=pointers,
        )
        for check in checks:
            yield from check(ctx)


def _operation_resolver(stack: str) -> Any:
    """The stack adapter's ``contract_operation`` (None for a stack rpctest does not know)."""
    adapter = _adapter(stack)
    return adapter.contract_operation if adapter is not None else None


def _adapter(stack: str) -> Any:
    """The stack's adapter, None for a stack rpctest does not know (its contracts verify by schema alone)."""
    from rpctest.exceptions import ConfigError
    from rpctest.stacks import get_adapter

    try:
        return get_adapter(stack)
    except ConfigError:
        return None


def _unknown_service(consumer: ConsumerContract, index: Mapping[tuple[str, str], ProviderContract]) -> Finding:
    known = [f"{stack}:{service}" for stack, service in sorted(index)]
    close = difflib.get_close_matches(f"{consumer.stack}:{consumer.service}", known, n=1, cutoff=0.5)
    return Finding(
        check="unknown_service",
        message=f"no provider contract for {consumer.stack}:{consumer.service}"
        + ("" if known else " (no provider contracts were given)"),
        consumer=consumer.consumer,
        stack=consumer.stack,
        service=consumer.service,
        contract=consumer.path,
        expected="a provider contract for this stack and service (rpctest contracts export)",
        actual="known providers: " + (", ".join(known) or "none"),
        nearest=close[0] if close else None,
    )


def _unknown_operation(consumer: ConsumerContract, provider: ProviderContract, index: int, item: RecordedInteraction) -> Finding:
    known = sorted(provider.operations)
    close = difflib.get_close_matches(item.operation, known, n=1, cutoff=0.5)
    return Finding(
        check="unknown_operation",
        message=f"{provider.service} has no operation {item.operation!r}",
        consumer=consumer.consumer,
        stack=consumer.stack,
        service=consumer.service,
        operation=item.operation,
        interaction=index,
        contract=consumer.path,
        provider=provider.path,
        pointer=f"/interactions/{index}/operation",
        expected="one of " + ", ".join(known),
        actual=repr(item.operation),
        nearest=close[0] if close else None,
        tests=list(item.tests),
    )


def verify_paths(paths: Iterable[Path | str], **options: Any) -> Report:
    """Load every contract under ``paths`` and :func:`verify` them (a bad file raises ContractError)."""
    return verify(load_many(paths), **options)
