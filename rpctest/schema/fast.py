"""A fast yes/no check for the neutral dialect: schemas compiled to nested Python closures.

Verification asks "is this valid?" tens of thousands of times and "why not?" rarely. ``jsonschema``
answers both with one general interpreter (per-keyword dispatch, persistent maps, error objects),
which costs ~50 us for a small body. Compiling the dialect's keywords into closures answers the
first question several times faster; :class:`rpctest.schema.validate.CompiledSchema` then asks
``jsonschema`` only for the values that fail, to explain them.

Scope: exactly the keywords of the dialect (see :mod:`rpctest.schema`), with ``jsonschema``'s
semantics and rpctest's type rules (tuples and sets are arrays, ``Decimal`` is a number,
``x-rpctest-type`` replaces ``type``, an ``integer`` is a Python ``int``, not an integral float). Any other keyword (``$ref``, ``patternProperties``,
``multipleOf``, ``if``...) makes :func:`compile_fast` return None, and the caller falls back to
``jsonschema`` for that schema: never a wrong answer, at worst a slower one. A property-based test
holds the two to the same verdicts.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Mapping
from typing import Any, Callable

__all__ = ["compile_fast", "well_formed", "json_equal", "json_type_name", "NATIVE_TYPES", "Unsupported"]

Check = Callable[[Any], bool]

#: keywords that assert nothing (annotations); everything else must be understood or we fall back
_ANNOTATIONS = frozenset(
    {
        "$schema", "$id", "$comment", "title", "description", "default", "examples", "format", "deprecated",
        "readOnly", "writeOnly", "contentEncoding", "contentMediaType", "x-rpctest-lossy", "x-rpctest-native",
        "x-rpctest-class",
    }
)


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement (fall back to jsonschema)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    # a Python int: every stack's server is Python, where json.loads("28.0") is a float that
    # Conformity's Integer, PyCOM's isinstance check or int-typed code refuse (JSON Schema would take it)
    return isinstance(value, int) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": _is_number,
    "array": lambda v: isinstance(v, (list, tuple, set, frozenset)),
    "object": lambda v: isinstance(v, Mapping),
}

#: the Python types each ``x-rpctest-type`` accepts (the explaining validator uses the same table)
NATIVE_TYPES: dict[str, tuple[type, ...]] = {
    "datetime": (datetime.datetime,),
    "date": (datetime.date,),
    "time": (datetime.time,),
    "timedelta": (datetime.timedelta,),
    "decimal": (decimal.Decimal,),
    "bytes": (bytes, bytearray),
    # msgpack and JSON wires carry sets and tuples as lists (a real PySOA reply holds lists where
    # its schema says Set or Tuple), so a list is one too; uniqueItems / prefixItems say the rest
    "set": (set, frozenset, list, tuple),
    "tuple": (tuple, list),
}


def json_type_name(value: Any) -> str:
    """The JSON type a value travels as (tuples and sets are arrays), else its Python type's name."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "array"
    return type(value).__name__


def json_equal(a: Any, b: Any) -> bool:
    """JSON Schema equality: ``True`` is not ``1``, containers compare item by item."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, str) != isinstance(b, str):
        return False
    try:
        return bool(a == b)
    except Exception:  # exotic values that refuse comparison are simply not equal
        return False


def _type_check(types: Any) -> Check:
    names = [types] if isinstance(types, str) else list(types)
    try:
        checks = [_TYPES[name] for name in names]
    except KeyError as exc:
        raise Unsupported(f"type {exc}") from None
    if len(checks) == 1:
        return checks[0]
    return lambda v: any(check(v) for check in checks)


def _native_check(native: str, schema: Mapping[str, Any]) -> Check:
    check = _native_type_check(native, schema)
    declared = schema.get("type")
    if declared == "null" or (isinstance(declared, list) and "null" in declared):
        return lambda v: v is None or check(v)  # a nullable native value
    return check


def _native_type_check(native: str, schema: Mapping[str, Any]) -> Check:
    if native == "object":
        wanted = schema.get("x-rpctest-class")
        if wanted is None:
            return lambda v: True
        raise Unsupported("x-rpctest-class")  # rare: let jsonschema's keyword (with ObjectRef) decide
    kinds = NATIVE_TYPES.get(native)
    if kinds is None:
        return lambda v: True  # the reference validator ignores unknown native names too
    if native == "date":
        return lambda v: isinstance(v, kinds) and not isinstance(v, datetime.datetime)
    return lambda v: isinstance(v, kinds)


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, Mapping):
        raise Unsupported("not a schema")
    checks: list[Check] = []
    keys = set(schema)
    if "x-rpctest-type" in schema:
        checks.append(_native_check(schema["x-rpctest-type"], schema))
    elif "type" in schema:
        checks.append(_type_check(schema["type"]))
    for handled in ("type", "x-rpctest-type"):
        keys.discard(handled)
    for key in sorted(keys):
        if key in _ANNOTATIONS:
            continue
        builder = _KEYWORDS.get(key)
        if builder is None:
            raise Unsupported(key)
        check = builder(schema[key], schema)
        if check is not None:
            checks.append(check)
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)

    def all_of(value: Any) -> bool:
        for check in checks:
            if not check(value):
                return False
        return True

    return all_of


# -- keyword builders: (keyword value, whole schema) -> check, or None when the keyword is covered elsewhere


def _properties(properties: Mapping[str, Any], schema: Mapping[str, Any]) -> Check:
    compiled = [(name, _compile(sub)) for name, sub in properties.items()]
    extra = schema.get("additionalProperties", True)
    names = frozenset(properties)
    extra_check = None if extra is True else _compile(extra)

    def check(value: Any) -> bool:
        if not isinstance(value, Mapping):
            return True
        for name, sub in compiled:
            if name in value and not sub(value[name]):
                return False
        if extra_check is not None:
            for key in value:
                if key not in names and not extra_check(value[key]):
                    return False
        return True

    return check


def _additional_properties(extra: Any, schema: Mapping[str, Any]) -> Check | None:
    if "properties" in schema:
        return None  # handled with the properties it complements
    return _properties({}, schema)


def _required(names: list[str], _: Mapping[str, Any]) -> Check:
    return lambda v: not isinstance(v, Mapping) or all(name in v for name in names)


def _property_names(sub: Any, _: Mapping[str, Any]) -> Check:
    inner = _compile(sub)
    return lambda v: not isinstance(v, Mapping) or all(inner(key) for key in v)


def _min_properties(n: int, _: Mapping[str, Any]) -> Check:
    return lambda v: not isinstance(v, Mapping) or len(v) >= n


def _max_properties(n: int, _: Mapping[str, Any]) -> Check:
    return lambda v: not isinstance(v, Mapping) or len(v) <= n


def _is_array(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


def _items(items: Any, schema: Mapping[str, Any]) -> Check:
    prefix = [_compile(sub) for sub in schema.get("prefixItems", [])]
    rest = _compile(items) if items is not None else None
    start = len(prefix)

    def check(value: Any) -> bool:
        if not _is_array(value):
            return True
        if isinstance(value, (set, frozenset)) and prefix:
            value = _canonical_order(value)
        for index, item in enumerate(value):
            if index < start:
                if not prefix[index](item):
                    return False
            elif rest is not None and not rest(item):
                return False
        return True

    return check


def _prefix_items(_: Any, schema: Mapping[str, Any]) -> Check | None:
    if "items" in schema:
        return None
    return _items(None, schema)


def _canonical_order(value: Any) -> list[Any]:
    """A set in the order its contract file lists it (as the reference validator indexes it)."""
    from rpctest.schema.values import canonical, encode

    return sorted(value, key=lambda item: canonical(encode(item)))


def _min_items(n: int, _: Mapping[str, Any]) -> Check:
    return lambda v: not _is_array(v) or len(v) >= n


def _max_items(n: int, _: Mapping[str, Any]) -> Check:
    return lambda v: not _is_array(v) or len(v) <= n


def _unique_items(flag: bool, _: Mapping[str, Any]) -> Check | None:
    if not flag:
        return None

    def check(value: Any) -> bool:
        if not _is_array(value) or isinstance(value, (set, frozenset)):
            return True
        items = list(value)
        return not any(json_equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))

    return check


# minLength / maxLength count characters of a str and, in the dialect, bytes of a bytes value
# (``x-rpctest-type: bytes``: Conformity's ByteString lengths)
_SIZED = (str, bytes, bytearray)


def _min_length(n: int, _: Mapping[str, Any]) -> Check:
    return lambda v: not isinstance(v, _SIZED) or len(v) >= n


def _max_length(n: int, _: Mapping[str, Any]) -> Check:
    return lambda v: not isinstance(v, _SIZED) or len(v) <= n


def _pattern(pattern: str, _: Mapping[str, Any]) -> Check:
    search = re.compile(pattern).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _python_match(pattern: str, _: Mapping[str, Any]) -> Check:
    match = re.compile(pattern).match
    return lambda v: match(str(v)) is not None


def _bound(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Mapping[str, Any]], Check]:
    def build(limit: Any, _: Mapping[str, Any]) -> Check:
        return lambda v: not _is_number(v) or compare(v, limit)

    return build


def _enum(options: list[Any], _: Mapping[str, Any]) -> Check:
    return lambda v: any(json_equal(v, option) for option in options)


def _const(value: Any, _: Mapping[str, Any]) -> Check:
    return lambda v: json_equal(v, value)


def _any_of(subs: list[Any], _: Mapping[str, Any]) -> Check:
    checks = [_compile(sub) for sub in subs]
    return lambda v: any(check(v) for check in checks)


def _all_of(subs: list[Any], _: Mapping[str, Any]) -> Check:
    checks = [_compile(sub) for sub in subs]
    return lambda v: all(check(v) for check in checks)


def _one_of(subs: list[Any], _: Mapping[str, Any]) -> Check:
    checks = [_compile(sub) for sub in subs]
    return lambda v: sum(1 for check in checks if check(v)) == 1


def _not(sub: Any, _: Mapping[str, Any]) -> Check:
    inner = _compile(sub)
    return lambda v: not inner(v)


_KEYWORDS: dict[str, Callable[[Any, Mapping[str, Any]], Check | None]] = {
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "required": _required,
    "propertyNames": _property_names,
    "minProperties": _min_properties,
    "maxProperties": _max_properties,
    "items": _items,
    "prefixItems": _prefix_items,
    "minItems": _min_items,
    "maxItems": _max_items,
    "uniqueItems": _unique_items,
    "minLength": _min_length,
    "maxLength": _max_length,
    "pattern": _pattern,
    "x-rpctest-match": _python_match,
    # spelled as jsonschema fails them ("fails if below"), so NaN passes alike on both sides
    "minimum": _bound(lambda v, limit: not v < limit),
    "maximum": _bound(lambda v, limit: not v > limit),
    "exclusiveMinimum": _bound(lambda v, limit: not v <= limit),
    "exclusiveMaximum": _bound(lambda v, limit: not v >= limit),
    "enum": _enum,
    "const": _const,
    "anyOf": _any_of,
    "allOf": _all_of,
    "oneOf": _one_of,
    "not": _not,
}


def compile_fast(schema: Any) -> Check | None:
    """A validity check for ``schema``, or None when it uses keywords outside the dialect."""
    try:
        return _compile(schema)
    except (Unsupported, re.error, TypeError):
        return None


# -- the form of a schema -------------------------------------------------------------------------------
#
# jsonschema's check_schema walks the draft 2020-12 meta-schema ($dynamicRef and all) for every schema:
# about a millisecond each, most of the time of verifying thousands of provider contracts. For the
# dialect's keywords the rules the meta-schema states are few, so they are checked here directly;
# anything else (a keyword outside the dialect, an $id to parse as a URI) is left to jsonschema.

_SIMPLE_TYPES = frozenset(_TYPES)
_COUNTS = frozenset({"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"})
_NUMBERS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_SUBSCHEMAS = frozenset({"items", "additionalProperties", "propertyNames", "not"})
_SCHEMA_LISTS = frozenset({"anyOf", "allOf", "oneOf", "prefixItems"})
_TEXTS = frozenset({"title", "description", "$comment", "format", "contentEncoding", "contentMediaType"})
_FLAGS = frozenset({"uniqueItems", "deprecated", "readOnly", "writeOnly"})
#: keywords the meta-schema says nothing about (any value): rpctest's own, and the value annotations
_FREE = frozenset({"const", "default", "x-rpctest-type", "x-rpctest-lossy", "x-rpctest-native", "x-rpctest-class", "x-rpctest-match"})


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _well_formed_keyword(key: str, value: Any) -> bool:
    if key in _SUBSCHEMAS:
        return well_formed(value)
    if key in _SCHEMA_LISTS:
        return isinstance(value, list) and len(value) > 0 and all(well_formed(sub) for sub in value)
    if key == "properties":
        return isinstance(value, Mapping) and all(well_formed(sub) for sub in value.values())
    if key == "type":
        if isinstance(value, str):
            return value in _SIMPLE_TYPES
        return isinstance(value, list) and 0 < len(value) == len(set(value)) and all(isinstance(t, str) and t in _SIMPLE_TYPES for t in value)
    if key in _COUNTS:
        return _count(value)
    if key in _NUMBERS:
        return _is_number(value) and not isinstance(value, decimal.Decimal)
    if key == "required":
        return isinstance(value, list) and all(isinstance(name, str) for name in value) and len(set(value)) == len(value)
    if key == "pattern":
        if not isinstance(value, str):
            return False
        try:
            re.compile(value)
        except re.error:
            return False
        return True
    if key in ("enum", "examples"):
        return isinstance(value, list)
    if key in _TEXTS:
        return isinstance(value, str)
    if key in _FLAGS:
        return isinstance(value, bool)
    return key in _FREE


def well_formed(schema: Any) -> bool:
    """True when ``schema`` uses only the dialect's keywords with values of the form the draft 2020-12
    meta-schema requires: then jsonschema's ``check_schema`` would pass it too, and need not run.

    False means "not known to be well formed" (a keyword outside the dialect, a bad value): the caller
    asks jsonschema, which decides and explains.
    """
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, (dict, Mapping)):  # dict first: the ABC check is slow, and schemas are dicts
        return False
    return all(isinstance(key, str) and _well_formed_keyword(key, value) for key, value in schema.items())
