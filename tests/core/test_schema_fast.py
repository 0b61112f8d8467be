"""The closure compiler must give jsonschema's verdict on every schema of the dialect and every value.

Hypothesis draws schemas from the dialect's keywords and values of every kind the dialect knows
(natives included); the reference is the same extended ``jsonschema`` validator that explains
violations. Any disagreement would mean verify says "invalid" with no violation to show, or worse,
"valid" for a value jsonschema rejects.
"""

from __future__ import annotations

import datetime
import decimal

import pytest
from hypothesis import HealthCheck, given, reject, settings, strategies as st

from rpctest.schema.fast import compile_fast
from rpctest.schema.validate import _validator_class, compile_schema

KEYS = st.sampled_from(["a", "b", "c"])
TYPES = ["null", "boolean", "string", "integer", "number", "array", "object"]
NATIVES = ["datetime", "date", "time", "decimal", "bytes", "set", "tuple"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-5, 5),
    st.just(float("nan")),
    st.text(alphabet="ab1", max_size=3),
    st.decimals(-5, 5, places=1, allow_nan=False),
    st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2000, 1, 3)),
    st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2000, 1, 2)),
    st.binary(max_size=2),
)
hashables = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(alphabet="ab", max_size=2))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.frozensets(hashables, max_size=3).map(set),
        st.dictionaries(KEYS, inner, max_size=3),
    ),
    max_leaves=6,
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(alphabet="ab", max_size=2)),
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(KEYS, inner, max_size=2)),
    max_leaves=4,
)


def _leaf() -> st.SearchStrategy[dict]:
    bound = st.integers(-3, 3) | st.floats(-3, 3)
    return st.one_of(
        st.fixed_dictionaries({"type": st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True)}),
        st.fixed_dictionaries({"type": st.just("string")}, optional={"minLength": st.integers(0, 2), "maxLength": st.integers(0, 3), "pattern": st.sampled_from(["^a", "b$", "[0-9]", "^$"])}),
        st.fixed_dictionaries({}, optional={"minimum": bound, "maximum": bound, "exclusiveMinimum": bound, "exclusiveMaximum": bound, "type": st.sampled_from(["number", "integer"])}),
        st.fixed_dictionaries({"enum": st.lists(json_values, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"const": json_values}),
        st.fixed_dictionaries({"x-rpctest-type": st.sampled_from(NATIVES)}, optional={"type": st.sampled_from(TYPES), "format": st.just("date-time")}),
        st.just({}),
        st.booleans(),
    )


def _extend(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.dictionaries(KEYS, inner, max_size=3)},
            optional={"required": st.lists(KEYS, max_size=3, unique=True), "additionalProperties": st.booleans() | inner, "propertyNames": inner, "minProperties": st.integers(0, 2), "maxProperties": st.integers(0, 3)},
        ),
        st.fixed_dictionaries({}, optional={"additionalProperties": inner, "required": st.lists(KEYS, max_size=2, unique=True)}),
        st.fixed_dictionaries(
            {"type": st.just("array")},
            optional={"items": inner, "prefixItems": st.lists(inner, max_size=2), "minItems": st.integers(0, 2), "maxItems": st.integers(0, 3), "uniqueItems": st.booleans()},
        ),
        st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"allOf": st.lists(inner, min_size=1, max_size=2)}),
        st.fixed_dictionaries({"oneOf": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"not": inner}),
    )


schemas = st.recursive(_leaf(), _extend, max_leaves=8)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas, value=values)
def test_fast_verdict_equals_jsonschema(schema: object, value: object) -> None:
    fast = compile_fast(schema)
    assert fast is not None, f"the dialect's keywords must all compile: {schema!r}"
    try:
        reference = _validator_class()(schema).is_valid(value)
    except (decimal.InvalidOperation, TypeError):  # jsonschema's uniqueItems sorts; NaN vs Decimal raises
        reject()
    assert fast(value) == reference, f"schema={schema!r} value={value!r} jsonschema says {reference}"


@pytest.mark.parametrize(
    "schema",
    [{"$ref": "#/$defs/x", "$defs": {"x": {}}}, {"patternProperties": {"^a": {}}}, {"multipleOf": 2}, {"if": {}}, {"type": "any"}],
)
def test_keywords_outside_the_dialect_fall_back_to_jsonschema(schema: dict) -> None:
    assert compile_fast(schema) is None
    compiled = compile_schema(schema) if schema.get("type") != "any" else None
    if compiled is not None:
        assert not compiled.fast


def test_compiled_schemas_use_the_fast_path_and_still_explain() -> None:
    compiled = compile_schema({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]})
    assert compiled.fast
    assert compiled.is_valid({"n": 2}) and not compiled.is_valid({"n": 0})
    (violation,) = compiled.violations({"n": 0})
    assert violation.pointer == "/n" and violation.keyword == "minimum"


def test_native_types() -> None:
    check = compile_fast({"type": "object", "properties": {"d": {"type": "string", "x-rpctest-type": "date"}, "n": {"type": "number", "x-rpctest-type": "decimal", "minimum": 0}}})
    assert check is not None
    assert check({"d": datetime.date(2024, 1, 1), "n": decimal.Decimal("0.5")})
    assert not check({"d": datetime.datetime(2024, 1, 1)})
    assert not check({"d": "2024-01-01"})
    assert not check({"n": 0.5})
    assert not check({"n": decimal.Decimal("-1")})


@pytest.mark.parametrize("value", [28.0, -1.0, 0.0, True])
def test_an_integer_is_a_python_int_for_both_validators(value: object) -> None:
    """28.0 is an integer to JSON Schema, but a stack's Python server gets a float and refuses it."""
    schema = {"type": "integer"}
    assert compile_fast(schema)(value) is False
    assert not compile_schema(schema).is_valid(value)
    assert compile_schema({"type": "number"}).is_valid(value) is (not isinstance(value, bool))
