"""Schemas from type hints: what each hint becomes, what it accepts and rejects, what it generates.

Three views of every mapping: the exact schema (spelled as the PySOA exporter spells the same rule),
values the compiled schema accepts and rejects, and a Hypothesis property: every value
``rpctest.strategies.from_schema`` draws from the schema satisfies the *hint*, judged by
:func:`conforms`, a small type checker written here independently of the converter.

The module deliberately does not use ``from __future__ import annotations``: classes get real
annotations, and ``StrRefs`` holds the string ones.
"""

import dataclasses
import datetime
import decimal
import enum
import functools
import json
import math
import re
import types
import typing
import uuid
from collections.abc import Awaitable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import (
    Annotated, Any, Callable, Generic, Literal, NamedTuple, NewType, NotRequired, Optional, Required, TypedDict, TypeVar,
    Union,
)

import pytest
from hypothesis import given, settings, strategies as st

from rpctest.exceptions import ConfigError
from rpctest.schema.from_types import Constraints, TypeSchemaError, schema_from_function, schema_from_type
from rpctest.schema.validate import compile_schema
from rpctest.strategies import from_schema, invalid_from_schema

SOME = settings(max_examples=25, deadline=None, database=None)
T = TypeVar("T")

# -- the declarations under test ---------------------------------------------------------------------------


class Color(str, enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Inner(TypedDict):
    a: int
    b: NotRequired[str]


class Movie(TypedDict):
    """A total TypedDict with nested parts."""

    title: str
    year: int
    cast: list[Inner]
    rating: Optional[float]


class PartialMovie(TypedDict, total=False):
    title: str
    year: int


class Mixed(TypedDict, total=False):
    must: Required[int]
    may: str
    maybe_not: NotRequired[bool]


class Base(TypedDict):
    id: int


class Child(Base, total=False):
    name: str


class StrRefs(TypedDict):
    """Annotations in string form, as ``from __future__ import annotations`` writes every one."""

    inner: "Inner"
    items: "list[Inner]"
    maybe: "NotRequired[int]"
    when: "Optional[datetime.date]"


class Dangling(TypedDict):
    x: "NoSuchThing"  # type: ignore[name-defined]  # noqa: F821


@dataclass
class Point:
    x: int
    y: int = 0


@dataclass
class Line:
    start: Point
    end: Point
    label: str = ""
    tags: list[str] = field(default_factory=list)
    length: float = field(default=0.0, init=False)


class Pair(NamedTuple):
    left: int
    right: str = "r"


@dataclass
class Box(Generic[T]):
    content: T
    count: int = 1


class TypedBox(TypedDict, Generic[T]):
    item: T


class TreeNode(TypedDict):
    value: int
    children: list["TreeNode"]


@dataclass
class Ping:
    pong: "Optional[Pong]"


@dataclass
class Pong:
    ping: Ping


class Twice(TypedDict):
    first: Inner
    second: Inner


UserId = NewType("UserId", int)


class Plain:
    def __init__(self, x: int) -> None:
        self.x = x


class Tag(str):
    pass


class Perm(enum.Flag):
    READ = 1
    WRITE = 2


class Odd(enum.Enum):
    PAIR = (1, 2)


# -- an independent checker: does a value satisfy a hint, as the wire carries it? -----------------------


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _freeze(item)) for key, item in value.items()))
    return value


def _unqualified(hint: Any) -> Any:
    while typing.get_origin(hint) in (Required, NotRequired):
        hint = typing.get_args(hint)[0]
    return hint


def _meets(value: Any, rule: Any) -> bool:
    if not isinstance(rule, Constraints):
        return True
    sized = len(value) if isinstance(value, (str, bytes, list, tuple, set, frozenset)) else None
    checks = [
        rule.min_length is None or sized is None or sized >= rule.min_length,
        rule.max_length is None or sized is None or sized <= rule.max_length,
        rule.minimum is None or value >= rule.minimum,
        rule.maximum is None or value <= rule.maximum,
        rule.exclusive_minimum is None or value > rule.exclusive_minimum,
        rule.exclusive_maximum is None or value < rule.exclusive_maximum,
        rule.pattern is None or re.search(rule.pattern, value) is not None,
        rule.format != "email" or "@" in value,
        rule.multiple_of is None or value % rule.multiple_of == 0,
    ]
    return all(checks)


def conforms(value: Any, hint: Any) -> bool:
    """True when ``value`` is what a hint of ``hint`` travels as (lists for tuples and sets, dicts for
    dataclasses and TypedDicts, values for Enum members)."""
    if hint is Any or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return conforms(value, args[0]) and all(_meets(value, rule) for rule in hint.__metadata__)
    if origin is Literal:
        return any(_same(value, arg.value if isinstance(arg, enum.Enum) else arg) for arg in args)
    if origin in (Union, types.UnionType):
        return any(conforms(value, arg) for arg in args)
    if origin in (list, Sequence):
        return isinstance(value, list) and all(conforms(item, args[0]) for item in value)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(conforms(item, args[0]) for item in value)
        return len(value) == len(args) and all(conforms(item, arg) for item, arg in zip(value, args))
    if origin in (set, frozenset):
        if not isinstance(value, (list, set, frozenset)):
            return False
        return len({_freeze(item) for item in value}) == len(value) and all(conforms(item, args[0]) for item in value)
    if origin in (dict, Mapping):
        return isinstance(value, dict) and all(
            conforms(key, args[0]) and conforms(item, args[1]) for key, item in value.items()
        )
    if origin is not None and dataclasses.is_dataclass(origin):
        bound = dict(zip(origin.__parameters__, args))
        return _dataclass_conforms(value, origin, bound)
    if origin is not None and typing.is_typeddict(origin):
        bound = dict(zip(origin.__parameters__, args))
        return _typeddict_conforms(value, origin, bound)
    if hasattr(hint, "__supertype__"):
        return conforms(value, hint.__supertype__)
    if isinstance(hint, TypeVar):
        raise AssertionError(f"unbound {hint}")
    assert isinstance(hint, type), hint
    if issubclass(hint, enum.Enum):
        return any(_same(value, member.value) for member in hint)
    if typing.is_typeddict(hint):
        return _typeddict_conforms(value, hint, {})
    if dataclasses.is_dataclass(hint):
        return _dataclass_conforms(value, hint, {})
    if issubclass(hint, tuple) and hasattr(hint, "_fields"):
        if not isinstance(value, (list, tuple)):
            return False
        try:
            made = hint(*value)
        except TypeError:
            return False
        hints = typing.get_type_hints(hint)
        return all(conforms(getattr(made, name), hints[name]) for name in hint._fields)
    if hint is bool:
        return type(value) is bool
    if hint is int:
        return type(value) is int
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return type(value) is str
    if hint is bytes:
        return isinstance(value, bytes)
    if hint is datetime.date:
        return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
    if hint is uuid.UUID:
        if not isinstance(value, str):
            return False
        try:
            uuid.UUID(value)
        except ValueError:
            return False
        return True
    if hint in (datetime.datetime, datetime.time, datetime.timedelta, decimal.Decimal):
        return isinstance(value, hint)
    raise AssertionError(f"the test checker does not know {hint!r}")


def _bind(hint: Any, bound: dict[Any, Any]) -> Any:
    return bound.get(hint, hint) if isinstance(hint, TypeVar) else hint


def _typeddict_conforms(value: Any, cls: type, bound: dict[Any, Any]) -> bool:
    if not isinstance(value, dict):
        return False
    hints = typing.get_type_hints(cls, include_extras=True)
    required = set(cls.__required_keys__)
    if cls is StrRefs:  # Python 3.11 cannot see a string "NotRequired[...]" when the class is made
        required.discard("maybe")
    if not set(value) <= set(hints) or not required <= set(value):
        return False
    return all(conforms(item, _bind(_unqualified(hints[key]), bound)) for key, item in value.items())


def _dataclass_conforms(value: Any, cls: type, bound: dict[Any, Any]) -> bool:
    if not isinstance(value, dict):
        return False
    hints = typing.get_type_hints(cls, include_extras=True)
    init = {f.name: item for f in dataclasses.fields(cls) if f.init for name, item in value.items() if name == f.name}
    other = {name: item for name, item in value.items() if name not in init}
    known = {f.name for f in dataclasses.fields(cls)}
    if not set(other) <= known:
        return False
    try:
        cls(**init)  # the class itself says whether the keys make an instance
    except TypeError:
        return False
    return all(conforms(item, _bind(hints[name], bound)) for name, item in value.items())


def test_the_checker_is_not_vacuous() -> None:
    # the property tests below can only fail if conforms() says no to wrong values
    wrong = [
        (1, str), (True, int), ("1", float), (datetime.datetime(2024, 1, 1), datetime.date), ("x", uuid.UUID),
        ("blue", Color), ([1, 1], set[int]), ([1], tuple[int, str]), ({"a": 1}, Movie), ({"z": 1}, Point),
        ({"x": 1, "q": 2}, Point), ("toolong", Annotated[str, Constraints(max_length=3)]), (7, Literal[True, "7"]),
        ({"title": "t", "year": "x"}, PartialMovie), ({"item": "s"}, TypedBox[int]), ([1, 2, 3], Pair),
    ]
    for value, hint in wrong:
        assert not conforms(value, hint), (value, hint)
    assert conforms({"x": 1}, Point) and conforms([1], Pair) and conforms({"must": 1}, Mixed)


# -- exact schemas ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (type(None), {"type": "null"}),
        (Any, {}),
        (object, {}),
        (bytes, {"type": "string", "x-rpctest-type": "bytes"}),
        (datetime.datetime, {"type": "string", "format": "date-time", "x-rpctest-type": "datetime"}),
        (datetime.date, {"type": "string", "format": "date", "x-rpctest-type": "date"}),
        (datetime.time, {"type": "string", "format": "time", "x-rpctest-type": "time"}),
        (datetime.timedelta, {"type": "string", "format": "duration", "x-rpctest-type": "timedelta"}),
        (decimal.Decimal, {"type": "number", "x-rpctest-type": "decimal"}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
        (Color, {"title": "Color", "enum": ["red", "green"]}),
        (Level, {"title": "Level", "enum": [1, 2]}),
        (Literal["a"], {"const": "a"}),
        (Literal["a", 1, True, None, Color.RED], {"enum": ["a", 1, True, None, "red"]}),
        (Literal[1, True], {"enum": [1, True]}),  # JSON Schema tells 1 from true
        (Optional[int], {"type": ["integer", "null"]}),
        (int | None, {"type": ["integer", "null"]}),
        (Union[int, str], {"type": ["integer", "string"]}),
        (Optional[Union[int, str]], {"type": ["integer", "string", "null"]}),
        (Optional[datetime.date], {"anyOf": [{"type": "string", "format": "date", "x-rpctest-type": "date"}, {"type": "null"}]}),
        (Optional[Color], {"anyOf": [{"title": "Color", "enum": ["red", "green"]}, {"type": "null"}]}),
        (Union[int, Any], {}),
        (Union[Point, list[int]], {"anyOf": [schema_from_type(Point), {"type": "array", "items": {"type": "integer"}}]}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (Sequence[str], {"type": "array", "items": {"type": "string"}}),
        (typing.List[int], {"type": "array", "items": {"type": "integer"}}),  # noqa: UP006
        (list, {"type": "array"}),
        (tuple[int, str], {"type": "array", "x-rpctest-type": "tuple", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                           "items": False, "minItems": 2, "maxItems": 2}),
        (tuple[()], {"type": "array", "x-rpctest-type": "tuple", "items": False, "minItems": 0, "maxItems": 0}),
        (tuple[int, ...], {"type": "array", "x-rpctest-type": "tuple", "items": {"type": "integer"}}),
        (tuple, {"type": "array", "x-rpctest-type": "tuple"}),
        (set[int], {"type": "array", "items": {"type": "integer"}, "x-rpctest-type": "set", "uniqueItems": True}),
        (frozenset[str], {"type": "array", "items": {"type": "string"}, "x-rpctest-type": "set", "uniqueItems": True}),
        (dict[str, int], {"type": "object", "propertyNames": {"type": "string"}, "additionalProperties": {"type": "integer"}}),
        (Mapping[str, Any], {"type": "object", "propertyNames": {"type": "string"}, "additionalProperties": {}}),
        (dict[Color, int], {"type": "object", "propertyNames": {"title": "Color", "enum": ["red", "green"]},
                            "additionalProperties": {"type": "integer"}}),
        (dict, {"type": "object"}),
        (UserId, {"type": "integer"}),
        (Pair, {"type": "array", "x-rpctest-type": "tuple", "title": "Pair", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "items": False, "minItems": 1, "maxItems": 2}),
    ],
    ids=repr,
)
def test_exact_schema(hint: Any, expected: Any) -> None:
    assert schema_from_type(hint) == expected


def test_spellings_match_the_pysoa_exporter() -> None:
    """The same rule spelled the same way, so validator, strategies and contract files treat both alike."""
    from rpctest.stacks.pysoa.schema import introspection_to_schema  # imports neither pysoa nor conformity

    def bare(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: bare(item) for key, item in node.items() if key != "x-rpctest-native"}
        if isinstance(node, list):
            return [bare(item) for item in node]
        return node

    pairs = [
        ({"type": "set", "contents": {"type": "integer"}}, set[int]),
        ({"type": "nullable", "nullable": {"type": "unicode"}}, Optional[str]),
        ({"type": "nullable", "nullable": {"type": "datetime"}}, Optional[datetime.datetime]),
        ({"type": "tuple", "contents": [{"type": "integer"}, {"type": "unicode"}]}, tuple[int, str]),
        ({"type": "schemaless_dictionary", "key_type": {"type": "unicode"}, "value_type": {"type": "float"}}, dict[str, float]),
        ({"type": "decimal"}, decimal.Decimal),
        ({"type": "bytes"}, bytes),
        ({"type": "date"}, datetime.date),
        ({"type": "time"}, datetime.time),
        ({"type": "timedelta"}, datetime.timedelta),
        ({"type": "list", "contents": {"type": "boolean"}}, list[bool]),
        ({"type": "constant", "values": ["a"]}, Literal["a"]),
        ({"type": "unicode", "min_length": 2, "max_length": 5}, Annotated[str, Constraints(min_length=2, max_length=5)]),
        ({"type": "integer", "gt": 0, "lte": 9}, Annotated[int, Constraints(exclusive_minimum=0, maximum=9)]),
        ({"type": "list", "contents": {"type": "integer"}, "max_length": 3}, Annotated[list[int], Constraints(max_length=3)]),
    ]
    for spec, hint in pairs:
        assert schema_from_type(hint) == bare(introspection_to_schema(spec)[0]), hint
    dictionary = {"type": "dictionary", "contents": {"a": {"type": "integer"}, "b": {"type": "unicode"}}, "optional_keys": ["b"],
                  "allow_extra_keys": False}
    assert {**schema_from_type(Inner)} == {**bare(introspection_to_schema(dictionary)[0]), "title": "Inner"}


# -- accepts and rejects ------------------------------------------------------------------------------------

NOW = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)

CASES: list[tuple[str, Any, list[Any], list[Any]]] = [
    ("str", str, ["", "a"], [1, None, b"a", ["a"]]),
    ("int", int, [0, -5, 2**70], [True, "1", 1.5, None]),
    ("float", float, [1.5, 3, -0.0], ["1.5", True, None, [1.0]]),  # a JSON number: ints too
    ("bool", bool, [True, False], [1, 0, "true", None]),
    ("None", None, [None], [0, "", False, {}]),
    ("Any", Any, [None, 1, "x", {"a": [1]}, [b"x"]], []),
    ("bytes", bytes, [b"", b"x"], ["x", [120], None]),
    ("datetime", datetime.datetime, [NOW, datetime.datetime(2024, 1, 1)], ["2024-05-01T12:00:00+00:00", NOW.date(), None]),
    ("date", datetime.date, [datetime.date(2024, 1, 1)], [NOW, "2024-01-01", None]),
    ("time", datetime.time, [datetime.time(1, 2)], ["01:02", NOW, None]),
    ("timedelta", datetime.timedelta, [datetime.timedelta(seconds=3)], [3, "PT3S", None]),
    ("Decimal", decimal.Decimal, [decimal.Decimal("1.50")], [1.5, "1.50", None]),
    ("UUID", uuid.UUID, [str(uuid.uuid4())], [123, None, uuid.uuid4()]),  # the wire form: a string
    ("str enum", Color, ["red", Color.GREEN], ["blue", "RED", 1, None]),
    ("int enum", Level, [1, Level.HIGH], [3, "1", True, None]),
    ("Literal", Literal["a", 1, True], ["a", 1, True], ["b", 2, False, None]),
    ("Optional", Optional[int], [None, 3], ["3", 1.5]),
    ("X | None", str | None, [None, "s"], [1, b"s"]),
    ("Union", Union[int, str], [1, "a"], [1.5, None, []]),
    ("Union of classes", Union[Point, Inner], [{"x": 1}, {"a": 1}], [{"y": 1}, {"x": 1, "a": 1}, None]),
    ("list", list[int], [[], [1, 2], (1, 2)], [[1, "a"], "abc", {"a": 1}, None]),
    ("Sequence", Sequence[str], [[], ["a"]], [[1], "a"]),
    ("fixed tuple", tuple[int, str], [[1, "a"], (1, "a")], [[1], [1, "a", 2], ["a", 1], "ab"]),
    ("empty tuple", tuple[()], [[], ()], [[1]]),
    ("variadic tuple", tuple[int, ...], [[], [1, 2, 3], (4,)], [[1, "a"], {"a": 1}]),
    ("set", set[int], [[1, 2], {1, 2}, frozenset({3})], [[1, 1], ["a"], 1]),
    ("frozenset", frozenset[str], [["a"], frozenset({"b"})], [["a", "a"], [1]]),
    ("dict", dict[str, int], [{}, {"a": 1}], [{"a": "x"}, {1: 1}, [], None]),
    ("Mapping", Mapping[str, list[int]], [{"a": [1]}], [{"a": 1}, {"a": ["x"]}]),
    ("enum keys", dict[Color, int], [{"red": 1}], [{"blue": 1}, {"red": "x"}]),
    ("literal keys", dict[Literal["a", "b"], int], [{"a": 1, "b": 2}], [{"c": 1}]),
    ("TypedDict", Movie, [{"title": "t", "year": 1, "cast": [], "rating": None}],
     [{"title": "t", "year": 1, "cast": []},  # rating is required (Optional is about the value)
      {"title": "t", "year": 1, "cast": [], "rating": None, "extra": 1},  # strict: no undeclared key
      {"title": "t", "year": "1", "cast": [], "rating": None},
      {"title": "t", "year": 1, "cast": [{"b": "x"}], "rating": 1.0}]),  # nested: Inner.a is required
    ("total=False", PartialMovie, [{}, {"title": "t"}, {"title": "t", "year": 1}], [{"year": "x"}, {"other": 1}, []]),
    ("Required/NotRequired", Mixed, [{"must": 1}, {"must": 1, "may": "m", "maybe_not": True}], [{}, {"may": "m"}]),
    ("inheritance", Child, [{"id": 1}, {"id": 1, "name": "n"}], [{"name": "n"}, {"id": "1"}]),
    ("string annotations", StrRefs, [{"inner": {"a": 1}, "items": [], "when": None}],
     [{"inner": {"a": "x"}, "items": [], "when": None}, {"inner": {"a": 1}, "items": [{}], "when": None},
      {"inner": {"a": 1}, "items": [], "when": NOW}]),
    ("dataclass", Point, [{"x": 1}, {"x": 1, "y": 2}], [{"y": 2}, {"x": "1"}, {"x": 1, "z": 3}]),
    ("nested dataclass", Line, [{"start": {"x": 1}, "end": {"x": 2, "y": 3}}, {"start": {"x": 1}, "end": {"x": 1}, "length": 2.0}],
     [{"start": {"x": 1}}, {"start": {"x": 1}, "end": {}}, {"start": {"x": 1}, "end": {"x": 1}, "tags": [1]}]),
    ("NamedTuple", Pair, [[1], [1, "a"], (2, "b")], [[], ["a"], [1, "a", 3]]),
    ("generic dataclass", Box[str], [{"content": "c"}, {"content": "c", "count": 2}], [{"content": 1}, {}]),
    ("generic TypedDict", TypedBox[list[int]], [{"item": [1]}], [{"item": 1}, {}]),
    ("NewType", UserId, [1], ["1", True]),
    ("str lengths", Annotated[str, Constraints(min_length=2, max_length=3)], ["ab", "abc"], ["a", "abcd", 12]),
    ("pattern", Annotated[str, Constraints(pattern=r"^[a-z]+$")], ["abc"], ["ab1", ""]),
    ("int bounds", Annotated[int, Constraints(minimum=1, maximum=3)], [1, 3], [0, 4, 2.5]),
    ("exclusive bounds", Annotated[float, Constraints(exclusive_minimum=0, exclusive_maximum=1)], [0.5], [0, 1, -1]),
    ("multiple_of", Annotated[int, Constraints(multiple_of=5)], [0, 10, -5], [3, 11]),
    ("list lengths", Annotated[list[int], Constraints(min_length=1, max_length=2)], [[1], [1, 2]], [[], [1, 2, 3]]),
    ("set lengths", Annotated[set[str], Constraints(max_length=1)], [["a"]], [["a", "b"]]),
    ("optional constrained", Optional[Annotated[str, Constraints(max_length=2)]], [None, "ab"], ["abc", 1]),
    ("constrained optional", Annotated[Optional[str], Constraints(max_length=2)], [None, "ab"], ["abc", 1]),
    ("Decimal bounds", Annotated[decimal.Decimal, Constraints(minimum=0, maximum=decimal.Decimal("2.5"))],
     [decimal.Decimal("2.5"), decimal.Decimal(0)], [decimal.Decimal("2.6"), decimal.Decimal(-1), 1]),
]


@pytest.mark.parametrize(("hint", "good", "bad"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_accepts_and_rejects(hint: Any, good: list[Any], bad: list[Any]) -> None:
    compiled = compile_schema(schema_from_type(hint))
    for value in good:
        assert compiled.is_valid(value), value
        assert compiled.violations(value) == [], value
    for value in bad:
        assert not compiled.is_valid(value), value
        assert compiled.violations(value), value


def test_strict_false_leaves_objects_open() -> None:
    for hint, value in [(Movie, {"title": "t", "year": 1, "cast": [], "rating": None, "extra": 1}), (Point, {"x": 1, "z": 3})]:
        assert not compile_schema(schema_from_type(hint)).is_valid(value)
        loose = schema_from_type(hint, strict=False)
        assert loose["additionalProperties"] is True
        assert compile_schema(loose).is_valid(value)
        assert not compile_schema(loose).is_valid({"extra": 1})  # required keys still are


def test_format_is_an_annotation_not_a_rule() -> None:
    # as in the rest of the dialect: strategies honour it, the validator does not check it
    assert compile_schema(schema_from_type(uuid.UUID)).is_valid("not-a-uuid")
    assert compile_schema(schema_from_type(Annotated[str, Constraints(format="email")])).is_valid("no at sign")


# -- generated values satisfy the hint ------------------------------------------------------------------------

GENERATED: list[tuple[str, Any]] = [
    ("str", str), ("int", int), ("float", float), ("bool", bool), ("None", None), ("Any", Any), ("bytes", bytes),
    ("datetime", datetime.datetime), ("date", datetime.date), ("time", datetime.time), ("timedelta", datetime.timedelta),
    ("Decimal", decimal.Decimal), ("UUID", uuid.UUID), ("str enum", Color), ("int enum", Level),
    ("Literal", Literal["a", 2, True, None]), ("Optional", Optional[int]), ("Union", int | str),
    ("Union of classes", Union[Point, Inner]), ("Optional date", Optional[datetime.date]),
    ("list", list[int]), ("Sequence", Sequence[str]), ("fixed tuple", tuple[int, str, bool]),
    ("variadic tuple", tuple[int, ...]), ("set", set[int]), ("frozenset", frozenset[str]), ("set of tuples", set[tuple[int, int]]),
    ("dict", dict[str, int]), ("Mapping", Mapping[str, list[float]]), ("enum keys", dict[Color, int]),
    ("TypedDict", Movie), ("total=False", PartialMovie), ("Required/NotRequired", Mixed), ("inheritance", Child),
    ("string annotations", StrRefs), ("reused TypedDict", Twice), ("dataclass", Point), ("nested dataclass", Line),
    ("NamedTuple", Pair), ("generic dataclass", Box[int]), ("generic TypedDict", TypedBox[Optional[Color]]), ("NewType", UserId),
    ("str constraints", Annotated[str, Constraints(min_length=2, max_length=5, pattern="^[a-z]+$")]),
    ("int bounds", Annotated[int, Constraints(minimum=-3, maximum=7)]),
    ("float bounds", Annotated[float, Constraints(exclusive_minimum=0, exclusive_maximum=1)]),
    ("multiple_of", Annotated[int, Constraints(multiple_of=5)]),
    ("list lengths", Annotated[list[int], Constraints(min_length=1, max_length=3)]),
    ("email", Annotated[str, Constraints(format="email")]),
    ("optional constrained", Optional[Annotated[str, Constraints(max_length=3)]]),
    ("Decimal bounds", Annotated[decimal.Decimal, Constraints(minimum=0, maximum=100)]),
]


@functools.lru_cache(maxsize=None)
def _valid_values(index: int) -> Any:
    return from_schema(schema_from_type(GENERATED[index][1]))


@pytest.mark.parametrize("index", range(len(GENERATED)), ids=[name for name, _ in GENERATED])
@SOME
@given(data=st.data())
def test_generated_values_satisfy_the_hint(index: int, data: st.DataObject) -> None:
    value = data.draw(_valid_values(index))
    assert conforms(value, GENERATED[index][1]), value


@SOME
@given(data=st.data())
def test_strict_objects_give_the_fuzzer_unexpected_keys(data: st.DataObject) -> None:
    # why strict is the default: an undeclared key is a defect invalid_from_schema can generate
    schema = schema_from_type(Movie)
    invalid = data.draw(invalid_from_schema(schema, kinds=["unexpected_key"]))
    assert invalid.defect.kind == "unexpected_key"
    assert not compile_schema(schema).is_valid(invalid.body)
    assert not conforms(invalid.body, Movie)
    with pytest.raises(ValueError):  # an open object has no such defect
        invalid_from_schema(schema_from_type(Point, strict=False), kinds=["unexpected_key"])


# -- TypedDicts and dataclasses -----------------------------------------------------------------------------


def test_typeddict_schema() -> None:
    assert schema_from_type(Movie) == {
        "type": "object",
        "title": "Movie",
        "properties": {
            "title": {"type": "string"},
            "year": {"type": "integer"},
            "cast": {"type": "array", "items": schema_from_type(Inner)},
            "rating": {"type": ["number", "null"]},
        },
        "required": ["cast", "rating", "title", "year"],  # sorted, not declaration order
        "additionalProperties": False,
    }
    assert "required" not in schema_from_type(PartialMovie)
    assert schema_from_type(Mixed)["required"] == ["must"]
    child = schema_from_type(Child)
    assert list(child["properties"]) == ["id", "name"] and child["required"] == ["id"] and child["title"] == "Child"
    assert "description" not in schema_from_type(Movie)  # the docstring stays out: title only


def test_string_annotations_are_resolved() -> None:
    schema = schema_from_type(StrRefs)
    assert schema["properties"]["inner"] == schema_from_type(Inner)
    assert schema["properties"]["items"]["items"] == schema_from_type(Inner)
    assert schema["required"] == ["inner", "items", "when"]  # "NotRequired[int]" read as such, though a string
    with pytest.raises(TypeSchemaError, match=r"Dangling.*NoSuchThing.*module tests\.core\.test_schema_from_types"):
        schema_from_type(Dangling)
    with pytest.raises(TypeSchemaError, match=r"'Inner'.*forward reference.*not resolved"):
        schema_from_type(list["Inner"])


def test_dataclass_schema() -> None:
    assert schema_from_type(Point) == {
        "type": "object",
        "title": "Point",
        "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
        "required": ["x"],
        "additionalProperties": False,
    }
    line = schema_from_type(Line)
    assert line["required"] == ["end", "start"]  # defaults and default_factory make a field optional
    assert line["properties"]["start"] == schema_from_type(Point)
    assert "length" in line["properties"]  # init=False: a reply carries it, a request need not
    assert schema_from_type(Box[int])["properties"]["content"] == {"type": "integer"}
    assert schema_from_type(TypedBox[str])["properties"]["item"] == {"type": "string"}


def test_output_is_deterministic_json() -> None:
    for _, hint in GENERATED:
        first, second = schema_from_type(hint), schema_from_type(hint)
        assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)  # JSON-ready, same order
    twice = schema_from_type(Twice)
    assert twice["properties"]["first"] == twice["properties"]["second"]
    assert twice["properties"]["first"] is not twice["properties"]["second"]  # fresh nodes, safe to edit


# -- constraints ---------------------------------------------------------------------------------------------


def test_constraints_keywords() -> None:
    def node(hint: Any) -> Any:
        return schema_from_type(hint)

    assert node(Annotated[str, Constraints(min_length=1, max_length=9, pattern="^a", format="email")]) == {
        "type": "string", "minLength": 1, "maxLength": 9, "pattern": "^a", "format": "email"}
    assert node(Annotated[float, Constraints(minimum=0, maximum=1.5, exclusive_minimum=-1, exclusive_maximum=2, multiple_of=0.5)]) == {
        "type": "number", "minimum": 0, "maximum": 1.5, "exclusiveMinimum": -1, "exclusiveMaximum": 2, "multipleOf": 0.5}
    assert node(Annotated[tuple[int, ...], Constraints(max_length=4)])["maxItems"] == 4
    assert node(Annotated[bytes, Constraints(max_length=4)])["maxLength"] == 4
    assert node(Annotated[decimal.Decimal, Constraints(minimum=decimal.Decimal("0.5"))])["minimum"] == 0.5
    # nested Annotated flattens: both rules hold, so the tighter bound wins
    assert node(Annotated[Annotated[str, Constraints(max_length=5)], Constraints(max_length=9, min_length=1)]) == {
        "type": "string", "maxLength": 5, "minLength": 1}
    # other tools' metadata is not ours to read
    assert node(Annotated[int, "a note", {"x": 1}]) == {"type": "integer"}
    # a mapping's size is kept as a lossy note (minProperties is outside the dialect)
    sized = node(Annotated[dict[str, int], Constraints(max_length=3)])
    assert "maxProperties" not in sized and "at most 3 entries" in sized["x-rpctest-lossy"]
    assert repr(Constraints(max_length=10)) == "Constraints(max_length=10)"


@pytest.mark.parametrize(
    ("hint", "words"),
    [
        (Annotated[int, Constraints(max_length=3)], r"int cannot take the constraint max_length=3.*string"),
        (Annotated[str, Constraints(minimum=1)], r"str cannot take the constraint minimum=1.*number"),
        (Annotated[datetime.date, Constraints(minimum=1)], r"date cannot take the constraint minimum"),
        (Annotated[Any, Constraints(max_length=3)], r"Any cannot take"),
        (Annotated[str, Constraints(pattern="a"), Constraints(pattern="b")], r"two different pattern rules"),
        (Annotated[decimal.Decimal, Constraints(multiple_of=0.5)], r"integer multiple_of"),
    ],
)
def test_constraints_that_do_not_apply(hint: Any, words: str) -> None:
    with pytest.raises(TypeSchemaError, match=words):
        schema_from_type(hint)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_length": -1}, "a length is an int >= 0"),
        ({"min_length": True}, "a length is an int >= 0"),
        ({"min_length": 3, "max_length": 2}, "no length fits"),
        ({"minimum": "1"}, "a bound is an int, float or Decimal"),
        ({"maximum": math.inf}, "finite"),
        ({"minimum": 2, "maximum": 1}, "no value fits"),
        ({"multiple_of": 0}, "must be > 0"),
        ({"pattern": "("}, "not a regular expression"),
        ({"format": ""}, "non-empty str"),
        ({"minimum": decimal.Decimal("0.1")}, "not exactly a JSON number"),
    ],
)
def test_bad_constraints_are_refused(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(TypeSchemaError, match=re.escape(words)):
        Constraints(**kwargs)


def _fake_annotated_types() -> types.SimpleNamespace:
    """Classes shaped like the ``annotated_types`` package's (not installed here): same names, fields, module."""

    def metadata(name: str, attribute: str) -> type:
        kind = dataclasses.make_dataclass(name, [attribute], frozen=True)
        kind.__module__ = "annotated_types"
        return kind

    classes = {name: metadata(name, attribute) for name, attribute in
               [("Gt", "gt"), ("Ge", "ge"), ("Lt", "lt"), ("Le", "le"), ("MultipleOf", "multiple_of"),
                ("MinLen", "min_length"), ("MaxLen", "max_length"), ("Predicate", "func"), ("Timezone", "tz"),
                ("DocInfo", "documentation")]}

    @dataclass(frozen=True)
    class Interval:
        __module__ = "annotated_types"
        gt: Any = None
        ge: Any = None
        lt: Any = None
        le: Any = None

        @property
        def __is_annotated_types_grouped_metadata__(self) -> bool:
            return True

        def __iter__(self) -> Any:
            for name in ("gt", "ge", "lt", "le"):
                if getattr(self, name) is not None:
                    yield classes[name.capitalize()](getattr(self, name))

    return types.SimpleNamespace(Interval=Interval, **classes)


def _annotated_types_modules() -> list[Any]:
    modules: list[Any] = [_fake_annotated_types()]
    try:
        import annotated_types  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        modules.append(annotated_types)
    return modules


@pytest.mark.parametrize("at", _annotated_types_modules(), ids=lambda module: getattr(module, "__name__", "shaped-like"))
def test_annotated_types_objects(at: Any) -> None:
    assert schema_from_type(Annotated[int, at.Gt(0), at.Le(10), at.MultipleOf(2)]) == {
        "type": "integer", "exclusiveMinimum": 0, "maximum": 10, "multipleOf": 2}
    assert schema_from_type(Annotated[float, at.Interval(ge=1, lt=2)]) == {"type": "number", "minimum": 1, "exclusiveMaximum": 2}
    assert schema_from_type(Annotated[list[int], at.MinLen(1), at.MaxLen(3)]) == {
        "type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3}
    assert schema_from_type(Annotated[str, at.DocInfo("documentation only")]) == {"type": "string"}
    lossy = schema_from_type(Annotated[str, at.Predicate(str.islower)])
    assert lossy["type"] == "string" and "cannot be expressed" in lossy["x-rpctest-lossy"]
    when = schema_from_type(Annotated[datetime.datetime, at.Gt(datetime.datetime(2020, 1, 1))])
    assert "exclusiveMinimum" not in when and "cannot be compared" in when["x-rpctest-lossy"]
    with pytest.raises(TypeSchemaError, match="cannot take the constraint min_length"):
        schema_from_type(Annotated[bool, at.MinLen(1)])


# -- what has no schema --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hint", "path", "words"),
    [
        (TreeNode, "TreeNode.children[]", r"TreeNode refers to itself.*\$ref.*Any, dict\[str, Any\]"),
        (Ping, "Ping.pong.ping", r"Ping refers to itself"),  # through Optional and another dataclass
        (dict[str, Plain], "dict[str, Plain]{}", r"Plain is a plain class.*TypedDict, a dataclass"),
        (Callable[[int], str], "Callable[[int], str]", r"is a callable.*send data instead"),
        (list[Callable[..., Any]], "list[Callable[..., Any]][]", r"is a callable"),
        (list[T], "list[~T][]", r"~T is a type variable.*concrete type"),
        (Box, "Box.content", r"~T is a type variable"),
        (dict[int, str], "dict[int, str]{key}", r"cannot be a mapping key: JSON object keys are strings.*dict\[str, X\]"),
        (type[int], "type[int]", r"class object"),
        (Perm, "Perm", r"is a Flag.*annotate the value as int"),
        (Odd, "Odd", r"\(1, 2\), which is not a JSON scalar"),
        (Literal[b"x"], "Literal[b'x']", r"not a JSON scalar"),
        (Tag, "Tag", r"subclass of str.*NewType"),
        (Required[int], "Required[int]", r"outside a TypedDict"),
        (typing.NoReturn, "NoReturn", r"has no values"),
    ],
    ids=repr,
)
def test_unsupported_types_say_what_where_and_instead(hint: Any, path: str, words: str) -> None:
    with pytest.raises(TypeSchemaError, match=words) as caught:
        schema_from_type(hint)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")
    assert isinstance(caught.value, ConfigError)


def test_error_path_inside_a_class() -> None:
    class EchoArgs(TypedDict):
        items: list[Callable[[int], str]]

    with pytest.raises(TypeSchemaError) as caught:
        schema_from_type(EchoArgs)
    assert caught.value.path == "EchoArgs.items[]"
    assert "Callable[[int], str]" in str(caught.value)


# -- functions ------------------------------------------------------------------------------------------------


class Api:
    async def api_echo(self, req: Movie) -> Inner:
        raise NotImplementedError

    def api_sync(self, req: "Point") -> None:
        raise NotImplementedError

    def api_untyped(self, req, other):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def api_awaitable(self, req: int) -> Awaitable[list[int]]:
        raise NotImplementedError

    def api_coroutine(self) -> Coroutine[Any, Any, str]:
        raise NotImplementedError

    @classmethod
    def make(cls, data: Inner) -> "Optional[Inner]":
        raise NotImplementedError

    @staticmethod
    def helper(first: bool, second: str) -> bool:
        raise NotImplementedError


def plain(a: "Inner", b: int, *rest: str, **options: float) -> dict[str, int]:
    raise NotImplementedError


def _decorator(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


@_decorator
def decorated(req: Point) -> Pair:
    raise NotImplementedError


def test_schema_from_function() -> None:
    movie, inner = schema_from_type(Movie), schema_from_type(Inner)
    assert schema_from_function(Api.api_echo) == (movie, inner)
    assert schema_from_function(Api().api_echo) == (movie, inner)  # bound: self already gone
    assert schema_from_function(Api.api_sync) == (schema_from_type(Point), {"type": "null"})  # -> None is null
    assert schema_from_function(Api.api_untyped) == (None, None)
    assert schema_from_function(Api.api_untyped, parameter="other") == (None, None)
    assert schema_from_function(Api.api_awaitable) == ({"type": "integer"}, {"type": "array", "items": {"type": "integer"}})
    assert schema_from_function(Api.api_coroutine) == (None, {"type": "string"})
    nullable_inner = {**inner, "type": ["object", "null"]}  # as PySOA's Nullable(Dictionary) is spelled
    assert schema_from_function(Api.make) == (inner, nullable_inner)
    assert schema_from_function(Api.__dict__["make"]) == (inner, nullable_inner)
    assert schema_from_function(Api.helper) == ({"type": "boolean"}, {"type": "boolean"})
    assert schema_from_function(Api.helper, parameter="second") == ({"type": "string"}, {"type": "boolean"})
    assert schema_from_function(plain) == (inner, {"type": "object", "propertyNames": {"type": "string"},
                                                   "additionalProperties": {"type": "integer"}})
    assert schema_from_function(plain, parameter="b")[0] == {"type": "integer"}
    assert schema_from_function(decorated) == (schema_from_type(Point), schema_from_type(Pair))
    assert schema_from_function(lambda: None) == (None, None)


def test_schema_from_function_errors() -> None:
    with pytest.raises(TypeSchemaError, match=r"Api\.helper: has no parameter 'third' \(its parameters: first, second\)"):
        schema_from_function(Api.helper, parameter="third")

    def broken(req: "NoSuchThing") -> None:  # type: ignore[name-defined]  # noqa: F821
        raise NotImplementedError

    with pytest.raises(TypeSchemaError, match=r"broken: its annotations cannot be resolved.*NoSuchThing"):
        schema_from_function(broken)

    def recursive(req: TreeNode) -> int:
        raise NotImplementedError

    with pytest.raises(TypeSchemaError) as caught:
        schema_from_function(recursive)
    assert caught.value.path.endswith("recursive(req).children[]")
