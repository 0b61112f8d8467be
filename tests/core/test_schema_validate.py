"""Validating decoded RPC values against the neutral schema dialect (rpctest.schema.validate)."""

from __future__ import annotations

import datetime
import decimal
from collections import OrderedDict
from typing import Any

import jsonschema
import pytest

from rpctest.schema.validate import (
    CompiledSchema,
    Violation,
    compile_schema,
    describe_value,
    pointer_join,
    validate,
)
from rpctest.schema.values import ObjectRef, encode

UTC = datetime.UTC

# the JSON view each native type declares beside x-rpctest-type (what the dialect prescribes)
NATIVE = {
    "datetime": {"type": "string", "format": "date-time", "x-rpctest-type": "datetime"},
    "date": {"type": "string", "format": "date", "x-rpctest-type": "date"},
    "time": {"type": "string", "format": "time", "x-rpctest-type": "time"},
    "timedelta": {"type": "array", "x-rpctest-type": "timedelta"},
    "decimal": {"type": "string", "x-rpctest-type": "decimal"},
    "bytes": {"type": "string", "contentEncoding": "base64", "x-rpctest-type": "bytes"},
    "set": {"type": "array", "uniqueItems": True, "x-rpctest-type": "set"},
    "tuple": {"type": "array", "x-rpctest-type": "tuple"},
}

GOOD = {
    "datetime": [datetime.datetime(2024, 5, 1, 12), datetime.datetime(2024, 5, 1, tzinfo=UTC)],
    "date": [datetime.date(2024, 5, 1)],
    "time": [datetime.time(12, 0), datetime.time(12, 0, tzinfo=UTC)],
    "timedelta": [datetime.timedelta(seconds=5)],
    "decimal": [decimal.Decimal("1.50")],
    "bytes": [b"\x00", bytearray(b"ab")],
    "set": [{1, 2}, frozenset({"a"}), set()],
    "tuple": [(1, 2), ()],
}

# each native type, given the JSON shadow a consumer might stub instead (and the type name we report)
BAD = {
    "datetime": [("2024-05-01T12:00:00", "string"), (datetime.date(2024, 5, 1), "date"), (1714564800, "integer")],
    "date": [("2024-05-01", "string"), (datetime.datetime(2024, 5, 1), "datetime")],
    "time": [("12:00:00", "string"), (datetime.datetime(2024, 5, 1, 12), "datetime")],
    "timedelta": [([0, 5, 0], "array"), (5, "integer")],
    "decimal": [("1.50", "string"), (1.5, "number"), (1, "integer")],
    "bytes": [("AAE=", "string"), ([0, 1], "array")],
    # (whether a list may stand for a set or a tuple, as it does on msgpack wires, is the module's
    # policy; these values are no array at all, or an unordered set where a tuple is declared)
    "set": [("{1, 2}", "string"), ({"a": 1}, "object"), (1, "integer")],
    "tuple": [({1, 2}, "set"), ("ab", "string"), ({"a": 1}, "object")],
}


@pytest.mark.parametrize("native, value", [(n, v) for n, vs in GOOD.items() for v in vs], ids=repr)
def test_native_value_satisfies_its_native_type(native: str, value: Any) -> None:
    # the JSON view ("type": "string" for a datetime) must not reject the real native value
    assert validate(NATIVE[native], value) == []
    assert compile_schema(NATIVE[native]).is_valid(value)


@pytest.mark.parametrize("native, value, got", [(n, v, g) for n, vs in BAD.items() for v, g in vs], ids=repr)
def test_json_shadow_of_a_native_type_is_rejected(native: str, value: Any, got: str) -> None:
    [violation] = validate(NATIVE[native], value)
    assert violation.keyword == "x-rpctest-type"
    assert violation.pointer == ""
    assert f"is not a {native}" in violation.message
    assert f"(got {got})" in violation.message
    assert violation.expected == f'"{native}"'


def test_string_where_a_datetime_is_declared_says_so() -> None:
    schema = {"type": "object", "properties": {"at": NATIVE["datetime"]}}
    [violation] = validate(schema, {"at": "2024-05-01T12:00:00+00:00"})
    assert violation.pointer == "/at"
    assert violation.message == '"2024-05-01T12:00:00+00:00" is not a datetime (got string)'
    assert violation.actual == '"2024-05-01T12:00:00+00:00"'
    assert str(violation) == '/at: "2024-05-01T12:00:00+00:00" is not a datetime (got string)'


def test_datetime_where_a_date_is_declared_fails() -> None:
    [violation] = validate(NATIVE["date"], datetime.datetime(2024, 5, 1, 9, 30))
    assert "is not a date (got datetime)" in violation.message
    assert "datetime.datetime(2024, 5, 1, 9, 30)" in violation.actual


def test_date_where_a_datetime_is_declared_fails() -> None:
    [violation] = validate(NATIVE["datetime"], datetime.date(2024, 5, 1))
    assert "is not a datetime (got date)" in violation.message


def test_unknown_native_type_name_adds_no_check_of_its_own() -> None:
    assert validate({"x-rpctest-type": "uuid"}, "anything") == []


def test_nullable_native_value_accepts_none_only_when_null_is_declared() -> None:
    nullable = {"type": ["string", "null"], "format": "date-time", "x-rpctest-type": "datetime"}
    assert validate(nullable, None) == []
    assert validate(nullable, datetime.datetime(2024, 5, 1)) == []
    assert "is not a datetime" in validate(nullable, "2024-05-01")[0].message
    [violation] = validate(NATIVE["datetime"], None)
    assert violation.message == "null is not a datetime (got null)"


# -- arrays: lists, tuples and sets ------------------------------------------------------------------


@pytest.mark.parametrize("value", [[1, 2], (1, 2), {1, 2}, frozenset({1, 2})], ids=repr)
def test_tuples_and_sets_count_as_arrays(value: Any) -> None:
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}
    assert validate(schema, value) == []


def test_array_constraints_apply_to_tuples_and_sets() -> None:
    assert [v.keyword for v in validate({"type": "array", "minItems": 3}, (1, 2))] == ["minItems"]
    assert [v.keyword for v in validate({"type": "array", "maxItems": 1}, {1, 2})] == ["maxItems"]
    [violation] = validate({"type": "array", "items": {"type": "integer"}}, (1, "a", 3))
    assert violation.pointer == "/1"
    assert violation.keyword == "type"
    prefix = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}
    assert validate(prefix, ("a", 1)) == []
    assert [v.pointer for v in validate(prefix, ("a", "b"))] == ["/1"]


def test_set_items_are_validated_in_the_canonical_order_of_the_contract_file() -> None:
    schema = {"type": "array", "uniqueItems": True, "items": {"type": "integer"}, "x-rpctest-type": "set"}
    value = {5, "b", 1, "a"}
    violations = validate(schema, value)
    encoded = encode(value)["$set"]  # ["a", "b", 1, 5]: the pointer index is the index in the file
    assert [(v.pointer, v.actual) for v in violations] == [
        (f"/{encoded.index('a')}", 'string "a"'),
        (f"/{encoded.index('b')}", 'string "b"'),
    ]
    assert validate(schema, frozenset({1, 2})) == []
    assert [v.keyword for v in validate({"type": "array", "prefixItems": [{"type": "integer"}], "items": False}, {1, 2})] == [
        "items"
    ]


def test_a_dict_is_not_an_array() -> None:
    [violation] = validate({"type": "array"}, {"a": 1})
    assert violation.keyword == "type"
    assert violation.actual.startswith("object ")


# -- numbers -----------------------------------------------------------------------------------------


def test_decimal_is_a_number_and_honours_minimum_and_maximum() -> None:
    schema = {"type": "number", "minimum": 2, "maximum": 10}
    assert validate(schema, decimal.Decimal("2.00")) == []
    [low] = validate(schema, decimal.Decimal("1.99"))
    assert low.keyword == "minimum"
    assert low.expected == "2"
    assert low.actual == "Decimal('1.99')"
    assert [v.keyword for v in validate(schema, decimal.Decimal("10.01"))] == ["maximum"]
    assert [v.keyword for v in validate({"exclusiveMinimum": 0}, decimal.Decimal(0))] == ["exclusiveMinimum"]


def test_decimal_native_type_with_numeric_bounds() -> None:
    schema = {"type": "string", "x-rpctest-type": "decimal", "minimum": 0}
    assert validate(schema, decimal.Decimal("0.01")) == []
    assert [v.keyword for v in validate(schema, decimal.Decimal(-1))] == ["minimum"]


@pytest.mark.parametrize("schema_type", ["number", "integer"])
def test_booleans_are_not_numbers(schema_type: str) -> None:
    [violation] = validate({"type": schema_type}, True)
    assert violation.keyword == "type"
    assert violation.actual == "boolean true"


# -- objects and classes -------------------------------------------------------------------------------


class Base:
    pass


class Child(Base):
    pass


class Other:
    def __repr__(self) -> str:
        return "Other()"


BASE = f"{__name__}.Base"
CHILD = f"{__name__}.Child"


def test_object_class_matches_the_class_and_its_subclasses() -> None:
    schema = {"x-rpctest-type": "object", "x-rpctest-class": BASE}
    assert validate(schema, Base()) == []
    assert validate(schema, Child()) == []
    [violation] = validate(schema, Other())
    assert violation.keyword == "x-rpctest-type"
    assert violation.message == f"Other() is not an instance of {BASE}"


def test_object_class_may_be_a_list_of_names() -> None:
    schema = {"x-rpctest-type": "object", "x-rpctest-class": ["decimal.Decimal", CHILD]}
    assert validate(schema, decimal.Decimal(1)) == []
    assert validate(schema, Child()) == []
    [violation] = validate(schema, Base())
    assert f"is not an instance of decimal.Decimal or {CHILD}" in violation.message


def test_a_string_standing_in_for_an_object_reads_differently_from_the_object() -> None:
    schema = {"x-rpctest-type": "object", "x-rpctest-class": BASE}
    [as_object] = validate(schema, Other())
    [as_string] = validate(schema, "Other()")
    assert as_object.message != as_string.message
    assert as_string.message.startswith('"Other()"')


def test_object_without_a_class_accepts_anything() -> None:
    schema = {"x-rpctest-type": "object"}
    for value in (Other(), 1, "x", None, ObjectRef("a.B", "b")):
        assert validate(schema, value) == []


def test_object_ref_is_checked_by_its_recorded_class_name() -> None:
    schema = {"x-rpctest-type": "object", "x-rpctest-class": BASE}
    assert validate(schema, ObjectRef(BASE, "<Base>")) == []
    [violation] = validate(schema, ObjectRef("elsewhere.Thing", "<Thing>"))
    assert BASE in violation.message
    assert "elsewhere.Thing" in violation.message


def test_mappings_other_than_dict_are_objects() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert validate(schema, OrderedDict(a=1)) == []
    assert [v.pointer for v in validate(schema, OrderedDict(a="x"))] == ["/a"]


# -- pointers ------------------------------------------------------------------------------------------


def test_pointer_join_escapes_per_rfc_6901() -> None:
    assert pointer_join("", "a/b", "c~d", 0) == "/a~1b/c~0d/0"
    assert pointer_join("/base", "~1") == "/base/~01"  # "~" first, so "~1" does not become "/"
    assert pointer_join("/x") == "/x"
    assert pointer_join("", "") == "/"


def test_violation_pointers_escape_slash_and_tilde() -> None:
    schema = {
        "type": "object",
        "properties": {"a/b": {"type": "object", "properties": {"c~d": {"type": "integer"}}}},
    }
    [violation] = validate(schema, {"a/b": {"c~d": "x"}})
    assert violation.pointer == "/a~1b/c~0d"


def test_violation_pointers_through_arrays_and_base() -> None:
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "required": ["id"]}}}}
    [violation] = validate(schema, {"items": [{"id": 1}, {}]}, base="/interactions/3/request")
    assert violation.pointer == "/interactions/3/request/items/1/id"


# -- messages ------------------------------------------------------------------------------------------


def test_required_names_the_missing_key() -> None:
    [violation] = validate({"type": "object", "required": ["id"]}, {"name": "x"})
    assert violation == Violation(
        pointer="/id", keyword="required", expected="present", actual="missing", message="required key 'id' is missing"
    )
    assert str(violation) == "/id: required key 'id' is missing"


def test_each_of_several_missing_keys_gets_its_own_violation() -> None:
    violations = validate({"type": "object", "required": ["a", "b", "c"]}, {"b": 1})
    assert [(v.pointer, v.message) for v in violations] == [
        ("/a", "required key 'a' is missing"),
        ("/c", "required key 'c' is missing"),
    ]
    assert {v.actual for v in violations} == {"missing"}


def test_additional_properties_lists_extra_and_allowed_keys() -> None:
    schema = {"type": "object", "properties": {"id": {}, "name": {}}, "additionalProperties": False}
    [violation] = validate(schema, {"id": 1, "zeta": 2, "alpha": 3})
    assert violation.keyword == "additionalProperties"
    assert violation.pointer == ""
    assert violation.message == "unexpected key(s) 'alpha', 'zeta' (allowed: id, name)"
    assert violation.expected == "no other keys"
    assert violation.actual == "alpha, zeta"


def test_additional_properties_with_no_properties_says_none_allowed() -> None:
    [violation] = validate({"type": "object", "additionalProperties": False}, {"x": 1})
    assert violation.message == "unexpected key(s) 'x' (allowed: none)"


def test_type_message_shows_expected_type_and_actual_type_and_value() -> None:
    [violation] = validate({"type": "object", "properties": {"n": {"type": "integer"}}}, {"n": "7"})
    assert violation.keyword == "type"
    assert violation.pointer == "/n"
    assert violation.expected == '"integer"'
    assert violation.actual == 'string "7"'
    assert "'7' is not of type 'integer'" == violation.message
    [listed] = validate({"type": ["integer", "null"]}, [])
    assert listed.expected == '["integer", "null"]'
    assert listed.actual == "array []"


def test_any_of_message_names_the_nearest_alternative() -> None:
    schema = {"anyOf": [{"type": "integer"}, {"type": "object", "properties": {"a": {"type": "string"}}}]}
    [violation] = validate(schema, {"a": 1})
    assert violation.keyword == "anyOf"
    assert "nearest alternative: 1 is not of type 'string'" in violation.message


def test_violations_are_sorted_shallowest_first() -> None:
    schema = {
        "type": "object",
        "properties": {
            "deep": {"type": "object", "properties": {"deeper": {"type": "object", "properties": {"x": {"type": "integer"}}}}},
            "b": {"type": "string"},
            "a": {"type": "string"},
        },
        "required": ["must"],
        "additionalProperties": False,
    }
    value = {"deep": {"deeper": {"x": "no"}}, "b": 1, "a": 2, "extra": True}
    violations = validate(schema, value)
    # the object's own problems first, then its keys' (alphabetically), then the deep one
    assert {v.keyword for v in violations[:2]} == {"required", "additionalProperties"}
    assert [v.pointer for v in violations[2:]] == ["/a", "/b", "/deep/deeper/x"]


def test_valid_value_has_no_violations_and_compiled_schema_is_reusable() -> None:
    compiled = compile_schema({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
    assert isinstance(compiled, CompiledSchema)
    results = [compiled.violations({"n": i} if i % 2 else {"n": str(i)}) for i in range(50)]
    assert [bool(r) for r in results] == [i % 2 == 0 for i in range(50)]
    assert compiled.is_valid({"n": 1}) and not compiled.is_valid({})


def test_boolean_schemas() -> None:
    assert validate(True, object()) == []
    [violation] = validate(False, 1)
    assert violation.message == "False schema does not allow 1"
    assert violation.pointer == ""


def test_violation_to_dict() -> None:
    [violation] = validate({"type": "integer"}, "x")
    assert violation.to_dict() == {
        "pointer": "",
        "keyword": "type",
        "expected": '"integer"',
        "actual": 'string "x"',
        "message": "'x' is not of type 'integer'",
    }
    assert str(violation).startswith("/: ")


def test_describe_value_is_short_and_type_revealing() -> None:
    assert describe_value("x" * 200).endswith("...")
    assert len(describe_value("x" * 200)) == 80
    assert describe_value(datetime.date(2024, 5, 1)) == "datetime.date(2024, 5, 1)"
    assert describe_value((1, 2)) == "(1, 2)"
    assert describe_value({"b": 1, "a": None}) == '{"a": null, "b": 1}'
    assert describe_value(Other()) == "Other()"
    assert describe_value("Other()") == '"Other()"'
    assert describe_value({1, 2}) == "{1, 2}"
    assert describe_value(decimal.Decimal("1.50")) == "Decimal('1.50')"


# -- malformed schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        {"type": 5},
        {"type": "strin"},
        {"minimum": "zero"},
        {"required": "id"},
        {"properties": {"a": {"type": ["integer", 3]}}},
        {"items": 5},
    ],
    ids=repr,
)
def test_malformed_schema_raises_at_compile_time(schema: Any) -> None:
    with pytest.raises(jsonschema.SchemaError):
        compile_schema(schema)
    with pytest.raises(jsonschema.SchemaError):
        validate(schema, 1)
