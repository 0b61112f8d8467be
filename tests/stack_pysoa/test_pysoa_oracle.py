"""PySOA's fuzz oracle and the Conformity strategies, against the real pysoa server (local transport).

* For each defect kind, a body with exactly that defect goes through a real ``Server``; the reply's
  errors must match ``adapter.expected_for_defect(defect)`` (kind, code, field) and be caller errors.
  The native code is pinned per case too, so a change in PySOA's answers shows up here first.
* ``from_field`` values of every Conformity field type (``schemasvc``) satisfy ``field.errors()``, and
  with ``wire=True`` survive PySOA's MessagePack serializer unchanged.
* Valid bodies generated for the example service's actions never get INVALID/MISSING/UNKNOWN (nor a
  server error) from the real server.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterator

import pytest
from conformity import fields
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from pysoa.common.serializer.msgpack_serializer import MsgpackSerializer
from pysoa.server.action import Action
from pysoa.server.server import Server

from examples.pysoa.service import STORE, UserServer
from rpctest.model import ErrorKind
from rpctest.stacks.pysoa import adapter, serve
from rpctest.stacks.pysoa.host import PySOAService
from rpctest.stacks.pysoa.oracle import expected_for_defect
from rpctest.stacks.pysoa.strategies import (
    INT64_MAX,
    UnsatisfiableField,
    from_field,
    register,
    registered,
    request_strategy,
    unregister,
    wire_safe,
)
from rpctest.strategies.defects import DEFECT_KINDS, Defect, Expected

HERE = Path(__file__).resolve().parent


from stack_pysoa import schemasvc  # noqa: E402

VALIDATION_CODES = {"INVALID", "MISSING", "UNKNOWN"}
FAST = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# -- the oracle against the real server ----------------------------------------------------------------


class CheckAction(Action):
    request_schema = fields.Dictionary(
        {
            "count": fields.Integer(gte=1, lte=10),
            "ratio": fields.Float(gt=0, lt=1),
            "name": fields.UnicodeString(min_length=2, max_length=5),
            "code": fields.UnicodeString(allow_blank=False),
            "email": fields.EmailAddress(),
            "amount": fields.UnicodeDecimal(),
            "ip": fields.IPv4Address(),
            "tags": fields.List(fields.UnicodeString(max_length=3), min_length=1, max_length=2),
            "user": fields.Dictionary({"id": fields.Integer(), "nick": fields.Nullable(fields.UnicodeString())}, optional_keys=("nick",)),
            "items": fields.List(fields.Dictionary({"k": fields.Integer()})),
            "labels": fields.SchemalessDictionary(key_type=fields.UnicodeString(), value_type=fields.Integer(), max_length=2),
            "color": fields.Constant("red", "green"),
            "maybe": fields.Nullable(fields.Constant("x")),
            "blob": fields.ByteString(min_length=1, max_length=3),
        },
        optional_keys=("maybe",),
    )
    response_schema = fields.Dictionary({"ok": fields.Boolean()})

    def run(self, request: Any) -> dict:
        return {"ok": True}


class OracleServer(Server):
    service_name = "oracle"
    action_class_map = {"check": CheckAction}  # noqa: RUF012 - PySOA's convention


VALID = {
    "count": 5,
    "ratio": 0.5,
    "name": "abc",
    "code": "x",
    "email": "ann@example.com",
    "amount": "1.25",
    "ip": "10.0.0.1",
    "tags": ["a", "b"],
    "user": {"id": 1, "nick": None},
    "items": [{"k": 1}, {"k": 2}],
    "labels": {"a": 1},
    "color": "red",
    "maybe": "x",
    "blob": b"ab",
}

_DROP = object()

#: (defect kind, path, the value put there (_DROP: remove the key), PySOA's native code)
CASES: list[tuple[str, tuple[Any, ...], Any, str]] = [
    ("wrong_type", ("count",), "1", "INVALID"),
    ("wrong_type", ("count",), True, "INVALID"),  # bool is not an Integer to Conformity
    ("wrong_type", ("count",), 1.0, "INVALID"),
    ("wrong_type", ("user", "id"), "x", "INVALID"),
    ("wrong_type", ("tags", 1), 5, "INVALID"),
    ("wrong_type", ("user",), [], "INVALID"),
    ("wrong_type", ("labels", "a"), "x", "INVALID"),
    ("out_of_range", ("count",), 0, "INVALID"),
    ("out_of_range", ("count",), 11, "INVALID"),
    ("out_of_range", ("ratio",), 1, "INVALID"),
    ("out_of_range", ("ratio",), 0.0, "INVALID"),
    ("too_long", ("name",), "abcdef", "INVALID"),
    ("too_long", ("tags",), ["a", "b", "c"], "INVALID"),
    ("too_long", ("tags", 0), "abcd", "INVALID"),
    ("too_long", ("labels",), {"a": 1, "b": 2, "c": 3}, "INVALID"),
    ("too_short", ("name",), "a", "INVALID"),
    ("too_short", ("tags",), [], "INVALID"),
    ("too_long", ("blob",), b"abcd", "INVALID"),
    ("too_short", ("blob",), b"", "INVALID"),
    ("pattern_mismatch", ("code",), "   ", "INVALID"),
    ("pattern_mismatch", ("email",), "nope", "INVALID"),
    ("pattern_mismatch", ("amount",), "1.2.3", "INVALID"),
    ("pattern_mismatch", ("ip",), "1.2.3", "INVALID"),
    ("null_not_nullable", ("count",), None, "INVALID"),
    ("null_not_nullable", ("user", "id"), None, "INVALID"),
    ("null_not_nullable", ("items", 1), None, "INVALID"),
    ("null_not_nullable", ("color",), None, "UNKNOWN"),  # a Constant: None is one more value not in it
    ("missing_required", ("count",), _DROP, "MISSING"),
    ("missing_required", ("user", "id"), _DROP, "MISSING"),
    ("missing_required", ("items", 1, "k"), _DROP, "MISSING"),
    ("unexpected_key", ("extra",), 1, "UNKNOWN"),
    ("unexpected_key", ("user", "extra"), 1, "UNKNOWN"),
    ("unexpected_key", ("items", 0, "zz"), 1, "UNKNOWN"),
    ("not_in_enum", ("color",), "blue", "UNKNOWN"),
    ("not_in_enum", ("color",), 3, "UNKNOWN"),
    ("not_in_enum", ("maybe",), "y", "UNKNOWN"),
]


def _with_defect(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    body = copy.deepcopy(body)
    node = body
    for part in path[:-1]:
        node = node[part]
    if value is _DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return body


def _assert_matches(errors: Any, expected: Expected, native: str, *, caller: bool = True) -> None:
    assert errors, f"no error; expected {expected}"
    for error in errors:
        assert error.kind is expected.kind, error
        assert error.code in expected.codes, error
        assert error.code == native, error
        assert error.field == expected.field, error
        assert error.details.get("is_caller_error") is caller, error


@pytest.fixture(scope="module")
def oracle_service() -> Iterator[PySOAService]:
    with serve(OracleServer) as service:
        yield service


def test_valid_body_is_accepted(oracle_service: PySOAService) -> None:
    reply = oracle_service.call("check", VALID)
    assert reply.ok and reply.body == {"ok": True}, reply


def test_cases_cover_every_defect_kind() -> None:
    assert {kind for kind, *_ in CASES} == set(DEFECT_KINDS)


@pytest.mark.parametrize(
    ("kind", "path", "value", "native"),
    CASES,
    ids=[f"{kind}:{'.'.join(map(str, path))}={value!r}" if value is not _DROP else f"{kind}:{'.'.join(map(str, path))}" for kind, path, value, _ in CASES],
)
def test_one_defect_gets_the_predicted_answer(oracle_service: PySOAService, kind: str, path: tuple[Any, ...], value: Any, native: str) -> None:
    defect = Defect(kind, path)
    expected = adapter.expected_for_defect(defect)
    reply = oracle_service.call("check", _with_defect(VALID, path, value))
    assert not reply.job_errors
    _assert_matches(reply.errors, expected, native)
    # what the fuzz check compares: some error matches the expectation
    from rpctest.fuzz.checks import Case, caller_error_for_invalid_input

    case = Case("check", None, "negative", defect=defect, expected=expected)
    assert caller_error_for_invalid_input(case, reply) is None


def test_expected_answers_in_pysoa_terms() -> None:
    assert adapter.expected_for_defect(Defect("wrong_type", ("user", "tags", 1))) == Expected(
        ErrorKind.CALLER_ERROR, "user.tags.1", frozenset({"INVALID"})
    )
    assert adapter.expected_for_defect(Defect("missing_required", ("user", "id"))) == Expected(
        ErrorKind.CALLER_ERROR, "user.id", frozenset({"MISSING"})
    )
    assert adapter.expected_for_defect(Defect("unexpected_key", ("extra",))).field is None
    assert adapter.expected_for_defect(Defect("unexpected_key", ("user", "x"))).field == "user"
    assert adapter.expected_for_defect(Defect("not_in_enum", ("color",))).codes == {"UNKNOWN", "INVALID"}
    # with the neutral node at hand, a plain Constant is exact: UNKNOWN, whatever the wrong value
    for kind in ("wrong_type", "null_not_nullable", "not_in_enum"):
        assert expected_for_defect(Defect(kind, ("color",)), node={"enum": ["green", "red"]}).codes == {"UNKNOWN"}
    assert expected_for_defect(Defect("wrong_type", ("n",)), node={"type": "integer"}).codes == {"INVALID"}
    # a Constant subclass overriding errors() (lossy in the export) may type-check first
    assert expected_for_defect(Defect("not_in_enum", ("cc",)), node={"enum": ["DE"], "x-rpctest-lossy": "..."}).codes == {"UNKNOWN", "INVALID"}
    unknown = adapter.expected_for_unknown_operation("nope")
    assert unknown == Expected(ErrorKind.NOT_FOUND, "action", frozenset({"UNKNOWN"}))


def test_wrong_type_on_a_constant_is_unknown(oracle_service: PySOAService) -> None:
    expected = expected_for_defect(Defect("wrong_type", ("color",)), node={"enum": ["green", "red"]})
    _assert_matches(oracle_service.call("check", {**VALID, "color": 5}).errors, expected, "UNKNOWN")


@pytest.mark.parametrize("body", [[1], "x", 5], ids=["list", "str", "int"])
def test_a_body_that_is_not_a_dict_is_a_job_error(oracle_service: PySOAService, body: Any) -> None:
    expected = adapter.expected_for_defect(Defect("wrong_type", ()))
    reply = oracle_service.call("check", body)
    assert not reply.errors
    # PySOA's job schema answers, and every job-level validation error has is_caller_error false
    _assert_matches(reply.job_errors, expected, "INVALID", caller=False)


def test_unknown_action(oracle_service: PySOAService) -> None:
    expected = adapter.expected_for_unknown_operation("no_such_action")
    reply = oracle_service.call("no_such_action", {})
    _assert_matches(reply.errors, expected, "UNKNOWN")


class PolymorphAction(Action):
    request_schema = fields.Dictionary({"p": fields.Polymorph("kind", {"a": fields.Dictionary({"kind": fields.Constant("a")})})})

    def run(self, request: Any) -> dict:
        return {}


class PolymorphServer(Server):
    service_name = "poly"
    action_class_map = {"go": PolymorphAction}  # noqa: RUF012


def test_known_weakness_polymorph_crashes_on_a_non_mapping() -> None:
    """Pinned finding: Conformity's Polymorph raises on a value that is not a mapping or lacks the
    switch key, so PySOA answers SERVER_ERROR to a caller's mistake. The oracle still predicts
    INVALID, so a fuzz run reports it (if PySOA fixes it, this test says so)."""
    with serve(PolymorphServer) as service:
        assert service.call("go", {"p": {"kind": "z"}}).errors[0].code == "UNKNOWN"  # a bad switch value
        for bad in (5, {}):
            errors = service.call("go", {"p": bad}).errors
            assert [(e.code, e.kind) for e in errors] == [("SERVER_ERROR", ErrorKind.SERVER_ERROR)]


# -- strategies straight from Conformity fields --------------------------------------------------------


class ShoutingOverride:
    """A registered strategy for schemasvc's custom field class (its rule lives in errors())."""

    @staticmethod
    def factory(field: Any) -> Any:
        return st.text("ABCXYZ", min_size=1, max_size=6)


@fields.ClassConfigurationSchema.provider(fields.Dictionary({"size": fields.Integer(gte=0)}, optional_keys=("size",)))
class ProvidedPlugin(schemasvc.Plugin):
    """A provider for schemasvc's ClassConfigurationSchema(base_class=Plugin)."""

    def __init__(self, size: int = 0) -> None:
        self.size = size


ALL_FIELDS: dict[str, Any] = {**schemasvc.EXACT, **schemasvc.LOSSY_INTROSPECTION}
#: fields with no value at all: Deprecated rejects everything in conformity 1.28.2
NEVER = {"deprecated"}
#: fields whose values cannot cross PySOA's wire intact (its client turns tuples and sets into lists;
#: its serializer has no timedelta, tzinfo, class or arbitrary object)
NOT_ON_THE_WIRE = {"set", "tuple", "empty_tuple", "object", "timedelta", "timedelta_zero", "tzinfo", "type_reference"}

_SERIALIZER = MsgpackSerializer()


def _round_trip(value: Any) -> Any:
    return _SERIALIZER.blob_to_dict(_SERIALIZER.dict_to_blob({"v": value}))["v"]


@pytest.fixture
def shouting_registered() -> Iterator[None]:
    register(schemasvc.ShoutingString, ShoutingOverride.factory)
    try:
        yield
    finally:
        unregister(schemasvc.ShoutingString)


@pytest.mark.usefixtures("shouting_registered")
@pytest.mark.parametrize("wire", [True, False], ids=["wire", "native"])
def test_from_field_covers_every_field_type(wire: bool) -> None:
    empty = {name for name, field in ALL_FIELDS.items() if from_field(field, wire=wire).is_empty}
    assert empty == (NEVER | NOT_ON_THE_WIRE if wire else NEVER)


@pytest.mark.usefixtures("shouting_registered")
@pytest.mark.parametrize("wire", [True, False], ids=["wire", "native"])
def test_from_field_values_satisfy_the_composite_schema(wire: bool) -> None:
    composite = fields.Dictionary(ALL_FIELDS, optional_keys=tuple(ALL_FIELDS))
    required = {name: field for name, field in ALL_FIELDS.items() if not from_field(field, wire=wire).is_empty}
    strict = fields.Dictionary(required)  # every field the mode can produce, all present
    strategy = st.one_of(from_field(composite, wire=wire), from_field(strict, wire=wire))
    seen: set[str] = set()

    @settings(FAST, max_examples=60)
    @given(strategy)
    def check(body: dict) -> None:
        seen.update(body)
        assert composite.errors(copy.deepcopy(body)) == []
        if wire:
            assert wire_safe(body)
            arrived = _round_trip(body)
            assert arrived == body
            assert composite.errors(arrived) == []

    check()
    assert seen == set(required)


def test_class_configuration_uses_providers() -> None:
    field = schemasvc.EXACT["class_config"]
    value = find(from_field(field), lambda v: "size" in v["kwargs"])
    assert value["path"].endswith(":ProvidedPlugin")
    assert field.errors(copy.deepcopy(value)) == []
    assert "object" not in value  # errors() adds it; the generated value must stay wire-safe


def test_strings_have_no_lone_surrogates_unless_asked() -> None:
    def lone(text: str) -> bool:
        return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)

    field = fields.UnicodeString()
    assert lone(find(from_field(field, surrogates=True), lone))

    @FAST
    @given(from_field(fields.List(field)))
    def check(items: list) -> None:
        assert not any(lone(item) for item in items)

    check()


def test_ints_stay_in_int64_on_the_wire() -> None:
    assert find(from_field(fields.Integer(gt=INT64_MAX - 10)), lambda v: True) > INT64_MAX - 10
    assert from_field(fields.Integer(gt=INT64_MAX)).is_empty
    assert not from_field(fields.Integer(gt=INT64_MAX), wire=False).is_empty


def test_register_overrides_and_is_still_checked() -> None:
    class Even(fields.Integer):
        def errors(self, value: Any) -> list:
            return super().errors(value) or ([] if value % 2 == 0 else [fields.Base().errors(value)[0]])

    field = Even(gte=0, lte=100)
    register(Even, lambda f: st.integers(0, 100))  # approximate: half of it is odd
    try:
        assert Even in registered()

        @FAST
        @given(from_field(field))
        def check(value: int) -> None:
            assert value % 2 == 0 and 0 <= value <= 100

        check()
    finally:
        unregister(Even)
    assert Even not in registered()


def test_request_strategy_explains_an_unsatisfiable_required_key() -> None:
    with pytest.raises(UnsatisfiableField, match="timedelta_zero"):
        request_strategy(schemasvc.LossyIntrospectionAction)
    assert not request_strategy(schemasvc.LossyIntrospectionAction, wire=False).is_empty
    assert find(request_strategy(schemasvc.NoSchemaAction), lambda v: True) == {}
    # a SwitchedAction is generated for its default action
    assert set(find(request_strategy(schemasvc.SearchAction), lambda v: True)) == {"q"}


# -- valid requests through the real server -------------------------------------------------------


@pytest.fixture(scope="module")
def users() -> Iterator[PySOAService]:
    STORE.reset()
    with serve(UserServer) as service:
        yield service
    STORE.reset()


@pytest.mark.parametrize("action", sorted(UserServer.action_class_map))
def test_valid_requests_are_never_rejected_by_the_example_service(users: PySOAService, action: str) -> None:
    @settings(FAST, max_examples=30)
    @given(request_strategy(UserServer.action_class_map[action]))
    def check(body: dict) -> None:
        reply = users.call(action, body)
        bad = [e for e in reply.all_errors if e.code in VALIDATION_CODES or e.kind is ErrorKind.SERVER_ERROR]
        assert not bad, (body, bad)

    check()


@pytest.mark.usefixtures("shouting_registered")
def test_valid_requests_with_every_field_type_pass_the_real_server() -> None:
    """LossyIntrospectionAction's body: custom errors(), Email bounds, a timedelta (native mode only:
    the local transport hands the body over without serializing it)."""
    with serve(schemasvc.SchemaServer) as service:

        @settings(FAST, max_examples=25)
        @given(request_strategy(schemasvc.LossyIntrospectionAction, wire=False))
        def check(body: dict) -> None:
            reply = service.call("lossy_introspection", body)
            assert not [e for e in reply.all_errors if e.code != "FORBIDDEN_ADDRESS"], (body, reply.all_errors)

        check()
