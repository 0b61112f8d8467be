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


# -- the dialect's own check of a schema's form, which spares jsonschema's meta-schema walk ----------------

from rpctest.schema.fast import well_formed  # noqa: E402

#: keyword values jsonschema's meta-schema refuses, each next to the keyword it breaks
MALFORMED = st.sampled_from(
    [
        {"type": "strin"}, {"type": []}, {"type": ["string", "string"]}, {"type": 3},
        {"minLength": -1}, {"maxItems": 1.5}, {"minProperties": "2"}, {"maxLength": True},
        {"minimum": "0"}, {"exclusiveMaximum": None}, {"required": "a"}, {"required": ["a", "a"]}, {"required": [1]},
        {"properties": []}, {"properties": {"a": 3}}, {"items": 3}, {"prefixItems": []}, {"anyOf": []}, {"allOf": {}},
        {"oneOf": [3]}, {"not": "x"}, {"uniqueItems": 1}, {"enum": "a"}, {"pattern": "("}, {"pattern": 3},
        {"additionalProperties": "no"}, {"propertyNames": []}, {"title": 3}, {"description": []}, {"format": 1},
        {"deprecated": "yes"}, {"examples": 1}, {"$comment": 2},
    ]
)
maybe_malformed = st.recursive(_leaf() | MALFORMED, _extend, max_leaves=6)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=maybe_malformed)
def test_a_well_formed_schema_passes_jsonschemas_meta_check(schema: object) -> None:
    """well_formed may say no to a good schema (jsonschema then decides), never yes to a bad one."""
    from jsonschema.exceptions import SchemaError

    if well_formed(schema):
        try:
            _validator_class().check_schema(schema)
        except SchemaError as exc:  # pragma: no cover - the failure message
            pytest.fail(f"well_formed accepted {schema!r}, which jsonschema refuses: {exc.message}")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas)
def test_on_the_dialect_well_formed_is_jsonschemas_verdict(schema: object) -> None:
    """Every well-formed schema of the dialect takes the fast path (compiling it never walks the
    meta-schema), and every other one is refused by jsonschema (``prefixItems: []`` among them)."""
    from jsonschema.exceptions import SchemaError

    try:
        _validator_class().check_schema(schema)
        accepted = True
    except SchemaError:
        accepted = False
    assert well_formed(schema) is accepted, schema


def test_compiling_a_well_formed_schema_skips_the_meta_check_and_a_malformed_one_still_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from jsonschema.exceptions import SchemaError

    cls = _validator_class()
    checked: list[object] = []
    real = cls.check_schema
    monkeypatch.setattr(cls, "check_schema", lambda schema, *a, **k: checked.append(schema) or real(schema, *a, **k))
    good = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}
    assert compile_schema(good).fast
    assert checked == []
    with pytest.raises(SchemaError, match="-1"):
        compile_schema({"type": "string", "minLength": -1})
    assert checked == [{"type": "string", "minLength": -1}]
    compile_schema({"multipleOf": 2})  # outside the dialect: jsonschema checks it, as before
    assert checked[-1] == {"multipleOf": 2}


def test_the_dogfood_providers_take_the_fast_path() -> None:
    """The schemas rpctest's exporters write are well formed, so verify compiles them without jsonschema."""
    from pathlib import Path

    from rpctest.contracts import format as fmt

    root = Path(__file__).resolve().parents[2] / "contracts" / "providers"
    schemas_seen = [s for p in fmt.load_many([root]) for op in p.operations.values() for s in (op.request, op.response)]
    assert len(schemas_seen) >= 10
    assert all(well_formed(s) for s in schemas_seen), [s for s in schemas_seen if not well_formed(s)]
