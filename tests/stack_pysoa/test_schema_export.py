"""PySOA provider schemas in the neutral dialect: every Conformity field, live and via ``introspect``.

Each field type's exported schema is checked exactly; values Conformity accepts must pass the exported
schema (plain ``jsonschema`` with format checks for JSON values, rpctest's validator for native ones)
and, where the export is not marked lossy, values Conformity rejects must fail it. The export of the
live classes and of the ``introspect`` answer must agree except where ``introspect()`` itself drops
information, and those differences are pinned here one by one.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conformity import fields
from hypothesis import given, settings
from hypothesis import strategies as st
from pysoa.server.action import Action
from pysoa.server.server import Server

from rpctest.exceptions import ConfigError, RpctestError
from rpctest.schema.validate import compile_schema
from rpctest.stacks import get_adapter
from rpctest.stacks.pysoa.host import serve
from rpctest.stacks.pysoa.schema import (
    DECIMAL_PATTERN,
    IntrospectionError,
    IntrospectionTimeout,
    export_from_address,
    export_introspection,
    export_provider,
    field_to_schema,
    introspection_to_schema,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


from stack_pysoa import schemasvc  # noqa: E402
SchemaServer = schemasvc.SchemaServer
EXACT = schemasvc.EXACT
MOD = schemasvc.__name__


def N(native: str, **schema: Any) -> dict[str, Any]:
    """A schema node with its ``x-rpctest-native``."""
    return {**schema, "x-rpctest-native": native}


def lossy(node: dict[str, Any], sentence: str) -> dict[str, Any]:
    return {**node, "x-rpctest-lossy": sentence}


# -- one case per field type ---------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    field: Any
    schema: dict[str, Any]
    valid: list[Any]
    invalid: list[Any] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    native: bool = False  # values JSON has no type for: check them with rpctest's validator
    #: a set: checked here as "is a set" plus plain jsonschema on its items as a list (jsonschema's
    #: ``items`` indexes arrays, so a set cannot be given to it as it is)
    set_view: bool = False


_INT = N("Integer", type="integer")
_STR = N("UnicodeString", type="string")

CASES = [
    Case(
        "dictionary",
        EXACT["dictionary"],
        N(
            "Dictionary",
            type="object",
            properties={"a": _INT, "b": _STR},
            required=["a"],
            additionalProperties=False,
            description="A dictionary.",
        ),
        valid=[{"a": 1}, {"a": 1, "b": "x"}],
        invalid=[{}, {"a": 1, "c": 2}, {"a": "1"}, [1]],
    ),
    Case(
        "open_dictionary",
        EXACT["open_dictionary"],
        N("Dictionary", type="object", properties={"a": _INT}, required=["a"], additionalProperties=True),
        valid=[{"a": 1, "other": [1]}],
        invalid=[{"other": 1}],
    ),
    Case(
        "ordered_dictionary",
        EXACT["ordered_dictionary"],
        N(
            "Dictionary",
            type="object",
            properties={"z": N("Boolean", type="boolean"), "y": N("Boolean", type="boolean")},
            required=["y", "z"],
            additionalProperties=False,
        ),
        valid=[{"z": True, "y": False}],
        invalid=[{"z": True}],
    ),
    Case(
        "schemaless",
        EXACT["schemaless"],
        N(
            "SchemalessDictionary",
            type="object",
            propertyNames=N("UnicodeString", type="string", maxLength=3),
            additionalProperties=_INT,
        ),
        valid=[{}, {"abc": 1}],
        invalid=[{"abcd": 1}, {"a": "x"}, []],
    ),
    Case(
        "schemaless_default",
        EXACT["schemaless_default"],
        N("SchemalessDictionary", type="object", additionalProperties=N("Anything")),
        valid=[{}, {"a": [1, {"b": None}]}],
        invalid=[[], "x"],
    ),
    Case(
        "schemaless_int_keys",
        EXACT["schemaless_int_keys"],
        lossy(
            N("SchemalessDictionary", type="object", additionalProperties=N("Anything")),
            "Keys must pass the Integer rule; JSON object keys are always strings, so the key rule is not "
            "expressed. The mapping must have at least 1 and at most 3 entries; minProperties/maxProperties are "
            "outside rpctest's schema subset, so the size is not checked.",
        ),
        valid=[{1: "a"}],
        notes=[
            {
                "pointer": "",
                "note": "Keys must pass the Integer rule; JSON object keys are always strings, so the key rule "
                "is not expressed.",
            },
            {
                "pointer": "",
                "note": "The mapping must have at least 1 and at most 3 entries; minProperties/maxProperties are "
                "outside rpctest's schema subset, so the size is not checked.",
            },
        ],
        native=True,
    ),
    Case(
        "list",
        EXACT["list"],
        N("List", type="array", items=_INT, minItems=1, maxItems=3, description="A list."),
        valid=[[1], [1, 2, 3]],
        invalid=[[], [1, 2, 3, 4], ["1"], {"a": 1}],
    ),
    Case(
        "sequence",
        EXACT["sequence"],
        N("Sequence", type="array", items=N("Boolean", type="boolean")),
        valid=[[], [True, False]],
        invalid=[[1], 3],
    ),
    Case(
        "set",
        EXACT["set"],
        N(
            "Set",
            type="array",
            items=_STR,
            maxItems=2,
            **{"x-rpctest-type": "set"},
            uniqueItems=True,
        ),
        valid=[set(), {"a", "b"}, frozenset({"a"})],
        invalid=[["a"], {"a", "b", "c"}, {1}],
        set_view=True,
    ),
    Case(
        "tuple",
        EXACT["tuple"],
        N(
            "Tuple",
            type="array",
            prefixItems=[_INT, _STR],
            items=False,
            minItems=2,
            maxItems=2,
            **{"x-rpctest-type": "tuple"},
        ),
        # a list is accepted on purpose: msgpack carries tuples as lists (rpctest.schema docstring)
        valid=[(1, "a")],
        invalid=[(1,), (1, "a", 2), ("a", 1)],
        native=True,
    ),
    Case(
        "empty_tuple",
        EXACT["empty_tuple"],
        N("Tuple", type="array", items=False, minItems=0, maxItems=0, **{"x-rpctest-type": "tuple"}),
        valid=[()],
        invalid=[(1,), [1]],
        native=True,
    ),
    Case(
        "unicode",
        EXACT["unicode"],
        N("UnicodeString", type="string", minLength=1, maxLength=5, pattern=r"\S", description="A string."),
        valid=["a", " b ", "abcde"],
        invalid=["", "   ", "\t\u3000", "abcdef", 1, None],
    ),
    Case(
        "bytes",
        EXACT["bytes"],
        N("ByteString", type="string", maxLength=4, **{"x-rpctest-type": "bytes"}),
        valid=[b"", b"ab"],
        invalid=["ab", 1],
        native=True,
    ),
    Case(
        "unicode_decimal",
        EXACT["unicode_decimal"],
        N("UnicodeDecimal", type="string", pattern=DECIMAL_PATTERN),
        valid=["1", "-1.5", " 1_000.25e-3 ", "Infinity", "nan", "\u0661\u0662", ".5", "5."],
        invalid=["", "abc", "1.2.3", "1 000", ".", "e5", 1.5],
    ),
    Case(
        "email",
        EXACT["email"],
        N("EmailAddress", type="string", format="email"),
        valid=["ann@example.com", "root@localhost"],
        invalid=["nope", 1],
    ),
    Case(
        "ip",
        EXACT["ip"],
        N("IPAddress", type="string", anyOf=[{"format": "ipv4"}, {"format": "ipv6"}]),
        valid=["10.0.0.1", "::1", "2001:db8::8a2e:370:7334"],
        invalid=["10.0.0", "x", 1],
    ),
    Case(
        "ipv4",
        EXACT["ipv4"],
        N("IPv4Address", type="string", format="ipv4"),
        valid=["127.0.0.1", "255.255.255.255"],
        invalid=["256.0.0.1", "1.2.3", "::1"],
    ),
    Case(
        "ipv6",
        EXACT["ipv6"],
        N("IPv6Address", type="string", format="ipv6"),
        valid=["::1", "fe80::1", "::ffff:10.0.0.1"],
        invalid=["1::2::3", "10.0.0.1", "12345::1"],
    ),
    Case(
        "latitude",
        EXACT["latitude"],
        N("Float", type="number", minimum=-90, maximum=90),
        valid=[-90, 0, 45.5, 90],
        invalid=[-90.5, 91, "1"],
    ),
    Case(
        "longitude",
        EXACT["longitude"],
        N("Float", type="number", minimum=-180, maximum=10),
        valid=[-180, 10],
        invalid=[-181, 10.5],
    ),
    Case(
        "integer",
        EXACT["integer"],
        N("Integer", type="integer", exclusiveMinimum=0, maximum=10),
        valid=[1, 10],
        invalid=[0, 11, 1.5, True, "1"],
    ),
    Case(
        "float",
        EXACT["float"],
        N("Float", type="number", minimum=-1.5, exclusiveMaximum=2.5),
        valid=[-1.5, 0, 2, 2.4],
        invalid=[-1.6, 2.5, True, "1"],
    ),
    Case(
        "decimal",
        EXACT["decimal"],
        N("Decimal", type="number", exclusiveMinimum=0, maximum=100.5, **{"x-rpctest-type": "decimal"}),
        valid=[decimal.Decimal("0.001"), decimal.Decimal("100.5")],
        invalid=[decimal.Decimal(0), decimal.Decimal("100.51"), 1, "1"],
        native=True,
    ),
    Case(
        "boolean",
        EXACT["boolean"],
        N("Boolean", type="boolean", description="A flag."),
        valid=[True, False],
        invalid=[0, 1, "true", None],
    ),
    Case(
        "nullable",
        EXACT["nullable"],
        N("UnicodeString", type=["string", "null"], maxLength=3),
        valid=[None, "abc"],
        invalid=["abcd", 1],
    ),
    Case(
        "nullable_dictionary",
        EXACT["nullable_dictionary"],
        N("Dictionary", type=["object", "null"], properties={"a": _INT}, required=["a"], additionalProperties=False),
        valid=[None, {"a": 1}],
        invalid=[{}, "x"],
    ),
    Case(
        "nullable_constant",
        EXACT["nullable_constant"],
        N("Nullable", anyOf=[N("Constant", enum=["x", "y"]), {"type": "null"}]),
        valid=[None, "x", "y"],
        invalid=["z", 1],
    ),
    Case("null", EXACT["null"], N("Null", type="null"), valid=[None], invalid=[0, ""]),
    Case("constant", EXACT["constant"], N("Constant", const="only"), valid=["only"], invalid=["other", None]),
    Case(
        "constants",
        EXACT["constants"],
        N("Constant", enum=[3, "a", "b"], description="Several."),
        valid=["a", "b", 3],
        invalid=["c", 4, "3"],
    ),
    Case("anything", EXACT["anything"], N("Anything"), valid=[None, 1, "x", [1], {"a": {}}]),
    Case(
        "hashable",
        EXACT["hashable"],
        lossy(N("Hashable"), "Hashable: the value must be hashable in Python (no list, dict or set); that is not expressed."),
        valid=[1, "x", None],
        notes=[
            {
                "pointer": "",
                "note": "Hashable: the value must be hashable in Python (no list, dict or set); that is not expressed.",
            }
        ],
    ),
    Case(
        "any",
        EXACT["any"],
        N("Any", anyOf=[_INT, _STR], description="Either."),
        valid=[1, "x"],
        invalid=[1.5, None, []],
    ),
    Case(
        "all",
        EXACT["all"],
        N("All", type="string", maxLength=5, minLength=2),
        valid=["ab", "abcde"],
        invalid=["a", "abcdef", 12],
    ),
    Case(
        "all_conflict",
        EXACT["all_conflict"],
        lossy(
            N("All", type="integer", exclusiveMinimum=0),
            "All: requirement 1's exclusiveMinimum cannot be merged with an earlier requirement, so not expressed "
            "(allOf is outside rpctest's schema subset).",
        ),
        valid=[6],
        notes=[
            {
                "pointer": "",
                "note": "All: requirement 1's exclusiveMinimum cannot be merged with an earlier requirement, so not "
                "expressed (allOf is outside rpctest's schema subset).",
            }
        ],
    ),
    Case(
        "object",
        EXACT["object"],
        N("ObjectInstance", **{"x-rpctest-type": "object", "x-rpctest-class": f"{MOD}.Payment"}),
        valid=[schemasvc.Payment()],
        invalid=[object(), {}],
        native=True,
    ),
    Case(
        "objects",
        EXACT["objects"],
        N("ObjectInstance", **{"x-rpctest-type": "object", "x-rpctest-class": [f"{MOD}.Payment", "builtins.int"]}),
        valid=[schemasvc.Payment(), 3],
        invalid=["3"],
        native=True,
    ),
    Case(
        "datetime",
        EXACT["datetime"],
        lossy(
            N("DateTime", type="string", format="date-time", **{"x-rpctest-type": "datetime"}),
            "DateTime bounds (gt 2020-01-01 00:00:00) cannot be compared in JSON Schema; not expressed.",
        ),
        valid=[datetime.datetime(2021, 5, 1, 12, 0)],
        invalid=["2021-05-01T12:00:00", datetime.date(2021, 5, 1)],
        notes=[{"pointer": "", "note": "DateTime bounds (gt 2020-01-01 00:00:00) cannot be compared in JSON Schema; not expressed."}],
        native=True,
    ),
    Case(
        "date",
        EXACT["date"],
        N("Date", type="string", format="date", **{"x-rpctest-type": "date"}),
        valid=[datetime.date(2021, 5, 1)],
        invalid=[datetime.datetime(2021, 5, 1), "2021-05-01"],
        native=True,
    ),
    Case(
        "time",
        EXACT["time"],
        lossy(
            N("Time", type="string", format="time", **{"x-rpctest-type": "time"}),
            "Time bounds (lte 12:00:00) cannot be compared in JSON Schema; not expressed.",
        ),
        valid=[datetime.time(11, 30)],
        invalid=["11:30"],
        notes=[{"pointer": "", "note": "Time bounds (lte 12:00:00) cannot be compared in JSON Schema; not expressed."}],
        native=True,
    ),
    Case(
        "timedelta",
        EXACT["timedelta"],
        lossy(
            N("TimeDelta", type="string", format="duration", **{"x-rpctest-type": "timedelta"}),
            "TimeDelta bounds (lt 1 day, 0:00:00) cannot be compared in JSON Schema; not expressed.",
        ),
        valid=[datetime.timedelta(hours=1)],
        invalid=[3600, "PT1H"],
        notes=[
            {"pointer": "", "note": "TimeDelta bounds (lt 1 day, 0:00:00) cannot be compared in JSON Schema; not expressed."}
        ],
        native=True,
    ),
    Case(
        "tzinfo",
        EXACT["tzinfo"],
        N("TZInfo", **{"x-rpctest-type": "object", "x-rpctest-class": "datetime.tzinfo"}),
        valid=[datetime.UTC],
        invalid=["UTC"],
        native=True,
    ),
    Case(
        "polymorph",
        EXACT["polymorph"],
        lossy(
            N(
                "Polymorph",
                anyOf=[
                    N("Dictionary", type="object", properties={"kind": _STR}, required=["kind"], additionalProperties=False),
                    N(
                        "Dictionary",
                        type="object",
                        properties={"kind": N("Constant", const="card"), "number": _STR},
                        required=["kind", "number"],
                        additionalProperties=False,
                    ),
                ],
            ),
            "Polymorph: the value at 'kind' chooses the branch (__default__ -> anyOf/0, card -> anyOf/1); the "
            "schema accepts a value matching any branch, whatever its switch value.",
        ),
        valid=[{"kind": "card", "number": "4111"}, {"kind": "cash"}],
        notes=[
            {
                "pointer": "",
                "note": "Polymorph: the value at 'kind' chooses the branch (__default__ -> anyOf/0, card -> anyOf/1); "
                "the schema accepts a value matching any branch, whatever its switch value.",
            }
        ],
    ),
    Case(
        "class_config",
        EXACT["class_config"],
        lossy(
            N(
                "ClassConfigurationSchema",
                type="object",
                properties={"path": {"type": "string"}, "kwargs": {"type": "object"}, "object": {}},
                additionalProperties=False,
                required=["path"],
            ),
            "ClassConfigurationSchema: 'path' must name an importable class extending Plugin, and 'kwargs' is "
            "checked by that class's own settings schema; neither is expressed.",
        ),
        valid=[],
        notes=[
            {
                "pointer": "",
                "note": "ClassConfigurationSchema: 'path' must name an importable class extending Plugin, and "
                "'kwargs' is checked by that class's own settings schema; neither is expressed.",
            }
        ],
    ),
    Case(
        "type_reference",
        EXACT["type_reference"],
        lossy(
            N("TypeReference", **{"x-rpctest-type": "object", "x-rpctest-class": "builtins.type"}),
            f"TypeReference: the class must extend {MOD}.Plugin; that is not expressed.",
        ),
        valid=[schemasvc.Plugin],
        invalid=[schemasvc.Plugin()],
        notes=[{"pointer": "", "note": f"TypeReference: the class must extend {MOD}.Plugin; that is not expressed."}],
        native=True,
    ),
    Case(
        "python_path",
        EXACT["python_path"],
        lossy(N("PythonPath", type="string"), "PythonPath: the string must name an importable Python object; that is not expressed."),
        valid=["json.dumps"],
        notes=[{"pointer": "", "note": "PythonPath: the string must name an importable Python object; that is not expressed."}],
    ),
    Case(
        "type_path",
        EXACT["type_path"],
        lossy(
            N("PythonPath", type="string"),
            "PythonPath: the string must name an importable Python object; that is not expressed. The imported "
            f"object must also pass: TypeReference: the class must extend {MOD}.Plugin; that is not expressed.",
        ),
        valid=[f"{MOD}:Plugin"],
        notes=[
            {
                "pointer": "",
                "note": "PythonPath: the string must name an importable Python object; that is not expressed. The "
                f"imported object must also pass: TypeReference: the class must extend {MOD}.Plugin; that is not "
                "expressed.",
            }
        ],
    ),
    Case(
        "boolean_validator",
        EXACT["boolean_validator"],
        lossy(N("BooleanValidator"), "BooleanValidator: a Python function decides (v > 0)."),
        valid=[1, 2.5],
        notes=[{"pointer": "", "note": "BooleanValidator: a Python function decides (v > 0)."}],
    ),
    Case(
        "additional_validator",
        EXACT["additional_validator"],
        lossy(
            N("List", type="array", items=_INT),
            "List has an additional validator (EvenOnly) that runs after these rules; what it checks is not "
            "expressed.",
        ),
        valid=[[], [1, 2]],
        notes=[
            {
                "pointer": "",
                "note": "List has an additional validator (EvenOnly) that runs after these rules; what it checks is "
                "not expressed.",
            }
        ],
    ),
]


def _is_valid(case: Case, value: Any) -> bool:
    if case.set_view:
        json_view = {key: item for key, item in case.schema.items() if key != "x-rpctest-type"}
        return isinstance(value, (set, frozenset)) and jsonschema.Draft202012Validator(json_view).is_valid(sorted(value))
    if case.native:
        return compile_schema(case.schema).is_valid(value)
    validator = jsonschema.Draft202012Validator(case.schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return validator.is_valid(value)


def test_every_exact_field_has_a_case() -> None:
    assert {case.id for case in CASES} == set(EXACT)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_field_schema(case: Case) -> None:
    schema, notes = field_to_schema(case.field)
    assert schema == case.schema
    assert notes == case.notes
    jsonschema.Draft202012Validator.check_schema(schema)
    json.dumps(schema)  # plain JSON: no Decimal, class or datetime left in it


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_values_conformity_accepts_pass_the_schema(case: Case) -> None:
    for value in case.valid:
        assert case.field.errors(value) == [], value
        assert _is_valid(case, value), value


@pytest.mark.parametrize("case", [c for c in CASES if c.invalid], ids=lambda c: c.id)
def test_values_conformity_rejects_fail_the_schema(case: Case) -> None:
    for value in case.invalid:
        assert case.field.errors(value), value
        assert not _is_valid(case, value), value


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_introspection_gives_the_same_schema(case: Case) -> None:
    assert introspection_to_schema(case.field.introspect()) == field_to_schema(case.field)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789_.eE+-sSnNaAiIfFtTyY \t\n\xa0\u0661x", max_size=12))
def test_decimal_pattern_is_what_conformity_accepts(text: str) -> None:
    assert (re.search(DECIMAL_PATTERN, text) is not None) == (fields.UnicodeDecimal().errors(text) == [])


# -- what introspect() loses --------------------------------------------------------------------------------


def _both(field: Any) -> tuple[tuple[dict, list], tuple[dict, list]]:
    return field_to_schema(field), introspection_to_schema(field.introspect())


def test_introspection_drops_lengths_of_email_and_ip_fields() -> None:
    live, remote = _both(schemasvc.LOSSY_INTROSPECTION["email_bounded"])
    assert live == (N("EmailAddress", type="string", format="email", maxLength=40), [])
    assert remote == (N("EmailAddress", type="string", format="email"), [])
    live, remote = _both(schemasvc.LOSSY_INTROSPECTION["ipv4_not_blank"])
    assert live[0] == N("IPv4Address", type="string", format="ipv4", pattern=r"\S")
    assert remote[0] == N("IPv4Address", type="string", format="ipv4")


def test_introspection_drops_falsy_temporal_bounds() -> None:
    live, remote = _both(schemasvc.LOSSY_INTROSPECTION["timedelta_zero"])
    assert live[1] == [{"pointer": "", "note": "TimeDelta bounds (gte 0:00:00) cannot be compared in JSON Schema; not expressed."}]
    assert remote == (N("TimeDelta", type="string", format="duration", **{"x-rpctest-type": "timedelta"}), [])


def test_introspection_cannot_see_a_custom_errors_method() -> None:
    live, remote = _both(schemasvc.LOSSY_INTROSPECTION["custom_errors"])
    sentence = f"The field class {MOD}.ShoutingString overrides errors() of UnicodeString; its extra rules are not expressed."
    assert live == (lossy(_STR, sentence), [{"pointer": "", "note": sentence}])
    assert remote == (_STR, [])


def test_deprecated_is_the_wrapped_field_and_its_conformity_bug_is_noted() -> None:
    field = schemasvc.LOSSY_INTROSPECTION["deprecated"]
    assert field.errors(1)  # conformity 1.28.2: Deprecated has no errors(), Base's rejects every value
    live, remote = _both(field)
    sentence = (
        "Deprecated: this Conformity version's Deprecated field has no errors() of its own, so the real field "
        "rejects every value (INVALID, 'Validation not implemented on base type'); the schema describes the "
        "wrapped field."
    )
    assert live == (lossy(N("Integer", type="integer", deprecated=True), sentence), [{"pointer": "", "note": sentence}])
    assert remote == (N("Integer", type="integer", deprecated=True), [])


class Color(enum.Enum):
    RED = 1


def test_introspection_names_an_enum_class_without_its_module() -> None:
    live, remote = _both(fields.ObjectInstance(Color))
    assert live == (N("ObjectInstance", **{"x-rpctest-type": "object", "x-rpctest-class": f"{__name__}.Color"}), [])
    sentence = "The class <enum 'Color'> cannot be named as module.QualName; any object is accepted."
    assert remote == (lossy(N("ObjectInstance", **{"x-rpctest-type": "object"}), sentence), [{"pointer": "", "note": sentence}])


def test_non_json_constants_are_noted_live_and_silently_text_in_introspection() -> None:
    live, remote = _both(fields.Constant(decimal.Decimal("1.5")))
    sentence = "The constant values 1.5 are not JSON values; their text is used."
    assert live == (lossy(N("Constant", const="1.5"), sentence), [{"pointer": "", "note": sentence}])
    assert remote == (N("Constant", const="1.5"), [])


# -- lossy edges that do not depend on the source ------------------------------------------------------------


def test_inexact_decimal_bounds_are_noted() -> None:
    schema, notes = field_to_schema(fields.Decimal(gt=decimal.Decimal("0.1"), lt=decimal.Decimal(2)))
    sentence = "The bound gt 0.1 is not exactly a JSON number; it is 0.1."
    assert schema == lossy(
        N("Decimal", type="number", exclusiveMinimum=0.1, exclusiveMaximum=2, **{"x-rpctest-type": "decimal"}), sentence
    )
    assert notes == [{"pointer": "", "note": sentence}]


def test_non_string_dictionary_keys_are_noted_at_their_pointer() -> None:
    schema, notes = field_to_schema(fields.Dictionary({1: fields.Integer(), "a/b": fields.Hashable()}))
    assert schema["properties"]["1"]["x-rpctest-lossy"].startswith("The key 1 is a int in Python")
    assert [note["pointer"] for note in notes] == ["/properties/1", "/properties/a~1b"]


def test_nested_notes_point_at_the_lossy_node() -> None:
    field = fields.Dictionary({"when": fields.List(fields.Nullable(fields.DateTime(gt=datetime.datetime(2020, 1, 1))))})
    schema, notes = field_to_schema(field)
    assert notes[0]["pointer"] == "/properties/when/items/anyOf/0"
    assert "x-rpctest-lossy" in schema["properties"]["when"]["items"]["anyOf"][0]


class Weird(fields.Base):
    """A field class rpctest has never heard of."""

    description = "Weird values."

    def errors(self, value: Any) -> list:
        return []

    def introspect(self) -> dict[str, Any]:
        return {"type": "weird", "description": self.description}


class BrokenList(fields.List):
    """A subclass whose ``min_length`` cannot be read once it is ``broken``."""

    broken = False

    @property
    def min_length(self) -> Any:
        if self.broken:
            raise RuntimeError("no length today")
        return self.__dict__.get("_min_length")

    @min_length.setter
    def min_length(self, value: Any) -> None:
        self.__dict__["_min_length"] = value


def test_a_field_that_cannot_be_read_is_exported_as_anything_with_a_note() -> None:
    broken = BrokenList(fields.Integer())
    broken.broken = True
    schema, notes = field_to_schema(fields.Dictionary({"a": broken}))
    sentence = (
        f"The Conformity field {__name__}.BrokenList could not be read (RuntimeError: no length today); no rule is "
        "exported for it."
    )
    assert schema["properties"]["a"] == {"x-rpctest-native": "BrokenList", "x-rpctest-lossy": sentence}
    assert notes == [{"pointer": "/properties/a", "note": sentence}]


def test_unknown_field_class_is_exported_as_anything_with_a_note() -> None:
    schema, notes = field_to_schema(fields.List(Weird()))
    sentence = f"Unknown Conformity field class {__name__}.Weird: no rule is exported for it."
    assert schema["items"] == {"x-rpctest-native": "Weird", "description": "Weird values.", "x-rpctest-lossy": sentence}
    assert notes == [{"pointer": "/items", "note": sentence}]
    schema, notes = introspection_to_schema(Weird().introspect())
    assert schema == {"description": "Weird values.", "x-rpctest-lossy": "Unknown Conformity introspection type 'weird': no rule is exported for it."}
    assert introspection_to_schema({"no": "type"})[0]["x-rpctest-lossy"].startswith("Unknown Conformity introspection type None")


# -- providers ------------------------------------------------------------------------------------------------


def _op(export: dict[str, Any], name: str) -> dict[str, Any]:
    return export["operations"][name]


def _resolve(document: Any, pointer: str) -> Any:
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def test_user_server_export() -> None:
    from examples.pysoa.service import UserServer

    exported = export_provider(UserServer)
    assert set(exported) == {"service", "operations", "notes"}
    assert exported["service"] == "users" and exported["notes"] == []
    assert list(exported["operations"]) == ["create_user", "get_user", "introspect", "list_users", "status"]
    assert {name: op["errors"] for name, op in exported["operations"].items()} == {
        "create_user": ["DUPLICATE"],
        "get_user": ["NOT_FOUND"],
        "introspect": ["INVALID"],
        "list_users": [],
        "status": [],
    }
    create = _op(exported, "create_user")
    assert set(create) == {"description", "request", "response", "errors", "notes"}
    assert create["description"] == "Create a user; names must be unique."
    assert create["notes"] == []
    assert create["request"] == N(
        "Dictionary",
        type="object",
        properties={
            "name": N("UnicodeString", type="string", minLength=1, maxLength=50),
            "email": N("EmailAddress", type="string", format="email"),
            "tags": N("List", type="array", items=N("UnicodeString", type="string", maxLength=20), maxItems=5),
        },
        required=["email", "name"],
        additionalProperties=False,
    )
    assert _op(exported, "get_user")["request"]["properties"]["id"] == N("Integer", type="integer", exclusiveMinimum=0)
    assert _op(exported, "introspect")["request"]["properties"]["action_name"] == N(
        "UnicodeString",
        type="string",
        minLength=1,
        pattern=r"\S",
        description=_op(exported, "introspect")["request"]["properties"]["action_name"]["description"],
    )
    assert _op(exported, "status")["request"]["properties"]["verbose"]["type"] == "boolean"
    assert set(_op(exported, "status")["response"]["required"]) == {"conformity", "pysoa", "python", "version"}


def test_user_server_replies_match_the_export() -> None:
    from examples.pysoa.service import STORE, UserServer

    exported = export_provider(UserServer)
    STORE.reset()
    with serve(UserServer) as service:
        for action, body in [("get_user", {"id": 1}), ("list_users", {}), ("status", {}), ("introspect", {})]:
            reply = service.call(action, body)
            assert reply.ok, reply
            assert compile_schema(_op(exported, action)["response"]).violations(reply.body) == []
    STORE.reset()


def test_schema_server_export_is_plain_json_and_every_schema_is_valid() -> None:
    exported = export_provider(SchemaServer)
    assert json.loads(json.dumps(exported)) == exported
    for op in exported["operations"].values():
        jsonschema.Draft202012Validator.check_schema(op["request"])
        jsonschema.Draft202012Validator.check_schema(op["response"])


def test_every_schema_note_points_at_a_lossy_node() -> None:
    exported = export_provider(SchemaServer)
    for name, op in exported["operations"].items():
        for note in op["notes"]:
            if note["pointer"] == "/errors" or note["note"].startswith("No "):
                continue
            node = _resolve(op, note["pointer"])
            assert note["note"] in node["x-rpctest-lossy"], (name, note)


def test_error_codes_are_scanned_from_source() -> None:
    exported = export_provider(SchemaServer)
    # Error("CODE", ...) and code=CONSTANT count; ValueError("BOOM") and SomeError("a message") do not
    assert _op(exported, "structures")["errors"] == ["NOT_IMPLEMENTED", "QUOTA_EXCEEDED"]
    assert _op(exported, "lossy_introspection")["errors"] == ["FORBIDDEN_ADDRESS"]  # raised in validate()
    assert _op(exported, "no_schema")["errors"] == ["AUDIT_FAILED"]  # from a user-code base; INVALID is standard
    assert _op(exported, "search")["errors"] == ["SEARCH_DOWN"]  # from a switched branch


def test_expected_errors_are_added_and_checked() -> None:
    exported = export_provider(SchemaServer, expected_errors={"structures": ["ZETA", "QUOTA_EXCEEDED"], "status": ["X"]})
    assert _op(exported, "structures")["errors"] == ["NOT_IMPLEMENTED", "QUOTA_EXCEEDED", "ZETA"]
    assert _op(exported, "status")["errors"] == ["X"]
    with pytest.raises(ConfigError, match="'nope'"):
        export_provider(SchemaServer, expected_errors={"nope": ["X"]})


def test_actions_without_schemas_and_with_validate_are_noted() -> None:
    op = _op(export_provider(SchemaServer), "no_schema")
    assert op["request"] == {} and op["response"] == {}
    assert op["notes"] == [
        {"pointer": "/request", "note": "No request_schema: PySOA does not check the request body."},
        {"pointer": "/response", "note": "No response_schema: PySOA does not check the response body."},
    ]
    op = _op(export_provider(SchemaServer), "lossy_introspection")
    sentence = f"{MOD}.LossyIntrospectionAction.validate() checks the request in Python; those checks are not expressed."
    assert {"pointer": "/request", "note": sentence} in op["notes"]
    assert sentence in op["request"]["x-rpctest-lossy"]


def test_switched_action_is_one_operation() -> None:
    op = _op(export_provider(SchemaServer), "search")
    assert op["description"] == "Search, the old way."  # the default branch's
    assert op["request"] == N(
        "Dictionary", type="object", properties={"q": _STR}, required=["q"], additionalProperties=False
    )
    sentence = (
        "search is a SwitchedAction: SOA switches in the request context choose which of search[DEFAULT], "
        "search[switch:5] runs; the schema accepts the response of any of them."
    )
    assert op["response"]["x-rpctest-lossy"] == sentence
    assert [branch["properties"]["hits"]["items"]["type"] for branch in op["response"]["anyOf"]] == ["integer", "string"]
    assert op["notes"] == [{"pointer": "/response", "note": sentence}]


def test_actions_without_source_are_noted() -> None:
    dynamic = type("DynamicAction", (Action,), {"run": lambda self, request: {}, "__module__": "nowhere_at_all"})

    class DynamicServer(Server):
        service_name = "dynamic"
        action_class_map = {"go": dynamic, "status": schemasvc.SearchV1}  # noqa: RUF012 - PySOA's convention

    exported = export_provider(DynamicServer)
    assert {
        "pointer": "/errors",
        "note": "The source of nowhere_at_all.DynamicAction is not available; its error codes were not scanned.",
    } in _op(exported, "go")["notes"]
    assert _op(exported, "status")["description"] == "Search, the old way."  # the server's own status action wins


def test_export_rejects_what_is_not_a_server() -> None:
    with pytest.raises(TypeError, match="Server subclass"):
        export_provider(schemasvc.StructuresAction)


def test_adapter_exports_by_object_and_by_module_path() -> None:
    host = get_adapter("pysoa").host
    by_path = host.export_schema("examples.pysoa.service:UserServer", expected_errors={"list_users": ["SLOW"]})
    assert _op(by_path, "list_users")["errors"] == ["SLOW"]
    from examples.pysoa.service import UserServer

    assert host.export_schema(UserServer) == export_provider(UserServer)


def test_schema_module_does_not_import_pysoa() -> None:
    code = "import sys, rpctest.stacks.pysoa.schema; sys.exit(any(m.split('.')[0] in ('pysoa', 'conformity') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, check=False).returncode == 0


# -- live export == introspection export ------------------------------------------------------------------------


def _without_errors(op: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in op.items() if key not in ("errors", "errors_open")}


def _check_against_live(remote: dict[str, Any]) -> None:
    live = export_provider(SchemaServer)
    assert remote["service"] == "schemasvc"
    assert list(remote["operations"]) == list(live["operations"])
    assert remote["notes"] == [
        {
            "pointer": "",
            "note": "Error codes cannot be discovered remotely (PySOA's introspect does not report them), so "
            "operations list none of their own (only introspect's built-in INVALID) and leave them open "
            "(errors_open): verify takes a stubbed code on trust and the fuzzer any code but PySOA's own; "
            "export from the provider's classes to check them.",
        }
    ]
    for name, op in remote["operations"].items():
        assert op["errors"] == (["INVALID"] if name == "introspect" else [])  # PySOA's own introspect answer
        assert op["errors_open"] is True  # the codes an action raises on purpose are not known here
        if name != "lossy_introspection":
            assert _without_errors(op) == _without_errors(live["operations"][name]), name
    _check_lossy_introspection(live, remote)


def _check_lossy_introspection(live: dict[str, Any], remote: dict[str, Any]) -> None:
    """The one operation where introspection loses what the live export keeps; exactly how."""
    live_op, remote_op = _op(live, "lossy_introspection"), _op(remote, "lossy_introspection")
    assert remote_op["request"] == N(
        "Dictionary",
        type="object",
        properties={
            "email_bounded": N("EmailAddress", type="string", format="email"),
            "ipv4_not_blank": N("IPv4Address", type="string", format="ipv4"),
            "timedelta_zero": N("TimeDelta", type="string", format="duration", **{"x-rpctest-type": "timedelta"}),
            "custom_errors": _STR,
            "deprecated": N("Integer", type="integer", deprecated=True),
        },
        required=["custom_errors", "email_bounded", "ipv4_not_blank", "timedelta_zero"],
        additionalProperties=False,
    )
    assert [note["pointer"] for note in live_op["notes"]] == [
        "/request",
        "/request/properties/custom_errors",
        "/request/properties/deprecated",
        "/request/properties/timedelta_zero",
        "/response",
    ]
    assert remote_op["notes"] == [{"pointer": "/response", "note": "No response_schema: PySOA does not check the response body."}]
    assert remote_op["description"] == live_op["description"] == "The fields introspect() cannot describe fully."


def test_live_export_equals_introspection_export_over_the_local_transport() -> None:
    with serve(SchemaServer) as service:
        body = service.client.call_action("schemasvc", "introspect", {}).body
    _check_against_live(export_introspection("schemasvc", body))


@pytest.fixture
def real_schema_service(pysoa_service: Any) -> Any:
    return pysoa_service(SchemaServer, transport="redis", redis="real")


def test_export_from_address_of_a_running_service(real_schema_service: Any) -> None:
    remote = export_from_address(real_schema_service.address, timeout=5)
    _check_against_live(remote)
    base = real_schema_service.address.partition("#")[0]
    assert export_from_address(base, "schemasvc", timeout=5) == remote
    assert get_adapter("pysoa").host.export_from_address(base, "schemasvc", timeout=5) == remote


def test_export_from_address_times_out_when_nothing_listens(rpctest_redis: Any) -> None:
    address = f"{rpctest_redis.address}#service.rpctest-nobody-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    with pytest.raises(IntrospectionTimeout) as raised:
        export_from_address(address, timeout=0.2)
    assert time.monotonic() - started < 4
    assert isinstance(raised.value, RpctestError)
    assert address in str(raised.value) and "rpctest-nobody-" in str(raised.value)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_export_from_address_without_redis_fails_fast() -> None:
    address = f"redis://127.0.0.1:{_closed_port()}/0#service.users"
    started = time.monotonic()
    with pytest.raises(IntrospectionError, match="'users'.*127.0.0.1"):
        export_from_address(address, timeout=1)
    assert time.monotonic() - started < 4


@pytest.mark.parametrize(
    ("address", "service", "problem"),
    [
        ("redis://127.0.0.1:6379/0", None, "no service named"),
        ("redis://127.0.0.1:6379/0#service.a", "b", "contradicts"),
        ("redis://127.0.0.1:6379/0#users", None, "#service.NAME"),
        ("http://127.0.0.1:6379/0#service.a", None, "redis://host:port/db"),
    ],
)
def test_bad_addresses_are_config_errors(address: str, service: str | None, problem: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(problem)):
        export_from_address(address, service, timeout=0.1)
