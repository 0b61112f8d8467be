"""Breaking changes between two versions of a provider contract: ``rpctest contracts diff``.

A provider learns before it ships whether a schema change breaks its consumers. Every difference
between the OLD and the NEW contract of one service is a :class:`Change`, found by one of the rules
below (plain functions, like the fuzz oracle's checks) and classified by the direction that matters:
a request schema that accepts less breaks the callers that sent what it refuses, a response schema
that may send more (or no longer promises a field) breaks the callers that read it.

With consumer contracts the verdict becomes precise: a breaking change that a recorded interaction
relies on is an error naming the consumer, the interaction and its tests; one no consumer uses is a
warning. Neutral: no stack library is imported here; a stack speaks through its export only.
"""

from __future__ import annotations

import functools
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from rpctest.contracts.format import ConsumerContract, ContractError, OperationSpec, ProviderContract, RecordedInteraction, loads, parse
from rpctest.contracts.verify import ERROR, WARNING, Finding, Verdict, standard_error_codes
from rpctest.exceptions import ConfigError

__all__ = ["Change", "DiffReport", "diff", "diff_operations", "load_provider", "RULES", "INFO"]

INFO = "info"

#: a JSON Schema of the request or response side, as the contract holds it
Schema = Any
#: where in a body: keys of objects, ``*`` for every item of an array
Path_ = tuple[str, ...]


@dataclass
class Change:
    """One difference between OLD and NEW, and the rule that classified it."""

    rule: str
    operation: str
    breaking: bool
    message: str
    #: ``operation`` (the whole operation), ``request``, ``response``, ``errors`` or ``route``
    side: str = "operation"
    path: Path_ = ()
    old: Any = None
    new: Any = None
    #: the NEW and OLD schema at ``path`` (a narrowed request field): only a recorded value OLD accepts
    #: and NEW refuses is affected (one it still accepts is not, nor one OLD refused already: a consumer
    #: that recorded the provider's rejection of it)
    new_schema: Schema = None
    old_schema: Schema = None
    #: both compiled, once, when the first recorded value is checked
    compiled: Any = field(default=None, repr=False, compare=False)

    @property
    def pointer(self) -> str:
        """A JSON pointer into the operation: ``/request/user/name``, ``/response/items/*/id``."""
        parts = [] if self.side == "operation" else [self.side]
        return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in (*parts, *self.path)) if parts or self.path else ""


class DiffFinding(Finding):
    """A :class:`Change` as a report finding (rendered by the same renderers as ``verify``)."""

    value_labels = ("old", "new")

    def __init__(self, change: Change, severity: str, old_label: str, new_label: str, **extra: Any) -> None:
        super().__init__(
            check=change.rule, message=change.message, operation=change.operation, pointer=change.pointer or None,
            expected=_show(change.old), actual=_show(change.new), severity=severity, **extra,
        )
        self.change = change
        self.labels = (old_label, new_label)

    def to_dict(self) -> dict[str, Any]:
        data = {key: value for key, value in super().to_dict().items() if key not in ("change", "labels")}
        data["breaking"] = self.change.breaking
        return data

    @property
    def where(self) -> str:
        return f"{self.stack}:{self.service} operation {self.operation!r} ({self.labels[0]} -> {self.labels[1]})"


def _show(value: Any) -> str | None:
    if value is None:
        return None
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:197] + "..."


# -- schema rules --------------------------------------------------------------------------------------
# Each compares one keyword of the OLD and NEW schema at one place and says whether NEW accepts less
# ("narrowed"), more ("widened") or neither in a way that can be ordered ("changed": both).

NARROWED, WIDENED, CHANGED = "narrowed", "widened", "changed"

_TYPE_ORDER = {"integer": {"integer"}, "number": {"integer", "number"}}


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    names = [declared] if isinstance(declared, str) else list(declared)
    return set().union(*(_TYPE_ORDER.get(name, {name}) for name in names))


def rule_type(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, str] | None:
    """``type``: a subset of the old types (``number`` -> ``integer``) narrows, a superset widens."""
    before, after = _types(old), _types(new)
    if before == after:
        return None
    if after is None:
        return ("type", WIDENED)
    if before is None or after < before:
        return ("type", NARROWED)
    return ("type", WIDENED if after > before else CHANGED)


def _bound(key: str, lower: bool) -> Callable[[Mapping[str, Any], Mapping[str, Any]], "tuple[str, str] | None"]:
    def rule(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, str] | None:
        before, after = old.get(key), new.get(key)
        if before == after or isinstance(before, bool) or isinstance(after, bool):
            return None
        if after is None:
            return (key, WIDENED)
        if before is None:
            return (key, NARROWED)
        tighter = after > before if lower else after < before
        return (key, NARROWED if tighter else WIDENED)

    rule.__name__ = f"rule_{key}"
    rule.__doc__ = f"``{key}``: a {'higher' if lower else 'lower'} bound (or a new one) narrows, a looser or removed one widens."
    return rule


def rule_enum(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, str] | None:
    """``enum`` / ``const``: fewer allowed values narrow, more widen."""
    def allowed(schema: Mapping[str, Any]) -> set[str] | None:
        if "const" in schema:
            return {json.dumps(schema["const"], sort_keys=True)}
        if "enum" in schema:
            return {json.dumps(v, sort_keys=True) for v in schema["enum"]}
        return None

    before, after = allowed(old), allowed(new)
    if before == after:
        return None
    if after is None:
        return ("enum", WIDENED)
    if before is None or after < before:
        return ("enum", NARROWED)
    return ("enum", WIDENED if after > before else CHANGED)


def _exact(key: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], "tuple[str, str] | None"]:
    def rule(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, str] | None:
        before, after = old.get(key), new.get(key)
        if before == after:
            return None
        return (key, WIDENED if after is None else NARROWED if before is None else CHANGED)

    rule.__name__ = f"rule_{key}"
    rule.__doc__ = f"``{key}``: one added narrows, one removed widens, one replaced may do both."
    return rule


#: the keyword rules, each ``(old, new) -> (keyword, direction) | None``
KEYWORD_RULES: list[Callable[[Mapping[str, Any], Mapping[str, Any]], "tuple[str, str] | None"]] = [
    rule_type,
    *(_bound(key, lower=True) for key in ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")),
    *(_bound(key, lower=False) for key in ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "multipleOf")),
    rule_enum,
    _exact("pattern"),
    _exact("format"),
    *(_exact(key) for key in ("anyOf", "oneOf", "allOf", "not")),
]

_CATEGORY = {
    "type": "type", "enum": "enum", "pattern": "pattern", "format": "pattern",
    "minimum": "range", "exclusiveMinimum": "range", "maximum": "range", "exclusiveMaximum": "range", "multipleOf": "range",
    "minLength": "length", "maxLength": "length", "minItems": "length", "maxItems": "length",
    "minProperties": "length", "maxProperties": "length",
}


#: keywords the rules above and :func:`compare_schemas` decide; any other that differs is ``*_schema_changed``
_DECIDED = frozenset({*_CATEGORY, "const", "anyOf", "oneOf", "allOf", "not", "properties", "required", "items"})
#: what says nothing about which values are valid
_ANNOTATIONS = frozenset({"description", "title", "examples", "default", "$comment", "deprecated", "readOnly", "writeOnly"})


def rule_other_keywords(op: str, side: str, path: Path_, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    """A validation keyword no rule orders (``prefixItems``, ``uniqueItems``, ``patternProperties``, a
    schema as ``additionalProperties``...) that differs: breaking, since nothing here can say it is not."""
    for key in sorted({*old, *new}):
        if key in _DECIDED or key in _ANNOTATIONS or key.startswith("x-") or old.get(key) == new.get(key):
            continue
        if key == "additionalProperties" and isinstance(old.get(key, True), bool) and isinstance(new.get(key, True), bool):
            continue  # opened or closed: _property_changes says which
        yield Change(f"{side}_schema_changed", op, True, f"{side} {'/'.join(path) or 'body'}: {key} changed", side, path,
                     old=old.get(key), new=new.get(key), new_schema=dict(new) if side == "request" else None,
                     old_schema=dict(old) if side == "request" else None)


def _keyword_changes(op: str, side: str, path: Path_, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    yield from rule_other_keywords(op, side, path, old, new)
    for rule in KEYWORD_RULES:
        found = rule(old, new)
        if found is None:
            continue
        keyword, direction = found
        category = _CATEGORY.get(keyword, "schema")
        breaking = direction == CHANGED or (direction == NARROWED) == (side == "request")
        where = "/".join(path) or "body"
        yield Change(
            rule=f"{side}_{category}_{direction}", operation=op, breaking=breaking, side=side, path=path,
            message=f"{side} {where}: {keyword} {direction}" + (" (breaking)" if breaking else ""),
            old=old.get(keyword) if keyword != "enum" else old.get("enum", old.get("const")),
            new=new.get(keyword) if keyword != "enum" else new.get("enum", new.get("const")),
            new_schema=dict(new) if side == "request" else None,
            old_schema=dict(old) if side == "request" else None,
        )


def _as_schema(schema: Schema) -> dict[str, Any]:
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    return dict(schema) if isinstance(schema, Mapping) else {}


def compare_schemas(op: str, side: str, old: Schema, new: Schema, path: Path_ = ()) -> Iterator[Change]:
    """Every change between two schemas of one side, recursing into properties and items."""
    old, new = _as_schema(old), _as_schema(new)
    if old == new:
        return
    yield from _keyword_changes(op, side, path, old, new)
    yield from _property_changes(op, side, path, old, new)
    if isinstance(old.get("items"), (Mapping, bool)) or isinstance(new.get("items"), (Mapping, bool)):
        yield from compare_schemas(op, side, old.get("items", {}), new.get("items", {}), (*path, "*"))


def _property_changes(op: str, side: str, path: Path_, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    before, after = old.get("properties") or {}, new.get("properties") or {}
    req_before, req_after = set(old.get("required") or ()), set(new.get("required") or ())
    closed_after = new.get("additionalProperties") is False
    closed_before = old.get("additionalProperties") is False
    for name in sorted({*before, *after, *req_before, *req_after}):
        at = (*path, name)
        where = "/".join(at)
        known_before, known_after = name in before or name in req_before, name in after or name in req_after
        if side == "request":
            if name in req_after and name not in req_before:
                yield Change("request_field_required", op, True,
                             f"request field {where} is now required: callers that omit it are refused",
                             side, at, old="optional" if known_before else None, new="required")
            elif name in req_before and name not in req_after and known_after:
                yield Change("request_field_optional", op, False, f"request field {where} is now optional", side, at,
                             old="required", new="optional")
            elif known_after and not known_before:
                yield Change("request_field_added", op, False, f"request field {where} added (optional)", side, at, new=after.get(name))
            if known_before and not known_after:
                yield Change("request_field_removed", op, closed_after,
                             f"request field {where} removed" + (": the schema now refuses callers that send it" if closed_after
                                                                   else " (extra fields are still accepted)"),
                             side, at, old=before.get(name))
        else:
            if known_before and not known_after:
                yield Change("response_field_removed", op, True, f"response field {where} removed: callers that read it break",
                             side, at, old=before.get(name))
            elif name in req_before and name not in req_after:
                yield Change("response_field_optional", op, True,
                             f"response field {where} is no longer always sent: callers that read it break", side, at,
                             old="required", new="optional")
            elif known_after and not known_before:
                yield Change("response_field_added", op, False, f"response field {where} added", side, at, new=after.get(name))
            elif name in req_after and name not in req_before:
                yield Change("response_field_required", op, False, f"response field {where} is now always sent", side, at,
                             old="optional", new="required")
        if name in before and name in after:
            yield from compare_schemas(op, side, before[name], after[name], at)
    if closed_after and not closed_before and side == "request":
        yield Change("request_closed", op, True, f"request {'/'.join(path) or 'body'}: unknown fields are now refused",
                     side, path, old=old.get("additionalProperties"), new=False, new_schema=dict(new), old_schema=dict(old))
    elif closed_before and not closed_after:
        yield Change(f"{side}_opened", op, False, f"{side} {'/'.join(path) or 'body'}: unknown fields now allowed", side, path,
                     old=False, new=new.get("additionalProperties"))


# -- operation rules ----------------------------------------------------------------------------------

#: route keys whose change moves or reshapes the call (Kyoukai: method, path, converters, success status)
BREAKING_ROUTE_KEYS = frozenset({"method", "path", "params", "status"})


def rule_kind(old: OperationSpec, new: OperationSpec, stack: str) -> Iterator[Change]:
    """A call that became a subscription (or back) is answered in a way callers do not expect."""
    if old.kind != new.kind:
        yield Change("kind_changed", old.name, True, f"kind changed from {old.kind} to {new.kind}", old=old.kind, new=new.kind)


_standard_codes = functools.lru_cache(maxsize=None)(standard_error_codes)


def rule_errors(old: OperationSpec, new: OperationSpec, stack: str) -> Iterator[Change]:
    """A new error code is one callers must handle; the stack's own codes are handled already."""
    standard = _standard_codes(stack)
    before = set(old.errors)
    for code in sorted(set(new.errors) - before, key=str):
        if code in standard or old.errors_open:
            continue
        yield Change("error_code_added", old.name, True, f"error code {code!r} added: callers must handle it",
                     "errors", (str(code),), new=code)
    for code in sorted(before - set(new.errors), key=str):
        yield Change("error_code_removed", old.name, False, f"error code {code!r} no longer declared", "errors", (str(code),), old=code)


def rule_route(old: OperationSpec, new: OperationSpec, stack: str) -> Iterator[Change]:
    """The route of an HTTP operation: method, path, converters and success status must stay."""
    before, after = old.route or {}, new.route or {}
    for key in sorted({*before, *after}):
        if before.get(key) != after.get(key):
            breaking = key in BREAKING_ROUTE_KEYS
            yield Change(f"route_{key}_changed", old.name, breaking, f"route {key} changed", "route", (key,),
                         old=before.get(key), new=after.get(key))


def rule_schemas(old: OperationSpec, new: OperationSpec, stack: str) -> Iterator[Change]:
    yield from compare_schemas(old.name, "request", old.request, new.request)
    yield from compare_schemas(old.name, "response", old.response, new.response)


#: the rules over one operation present in both versions
RULES: list[Callable[[OperationSpec, OperationSpec, str], Iterable[Change]]] = [rule_kind, rule_route, rule_errors, rule_schemas]


def _same_shape(old: OperationSpec, new: OperationSpec) -> bool:
    return (old.request, old.response, sorted(map(str, old.errors)), old.kind) == (new.request, new.response, sorted(map(str, new.errors)), new.kind)


def diff_operations(old: ProviderContract, new: ProviderContract) -> list[Change]:
    """Every change from ``old`` to ``new``: operations removed, renamed or added, then each kept one's."""
    changes: list[Change] = []
    removed = [name for name in sorted(old.operations) if name not in new.operations]
    added = [name for name in sorted(new.operations) if name not in old.operations]
    for name in removed:
        twin = next((a for a in added if _same_shape(old.operations[name], new.operations[a])), None)
        if twin is None:
            changes.append(Change("operation_removed", name, True, f"operation {name!r} removed", old=name))
            continue
        added.remove(twin)
        if old.operations[name].route and new.operations[twin].route:  # an HTTP route moved: say how
            moved = list(rule_route(old.operations[name], new.operations[twin], new.stack))
            changes.extend(moved or [Change("operation_renamed", name, True, f"operation {name!r} renamed to {twin!r}", old=name, new=twin)])
        else:
            changes.append(Change("operation_renamed", name, True, f"operation {name!r} renamed to {twin!r}", old=name, new=twin))
    for name in added:
        changes.append(Change("operation_added", name, False, f"operation {name!r} added", new=name))
    for name in sorted(set(old.operations) & set(new.operations)):
        for rule in RULES:
            changes.extend(rule(old.operations[name], new.operations[name], new.stack))
    return changes


# -- which recorded interactions a change breaks --------------------------------------------------------

def _values_at(value: Any, path: Path_) -> Iterator[Any]:
    if not path:
        yield value
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(value, list):
            for item in value:
                yield from _values_at(item, rest)
    elif isinstance(value, dict) and head in value:
        yield from _values_at(value[head], rest)


def _parent_present(value: Any, path: Path_) -> bool:
    return any(True for _ in _values_at(value, path[:-1]))


def affects(change: Change, item: RecordedInteraction) -> bool:
    """Whether the recorded interaction relies on what ``change`` changed."""
    if change.side in ("operation", "route"):
        return True
    if change.side == "errors":
        return True  # the consumer of this operation did not stub the new code: it cannot handle it yet
    if change.side == "request":
        if change.rule == "request_field_required":
            return _parent_present(item.request, change.path) and any(
                True for parent in _values_at(item.request, change.path[:-1])
                if isinstance(parent, dict) and change.path[-1] not in parent
            )
        found = list(_values_at(item.request, change.path))
        if not found:
            return False
        if change.new_schema is None:
            return True
        if change.compiled is None:
            from rpctest.schema.validate import compile_schema

            change.compiled = (compile_schema(change.old_schema or {}), compile_schema(change.new_schema))
        before, after = change.compiled
        return any(before.is_valid(value) and not after.is_valid(value) for value in found)
    # response: the consumer read (stubbed) that part of a success
    return item.ok and any(True for _ in _values_at(item.body, change.path))


# -- the report ------------------------------------------------------------------------------------------


@dataclass
class DiffReport(Verdict):
    """Every change between two provider contracts, as findings ``rpctest.contracts.report`` renders."""

    old: ProviderContract
    new: ProviderContract
    old_label: str
    new_label: str
    findings: list[Finding] = field(default_factory=list)
    consumers: list[ConsumerContract] = field(default_factory=list)

    suite_name = "rpctest.contracts.diff"

    @property
    def interactions(self) -> int:
        return sum(len(c.interactions) for c in self.consumers)

    def summary(self) -> str:
        warnings = sum(1 for f in self.findings if f.severity == WARNING)
        other = len(self.findings) - len(self.errors) - warnings
        verdict = "passed" if self.ok else "FAILED"
        consumers = f", {self.interactions} interaction(s) of {len(self.consumers)} consumer contract(s)" if self.consumers else ""
        return (
            f"rpctest contracts diff {verdict}: {len(self.errors)} breaking change(s), {warnings} warning(s), {other} "
            f"other change(s) in {len(self.old.operations)} -> {len(self.new.operations)} operation(s) of "
            f"{self.new.stack}:{self.new.service} ({self.old_label} -> {self.new_label}){consumers}"
        )

    def summary_data(self) -> dict[str, Any]:
        return {
            "breaking": len(self.errors),
            "warnings": sum(1 for f in self.findings if f.severity == WARNING),
            "changes": len(self.findings),
            "old": self.old_label,
            "new": self.new_label,
            "interactions": self.interactions,
            "consumer_contracts": [str(c.path) if c.path else f"{c.consumer}:{c.stack}:{c.service}" for c in self.consumers],
        }

    def cases(self) -> list[tuple[str, str]]:
        """JUnit test cases: one per operation of either version."""
        classname = f"{self.new.stack}.{self.new.service}"
        return [(classname, name) for name in sorted({*self.old.operations, *self.new.operations})]

    def case_of(self, finding: Finding) -> tuple[str, str]:
        return (f"{self.new.stack}.{self.new.service}", finding.operation or "")

    def render(self, fmt: str = "text") -> str:
        from rpctest.contracts.report import render

        # DiffReport has every member render() reads of a verify Report (summary, cases, case_of, ...)
        return render(self, fmt)  # type: ignore[arg-type]


def diff(old: ProviderContract, new: ProviderContract, consumers: Sequence[ConsumerContract] | None = None, *,
         old_label: str | None = None, new_label: str | None = None) -> DiffReport:
    """Classify every change from ``old`` to ``new``; with ``consumers``, against what they recorded.

    Without consumers a breaking change is an error. With them (``--consumers``) it is an error only
    when a recorded interaction of this service relies on it, else a warning. Other changes are info.
    """
    if old.key != new.key:
        raise ConfigError(
            f"OLD is {old.stack}:{old.service} and NEW is {new.stack}:{new.service}: diff compares two versions of "
            f"one service (export NEW with --service {old.service} or give the matching file)"
        )
    mine = [c for c in consumers or () if c.key == new.key]
    report = DiffReport(old, new, old_label or _label(old), new_label or _label(new), consumers=mine)
    by_operation: dict[str, list[tuple[ConsumerContract, int, RecordedInteraction]]] = {}
    for contract in mine:
        for index, item in enumerate(contract.interactions):
            by_operation.setdefault(item.operation, []).append((contract, index, item))
    for change in diff_operations(old, new):
        extra: dict[str, Any] = {"stack": new.stack, "service": new.service, "contract": new.path or old.path}
        if not change.breaking:
            report.findings.append(DiffFinding(change, INFO, report.old_label, report.new_label, **extra))
            continue
        if consumers is None:
            report.findings.append(DiffFinding(change, ERROR, report.old_label, report.new_label, **extra))
            continue
        hit = [(c, i, item) for c, i, item in by_operation.get(change.operation, []) if affects(change, item)]
        if not hit:
            change.message += "; no recorded consumer interaction relies on it"
            report.findings.append(DiffFinding(change, WARNING, report.old_label, report.new_label, **extra))
            continue
        names = "; ".join(f"{c.consumer} interaction #{i}" + (f" ({c.path})" if c.path else "") for c, i, _ in hit[:5])
        change.message += f"; breaks {len(hit)} recorded interaction(s): {names}" + (" ..." if len(hit) > 5 else "")
        tests = sorted({t for _, _, item in hit for t in item.tests})
        first, index, _ = hit[0]
        report.findings.append(DiffFinding(change, ERROR, report.old_label, report.new_label, consumer=first.consumer,
                                           interaction=index, tests=tests, **extra))
    return report


def _label(contract: ProviderContract) -> str:
    if contract.path is not None:
        return str(contract.path)
    source = contract.source.get("provider") or contract.source.get("address")
    return f"export of {source}" if source else f"{contract.stack}:{contract.service}"


# -- reading OLD and NEW -----------------------------------------------------------------------------------

GIT_TIMEOUT = 30.0


def load_provider(spec: str, *, cwd: Path | str | None = None) -> ProviderContract:
    """A provider contract from a path, or from ``git:REF:PATH`` (the file at a revision of the
    repository of ``cwd``, as ``git show REF:PATH`` reads it: PATH from the repository's root)."""
    from rpctest.contracts.format import load

    if spec.startswith("git:"):
        ref, sep, path = spec[4:].partition(":")
        if not sep or not ref or not path:
            raise ConfigError(f"{spec!r}: a revision is written git:REF:PATH (e.g. git:origin/main:contracts/providers/X.json)")
        contract = parse(loads(_git_show(ref, path, cwd), spec), spec)
        contract.path = Path(path)  # where annotations go: the file as the repository names it (labels keep the spec)
    else:
        contract = load(spec)
    if not isinstance(contract, ProviderContract):
        raise ContractError(spec, "is a consumer contract; diff compares provider contracts (give consumer contracts with --consumers)")
    return contract


def _git_show(ref: str, path: str, cwd: Path | str | None) -> str:
    try:
        done = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise ConfigError("git:REF:PATH needs git on PATH; give OLD as a file instead") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"git show {ref}:{path} took over {GIT_TIMEOUT:.0f}s") from None
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"cannot read git:{ref}:{path}: {problem[-1] if problem else 'git show failed'} "
                          "(PATH is from the repository's root; fetch the ref first in a shallow CI checkout)")
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(f"git:{ref}:{path}", f"not UTF-8 text ({exc})") from None
