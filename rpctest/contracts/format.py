"""Contract files: the versioned JSON that consumers record and providers export, read and written safely.

Two kinds share one envelope (``{"rpctest_contract": 2, "kind": ..., "stack": ..., "service": ...}``)
and one published JSON Schema (``rpctest/schemas/contract.schema.json``):

* a **provider** contract holds each operation's request and response schema (the neutral dialect of
  :mod:`rpctest.schema`) and the error codes it declares;
* a **consumer** contract holds what one consumer's tests did with one provider: each interaction's
  operation, request and expected response (a body, or a stream's ``items``, or errors; and the reply
  options the stack has, such as Kyoukai's status, in ``meta``), values tagged by
  :mod:`rpctest.schema.values` so nothing JSON cannot say is lost. ``items`` and ``meta`` are
  optional: a file written before them reads as it always did (one body, no reply options).
  Format 2 adds each interaction's provider ``states`` (``[{"name": ..., "params": {...}}]``); a
  format-1 file still reads (it has none) and is written back as format 2.

Files are written atomically (a temporary file in the same directory, then ``os.replace``) with
sorted keys and sorted interactions, so a re-recording that changes nothing changes no byte. Loading
checks the file against the schema and names the file and the problem when it is corrupt, truncated
or of another version.

Contract files come from other repositories and CI artifacts, so reading one must never end in a
traceback: the text is strict JSON (RFC 8259, UTF-8), refused with a JSON pointer where Python's
``json`` module would quietly accept more (``NaN``, ``Infinity``, a number that overflows to
infinity, a lone surrogate) or fail deep inside rpctest (nesting past :data:`MAX_DEPTH`, integers
past :data:`MAX_INT_DIGITS` digits), and a file over the configured size limit is not read at all.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import math
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from rpctest.exceptions import RpctestError
from rpctest.model import Call, Interaction, ProviderState, Reply, RpcError
from rpctest.schema import values

__all__ = [
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "ContractError",
    "OperationSpec",
    "ProviderContract",
    "RecordedInteraction",
    "ConsumerContract",
    "Contract",
    "load",
    "load_many",
    "dump",
    "write",
    "write_text_atomic",
    "OutputPathError",
    "check_output_path",
    "write_new_file",
    "iter_contract_files",
    "file_schema",
    "loads",
    "gc_paused",
    "file_part",
    "check_name",
    "printable",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
]

FORMAT_VERSION = 2
#: the versions this rpctest reads: 1 is 2 without provider states (``states``), so a version-1 file
#: reads as it always did and is written back as version 2 (``rpctest contracts migrate``, or the
#: next recording or export that writes it)
READABLE_VERSIONS = (1, 2)
#: how deep a contract file may nest (objects and arrays): deep enough for any real request or schema,
#: and shallow enough that every recursive reader after the parse (the schema check, the value
#: decoder, jsonschema's explanations) stays far from Python's recursion limit
MAX_DEPTH = 100
#: the longest integer a contract file may hold, in digits: Python's own default limit for converting
#: text to int, fixed here so that a file reads the same whatever the interpreter is configured with
MAX_INT_DIGITS = 4300
#: how many test ids an interaction keeps (the rest are counted in no file: they would make diffs churn)
MAX_TESTS_PER_INTERACTION = 10


class ContractError(RpctestError, ValueError):
    """A contract file cannot be used; the message names the file and what is wrong."""

    def __init__(self, path: Path | str | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path is not None else problem)


# -- provider contracts ------------------------------------------------------------------------------


@dataclass
class OperationSpec:
    """One operation a provider offers: request and response schema, the codes it declares."""

    name: str
    request: Mapping[str, Any] | bool = field(default_factory=dict)
    response: Mapping[str, Any] | bool = field(default_factory=dict)
    errors: list[str | int] = field(default_factory=list)
    description: str = ""
    notes: list[dict[str, str]] = field(default_factory=list)
    #: ``"call"`` (one reply) or ``"subscription"`` (a stream of items; ``response`` is then an
    #: array schema of the items, as a stubbed or recorded subscription's body is their list)
    kind: str = "call"
    #: how the stack addresses the operation beyond its name, where it has more to say (Kyoukai: the
    #: HTTP method, path template, converters and endpoint name of the route); None for most stacks
    route: dict[str, Any] | None = None
    #: True when the provider may answer codes beyond ``errors``, because its export could not list
    #: them (PyCOM's and PySOA's introspection name no codes): verify and the drift check then take
    #: any stubbed code on trust, and the fuzzer any code but the stack's own as a deliberate answer
    errors_open: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"request": self.request, "response": self.response, "errors": list(self.errors)}
        if self.errors_open:
            data["errors_open"] = True
        if self.description:
            data["description"] = self.description
        if self.kind != "call":
            data["kind"] = self.kind
        if self.route is not None:
            data["route"] = dict(self.route)
        if self.notes:
            data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> "OperationSpec":
        return cls(
            name=name,
            request=data.get("request", {}),
            response=data.get("response", {}),
            errors=list(data.get("errors", [])),
            description=data.get("description", ""),
            notes=list(data.get("notes", [])),
            kind=data.get("kind", "call"),
            route=dict(data["route"]) if data.get("route") is not None else None,
            errors_open=bool(data.get("errors_open", False)),
        )


@dataclass
class ProviderContract:
    """What a provider offers, exported from its own declarations."""

    stack: str
    service: str
    operations: dict[str, OperationSpec] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    notes: list[Any] = field(default_factory=list)
    path: Path | None = None

    kind = "provider"

    @property
    def key(self) -> tuple[str, str]:
        return (self.stack, self.service)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rpctest_contract": FORMAT_VERSION,
            "kind": "provider",
            "stack": self.stack,
            "service": self.service,
            "operations": {name: op.to_dict() for name, op in sorted(self.operations.items())},
        }
        if self.source:
            data["source"] = dict(self.source)
        if self.notes:
            data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path | None = None) -> "ProviderContract":
        return cls(
            stack=data["stack"],
            service=data["service"],
            operations={name: OperationSpec.from_dict(name, op) for name, op in data["operations"].items()},
            source=dict(data.get("source", {})),
            notes=list(data.get("notes", [])),
            path=path,
        )

    @classmethod
    def from_export(cls, stack: str, exported: Mapping[str, Any], **source: Any) -> "ProviderContract":
        """Wrap what an adapter's ``export_schema`` returned (``service``, ``operations``, ``notes``)."""
        data = {"stack": stack, "service": exported["service"], "operations": exported["operations"]}
        contract = cls.from_dict({**data, "notes": exported.get("notes", [])})
        contract.source = {key: value for key, value in source.items() if value is not None}
        return contract


# -- consumer contracts ------------------------------------------------------------------------------


def _error_to_data(error: RpcError) -> dict[str, Any]:
    data: dict[str, Any] = {"code": error.code}
    if error.message:
        data["message"] = error.message
    if error.field is not None:
        data["field"] = error.field
    if error.kind is not None:
        data["kind"] = error.kind.value
    details = {key: value for key, value in error.details.items() if key not in _VOLATILE_DETAILS and value is not None}
    if details:
        data["details"] = values.encode(details)
    return data


#: native error attributes that differ run to run and would make every recording a diff
_VOLATILE_DETAILS = frozenset({"traceback", "variables"})


def _error_from_data(data: Mapping[str, Any]) -> RpcError:
    return RpcError(
        data["code"],
        data.get("message", ""),
        field=data.get("field"),
        kind=data.get("kind"),
        details=values.decode(data.get("details") or {}),
    )


@dataclass
class RecordedInteraction:
    """One request a consumer sent and the reply it relied on (values decoded to Python)."""

    operation: str
    request: Any = None
    body: Any = None
    errors: list[RpcError] = field(default_factory=list)
    job_errors: list[RpcError] = field(default_factory=list)
    source: str = "stub"
    tests: list[str] = field(default_factory=list)
    #: a binary side payload of the reply (ZeroJSON's attachment frame)
    attachment: bytes | None = None
    #: the items of a reply that is a stream (a pykern subscription, an AsyncAPY multi-frame
    #: reply), in order; None for a reply of one body. A file without ``items`` reads as one body.
    items: list[Any] | None = None
    #: the reply options the stub answered with (Kyoukai: ``status``, ``headers``), as the adapter's
    #: :meth:`~rpctest.stacks.base.StackAdapter.recorded_meta` keeps them
    meta: dict[str, Any] = field(default_factory=dict)
    #: the request's binary side payload: two uploads that differ only in it are two interactions
    request_attachment: bytes | None = None
    #: the provider states the consumer assumed (format 2): one request recorded under two states
    #: is two interactions, and live verification sets each state up through the provider's handler
    states: list[ProviderState] = field(default_factory=list)
    #: the consumer's rules (:mod:`rpctest.matchers`, Pact V4 matching rules) by side and pointer:
    #: ``{"request": {"/id": {"match": "integer"}}, "response": {"/body/id": {...}}}``; the recorded
    #: values are then examples where a rule says so. A file without ``matchers`` reads as before.
    matchers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def rules(self, side: str) -> dict[str, Any]:
        """The rules of ``side`` ("request" or "response"), by pointer (none: an empty dict)."""
        return self.matchers.get(side) or {}

    @property
    def ok(self) -> bool:
        return not self.errors and not self.job_errors

    @property
    def is_stream(self) -> bool:
        """Whether the consumer relied on a stream of items (subscribe to it; expect every item)."""
        return self.items is not None

    @classmethod
    def from_interaction(cls, interaction: Interaction, test: str | None = None) -> "RecordedInteraction":
        reply = interaction.reply
        return cls(
            operation=interaction.call.operation,
            request=interaction.call.body,
            body=reply.body,
            errors=list(reply.errors),
            job_errors=list(reply.job_errors),
            source=interaction.source,
            tests=[test] if test else [],
            attachment=reply.attachment,
            items=list(reply.items) if reply.items is not None else None,
            meta=dict(reply.meta or {}),
            request_attachment=interaction.call.attachment,
            states=list(interaction.states),
            matchers={side: dict(rules) for side, rules in (interaction.matchers or {}).items() if rules},
        )

    def states_data(self) -> list[dict[str, Any]]:
        """The states as the file holds them: ``{"name": ..., "params": {...}}`` (params tagged as
        values are, left out when empty), in the order the consumer named them."""
        data = []
        for state in self.states:
            entry: dict[str, Any] = {"name": state.name}
            if state.params:
                entry["params"] = values.encode(dict(state.params))
            data.append(entry)
        return data

    def response_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.items is not None:  # a stream, even one that failed: served, it must still be subscribed to
            data["items"] = values.encode(list(self.items))
        if self.ok:
            if self.items is None:
                data["body"] = values.encode(self.body)
            if self.attachment is not None:
                data["attachment"] = values.encode(bytes(self.attachment))
        if self.errors:
            data["errors"] = [_error_to_data(error) for error in self.errors]
        if self.job_errors:
            data["job_errors"] = [_error_to_data(error) for error in self.job_errors]
        if self.meta:
            data["meta"] = values.encode(dict(self.meta))
        return data

    def identity(self) -> str:
        """Equal for interactions that say the same thing (dedup key; tests and source aside)."""
        request = [self.operation, values.encode(self.request), self.response_data()]
        if self.request_attachment is not None:
            request.append(values.encode(bytes(self.request_attachment)))
        if self.states:
            request.append({"states": self.states_data()})
        if self.matchers:
            request.append(values.encode(self.matchers))
        return values.canonical(request)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "operation": self.operation,
            "request": values.encode(self.request),
            "response": self.response_data(),
            "source": self.source,
        }
        if self.request_attachment is not None:
            data["request_attachment"] = values.encode(bytes(self.request_attachment))
        if self.tests:
            data["tests"] = sorted(set(self.tests))[:MAX_TESTS_PER_INTERACTION]
        if self.states:
            data["states"] = self.states_data()
        if self.matchers:
            data["matchers"] = values.encode({side: dict(rules) for side, rules in self.matchers.items() if rules})
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RecordedInteraction":
        response = data.get("response", {})
        items = values.decode(response["items"]) if "items" in response else None
        return cls(
            operation=data["operation"],
            request=values.decode(data.get("request")),
            # a stream's body is the list of its items, as a stubbed stream's is (what a provider
            # contract's array schema of a subscription's items is checked against)
            body=list(items) if items is not None else values.decode(response.get("body")),
            errors=[_error_from_data(e) for e in response.get("errors", [])],
            job_errors=[_error_from_data(e) for e in response.get("job_errors", [])],
            source=data.get("source", "stub"),
            tests=list(data.get("tests", [])),
            attachment=values.decode(response.get("attachment")),
            items=items,
            meta=values.decode(response.get("meta") or {}),
            request_attachment=values.decode(data.get("request_attachment")),
            states=[ProviderState(s["name"], values.decode(s.get("params") or {})) for s in data.get("states", [])],
            matchers=_matchers_from_data(data.get("matchers")),
        )

    def as_call(self, stack: str, service: str) -> Call:
        """The recorded request; a stream is subscribed to (``meta["kind"] == "subscribe"``), as the
        consumer did, since a stack such as pykern answers a plain call to it with an error."""
        meta = {"kind": "subscribe"} if self.is_stream else {}
        return Call(stack=stack, service=service, operation=self.operation, body=self.request, meta=meta,
                    attachment=self.request_attachment)

    def as_reply(self) -> Reply:
        """The reply the consumer saw (a stream's body is the list of its items, as a stub's is)."""
        items = list(self.items) if self.items is not None else None
        body = list(items) if items is not None else self.body
        return Reply(body=body, errors=list(self.errors), job_errors=list(self.job_errors), attachment=self.attachment,
                     items=items, meta=dict(self.meta))


def _matchers_from_data(data: Any) -> dict[str, dict[str, Any]]:
    """Recorded rules, each checked: a rule rpctest cannot apply is refused with its pointer."""
    from rpctest.matchers import check_rules

    if not data:
        return {}
    matchers: dict[str, dict[str, Any]] = values.decode(data)
    for side, rules in matchers.items():
        problem = check_rules(rules, f"matchers/{side}")
        if problem:
            raise ValueError(problem)
    return matchers


@dataclass
class ConsumerContract:
    """Everything one consumer's tests relied on from one provider service."""

    consumer: str
    stack: str
    service: str
    interactions: list[RecordedInteraction] = field(default_factory=list)
    path: Path | None = None

    kind = "consumer"

    @property
    def key(self) -> tuple[str, str]:
        return (self.stack, self.service)

    def add(self, interaction: RecordedInteraction) -> None:
        self.interactions.append(interaction)

    def deduplicated(self) -> "ConsumerContract":
        """Identical interactions merged (their test ids united), in a stable order."""
        merged: dict[str, RecordedInteraction] = {}
        for item in self.interactions:
            key = item.identity()
            if key in merged:
                known = merged[key]
                known.tests = sorted(set(known.tests) | set(item.tests))
                known.source = min(known.source, item.source)  # whichever came first must not decide the file
            else:
                merged[key] = RecordedInteraction(**{**item.__dict__, "tests": sorted(set(item.tests))})
        ordered = [merged[key] for key in sorted(merged, key=lambda k: (merged[k].operation, k))]
        return ConsumerContract(self.consumer, self.stack, self.service, ordered, self.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rpctest_contract": FORMAT_VERSION,
            "kind": "consumer",
            "consumer": self.consumer,
            "stack": self.stack,
            "service": self.service,
            "interactions": [item.to_dict() for item in self.deduplicated().interactions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path | None = None) -> "ConsumerContract":
        return cls(
            consumer=data["consumer"],
            stack=data["stack"],
            service=data["service"],
            interactions=[_interaction(index, item) for index, item in enumerate(data["interactions"])],
            path=path,
        )

    def file_name(self) -> str:
        """Where the recorder puts it, relative to the contracts directory: ``CONSUMER--STACK--SERVICE.json``.

        The spelling is injective, so that no two contracts share a file: a plain name (ASCII letters,
        digits, ``_``, ``.`` and single inner ``-``, at most 64 characters) is written as it is, any
        other as a readable part and ``~`` with a hash of the name (``users/v1`` and ``users:v1`` are
        ``users_v1~...`` with different hashes, never ``users_v1``). The real names are inside the file.
        """
        return f"consumers/{file_part(self.consumer)}--{file_part(self.stack)}--{file_part(self.service)}.json"

    def legacy_file_name(self) -> str:
        """Where rpctest put it before file names were injective (several names could share this file):
        the recorder moves such a file to :meth:`file_name` when it records that contract again."""
        return f"consumers/{_safe(self.consumer)}--{_safe(self.stack)}--{_safe(self.service)}.json"

    def names(self) -> list[tuple[str, str]]:
        """(role, name) of each name that goes into the file name."""
        return [("consumer", self.consumer), ("stack", self.stack), ("service", self.service)]


def _interaction(index: int, data: Mapping[str, Any]) -> RecordedInteraction:
    """One interaction of a file; a value that does not decode names the interaction."""
    try:
        return RecordedInteraction.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"interaction #{index} ({data.get('operation', '?')}): {exc}") from None


Contract = ProviderContract | ConsumerContract


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name) or "_"


#: a name that is its own file-name part: no ``--`` (the separator) and no ``-`` at either end (so
#: that every ``--`` of a file name is a separator), no leading ``.`` (a hidden file), no ``~`` (the
#: hash marker), ASCII only (file systems normalise and fold other characters differently)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.]|-(?=[A-Za-z0-9_.]))*")
_PLAIN_MAX = 64


def file_part(name: str) -> str:
    """``name`` as one part of a consumer contract's file name: itself when plain, else readable~hash."""
    if len(name) <= _PLAIN_MAX and _PLAIN_NAME.fullmatch(name):
        return name
    readable = re.sub(r"[^A-Za-z0-9_.]+", "_", name).lstrip(".")[:40]
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{readable}~{digest}"


def check_name(role: str, name: Any, context: str = "") -> None:
    """Raise a :class:`ContractError` saying why ``name`` cannot be recorded (its file could not hold it);
    ``context`` follows the name in the message (which stack, which consumer)."""
    what = f"{role} name {_quoted(name)}{context}"
    if not isinstance(name, str) or not name:
        raise ContractError(None, f"{what} cannot be recorded: a {role} name must be a non-empty string")
    match = _SURROGATE.search(name)
    if match is not None:
        raise ContractError(
            None,
            f"{what} cannot be recorded: it holds a lone surrogate {printable(match.group())} at index {match.start()} "
            f"(half of a UTF-16 pair), which no UTF-8 file can store; fix the name where the stub or the call gives it",
        )


def _quoted(name: Any) -> str:
    return f"'{printable(name)}'" if isinstance(name, str) else repr(name)


# -- reading and writing ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def file_schema() -> dict[str, Any]:
    """The published JSON Schema of contract files."""
    path = Path(__file__).resolve().parent.parent / "schemas" / "contract.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@functools.lru_cache(maxsize=None)
def _file_validator(kind: str | None) -> Any:
    """The envelope alone (kind None), or one kind's definition: errors then point into that kind
    instead of ending as "is not valid under any of the given schemas" from the ``oneOf``."""
    import jsonschema

    schema = dict(file_schema())
    schema.pop("oneOf")
    if kind is not None:
        schema = {"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]}
    return jsonschema.Draft202012Validator(schema)


def parse(data: Any, path: Path | str | None = None) -> Contract:
    """A contract from already-parsed JSON, checked against the file schema."""
    where = Path(path) if path is not None else None
    if not isinstance(data, dict):
        raise ContractError(where, f"not a contract: the top level is a JSON {type(data).__name__}, not an object")
    version = data.get("rpctest_contract")
    if version is None:
        from rpctest.contracts import pact

        if pact.is_pact(data):  # a Pact file: the consumer contract it says, so every reader takes Pact files
            return pact.from_pact(data, source=where)
        raise ContractError(where, "not an rpctest contract: no 'rpctest_contract' version field")
    if version not in READABLE_VERSIONS:
        hint = "upgrade rpctest" if isinstance(version, int) and version > FORMAT_VERSION else "re-record or re-export it"
        readable = ", ".join(str(v) for v in READABLE_VERSIONS)
        raise ContractError(where, f"contract format version {version!r} is not supported (this rpctest reads {readable}): {hint}")
    error = _first_schema_error(data)
    if error is not None:
        raise ContractError(where, error)
    if version < 2:
        _check_version_1(data, where)
    try:
        if data["kind"] == "provider":
            return ProviderContract.from_dict(data, where)
        return ConsumerContract.from_dict(data, where)
    except (ValueError, TypeError, KeyError) as exc:  # a tagged value that does not decode
        raise ContractError(where, f"invalid value: {exc}") from None


def _check_version_1(data: Mapping[str, Any], where: Path | None) -> None:
    """A version-1 file cannot hold what version 2 added (it would be read by an older rpctest that
    ignores it): provider states are refused there with what to do."""
    for index, item in enumerate(data.get("interactions") or []):
        if isinstance(item, Mapping) and "states" in item:
            raise ContractError(
                where,
                f"/interactions/{index}/states: provider states need contract format 2, and the file says "
                f"'rpctest_contract': 1; set it to 2 (or run 'rpctest contracts migrate' on it)",
            )


@functools.lru_cache(maxsize=1)
def _file_check() -> Any:
    """The file schema as compiled closures (its ``$ref``s inlined): whether a file is valid, decided
    in microseconds; jsonschema, a thousand times slower, is asked only to explain an invalid one."""
    from rpctest.schema.fast import compile_fast

    schema = file_schema()

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"$ref"}:
                return inline(schema["$defs"][node["$ref"].rsplit("/", 1)[1]])
            return {key: inline(value) for key, value in node.items() if key != "$defs"}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    check = compile_fast(inline(schema))
    assert check is not None, "the contract file schema must stay inside the dialect compile_fast knows"
    return check


def _first_schema_error(data: Any) -> str | None:
    if _file_check()(data):
        return None
    import jsonschema  # the compiled check may refuse what jsonschema takes (an integral float code): it decides

    error = jsonschema.exceptions.best_match(_file_validator(None).iter_errors(data))
    if error is None:
        error = jsonschema.exceptions.best_match(_file_validator(data["kind"]).iter_errors(data))
    if error is None:
        return None
    location = "/" + "/".join(str(p) for p in error.absolute_path)
    return f"does not match the contract schema at {location}: {error.message}"


def load(path: Path | str, *, max_size: int | None = None) -> Contract:
    """Read one contract file; any problem becomes a :class:`ContractError` naming the file.

    ``max_size`` (bytes) defaults to the configured ``max_contract_size``: a larger file is refused
    before it is read, so a stray multi-gigabyte artifact cannot exhaust the memory of a CI job.
    """
    path = Path(path)
    limit = max_size if max_size is not None else _configured_max_size()
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise ContractError(path, "no such file") from None
    except OSError as exc:
        raise ContractError(path, f"cannot read: {exc}") from None
    if len(raw) > limit:
        try:
            size = f"{path.stat().st_size} bytes"
        except OSError:
            size = f"more than {limit} bytes"
        raise ContractError(
            path,
            f"the file is {size}, over the limit of {limit} bytes for contract files; a contract this large is "
            f"likely not one (raise max_contract_size in [tool.rpctest] or rpctest.toml if it really is)",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(path, f"cannot read: not UTF-8 text ({exc})") from None
    if not text.strip():
        raise ContractError(path, "the file is empty (truncated by an interrupted write?)")
    return parse(loads(text, path), path)


def _configured_max_size() -> int:
    """``max_contract_size`` of the configuration in force (the default when it cannot be read: a
    broken configuration is reported by whatever reads it for its own settings, not by a file read)."""
    from rpctest import config

    try:
        return config.current().max_contract_size
    except config.ConfigError:
        return config.DEFAULT_MAX_CONTRACT_SIZE


class _Refused:
    """A value strict JSON refuses, left where the parser met it so that the walk after the parse
    can say where it is (``json``'s hooks are not told the position)."""

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _strict_constant(name: str) -> _Refused:
    return _Refused(
        f"{name} is not JSON: contract files are strict JSON (RFC 8259); rpctest records a float JSON cannot "
        f'carry tagged, as {{"$float": "{"nan" if name == "NaN" else name.lower().replace("infinity", "inf")}"}}'
    )


def _strict_float(text: str) -> float | _Refused:
    value = float(text)
    if math.isfinite(value):
        return value
    return _Refused(
        f"the number {_shorten(text)} is out of range for a float (it would read as infinity): contract files are "
        f'strict JSON; write infinity tagged, as {{"$float": "inf"}}'
    )


def _strict_int(text: str) -> int | _Refused:
    digits = len(text) - text.startswith("-")
    if digits <= MAX_INT_DIGITS:
        with contextlib.suppress(ValueError):  # an interpreter configured with a lower limit than ours
            return int(text)
    return _Refused(f"an integer of {digits} digits is over the limit of {MAX_INT_DIGITS} digits for contract files")


_DECODER = json.JSONDecoder(parse_float=_strict_float, parse_int=_strict_int, parse_constant=_strict_constant)
#: a \uD800-\uDFFF escape in the text, or such a character itself (text made in memory, not read
#: from a UTF-8 file): only then can the parsed data hold a lone surrogate
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def loads(text: str, path: Path | str | None = None) -> Any:
    """Parse contract file text as strict JSON; a :class:`ContractError` names the problem and its pointer."""
    where = Path(path) if path is not None else None
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise ContractError(where, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); truncated or corrupt?") from None
    except RecursionError:
        raise ContractError(
            where, f"JSON nested too deeply to read; contract files nest at most {MAX_DEPTH} levels (objects and arrays)"
        ) from None
    found = _find_problem(data, 1, _SURROGATE_ESCAPE.search(text) is not None)
    if found is not None:
        parts, problem = found
        raise ContractError(where, problem.replace("{pointer}", _show_pointer(reversed(parts))))
    return data


def _find_problem(value: Any, depth: int, surrogates: bool) -> tuple[list[Any], str] | None:
    """The first place (pointer parts, innermost first) where strict JSON is broken, and the problem.

    Recursive, but never deeper than MAX_DEPTH + 1 frames: that is the limit it enforces.
    """
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    elif isinstance(value, _Refused):
        return [], value.problem + " (at {pointer})"
    elif surrogates and isinstance(value, str) and _SURROGATE.search(value):
        return [], _lone_surrogate(value) + " in a string at {pointer}"
    else:
        return None
    if depth > MAX_DEPTH:
        return [], f"nested more than {MAX_DEPTH} levels deep at {{pointer}}: contract files nest at most {MAX_DEPTH} levels (objects and arrays)"
    for key, item in items:
        if surrogates and isinstance(key, str) and _SURROGATE.search(key):
            return [key], _lone_surrogate(key) + " in a key at {pointer}"
        if isinstance(item, (dict, list, _Refused)) or (surrogates and isinstance(item, str)):
            found = _find_problem(item, depth + 1, surrogates)
            if found is not None:
                found[0].append(key)
                return found
    return None


def _lone_surrogate(text: str) -> str:
    match = _SURROGATE.search(text)
    assert match is not None
    return (
        f"a lone surrogate {printable(match.group())} (half of a UTF-16 pair, without its other half), which "
        f"strict JSON text in UTF-8 cannot hold,"
    )


def printable(text: str) -> str:
    """``text`` safe to print anywhere: lone surrogates and other unencodable characters escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show_pointer(parts: Iterable[Any], limit: int = 160) -> str:
    """A JSON pointer (RFC 6901) for messages: printable, and cut short when a deep one would flood them."""
    text = "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts) or "/"
    return _shorten(printable(text), limit)


def iter_contract_files(paths: Iterable[Path | str]) -> Iterator[Path]:
    """The ``*.json`` files named by ``paths`` (directories searched recursively, sorted)."""
    for files, _ in _scan(paths):
        yield from files


def _scan(paths: Iterable[Path | str]) -> Iterator[tuple[list[Path], list[Path]]]:
    """For each of ``paths``: its contract files, and the directories of their sets (where a
    recording keeps its commit journal): one walk of each directory for both."""
    from rpctest.contracts.fileset import JOURNAL

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files, sets = [], []
            for found in path.rglob("*"):
                if found.suffix == ".json" and found.is_file():
                    files.append(found)
                elif found.name == JOURNAL:
                    sets.append(found.parent)
            yield sorted(files), sets
        elif path.exists():
            yield [path], [path.parent]
        else:
            raise ContractError(path, "no such file or directory")


def load_many(paths: Iterable[Path | str], *, max_size: int | None = None) -> list[Contract]:
    """Every contract under ``paths``; the first bad file raises (nothing is half-verified), and so
    does a set that an interrupted recording left mixing two runs' files."""
    from rpctest.contracts.fileset import check_complete

    limit = max_size if max_size is not None else _configured_max_size()
    with gc_paused():
        contracts: list[Contract] = []
        for files, sets in _scan(paths):
            for directory in sets:
                check_complete(directory)
            contracts.extend(load(path, max_size=limit) for path in files)
        return contracts


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection for a bulk step (loading, verifying, serving thousands of files).

    Such a step allocates many objects that all stay alive; each collection then walks them all again,
    and over thousands of files that made the time per file grow with the number of files (three times
    as long per file at 5,000 as at 500). The step makes no garbage cycles worth collecting early; the
    collector resumes, as it was, when it ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def dump(contract: Contract) -> str:
    """The file text: sorted keys, two-space indent, a final newline (stable diffs)."""
    return json.dumps(contract.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(contract: Contract, path: Path | str) -> Path:
    """Write atomically: readers see the old file or the new one, never half of either."""
    path = Path(path)
    text = dump(contract)
    parse(loads(text, path), path)  # never write what could not be read back
    return write_text_atomic(path, text)


class OutputPathError(RpctestError, OSError):
    """A file rpctest was told to write cannot be written there (a directory, a path under a regular
    file, no permission): the user's mistake, so a usage error that names the path, not a traceback.
    Still an :class:`OSError`, so callers that handle a failed write keep doing so."""


def check_output_path(path: Path | str) -> Path:
    """``path``, if a file can be written there; else :class:`OutputPathError` saying why. Commands that
    run for long (fuzz, live verification) call it for their output options before they start, so a
    mistyped path never costs a run whose findings could then not be written."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"cannot write {path}: it is a directory; give the path of a file (such as {path / 'report'})")
    existing = next((p for p in path.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise OutputPathError(f"cannot write {path}: {existing} is a file, not a directory; give the path of a file in a directory")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise OutputPathError(f"cannot write {path}: no permission to write in {existing}; give the path of a file in a directory you can write")
    return path


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (contracts, and documents made from them such as OpenAPI).

    Every output option (``--html``, ``--junit``, ``-o``) ends here, so this is where a path that cannot
    be a file becomes one clear :class:`OutputPathError`; whatever was at ``path`` is left as it was."""
    path = check_output_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        write_new_file(tmp, text, like=path)
    except OSError as exc:
        raise OutputPathError(
            f"cannot write {path}: {exc.strerror or exc}; give the path of a file in a directory you can write"
        ) from None
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_new_file(path: Path, text: str, *, like: Path) -> None:
    """Create ``path`` (which must not exist) holding ``text``, flushed to disk, with the mode ``like``
    has if it exists (what it will replace) or the mode of any new file; removed again on failure."""
    # not mkstemp: its files are 0600, and the contract would lose the mode any new file gets (the umask)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, stat.S_IMODE(os.stat(like).st_mode))  # replacing a file keeps its mode
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
