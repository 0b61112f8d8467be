"""Which checks an operation's contract can support: a names-only request schema has no valid input.

Some contracts know an operation's argument *names* but nothing of their values: a ZeroJSON contract
exported from PyCOM's ``introspect``, a PySOA action without a request schema, a route whose
contract says any query passes. For such an operation there is no "valid input": a value the
fuzzer draws for an argument may be one the service refuses on purpose (PyCOM's ``check_argument``
answers code 4), and calling that refusal "a valid input rejected" is a false positive. So the
checks that need a known-valid request (marked ``needs_valid_input``) are skipped for it, and the
operation's result says which and why; the checks that need no schema (an answer comes back, no
server error for a well-formed call, a defect the names do show, such as a missing required
argument, gets a caller error, the unknown operation is not found) still run. Written once here, so
every stack's schema-less operations behave the same.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

__all__ = ["names_only", "needs_valid_input", "split_checks"]

#: keywords that assert nothing about a value
_ANNOTATIONS = frozenset({
    "$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated", "readOnly",
    "writeOnly", "x-rpctest-lossy", "x-rpctest-native",
})
#: what an object schema may say and still only name its keys
_NAMING = frozenset({"type", "properties", "required", "additionalProperties"})


def _says_nothing(schema: Any) -> bool:
    return schema is True or (isinstance(schema, Mapping) and set(schema) <= _ANNOTATIONS)


def names_only(schema: Any) -> bool:
    """True when ``schema`` constrains no value: it accepts anything, or it is an object that names its
    keys (and which are required) but says nothing of any key's value."""
    if _says_nothing(schema):
        return True
    if not isinstance(schema, Mapping) or not set(schema) <= _NAMING | _ANNOTATIONS:
        return False
    kind = schema.get("type", "object")
    if kind not in ("object", ["object", "null"], ["null", "object"]):
        return False
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping) or not all(_says_nothing(value) for value in properties.values()):
        return False
    return isinstance(schema.get("additionalProperties", True), bool)


def needs_valid_input(check: Any) -> Any:
    """Mark a check that judges a request as valid: it is skipped where the contract cannot say so."""
    check.needs_valid_input = True
    return check


def split_checks(request_schema: Any, checks: Sequence[Any]) -> tuple[list[Any], list[Any], str]:
    """(checks to run, checks skipped, the note saying why) for an operation's request schema."""
    if not names_only(request_schema):
        return list(checks), [], ""
    run = [c for c in checks if not getattr(c, "needs_valid_input", False)]
    skipped = [c for c in checks if getattr(c, "needs_valid_input", False)]
    if not skipped:
        return run, [], ""
    note = (f"skipped {_names(skipped)}: the request schema gives names only (no value types), so no request is "
            f"known to be valid; ran {_names(run)}")
    return run, skipped, note


def _names(checks: Sequence[Any]) -> str:
    return ", ".join(getattr(check, "__name__", str(check)) for check in checks)
