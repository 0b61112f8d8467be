"""What a deliberately invalid request is wrong with, and what the stack must answer to it.

A one-defect request carries a :class:`Defect` (which rule it breaks, where); the stack adapter
turns the defect into an :class:`Expected` answer in the stack's own terms (PySOA: ``INVALID`` at the
field, ``MISSING`` for a missing key, ``UNKNOWN`` at the parent for an extra key or a value outside a
constant set). The fuzz oracle compares the real reply with that expectation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rpctest.model import ErrorKind

__all__ = ["DEFECT_KINDS", "Defect", "Expected", "InvalidRequest", "Routed", "path_text"]

#: every kind of single defect the invalid-request strategies produce
DEFECT_KINDS = (
    "wrong_type",  # a value of another JSON type
    "missing_required",  # a required key dropped (path ends with the key)
    "unexpected_key",  # a key added where additionalProperties is false (path ends with the key)
    "out_of_range",  # a number beyond minimum / maximum / exclusive bounds
    "too_long",  # a string or array beyond maxLength / maxItems
    "too_short",  # a string or array below minLength / minItems
    "pattern_mismatch",  # a string the pattern does not match
    "null_not_nullable",  # None where the schema does not allow null
    "not_in_enum",  # a value outside enum / const
)


def path_text(path: tuple[str | int, ...]) -> str:
    """``("user", "tags", 0)`` -> ``"user.tags.0"`` (the dotted form most stacks report)."""
    return ".".join(str(part) for part in path)


@dataclass(frozen=True)
class Defect:
    """The one rule a generated request breaks: its kind, where (a path of keys and indexes), and why."""

    kind: str
    path: tuple[str | int, ...]
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in DEFECT_KINDS:
            raise ValueError(f"unknown defect kind {self.kind!r}; kinds: {', '.join(DEFECT_KINDS)}")

    @property
    def parent(self) -> tuple[str | int, ...]:
        return self.path[:-1]

    def __str__(self) -> str:
        where = path_text(self.path) or "(the body)"
        return f"{self.kind} at {where}" + (f": {self.description}" if self.description else "")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": list(self.path), "description": self.description}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Defect":
        return cls(data["kind"], tuple(data["path"]), data.get("description", ""))


@dataclass(frozen=True)
class Expected:
    """The answer the stack must give: an error kind, the field it names (None: names none or
    need not), and the native codes that are acceptable (empty: any code of that kind)."""

    kind: ErrorKind
    field: str | None = None
    codes: frozenset[str | int] = dataclasses.field(default_factory=frozenset)
    #: whether the stack reports the field at all (ZeroJSON does not: then ``field`` is not checked)
    check_field: bool = True

    def __str__(self) -> str:
        codes = "/".join(sorted(map(str, self.codes))) or "any code"
        where = f" at {self.field!r}" if self.check_field and self.field is not None else ""
        return f"{self.kind.value} ({codes}){where}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "field": self.field, "codes": sorted(self.codes, key=str), "check_field": self.check_field}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Expected":
        return cls(ErrorKind(data["kind"]), data.get("field"), frozenset(data.get("codes", [])), data.get("check_field", True))


@dataclass(frozen=True)
class Routed:
    """Where a stack that routes requests by their content (AsyncAPY's filters), not by an operation
    name, sends one request: to ``operations``, whose answers are the reply (``response`` is its
    schema, ``errors`` the codes they declare), or to none, when ``expected`` is the stack's own
    answer (a framework error, a silent close). ``reason`` says which, in words."""

    operations: tuple[str, ...] = ()
    expected: Expected | None = None
    response: Any = None
    errors: frozenset[str | int] = dataclasses.field(default_factory=frozenset)
    reason: str = ""


@dataclass(frozen=True)
class InvalidRequest:
    """A request body with exactly one defect."""

    body: Any
    defect: Defect
