"""Validate decoded values against the neutral schema dialect, with messages a person can act on.

Built on ``jsonschema`` (draft 2020-12) with two changes that make it check RPC values rather than
their JSON shadows: ``x-rpctest-type`` is enforced with ``isinstance`` (a consumer that stubs the
string ``"2024-05-01"`` where the provider sends a ``date`` is told so), and Python's tuples and sets
count as arrays, ``Decimal`` as a number. Each failure becomes a :class:`Violation` with a JSON
pointer, what the schema expected and what was there.

A schema is compiled once (:func:`compile_schema`) and then validates many values: verifying ten
thousand recorded interactions must stay a matter of a second or two.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import re
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Callable, Iterable, Iterator

from rpctest.schema.fast import NATIVE_TYPES, compile_fast, json_equal, json_type_name, well_formed

__all__ = ["Violation", "CompiledSchema", "compile_schema", "validate", "pointer_join", "describe_value"]


@dataclass(frozen=True)
class Violation:
    """One way a value breaks a schema: where (JSON pointer), which rule, expected and actual."""

    pointer: str
    keyword: str
    expected: str
    actual: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {
            "pointer": self.pointer,
            "keyword": self.keyword,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
        }


def pointer_join(base: str, *parts: Any) -> str:
    """A JSON pointer (RFC 6901) extended by ``parts``."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return base + "".join("/" + part for part in escaped)


def describe_value(value: Any, limit: int = 80) -> str:
    """A short, type-revealing rendering of a value for messages."""
    if not (value is None or isinstance(value, (bool, int, float, str, list, dict))):
        text = repr(value)  # datetimes, decimals, sets, objects: never quoted as if they were strings
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=repr, sort_keys=True)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _native_mismatch_name(value: Any) -> str:
    """Where a native type is wrong, a set or tuple is named as such, not as "array"."""
    return type(value).__name__ if isinstance(value, (set, frozenset, tuple)) else json_type_name(value)


@functools.lru_cache(maxsize=1)
def _validator_class() -> Any:
    import jsonschema
    from jsonschema import validators

    standard_type: Callable[..., Iterator[Any]] = jsonschema.Draft202012Validator.VALIDATORS["type"]
    standard_items: Callable[..., Iterator[Any]] = jsonschema.Draft202012Validator.VALIDATORS["items"]
    standard_prefix_items: Callable[..., Iterator[Any]] = jsonschema.Draft202012Validator.VALIDATORS["prefixItems"]

    def sequence(instance: Any) -> Any:
        """A set as a list in the canonical order of its contract file (jsonschema indexes arrays)."""
        if isinstance(instance, (set, frozenset)):
            from rpctest.schema.values import canonical, encode

            return sorted(instance, key=lambda item: canonical(encode(item)))
        return instance

    def items_keyword(validator: Any, items: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        return standard_items(validator, items, sequence(instance), schema)

    def prefix_items_keyword(validator: Any, prefix: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        return standard_prefix_items(validator, prefix, sequence(instance), schema)

    standard_pattern: Callable[..., Iterator[Any]] = jsonschema.Draft202012Validator.VALIDATORS["pattern"]

    def pattern_keyword(validator: Any, pattern: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        if "x-rpctest-match" in schema:  # the Python rule decides (and says why); the pattern is its JSON view
            return iter(())
        return standard_pattern(validator, pattern, instance, schema)

    def python_match_keyword(validator: Any, pattern: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        if isinstance(pattern, str) and re.match(pattern, str(instance)) is None:
            yield jsonschema.ValidationError(
                f"{describe_value(instance)} does not match {pattern!r} (re.match on str(value), as AsyncAPY's Fields checks)"
            )

    checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {
            "array": lambda _, value: isinstance(value, (list, tuple, set, frozenset)),
            "number": lambda _, value: isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool),
            # a Python int, as the stacks' servers check it: 28.0 decodes to a float there (see fast.py)
            "integer": lambda _, value: isinstance(value, int) and not isinstance(value, bool),
            "object": lambda _, value: isinstance(value, Mapping),
        }
    )

    def type_keyword(validator: Any, types: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        if "x-rpctest-type" in schema:  # the native type decides; the JSON view is for other readers
            return iter(())
        return standard_type(validator, types, instance, schema)

    def native_keyword(validator: Any, native: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        declared = schema.get("type")
        if instance is None and (declared == "null" or (isinstance(declared, list) and "null" in declared)):
            return  # a nullable native value: {"type": ["string", "null"], "x-rpctest-type": "datetime"}
        if native == "object":
            wanted = schema.get("x-rpctest-class")
            names = [wanted] if isinstance(wanted, str) else list(wanted or [])
            mro = {f"{k.__module__}.{k.__qualname__}" for k in type(instance).__mro__}
            if names and not mro & set(names) and not _object_ref_matches(instance, names):
                yield jsonschema.ValidationError(
                    f"{describe_value(instance)} is not an instance of {' or '.join(names)}"
                )
            return
        kinds = NATIVE_TYPES.get(native)
        if kinds is None:
            return
        ok = isinstance(instance, kinds)
        if native == "date" and isinstance(instance, datetime.datetime):
            ok = False  # a datetime is a date subclass, but not what a Date field accepts
        if not ok:
            yield jsonschema.ValidationError(f"{describe_value(instance)} is not a {native} (got {_native_mismatch_name(instance)})")

    def enum_keyword(validator: Any, options: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        if not any(json_equal(instance, option) for option in options):
            yield jsonschema.ValidationError(f"{describe_value(instance)} is not one of {describe_value(options)}")

    def const_keyword(validator: Any, const: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        if not json_equal(instance, const):
            yield jsonschema.ValidationError(f"{describe_value(const)} was expected, not {describe_value(instance)}")

    def length_keyword(standard: Any, word: str) -> Any:
        def keyword(validator: Any, limit: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
            if isinstance(instance, (bytes, bytearray)):  # the dialect counts the bytes of a bytes value
                if (len(instance) < limit) if word == "fewer" else (len(instance) > limit):
                    yield jsonschema.ValidationError(f"{describe_value(instance)} has {word} than {limit} bytes")
                return
            yield from standard(validator, limit, instance, schema)

        return keyword

    def unique_items_keyword(validator: Any, unique: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        # the dialect's equality, as enum and const: jsonschema's own takes bytes for a sequence, so
        # that b"" equals [] there, and the explanation would contradict the compiled verdict
        if not unique or not validator.is_type(instance, "array") or isinstance(instance, (set, frozenset)):
            return
        items = list(instance)
        if any(json_equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items))):
            yield jsonschema.ValidationError(f"{describe_value(instance)} has non-unique elements")

    standard_validators = jsonschema.Draft202012Validator.VALIDATORS
    # enum and const share one equality on every jsonschema version (4.17 compared enums with
    # Python's ``in``, later versions structurally): a tuple equals the list it is sent as
    return validators.extend(  # type: ignore[no-untyped-call]  # jsonschema leaves extend unannotated
        jsonschema.Draft202012Validator,
        validators={
            "type": type_keyword,
            "x-rpctest-type": native_keyword,
            "items": items_keyword,
            "prefixItems": prefix_items_keyword,
            "enum": enum_keyword,
            "const": const_keyword,
            "uniqueItems": unique_items_keyword,
            "minLength": length_keyword(standard_validators["minLength"], "fewer"),
            "maxLength": length_keyword(standard_validators["maxLength"], "more"),
            "x-rpctest-match": python_match_keyword,
            "pattern": pattern_keyword,
        },
        type_checker=checker,
    )


def _object_ref_matches(instance: Any, names: list[str]) -> bool:
    from rpctest.schema.values import ObjectRef

    return isinstance(instance, ObjectRef) and instance.cls in names


def _violation(error: Any, base: str) -> Violation:
    pointer = pointer_join(base, *error.absolute_path)
    keyword = str(error.validator) if error.validator is not None else "false"  # a ``false`` schema
    expected = describe_value(error.validator_value)
    actual = describe_value(error.instance)
    message = error.message
    if keyword == "required":
        missing = [key for key in error.validator_value if isinstance(error.instance, Mapping) and key not in error.instance]
        if len(missing) > 1:  # jsonschema reports each missing key separately: find this error's key
            missing = [key for key in missing if error.message == f"{key!r} is a required property"] or missing
        if len(missing) == 1:
            pointer = pointer_join(pointer, missing[0])
            message = f"required key {missing[0]!r} is missing"
            actual = "missing"
            expected = "present"
    elif keyword == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(str(key) for key in error.instance if key not in allowed)
        message = f"unexpected key(s) {', '.join(map(repr, extra))} (allowed: {', '.join(sorted(allowed)) or 'none'})"
        expected = "no other keys"
        actual = ", ".join(extra)
    elif keyword == "anyOf" and error.context:
        best = min(error.context, key=lambda sub: len(sub.absolute_path) * -1)
        message = f"{message}; nearest alternative: {best.message}"
    elif keyword == "type":
        actual = f"{json_type_name(error.instance)} {describe_value(error.instance)}"
    return Violation(pointer=pointer, keyword=keyword, expected=expected, actual=actual, message=message)


class CompiledSchema:
    """A schema checked once and ready to validate many values."""

    def __init__(self, schema: Mapping[str, Any] | bool) -> None:
        self.schema = schema
        # the closure compiler answers "valid?" several times faster; jsonschema explains failures
        # (and answers alone for schemas outside the dialect)
        self._fast = compile_fast(schema)
        if self._fast is None or not well_formed(schema):
            _validator_class().check_schema(schema)  # jsonschema's meta-schema walk: only where needed
        self._jsonschema: Any = None
        self._is_valid: Callable[[Any], bool] = self._fast or self._validator.is_valid

    @property
    def _validator(self) -> Any:
        """jsonschema's validator of the schema, made when first needed (to explain a failure)."""
        if self._jsonschema is None:
            self._jsonschema = _validator_class()(self.schema)
        return self._jsonschema

    def is_valid(self, value: Any) -> bool:
        return self._is_valid(value)

    @property
    def fast(self) -> bool:
        """True when validity is decided by the compiled closures (not by jsonschema)."""
        return self._fast is not None

    def violations(self, value: Any, *, base: str = "") -> list[Violation]:
        """Every violation, shallowest first; empty when ``value`` conforms."""
        if self._is_valid(value):
            return []
        try:
            errors = sorted(self._validator.iter_errors(value), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
        except (ArithmeticError, TypeError, ValueError) as exc:  # e.g. uniqueItems sorting NaN with a Decimal
            return [Violation(pointer=base, keyword="(unverifiable)", expected="a value the schema can check",
                              actual=describe_value(value), message=f"the value cannot be checked: {type(exc).__name__}: {exc}")]
        if not errors:  # the fast check and jsonschema disagree: trust the explanation-less verdict, say so
            return [Violation(pointer=base, keyword="(fast check)", expected="a valid value", actual=describe_value(value),
                              message="the value breaks the schema (rpctest's compiled check), but jsonschema names no rule")]
        return [_violation(error, base) for error in errors]


def compile_schema(schema: Mapping[str, Any] | bool) -> CompiledSchema:
    """Compile ``schema``; a malformed schema raises ``jsonschema.SchemaError`` here, not mid-run."""
    return CompiledSchema(schema)


def validate(schema: Mapping[str, Any] | bool, value: Any, *, base: str = "") -> list[Violation]:
    """One-off validation (compile and check); prefer :func:`compile_schema` in loops."""
    return CompiledSchema(schema).violations(value, base=base)


def iter_pointers(violations: Iterable[Violation]) -> list[str]:
    return [v.pointer for v in violations]
