"""Export a PySOA provider's Conformity schemas into rpctest's neutral schema (:mod:`rpctest.schema`).

A provider contract is only as useful as its schema is faithful: a consumer's stub is checked against
it, so a rule left out lets a wrong stub pass, and a rule made up fails a right one. PySOA declares
each action's ``request_schema`` and ``response_schema`` with Conformity fields; this module turns
them into the neutral JSON Schema dialect from two sources:

* the **live classes** (:func:`export_provider`, :func:`field_to_schema`): exact, because every field
  attribute is read directly, and the only source for the error codes an action raises;
* the **introspect action** of a running service (:func:`export_from_address`,
  :func:`introspection_to_schema`, :func:`export_introspection`): what a consumer can get without
  the provider's code. Conformity's ``introspect()`` drops a few details (listed below), so the two
  exports agree except there.

Both sources go through one converter: a live field is first read into the same dict shape
``field.introspect()`` produces (plus what introspection drops), so a field type is mapped once.

Mapping decisions (docs/stacks/pysoa.md has the full table):

* Dictionary -> ``object`` with ``properties``, ``required`` (keys not optional) and
  ``additionalProperties`` (``allow_extra_keys``); SchemalessDictionary -> ``object`` with
  ``propertyNames`` (when the key rule is a string rule) and ``additionalProperties``;
  List/Sequence -> ``array``; Set -> ``x-rpctest-type: set`` + ``uniqueItems``; Tuple ->
  ``x-rpctest-type: tuple`` + ``prefixItems`` and ``items: false``.
* Strings keep lengths; ``allow_blank=False`` becomes ``pattern: "\\S"`` (exactly Conformity's
  ``value.strip()`` test under Python's ``re``); EmailAddress/IPv4/IPv6 add ``format``;
  UnicodeDecimal gets a pattern equal to what ``decimal.Decimal()`` parses.
* Integer/Float/Decimal bounds: gt/gte/lt/lte -> exclusiveMinimum/minimum/exclusiveMaximum/maximum.
* Nullable -> a ``type`` list with ``"null"`` when the inner node is a plain typed node, else
  ``anyOf`` with ``{"type": "null"}``; Constant -> ``const`` (one value) or ``enum``.
* Temporal fields -> ``x-rpctest-type`` + ``format``; their bounds cannot be said in JSON Schema.
* ``x-rpctest-lossy`` marks every node whose native rule is not (fully) expressed, and each operation's
  ``notes`` list them with their JSON pointer: custom validators, Hashable, temporal bounds, All
  requirements that cannot be merged, Polymorph switching, class paths, SchemalessDictionary sizes
  (``minProperties``/``maxProperties`` are outside the dialect's subset), unknown field classes.
  Only annotation keywords outside the subset are used: ``deprecated`` for Conformity's ``Deprecated``.

What ``introspect()`` loses (so a remote export differs from a live one): EmailAddress, IPv4Address
and IPv6Address lengths and ``allow_blank``; temporal bounds that are falsy (``timedelta(0)``);
an ObjectInstance / TypeReference class whose repr does not name its module (an Enum class); field
subclasses that override ``errors()``; an action's ``validate()``; that Conformity 1.28.2's
``Deprecated`` rejects every value (it has no ``errors()``); Constant values that are not JSON
scalars are turned into text without a trace; descriptions of a default-typed SchemalessDictionary
key or value field. ``IntrospectionAction`` also cannot tell the error codes an action raises.

pysoa and conformity are imported inside functions only: importing this module imports neither.
"""

from __future__ import annotations

import ast
import builtins
import decimal
import functools
import inspect
import math
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from rpctest.exceptions import ConfigError, RpctestError
from rpctest.stacks.pysoa.errors import STANDARD_CODES

__all__ = [
    "IntrospectionError",
    "IntrospectionTimeout",
    "export_from_address",
    "export_introspection",
    "export_provider",
    "field_to_schema",
    "introspection_to_schema",
]

Schema = dict[str, Any]
Note = dict[str, str]

#: what ``decimal.Decimal(str)`` accepts (CPython 3.11): surrounding Unicode whitespace, then a sign,
#: digits (any Unicode decimal digit), a point, an exponent, Inf/Infinity, [s]NaN with a payload, in
#: any case, with underscores allowed anywhere between the outer whitespace. Python ``re`` syntax
#: (``\d`` and ``\s`` are Unicode), which is what rpctest's validator and Conformity both run.
_DIGITS = r"\d(?:_*\d)*"
DECIMAL_PATTERN = (
    r"^\s*_*(?:[+-]_*)?(?:"
    rf"(?:{_DIGITS}(?:_*\._*(?:{_DIGITS})?)?|\._*{_DIGITS})(?:_*[eE]_*(?:[+-]_*)?{_DIGITS})?"
    r"|[Ii]_*[Nn]_*[Ff](?:_*[Ii]_*[Nn]_*[Ii]_*[Tt]_*[Yy])?"
    rf"|(?:[Ss]_*)?[Nn]_*[Aa]_*[Nn](?:_*{_DIGITS})?"
    r")_*\s*$"
)

#: introspection ``type`` -> the Conformity class it names (``x-rpctest-native``)
_NATIVE = {
    "dictionary": "Dictionary",
    "schemaless_dictionary": "SchemalessDictionary",
    "list": "List",
    "sequence": "Sequence",
    "set": "Set",
    "tuple": "Tuple",
    "unicode": "UnicodeString",
    "bytes": "ByteString",
    "unicode_decimal": "UnicodeDecimal",
    "email_address": "EmailAddress",
    "ip_address": "IPAddress",
    "ipv4_address": "IPv4Address",
    "ipv6_address": "IPv6Address",
    "integer": "Integer",
    "float": "Float",
    "decimal": "Decimal",
    "boolean": "Boolean",
    "nullable": "Nullable",
    "null": "Null",
    "constant": "Constant",
    "anything": "Anything",
    "hashable": "Hashable",
    "any": "Any",
    "all": "All",
    "object_instance": "ObjectInstance",
    "datetime": "DateTime",
    "date": "Date",
    "time": "Time",
    "timedelta": "TimeDelta",
    "tzinfo": "TZInfo",
    "polymorph": "Polymorph",
    "class_config_dictionary": "ClassConfigurationSchema",
    "type_reference": "TypeReference",
    "python_path": "PythonPath",
    "boolean_validator": "BooleanValidator",
}

_UNKNOWN_CLASS = "x-rpctest-unknown-class"  # a live field of a class rpctest does not know
_CUSTOM_ERRORS = "x-rpctest-custom-errors"  # a live field whose class overrides errors()
_REJECTS_ALL = "x-rpctest-rejects-all"  # a live Deprecated field whose errors() is Base's (rejects everything)
_ANNOTATIONS = frozenset({"description", "x-rpctest-native", "x-rpctest-lossy", "deprecated", "default"})
_SWITCHED_NAME = re.compile(r"^(?P<action>[a-zA-Z0-9_-]+)\[(?:switch:\d+|DEFAULT)\]$")
_CLASS_REPR = re.compile(r"<(?:class|enum) '([^']+)'>")


class IntrospectionError(RpctestError, RuntimeError):
    """A running PySOA service could not be introspected (the message names address and service)."""


class IntrospectionTimeout(IntrospectionError, TimeoutError):
    """No answer to ``introspect`` within the timeout: nothing serves that name on that Redis database."""


# -- JSON pointers and notes ------------------------------------------------------------------------


def _pointer(*parts: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


class _Notes:
    """Collects one node's notes; pointers are relative to that node, so parents can move children."""

    def __init__(self) -> None:
        self.items: list[Note] = []

    def child(self, spec: Mapping[str, Any], *path: Any) -> Schema:
        """Convert ``spec`` as the child of this node at ``path`` and keep its notes."""
        schema, notes = _convert(spec)
        self.extend(notes, *path)
        return schema

    def extend(self, notes: Iterable[Note], *path: Any) -> None:
        prefix = _pointer(*path)
        self.items.extend({"pointer": prefix + note["pointer"], "note": note["note"]} for note in notes)

    def lossy(self, node: Schema, sentence: str, *path: Any) -> None:
        """Mark ``node`` (at ``path`` below this one) with ``x-rpctest-lossy`` and list the note."""
        _add_lossy(node, sentence)
        self.items.append({"pointer": _pointer(*path), "note": sentence})


def _add_lossy(node: Schema, sentence: str) -> None:
    previous = node.get("x-rpctest-lossy")
    node["x-rpctest-lossy"] = sentence if not previous else f"{previous} {sentence}"


# -- JSON values -------------------------------------------------------------------------------------


def _json_scalar(value: Any) -> tuple[Any, bool]:
    """``value`` as a plain JSON scalar, and whether that kept it exactly (an Enum member of str does)."""
    if value is None or isinstance(value, bool):
        return (None if value is None else bool(value)), True
    if isinstance(value, int):
        return int(value), True
    if isinstance(value, float):
        return float(value), math.isfinite(value)
    if isinstance(value, str):
        return str.__str__(value), True
    return str(value), False


def _json_number(value: Any) -> tuple[Any, bool]:
    """A bound as a JSON number, and whether it is exact (a Decimal like 0.1 is not a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        return None, False
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None, False
        if value == value.to_integral_value():
            return int(value), True
        number = float(value)
        if not math.isfinite(number):
            return None, False
        return number, decimal.Decimal(number) == value
    if isinstance(value, float) and not math.isfinite(value):
        return None, False
    return value, True


def _class_name(cls: Any) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _class_names(value: Any) -> tuple[list[str], str | None]:
    """Class names ("module.QualName") from live classes or from introspection's repr of them.

    Returns the names and, when some could not be recovered, the text that could not be read.
    """
    if isinstance(value, type):
        return [_class_name(value)], None
    if isinstance(value, (tuple, list)) and all(isinstance(item, type) for item in value):
        return [_class_name(item) for item in value], None
    text = value if isinstance(value, str) else repr(value)
    names = []
    for name in _CLASS_REPR.findall(text):
        if "." not in name:
            if not hasattr(builtins, name):
                return [], text
            name = f"builtins.{name}"
        names.append(name)
    return names, (None if names else text)


# -- live fields -> introspection-shaped specs --------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _live_classes() -> dict[type, str]:
    """Conformity classes rpctest maps -> their introspection type (``Deprecated`` -> "deprecated")."""
    from conformity import fields

    table = {getattr(fields, native): kind for kind, native in _NATIVE.items()}
    table[fields.Deprecated] = "deprecated"
    return table


def _matched_class(cls: type) -> type | None:
    table = _live_classes()
    return next((klass for klass in cls.__mro__ if klass in table), None)


#: field attributes copied as they are, per introspection type (children are handled apart)
_SCALARS: dict[str, tuple[str, ...]] = {
    "dictionary": ("allow_extra_keys",),
    "schemaless_dictionary": ("min_length", "max_length"),
    "list": ("min_length", "max_length"),
    "sequence": ("min_length", "max_length"),
    "set": ("min_length", "max_length"),
    "unicode": ("min_length", "max_length"),
    "bytes": ("min_length", "max_length"),
    "email_address": ("min_length", "max_length"),
    "ipv4_address": ("min_length", "max_length"),
    "ipv6_address": ("min_length", "max_length"),
    "integer": ("gt", "gte", "lt", "lte"),
    "float": ("gt", "gte", "lt", "lte"),
    "decimal": ("gt", "gte", "lt", "lte"),
    "datetime": ("gt", "gte", "lt", "lte"),
    "date": ("gt", "gte", "lt", "lte"),
    "time": ("gt", "gte", "lt", "lte"),
    "timedelta": ("gt", "gte", "lt", "lte"),
    "polymorph": ("switch_field",),
    "object_instance": ("valid_type",),
    "type_reference": ("base_classes",),
    "class_config_dictionary": ("default_path",),
}
#: child fields: introspection key -> (field attribute, shape: one field, a sequence, or a mapping)
_CHILDREN: dict[str, dict[str, tuple[str, str]]] = {
    "dictionary": {"contents": ("contents", "map")},
    "schemaless_dictionary": {"key_type": ("key_type", "one"), "value_type": ("value_type", "one")},
    "list": {"contents": ("contents", "one")},
    "sequence": {"contents": ("contents", "one")},
    "set": {"contents": ("contents", "one")},
    "tuple": {"contents": ("contents", "many")},
    "nullable": {"nullable": ("field", "one")},
    "any": {"options": ("options", "many")},
    "all": {"requirements": ("requirements", "many")},
    "polymorph": {"contents_map": ("contents_map", "map")},
    "python_path": {"value_schema": ("value_schema", "one")},
}
_STRING_KINDS = frozenset({"unicode", "bytes", "email_address", "ipv4_address", "ipv6_address"})


def _live_spec(field: Any) -> dict[str, Any]:
    """The introspection-shaped dict of a live field, without what ``introspect()`` drops.

    A field that cannot be read (a subclass with unusual attributes) is treated as unknown, with
    the reason in its note: an export never fails on one field.
    """
    matched = _matched_class(type(field))
    if matched is None:
        return _unknown_live_spec(field)
    try:
        return _read_live_spec(field, matched)
    except Exception as exc:  # noqa: BLE001 - a user subclass can break any attribute; the note says how
        return {**_unknown_live_spec(field), "error": f"{type(exc).__name__}: {exc}"}


def _read_live_spec(field: Any, matched: type) -> dict[str, Any]:
    kind = _live_classes()[matched]
    if kind == "deprecated":
        return _live_deprecated(field)
    spec: dict[str, Any] = {"type": kind}
    for attribute in _SCALARS.get(kind, ()):
        value = getattr(field, attribute, None)
        if value is not None:
            spec[attribute] = value
    for key, (attribute, shape) in _CHILDREN.get(kind, {}).items():
        _live_children(spec, key, getattr(field, attribute, None), shape)
    _live_extras(spec, kind, field, matched)
    return spec


def _live_deprecated(field: Any) -> dict[str, Any]:
    """The wrapped field, marked deprecated; and marked broken where Conformity's Deprecated is.

    Conformity 1.28.2's ``Deprecated`` defines no ``errors()``, so ``Base.errors`` answers for it and
    the real service rejects every value with INVALID. The schema still describes the wrapped field
    (what the provider means), and the note says what it does.
    """
    from conformity import fields

    spec = {**_live_spec(field.field), "deprecated": True}
    if type(field).errors is fields.Base.errors:
        spec[_REJECTS_ALL] = True
    return spec


def _live_children(spec: dict[str, Any], key: str, value: Any, shape: str) -> None:
    if value is None:
        return
    if shape == "one":
        spec[key] = _live_spec(value)
    elif shape == "many":
        spec[key] = [_live_spec(item) for item in value]
    else:
        spec[key] = {name: _live_spec(item) for name, item in value.items()}


def _live_extras(spec: dict[str, Any], kind: str, field: Any, matched: type) -> None:
    """The attributes that need a rule of their own (the same rules ``introspect()`` applies)."""
    description = getattr(field, "description", None)
    if isinstance(description, str) and description:
        spec["description"] = description
    if kind == "dictionary":
        spec["optional_keys"] = sorted(field.optional_keys, key=str)
    if kind in _STRING_KINDS and field.allow_blank is False:
        spec["allow_blank"] = False
    if kind == "email_address" and field.domain_whitelist is not type(field).domain_whitelist:
        spec["domain_whitelist"] = sorted(field.domain_whitelist)
    if kind == "constant":
        spec["values"] = sorted(field.values, key=str)
    if kind == "boolean_validator":
        spec["validator"] = field.validator_description
    if kind == "class_config_dictionary":
        spec["base_class"] = field.base_class.__name__ if field.base_class else None
    validator = getattr(field, "additional_validator", None)
    if validator is not None:
        spec["additional_validation"] = type(validator).__name__
    if getattr(type(field), "errors", None) is not getattr(matched, "errors", None):
        spec[_CUSTOM_ERRORS] = _class_name(type(field))


def _unknown_live_spec(field: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": _UNKNOWN_CLASS, "class": _class_name(type(field))}
    description = getattr(field, "description", None)
    if isinstance(description, str) and description:
        spec["description"] = description
    return spec


# -- specs -> neutral schema --------------------------------------------------------------------------


def _convert(spec: Mapping[str, Any]) -> tuple[Schema, list[Note]]:
    """One node: dispatch on the introspection type, then the annotations every node shares."""
    notes = _Notes()
    kind: Any = spec.get("type") if isinstance(spec, Mapping) else None
    converter = _CONVERTERS.get(kind) if isinstance(kind, str) else None
    if converter is None:
        return _unknown(spec, notes), notes.items
    node = converter(spec, notes)
    node.setdefault("x-rpctest-native", _NATIVE[kind])
    _annotate(node, spec, notes)
    return node, notes.items


def _annotate(node: Schema, spec: Mapping[str, Any], notes: _Notes) -> None:
    description = spec.get("description")
    if isinstance(description, str) and description:
        node.setdefault("description", description)
    if spec.get("deprecated"):
        node["deprecated"] = True
    native = node.get("x-rpctest-native")
    if spec.get("additional_validation"):
        notes.lossy(
            node,
            f"{native} has an additional validator ({spec['additional_validation']}) that runs after these "
            "rules; what it checks is not expressed.",
        )
    if spec.get(_REJECTS_ALL):
        notes.lossy(
            node,
            "Deprecated: this Conformity version's Deprecated field has no errors() of its own, so the real field "
            "rejects every value (INVALID, 'Validation not implemented on base type'); the schema describes the "
            "wrapped field.",
        )
    if spec.get(_CUSTOM_ERRORS):
        notes.lossy(
            node,
            f"The field class {spec[_CUSTOM_ERRORS]} overrides errors() of {native}; its extra rules are not "
            "expressed.",
        )


def _unknown(spec: Any, notes: _Notes) -> Schema:
    node: Schema = {}
    if isinstance(spec, Mapping) and spec.get("type") == _UNKNOWN_CLASS:
        node["x-rpctest-native"] = spec["class"].rsplit(".", 1)[-1]
        sentence = f"Unknown Conformity field class {spec['class']}: no rule is exported for it."
        if spec.get("error"):
            sentence = f"The Conformity field {spec['class']} could not be read ({spec['error']}); no rule is exported for it."
    else:
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        sentence = f"Unknown Conformity introspection type {kind!r}: no rule is exported for it."
    if isinstance(spec, Mapping) and isinstance(spec.get("description"), str) and spec["description"]:
        node["description"] = spec["description"]
    notes.lossy(node, sentence)
    return node


def _c_dictionary(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    contents = spec.get("contents") or {}
    order = [key for key in (spec.get("display_order") or contents) if key in contents]
    node: Schema = {"type": "object", "properties": {}}
    for key in order:
        name = key if isinstance(key, str) else str(key)
        child = notes.child(contents[key], "properties", name)
        if not isinstance(key, str):
            notes.lossy(
                child,
                f"The key {key!r} is a {type(key).__name__} in Python; JSON object keys are strings.",
                "properties",
                name,
            )
        node["properties"][name] = child
    optional = set(spec.get("optional_keys") or ())
    required = sorted((str(key) for key in contents if key not in optional), key=str)
    if required:
        node["required"] = required
    node["additionalProperties"] = bool(spec.get("allow_extra_keys"))
    return node


def _string_keys(schema: Schema) -> bool:
    """True when ``schema`` is a rule on strings alone, so it can be ``propertyNames``."""
    if "x-rpctest-type" in schema:
        return False
    if schema.get("type") == "string":
        return True
    values = schema["enum"] if "enum" in schema else [schema["const"]] if "const" in schema else None
    return values is not None and all(isinstance(value, str) for value in values)


def _c_schemaless(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node: Schema = {"type": "object"}
    key_spec: Mapping[str, Any] = spec["key_type"] if isinstance(spec.get("key_type"), Mapping) else {"type": "hashable"}
    if key_spec.get("type") not in ("hashable", "anything"):
        key_schema, key_notes = _convert(key_spec)
        if _string_keys(key_schema):
            node["propertyNames"] = key_schema
            notes.extend(key_notes, "propertyNames")
        else:
            notes.lossy(
                node,
                f"Keys must pass the {key_schema.get('x-rpctest-native', 'custom')} rule; JSON object keys are "
                "always strings, so the key rule is not expressed.",
            )
    node["additionalProperties"] = notes.child(spec.get("value_type") or {"type": "anything"}, "additionalProperties")
    sizes = _bounds_text(spec, (("min_length", "at least"), ("max_length", "at most")))
    if sizes:
        notes.lossy(
            node,
            f"The mapping must have {sizes} entries; minProperties/maxProperties are outside rpctest's schema "
            "subset, so the size is not checked.",
        )
    return node


def _bounds_text(spec: Mapping[str, Any], names: Iterable[tuple[str, str]]) -> str:
    return " and ".join(f"{word} {spec[key]}" for key, word in names if spec.get(key) is not None)


def _items_bounds(node: Schema, spec: Mapping[str, Any]) -> Schema:
    if spec.get("min_length") is not None:
        node["minItems"] = spec["min_length"]
    if spec.get("max_length") is not None:
        node["maxItems"] = spec["max_length"]
    return node


def _c_list(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node: Schema = {"type": "array", "items": notes.child(spec.get("contents") or {"type": "anything"}, "items")}
    return _items_bounds(node, spec)


def _c_set(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node = _c_list(spec, notes)
    node.update({"x-rpctest-type": "set", "uniqueItems": True})
    return node


def _c_tuple(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    contents = list(spec.get("contents") or ())
    node: Schema = {"type": "array", "x-rpctest-type": "tuple"}
    if contents:  # an empty prefixItems is not valid JSON Schema; Tuple() accepts only ()
        node["prefixItems"] = [notes.child(item, "prefixItems", index) for index, item in enumerate(contents)]
    node.update({"items": False, "minItems": len(contents), "maxItems": len(contents)})
    return node


def _string_node(spec: Mapping[str, Any], extra: Schema | None = None) -> Schema:
    node: Schema = {"type": "string", **(extra or {})}
    if spec.get("min_length") is not None:
        node["minLength"] = spec["min_length"]
    if spec.get("max_length") is not None:
        node["maxLength"] = spec["max_length"]
    if spec.get("allow_blank") is False:
        node["pattern"] = r"\S"
    return node


def _c_unicode(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return _string_node(spec)


def _c_bytes(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node = _string_node({**spec, "allow_blank": True}, {"x-rpctest-type": "bytes"})
    if spec.get("allow_blank") is False:
        notes.lossy(node, "The bytes must not be blank (only ASCII whitespace); that is not expressed.")
    return node


def _c_email(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node = _string_node(spec, {"format": "email"})
    whitelist = spec.get("domain_whitelist")
    if whitelist:
        notes.lossy(
            node,
            f"EmailAddress also accepts the domains {', '.join(map(str, whitelist))} although they are not valid "
            "email domains; format 'email' does not say so.",
        )
    return node


def _c_ipv4(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return _string_node(spec, {"format": "ipv4"})


def _c_ipv6(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return _string_node(spec, {"format": "ipv6"})


def _c_ip(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}


def _c_unicode_decimal(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return {"type": "string", "pattern": DECIMAL_PATTERN}


_BOUND_KEYWORDS = (("gt", "exclusiveMinimum"), ("gte", "minimum"), ("lt", "exclusiveMaximum"), ("lte", "maximum"))


def _number_node(spec: Mapping[str, Any], notes: _Notes, node: Schema) -> Schema:
    for name, keyword in _BOUND_KEYWORDS:
        if spec.get(name) is None:
            continue
        number, exact = _json_number(spec[name])
        if number is not None:
            node[keyword] = number
        if not exact:
            notes.lossy(node, f"The bound {name} {spec[name]} is not exactly a JSON number; it is {number}.")
    return node


def _c_integer(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return _number_node(spec, notes, {"type": "integer"})


def _c_float(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return _number_node(spec, notes, {"type": "number"})


def _c_decimal(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return _number_node(spec, notes, {"type": "number", "x-rpctest-type": "decimal"})


def _c_boolean(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return {"type": "boolean"}


def _c_null(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return {"type": "null"}


def _c_anything(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return {}


def _c_hashable(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node: Schema = {}
    notes.lossy(node, "Hashable: the value must be hashable in Python (no list, dict or set); that is not expressed.")
    return node


def _c_constant(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    values: list[Any] = []
    inexact: list[Any] = []
    for value in spec.get("values") or ():
        scalar, exact = _json_scalar(value)
        if not exact:
            inexact.append(scalar)
        if scalar not in values:
            values.append(scalar)
    node: Schema = {"const": values[0]} if len(values) == 1 else {"enum": sorted(values, key=str)}
    if inexact:
        notes.lossy(node, f"The constant values {', '.join(map(str, inexact))} are not JSON values; their text is used.")
    return node


def _c_nullable(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    inner, inner_notes = _convert(spec.get("nullable") or {"type": "anything"})
    kind = inner.get("type")
    if isinstance(kind, str) and not {"x-rpctest-type", "enum", "const", "anyOf"} & inner.keys():
        inner["type"] = [kind, "null"]
        notes.extend(inner_notes)
        return inner
    notes.extend(inner_notes, "anyOf", 0)
    return {"anyOf": [inner, {"type": "null"}]}


def _c_any(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    options = list(spec.get("options") or ())
    if not options:  # Any() with no options accepts every value
        return {}
    return {"anyOf": [notes.child(option, "anyOf", index) for index, option in enumerate(options)]}


#: keywords that only mean something together, so All merges them as one unit
_KEYWORD_UNITS = (("properties", "additionalProperties"), ("prefixItems", "items"))


def _keyword_units(schema: Schema) -> list[tuple[str, ...]]:
    grouped = {key for unit in _KEYWORD_UNITS for key in unit}
    units = [tuple(k for k in unit if k in schema) for unit in _KEYWORD_UNITS if grouped & schema.keys() & set(unit)]
    units += [(key,) for key in schema if key not in grouped and key not in _ANNOTATIONS]
    return units


def _c_all(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    """All(...) as one node: JSON Schema keywords side by side are all required, like Conformity's All.

    ``allOf`` is outside the dialect's subset, so requirements are merged keyword by keyword; a
    keyword two requirements set differently cannot be merged, and the later one is left out (lossy).
    """
    merged: Schema = {}
    lost: list[str] = []
    for index, requirement in enumerate(spec.get("requirements") or ()):
        schema, sub_notes = _convert(requirement)
        taken = _merge_requirement(merged, schema, index, lost)
        notes.extend(note for note in sub_notes if _top_keyword(note["pointer"]) in taken)
        for note in sub_notes:
            if note["pointer"] == "":
                notes.lossy(merged, f"(requirement {index}) {note['note']}")
    if lost:
        notes.lossy(
            merged,
            f"All: {'; '.join(lost)} cannot be merged with an earlier requirement, so not expressed (allOf is "
            "outside rpctest's schema subset).",
        )
    return merged


def _top_keyword(pointer: str) -> str:
    """The first segment of a relative pointer ("" for the node itself)."""
    return pointer.split("/")[1] if pointer else ""


def _merge_requirement(merged: Schema, schema: Schema, index: int, lost: list[str]) -> set[str]:
    taken: set[str] = set()
    for unit in _keyword_units(schema):
        if unit == ("required",) and "required" in merged:
            merged["required"] = sorted(set(merged["required"]) | set(schema["required"]))
        elif not any(key in merged for key in unit):
            merged.update({key: schema[key] for key in unit})
            taken.update(unit)
        elif any(merged.get(key) != schema.get(key) for key in unit):
            lost.append(f"requirement {index}'s {'/'.join(unit)}")
    return taken


def _c_object_instance(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node: Schema = {"x-rpctest-type": "object"}
    names, unreadable = _class_names(spec.get("valid_type"))
    if names:
        node["x-rpctest-class"] = names[0] if len(names) == 1 else names
    if unreadable is not None:
        notes.lossy(node, f"The class {unreadable} cannot be named as module.QualName; any object is accepted.")
    return node


_TEMPORAL = {
    "datetime": {"type": "string", "format": "date-time", "x-rpctest-type": "datetime"},
    "date": {"type": "string", "format": "date", "x-rpctest-type": "date"},
    "time": {"type": "string", "format": "time", "x-rpctest-type": "time"},
    "timedelta": {"type": "string", "format": "duration", "x-rpctest-type": "timedelta"},
}


def _c_temporal(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node = dict(_TEMPORAL[spec["type"]])
    bounds = ", ".join(f"{name} {spec[name]}" for name, _ in _BOUND_KEYWORDS if spec.get(name) is not None)
    if bounds:
        notes.lossy(node, f"{_NATIVE[spec['type']]} bounds ({bounds}) cannot be compared in JSON Schema; not expressed.")
    return node


def _c_tzinfo(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    return {"x-rpctest-type": "object", "x-rpctest-class": "datetime.tzinfo"}


def _c_polymorph(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    contents = spec.get("contents_map") or {}
    keys = sorted(contents, key=str)
    node: Schema = {"anyOf": [notes.child(contents[key], "anyOf", index) for index, key in enumerate(keys)]}
    branches = ", ".join(f"{key} -> anyOf/{index}" for index, key in enumerate(keys))
    notes.lossy(
        node,
        f"Polymorph: the value at '{spec.get('switch_field')}' chooses the branch ({branches}); the schema "
        "accepts a value matching any branch, whatever its switch value.",
    )
    return node


def _c_class_config(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    path: Schema = {"type": "string"}
    if spec.get("default_path"):
        path["default"] = spec["default_path"]
    node: Schema = {
        "type": "object",
        "properties": {"path": path, "kwargs": {"type": "object"}, "object": {}},
        "additionalProperties": False,
    }
    if not spec.get("default_path"):
        node["required"] = ["path"]
    notes.lossy(
        node,
        f"ClassConfigurationSchema: 'path' must name an importable class extending {spec.get('base_class') or 'object'}, "
        "and 'kwargs' is checked by that class's own settings schema; neither is expressed.",
    )
    return node


def _c_type_reference(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node: Schema = {"x-rpctest-type": "object", "x-rpctest-class": "builtins.type"}
    if spec.get("base_classes"):
        names, unreadable = _class_names(spec["base_classes"])
        wanted = ", ".join(names) if names else unreadable
        notes.lossy(node, f"TypeReference: the class must extend {wanted}; that is not expressed.")
    return node


def _c_python_path(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node: Schema = {"type": "string"}
    sentence = "PythonPath: the string must name an importable Python object; that is not expressed."
    value_schema = spec.get("value_schema")
    if isinstance(value_schema, Mapping):
        inner, _ = _convert(value_schema)
        rule = inner.get("x-rpctest-lossy") or f"a {inner.get('x-rpctest-native', 'custom')} rule"
        sentence += f" The imported object must also pass: {rule}"
    notes.lossy(node, sentence)
    return node


def _c_boolean_validator(spec: Mapping[str, Any], notes: _Notes) -> Schema:
    node: Schema = {}
    notes.lossy(node, f"BooleanValidator: a Python function decides ({spec.get('validator') or 'undocumented'}).")
    return node


_CONVERTERS: dict[str, Callable[[Mapping[str, Any], _Notes], Schema]] = {
    "dictionary": _c_dictionary,
    "schemaless_dictionary": _c_schemaless,
    "list": _c_list,
    "sequence": _c_list,
    "set": _c_set,
    "tuple": _c_tuple,
    "unicode": _c_unicode,
    "bytes": _c_bytes,
    "unicode_decimal": _c_unicode_decimal,
    "email_address": _c_email,
    "ip_address": _c_ip,
    "ipv4_address": _c_ipv4,
    "ipv6_address": _c_ipv6,
    "integer": _c_integer,
    "float": _c_float,
    "decimal": _c_decimal,
    "boolean": _c_boolean,
    "nullable": _c_nullable,
    "null": _c_null,
    "constant": _c_constant,
    "anything": _c_anything,
    "hashable": _c_hashable,
    "any": _c_any,
    "all": _c_all,
    "object_instance": _c_object_instance,
    "datetime": _c_temporal,
    "date": _c_temporal,
    "time": _c_temporal,
    "timedelta": _c_temporal,
    "tzinfo": _c_tzinfo,
    "polymorph": _c_polymorph,
    "class_config_dictionary": _c_class_config,
    "type_reference": _c_type_reference,
    "python_path": _c_python_path,
    "boolean_validator": _c_boolean_validator,
}


# -- public field converters ---------------------------------------------------------------------------


def field_to_schema(field: Any) -> tuple[Schema, list[Note]]:
    """The neutral schema of a live Conformity field, and a note for every lossy node.

    Notes are ``{"pointer": <JSON pointer within the returned schema>, "note": <sentence>}``; each
    such node also carries ``x-rpctest-lossy``. A field of a class rpctest does not know becomes
    ``{}`` with a note naming the class: exporting never fails on a field.
    """
    return _convert(_live_spec(field))


def introspection_to_schema(data: Mapping[str, Any]) -> tuple[Schema, list[Note]]:
    """The neutral schema of a field's ``introspect()`` dict (what PySOA's ``introspect`` returns).

    Same result as :func:`field_to_schema` on the field itself, except for what ``introspect()``
    drops (see the module docstring); an unknown ``type`` becomes ``{}`` with a note.
    """
    return _convert(data)


# -- error codes: an AST scan of the action's source ----------------------------------------------------


def _is_library_class(cls: type) -> bool:
    top = cls.__module__.split(".", 1)[0]
    return top in ("pysoa", "conformity", "builtins") or top in sys.stdlib_module_names


def _code_value(node: ast.AST, namespace: Mapping[str, Any]) -> str | None:
    """A string constant, or a module-level name bound to one (``code=ERROR_CODE_NOT_FOUND``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and isinstance(namespace.get(node.id), str):
        value: str = namespace[node.id]
        return value
    return None


def _callee_name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _positional_code(call: ast.Call, namespace: Mapping[str, Any]) -> str | None:
    """The first positional argument of ``SomethingError(...)`` when it looks like a code.

    Python's own exceptions (``ValueError("...")``) take a message, not a code, and a string with
    whitespace in it is a message too: neither is counted.
    """
    callee = _callee_name(call.func)
    if not call.args or not callee.endswith("Error"):
        return None
    if isinstance(getattr(builtins, callee, None), type) and issubclass(getattr(builtins, callee), BaseException):
        return None
    code = _code_value(call.args[0], namespace)
    return code if code and not any(char.isspace() for char in code) else None


def _codes_in_source(source: str, namespace: Mapping[str, Any]) -> set[str]:
    codes: set[str] = set()
    for node in ast.walk(ast.parse(textwrap.dedent(source))):
        if not isinstance(node, ast.Call):
            continue
        found = [_code_value(keyword.value, namespace) for keyword in node.keywords if keyword.arg == "code"]
        found.append(_positional_code(node, namespace))
        codes.update(code for code in found if code)
    return codes


def _scan_error_codes(action: Any) -> tuple[set[str], list[str]]:
    """Codes raised in the source of ``action`` and its user-code bases; and classes without source."""
    codes: set[str] = set()
    unreadable: list[str] = []
    classes = action.__mro__ if isinstance(action, type) else (type(action),)
    for cls in classes:
        if _is_library_class(cls):
            continue
        try:
            source = inspect.getsource(cls)
        except (OSError, TypeError):
            unreadable.append(_class_name(cls))
            continue
        module = sys.modules.get(cls.__module__)
        codes |= _codes_in_source(source, vars(module) if module is not None else {})
    return codes - set(STANDARD_CODES), unreadable


# -- operations ----------------------------------------------------------------------------------------


def _documentation(action: Any) -> str:
    text = getattr(action, "description", None) or getattr(action, "__doc__", None) or ""
    return inspect.cleandoc(text) if isinstance(text, str) else ""


def _part(
    part: str, source: Any, convert: Callable[[Any], tuple[Schema, list[Note]]]
) -> tuple[Schema, list[Note]]:
    """A request or response schema; no schema means PySOA checks nothing, which the note says."""
    if not source:
        return {}, [{"pointer": f"/{part}", "note": f"No {part}_schema: PySOA does not check the {part} body."}]
    schema, notes = convert(source)
    return schema, [{"pointer": f"/{part}{note['pointer']}", "note": note["note"]} for note in notes]


def _operation(description: str, request: tuple[Schema, list[Note]], response: tuple[Schema, list[Note]]) -> dict[str, Any]:
    return {
        "description": description,
        "request": request[0],
        "response": response[0],
        "errors": [],
        "notes": request[1] + response[1],
    }


def _live_operation(action: Any) -> dict[str, Any]:
    operation = _operation(
        _documentation(action),
        _part("request", getattr(action, "request_schema", None), field_to_schema),
        _part("response", getattr(action, "response_schema", None), field_to_schema),
    )
    _note_validate_override(action, operation)
    codes, unreadable = _scan_error_codes(action)
    operation["errors"] = sorted(codes)
    operation["notes"] += [
        {"pointer": "/errors", "note": f"The source of {name} is not available; its error codes were not scanned."}
        for name in unreadable
    ]
    return operation


def _note_validate_override(action: Any, operation: dict[str, Any]) -> None:
    from pysoa.server.action.base import Action

    if not (isinstance(action, type) and issubclass(action, Action)) or getattr(action, "validate") is Action.validate:  # noqa: B009 - typed access to the untyped Action's subclass
        return
    sentence = f"{_class_name(action)}.validate() checks the request in Python; those checks are not expressed."
    if getattr(action, "request_schema", None):
        _add_lossy(operation["request"], sentence)
    operation["notes"].append({"pointer": "/request", "note": sentence})


def _unique(notes: Iterable[Note]) -> list[Note]:
    found: list[Note] = []
    for note in notes:
        if note not in found:
            found.append(note)
    return found


def _merge_part(part: str, name: str, branches: list[tuple[str, dict[str, Any]]]) -> tuple[Schema, list[Note]]:
    """One part of a switched action: the branches' common schema, or anyOf of them (lossy)."""
    prefix = f"/{part}"
    schemas = [operation[part] for _, operation in branches]
    branch_notes = [
        [note for note in operation["notes"] if note["pointer"] == prefix or note["pointer"].startswith(prefix + "/")]
        for _, operation in branches
    ]
    if all(schema == schemas[0] for schema in schemas):
        return schemas[0], _unique(note for notes in branch_notes for note in notes)
    notes = [
        {"pointer": f"{prefix}/anyOf/{index}{note['pointer'][len(prefix):]}", "note": note["note"]}
        for index, found in enumerate(branch_notes)
        for note in found
    ]
    sentence = (
        f"{name} is a SwitchedAction: SOA switches in the request context choose which of "
        f"{', '.join(sub for sub, _ in branches)} runs; the schema accepts the {part} of any of them."
    )
    node: Schema = {"anyOf": schemas}
    _add_lossy(node, sentence)
    return node, [{"pointer": prefix, "note": sentence}] + notes


def _merge_switched(name: str, branches: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One operation for a SwitchedAction, from its branches named as ``introspect`` names them.

    A consumer calls the action by its own name; which implementation answers depends on switches in
    the request context, so the contract accepts what any branch accepts and marks that lossy.
    """
    branches = sorted(branches, key=lambda item: item[0])
    default = next((op for sub, op in branches if sub.endswith("[DEFAULT]")), branches[-1][1])
    request = _merge_part("request", name, branches)
    response = _merge_part("response", name, branches)
    operation = _operation(default["description"], request, response)
    others = (note for _, op in branches for note in op["notes"] if not note["pointer"].startswith(("/request", "/response")))
    operation["notes"] = _unique([*operation["notes"], *others])
    operation["errors"] = sorted({code for _, branch in branches for code in branch["errors"]})
    return operation


def _switched_branches(name: str, action: Any) -> list[tuple[str, Any]]:
    """``(name[switch:N] | name[DEFAULT], action class)`` exactly as PySOA's introspection names them."""
    from pysoa.server.action.switched import SwitchedAction
    from pysoa.server.internal.types import get_switch

    entries = list(action.switch_to_action_map)
    named, found_default = [], False
    for index, (switch, sub_action) in enumerate(entries):
        if switch == SwitchedAction.DEFAULT_ACTION or (not found_default and index == len(entries) - 1):
            found_default = True
            named.append((f"{name}[DEFAULT]", sub_action))
        else:
            named.append((f"{name}[switch:{get_switch(switch)}]", sub_action))
    return named


def _served_actions(server_class: type[Any]) -> dict[str, Any]:
    """Every action a client can call on ``server_class``, as pysoa 1.4.9 serves them.

    What we found in pysoa 1.4.9: ``Server.execute_job`` answers ``introspect`` (the server's
    ``introspection_action`` or ``IntrospectionAction``) and ``status`` (a ``BaseStatusAction``
    built by ``make_default_status_action_class``) whenever ``action_class_map`` has no entry of that
    name, and ``IntrospectionAction`` lists both. They are real operations a consumer may call, so
    the contract has them; the status schemas are ``BaseStatusAction``'s, as introspection reports.
    """
    from pysoa.server.action.introspection import IntrospectionAction
    from pysoa.server.action.status import BaseStatusAction

    actions = dict(server_class.action_class_map)
    if "introspect" not in actions:
        actions["introspect"] = getattr(server_class, "introspection_action", None) or IntrospectionAction
    if "status" not in actions:
        actions["status"] = BaseStatusAction
    return actions


def _provider_operation(name: str, action: Any, declared: Iterable[str]) -> dict[str, Any]:
    from pysoa.server.action.switched import SwitchedAction

    if isinstance(action, type) and issubclass(action, SwitchedAction):
        branches = [(sub, _live_operation(sub_action)) for sub, sub_action in _switched_branches(name, action)]
        operation = _merge_switched(name, branches)
        own, _ = _scan_error_codes(action)
        operation["errors"] = sorted(set(operation["errors"]) | own)
    else:
        operation = _live_operation(action)
    operation["errors"] = sorted(set(operation["errors"]) | {str(code) for code in declared})
    return operation


def export_provider(
    server_class: type[Any], *, expected_errors: Mapping[str, Iterable[str]] | None = None
) -> dict[str, Any]:
    """The neutral contract of a PySOA ``Server`` subclass, from its live action classes.

    Returns ``{"service", "operations": {name: {"description", "request", "response", "errors",
    "notes"}}, "notes"}``; note pointers are relative to the operation ("/request/properties/id").

    ``errors`` lists the codes an action can answer beyond PySOA's standard ones (validation codes,
    SERVER_ERROR, timeouts): PySOA has no declaration of error codes, and a contract without them
    would flag every legitimate stubbed error (a consumer stubbing ``NOT_FOUND`` for ``get_user``).
    They come from ``expected_errors[action]`` when given, plus an AST scan of the source of the
    action class and of its bases in user code: a string passed as ``code=`` to any call, or as the
    first positional argument of a call to a name ending in ``Error`` (not Python's own exceptions,
    and not a string with whitespace: those are messages); a module-level name bound to a string
    counts too. Codes raised by helper functions outside the class are not found; declare them
    with ``expected_errors``.
    """
    _check_server_class(server_class)
    actions = _served_actions(server_class)
    expected = {name: list(codes) for name, codes in (expected_errors or {}).items()}
    unknown = sorted(set(expected) - set(actions))
    if unknown:
        raise ConfigError(
            f"expected_errors names {', '.join(map(repr, unknown))}, which {server_class.__name__} does not serve "
            f"(actions: {', '.join(sorted(actions))})"
        )
    operations = {name: _provider_operation(name, actions[name], expected.get(name, ())) for name in sorted(actions)}
    return _finish(server_class.service_name, operations, [])


def _finish(service: str, operations: dict[str, dict[str, Any]], notes: list[Note]) -> dict[str, Any]:
    """The export document; notes sorted by pointer (stably), so re-exports diff cleanly."""
    if "introspect" in operations:
        # PySOA's IntrospectionAction answers INVALID at action_name for a name the service does not
        # serve: an answer to a valid request, so it is declared (else fuzzing calls it a rejection)
        introspect = operations["introspect"]
        introspect["errors"] = sorted({*introspect["errors"], "INVALID"})
    for operation in operations.values():
        operation["notes"].sort(key=lambda note: note["pointer"])
    return {"service": service, "operations": operations, "notes": notes}


def _check_server_class(server_class: Any) -> None:
    from rpctest.stacks.pysoa.host import require_pysoa

    require_pysoa()
    from pysoa.server.server import Server

    if not (isinstance(server_class, type) and issubclass(server_class, Server)):
        raise TypeError(f"a PySOA schema export needs a pysoa.server.Server subclass, not {server_class!r}")
    if not getattr(server_class, "service_name", None):  # getattr: mypy sees the untyped Server's subclass as a bare type
        raise TypeError(f"{server_class.__name__} has no service_name")


# -- from introspection --------------------------------------------------------------------------------


_REMOTE_ERRORS_NOTE = (
    "Error codes cannot be discovered remotely (PySOA's introspect does not report them), so "
    "operations list none of their own (only introspect's built-in INVALID) and leave them open "
    "(errors_open): verify takes a stubbed code on trust and the fuzzer any code but PySOA's own; "
    "export from the provider's classes to check them."
)


def _introspected_operation(entry: Mapping[str, Any]) -> dict[str, Any]:
    return _operation(
        inspect.cleandoc(entry.get("documentation") or ""),
        _part("request", entry.get("request_schema"), introspection_to_schema),
        _part("response", entry.get("response_schema"), introspection_to_schema),
    )


def export_introspection(service: str, response: Mapping[str, Any]) -> dict[str, Any]:
    """The neutral contract from the body an ``introspect`` action answered (all actions).

    Switched actions (``name[switch:N]`` / ``name[DEFAULT]``) become one operation ``name``, as the
    live export makes them.
    """
    entries = response.get("actions") or {}
    plain: dict[str, dict[str, Any]] = {}
    switched: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, entry in entries.items():
        match = _SWITCHED_NAME.match(name)
        if match:
            switched.setdefault(match.group("action"), []).append((name, _introspected_operation(entry)))
        else:
            plain[name] = _introspected_operation(entry)
    for name, branches in switched.items():
        plain[name] = _merge_switched(name, branches)
    # introspection does not report the codes an action raises on purpose: they stay open
    operations = {name: {**plain[name], "errors_open": True} for name in sorted(plain)}
    return _finish(service, operations, [{"pointer": "", "note": _REMOTE_ERRORS_NOTE}])


def _parse_address(address: str, service: str | None) -> tuple[Any, str]:
    """``redis://host:port/db#service.NAME`` -> (a real RedisTarget, the service name)."""
    from rpctest import redis_backend

    base, _, fragment = address.partition("#")
    named = None
    if fragment:
        if not fragment.startswith("service.") or fragment == "service.":
            raise ConfigError(f"the fragment of {address!r} must be '#service.NAME'")
        named = fragment[len("service."):]
    if service and named and service != named:
        raise ConfigError(f"service={service!r} contradicts the address {address!r}")
    name = service or named
    if not name:
        raise ConfigError(f"no service named: use {address}#service.NAME or pass service=")
    parts = urlsplit(base)
    if parts.scheme != "redis":
        raise ConfigError(f"a PySOA address is redis://host:port/db[#service.NAME], not {address!r}")
    if not parts.path.strip("/"):
        base = base.rstrip("/") + "/0"
    target = redis_backend.real(base)
    assert target is not None
    return target, name


def _client_for(target: Any, service: str, timeout: float) -> Any:
    """A pysoa ``Client`` for ``service`` over Redis, configured the way rpctest's host half does it."""
    from pysoa.client.client import Client

    from rpctest.stacks.pysoa.host import (
        _REDIS_CLIENT_TRANSPORT,
        _redis_transport_kwargs,
        _service_client_config,
    )

    seconds = max(1, math.ceil(timeout))
    extra = {
        "receive_timeout_in_seconds": seconds,
        # a Redis that accepts but never answers must not hang us: bound the socket too
        "backend_layer_kwargs": {"connection_kwargs": {"socket_connect_timeout": timeout, "socket_timeout": seconds + 2}},
    }
    kwargs = _redis_transport_kwargs(target, target.host, target.port, "introspect", service, extra)
    return Client({service: _service_client_config(None, {"path": _REDIS_CLIENT_TRANSPORT, "kwargs": kwargs})})


def _introspect(target: Any, service: str, timeout: float, address: str, credentials: Any = None) -> Mapping[str, Any]:
    from rpctest.stacks.pysoa.host import client_transport_cores, release_redis_connections
    from pysoa.client.errors import CallActionError, CallJobError
    from pysoa.common.errors import PySOAError
    from pysoa.common.transport.errors import MessageReceiveTimeout

    seconds = max(1, math.ceil(timeout))
    client = _client_for(target, service, timeout)
    try:
        headers: dict[str, Any] = {}
        if credentials is not None:  # the context and switches a service may need to answer at all
            headers = {"context": dict(credentials.context), "switches": list(credentials.switches)}
        body: Mapping[str, Any] = client.call_action(service, "introspect", body={}, timeout=seconds, **headers).body
        return body
    except MessageReceiveTimeout:
        raise IntrospectionTimeout(
            f"no answer from PySOA service {service!r} at {address} to 'introspect' within {seconds} s: is the "
            "service running and listening on that Redis database?"
        ) from None
    except (CallActionError, CallJobError) as exc:
        errors = getattr(exc, "actions", None) or getattr(exc, "errors", None)
        raise IntrospectionError(f"PySOA service {service!r} at {address} answered 'introspect' with errors: {errors}") from exc
    except PySOAError as exc:
        raise IntrospectionError(f"cannot introspect PySOA service {service!r} at {address}: {exc!r}") from exc
    finally:
        release_redis_connections(client_transport_cores(client))


def export_from_address(address: str, service: str | None = None, *, timeout: float = 5.0, credentials: Any = None) -> dict[str, Any]:
    """The neutral contract of a running PySOA service, from its ``introspect`` action over Redis.

    ``address`` is ``redis://host:port/db`` with an optional ``#service.NAME`` (the form of
    ``PySOAService.address``); ``service`` names the service when the address does not. The call
    goes through PySOA's own ``Client`` and Redis transport; PySOA waits in whole seconds, so the
    wait is ``timeout`` rounded up (at least 1 s), after which :class:`IntrospectionTimeout` is
    raised. ``errors`` are empty (see the service-level note): introspection does not report them.
    ``credentials``' request context and switches go with the call.
    """
    from rpctest.stacks.pysoa.host import require_pysoa

    require_pysoa()
    target, name = _parse_address(address, service)
    body = _introspect(target, name, timeout, address, credentials)
    return export_introspection(name, body)
