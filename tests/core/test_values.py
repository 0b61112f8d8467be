"""Tagged JSON for native values (rpctest.schema.values): every tag round-trips through real JSON text."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rpctest.contracts import format as fmt
from rpctest.schema import values
from rpctest.schema.values import TAGS, ObjectRef, canonical, decode, encode

UTC = datetime.UTC
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))


def through_json(value: Any) -> Any:
    """What a contract file gives back: encode, write strict JSON text, read it, decode."""
    text = json.dumps(encode(value), allow_nan=False, sort_keys=True)
    return decode(json.loads(text))


class Widget:
    """An arbitrary object a stub might return."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"Widget({self.n})"

    class Part:
        def __repr__(self) -> str:
            return "Part()"


# -- each tag ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, tag",
    [
        (datetime.datetime(2024, 5, 1, 12, 30, 15, 123456), "$datetime"),
        (datetime.datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "$datetime"),
        (datetime.datetime(2024, 5, 1, 12, 0, tzinfo=IST), "$datetime"),
        (datetime.date(2024, 2, 29), "$date"),
        (datetime.time(23, 59, 59, 999999), "$time"),
        (datetime.time(8, 0, tzinfo=IST), "$time"),
        (datetime.timedelta(days=3, seconds=7, microseconds=11), "$timedelta"),
        (datetime.timedelta(days=-1, microseconds=1), "$timedelta"),
        (decimal.Decimal("1.50"), "$decimal"),
        (decimal.Decimal("-0.000"), "$decimal"),
        (decimal.Decimal("1E+3"), "$decimal"),
        (bytes(range(256)), "$bytes"),
        (b"", "$bytes"),
        ({3, 1, 2}, "$set"),
        (frozenset({"a", "b"}), "$set"),
        (set(), "$set"),
        ((1, "two", None), "$tuple"),
        ((), "$tuple"),
        ({1: "one", 2: "two"}, "$map"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,  # no set reprs: xdist needs stable ids
)
def test_each_tag_round_trips_with_its_type(value: Any, tag: str) -> None:
    encoded = encode(value)
    assert list(encoded) == [tag]
    back = through_json(value)
    assert back == value
    assert type(back) is type(value) or (type(value) is frozenset and type(back) is set)


def test_datetime_keeps_its_offset_and_naivety() -> None:
    aware = through_json(datetime.datetime(2024, 5, 1, 12, 0, tzinfo=IST))
    assert aware.utcoffset() == datetime.timedelta(hours=5, minutes=30)
    assert aware.hour == 12
    naive = through_json(datetime.datetime(2024, 5, 1, 12, 0))
    assert naive.tzinfo is None
    assert encode(datetime.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) == {"$datetime": "2024-05-01T12:00:00+00:00"}


def test_a_datetime_is_not_written_as_a_date() -> None:
    # datetime is a date subclass: the more specific tag must win
    assert list(encode(datetime.datetime(2024, 5, 1))) == ["$datetime"]
    assert type(through_json(datetime.date(2024, 5, 1))) is datetime.date


def test_time_keeps_its_tzinfo() -> None:
    back = through_json(datetime.time(8, 0, tzinfo=IST))
    assert back.utcoffset() == datetime.timedelta(hours=5, minutes=30)
    assert through_json(datetime.time(8, 0)).tzinfo is None


def test_timedelta_is_stored_as_its_normalised_parts() -> None:
    value = datetime.timedelta(hours=-1, microseconds=5)
    assert encode(value) == {"$timedelta": [value.days, value.seconds, value.microseconds]}
    assert encode(value)["$timedelta"][0] == -1
    assert through_json(value) == value


def test_decimal_keeps_its_exponent() -> None:
    assert encode(decimal.Decimal("1.50")) == {"$decimal": "1.50"}
    back = through_json(decimal.Decimal("1.50"))
    assert str(back) == "1.50"
    assert back.as_tuple().exponent == -2
    assert through_json(decimal.Decimal("1.5")).as_tuple().exponent == -1


def test_decimal_specials() -> None:
    assert through_json(decimal.Decimal("NaN")).is_nan()
    assert through_json(decimal.Decimal("-Infinity")) == decimal.Decimal("-Infinity")


def test_bytes_are_base64_and_bytearray_memoryview_become_bytes() -> None:
    assert encode(b"\x00\xff") == {"$bytes": "AP8="}
    assert through_json(bytearray(b"ab")) == b"ab"
    assert type(through_json(bytearray(b"ab"))) is bytes
    assert through_json(memoryview(b"xyz")) == b"xyz"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=repr)
def test_non_finite_floats_are_tagged_not_bare_nan(value: float) -> None:
    encoded = encode(value)
    assert list(encoded) == ["$float"]
    json.dumps(encoded, allow_nan=False)  # no NaN / Infinity tokens, which strict JSON readers reject
    back = through_json(value)
    assert isinstance(back, float)
    if math.isnan(value):
        assert math.isnan(back)
    else:
        assert back == value


def test_finite_floats_and_json_scalars_are_untouched() -> None:
    for value in (1.5, -0.0, 0, 2**70, "text", "", True, False, None):
        assert encode(value) is value or encode(value) == value
    assert through_json(True) is True  # not 1
    assert through_json(1) == 1 and type(through_json(1)) is int
    assert type(through_json(1.0)) is float


def test_lists_and_tuples_stay_distinct() -> None:
    assert through_json([1, 2]) == [1, 2]
    assert type(through_json([1, 2])) is list
    assert type(through_json((1, 2))) is tuple
    assert through_json(((1, (2, 3)), [4])) == ((1, (2, 3)), [4])


# -- sets: a canonical order -----------------------------------------------------------------------


def test_set_order_is_independent_of_insertion_order() -> None:
    items = ["pear", "apple", 3, None, (1, 2), datetime.date(2024, 1, 1), decimal.Decimal("2.0")]
    forward: set[Any] = set()
    backward: set[Any] = set()
    for item in items:
        forward.add(item)
    for item in reversed(items):
        backward.add(item)
    assert canonical(encode(forward)) == canonical(encode(backward))
    assert encode({"b", "a", "c"}) == {"$set": ["a", "b", "c"]}
    assert through_json(forward) == forward


SET_SCRIPT = """
import json
from rpctest.schema.values import encode
value = {"k": {"zeta", "alpha", "mu", "beta", "omega", "x" * 40, ("t", 1), frozenset({"q", "r"})}}
print(json.dumps(encode(value), sort_keys=True))
"""


def test_set_order_is_independent_of_the_hash_seed() -> None:
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", SET_SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1, outputs


def test_sets_of_hashable_containers_round_trip() -> None:
    value = {(1, 2), (3,), frozenset({4, 5}), ("nested", (6, frozenset({7})))}
    assert through_json(value) == value


# -- maps with keys JSON cannot have -----------------------------------------------------------------


def test_non_string_keys_use_map() -> None:
    value = {1: "int", (1, 2): "tuple", None: "none", 2.5: "float", frozenset({1}): "fs", datetime.date(2024, 1, 1): "date"}
    encoded = encode(value)
    assert list(encoded) == ["$map"]
    back = through_json(value)
    assert back == value
    assert set(map(type, back)) == {int, tuple, type(None), float, frozenset, datetime.date}


def test_mixed_string_and_other_keys_use_map() -> None:
    value = {"a": 1, 2: "b"}
    assert list(encode(value)) == ["$map"]
    assert through_json(value) == value


def test_map_key_that_is_a_tuple_holding_a_frozenset() -> None:
    value = {(1, frozenset({2, 3})): "x"}
    assert through_json(value) == value


def test_map_text_is_independent_of_insertion_order() -> None:
    one = {2: "b", 1: "a", (0,): "c"}
    two = {(0,): "c", 1: "a", 2: "b"}
    assert one == two
    assert canonical(encode(one)) == canonical(encode(two))


def test_string_keyed_dicts_stay_plain() -> None:
    value = {"a": 1, "b": [1, {"c": None}]}
    assert encode(value) == value


# -- nested ----------------------------------------------------------------------------------------


def test_nested_structure_round_trips() -> None:
    value = {
        "user": {
            "id": 7,
            "seen": [datetime.datetime(2024, 5, 1, 9, tzinfo=UTC), datetime.date(2024, 5, 2)],
            "balance": decimal.Decimal("10.00"),
            "tags": {"a", "b"},
            "coords": (1.5, float("inf")),
            "raw": b"\x01",
            "by_id": {1: {"$date": "not a tag here"}},
            "period": datetime.timedelta(minutes=5),
        }
    }
    back = through_json(value)
    assert back == value
    assert back["user"]["balance"].as_tuple().exponent == -2
    assert type(back["user"]["coords"]) is tuple
    assert back["user"]["by_id"][1] == {"$date": "not a tag here"}


# -- the $dict escape ------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", sorted(TAGS))
def test_real_one_key_mapping_whose_key_is_a_tag_is_escaped(tag: str) -> None:
    value = {tag: "payload that is not a tagged value"}
    encoded = encode(value)
    assert encoded == {"$dict": value}
    back = through_json(value)
    assert back == value
    assert type(back) is dict


def test_escape_escapes_nested_tag_shaped_values_too() -> None:
    value = {"$dict": {"$set": [1]}}
    assert through_json(value) == value
    assert through_json([{"$tuple": [1]}]) == [{"$tuple": [1]}]


def test_tag_keys_in_larger_mappings_and_unknown_dollar_keys_are_not_escaped() -> None:
    two_keys = {"$date": "x", "other": 1}
    assert encode(two_keys) == two_keys
    assert through_json(two_keys) == two_keys
    unknown = {"$unknown": 1}
    assert encode(unknown) == unknown
    assert decode(unknown) == unknown


# -- arbitrary objects ------------------------------------------------------------------------------


def test_arbitrary_object_becomes_an_object_ref() -> None:
    encoded = encode(Widget(3))
    assert encoded == {"$object": {"class": f"{__name__}.Widget", "repr": "Widget(3)"}}
    back = through_json(Widget(3))
    assert back == ObjectRef(f"{__name__}.Widget", "Widget(3)")


def test_object_ref_uses_the_qualified_name_of_nested_classes() -> None:
    assert through_json(Widget.Part()).cls == f"{__name__}.Widget.Part"


def test_object_ref_encodes_as_itself() -> None:
    ref = ObjectRef("pkg.mod.Thing", "<Thing 1>")
    assert through_json(ref) == ref
    assert through_json({"x": [ref]}) == {"x": [ref]}


def test_object_refs_are_hashable_in_sets_and_keys() -> None:
    ref = ObjectRef("pkg.Thing", "T")
    assert through_json({ref}) == {ref}
    assert through_json({ref: 1}) == {ref: 1}


def test_canonical_is_stable_and_compact() -> None:
    assert canonical({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    assert canonical({"é": "ü"}) == '{"é":"ü"}'


# -- bad payloads ----------------------------------------------------------------------------------


BAD_PAYLOADS = [
    {"$datetime": "yesterday"},
    {"$datetime": 5},
    {"$date": 5},
    {"$date": "2024-13-01"},
    {"$time": None},
    {"$time": "25:00"},
    {"$timedelta": [1]},
    {"$timedelta": [1, 2, 3, 4]},
    {"$timedelta": "1 day"},
    {"$timedelta": ["a", 0, 0]},
    {"$decimal": "one"},
    {"$decimal": None},
    {"$decimal": [0, [1], 0]},
    {"$bytes": "!!not base64!!"},
    {"$bytes": 5},
    {"$set": 5},
    {"$set": "abc"},
    {"$set": [{"a": 1}]},
    {"$set": [[1, {"a": 1}]]},
    {"$tuple": 5},
    {"$tuple": "abc"},
    {"$float": "not a number"},
    {"$float": None},
    {"$map": 5},
    {"$map": [[1]]},
    {"$map": [[{"a": 1}, 2]]},
    {"$object": "x"},
    {"$object": {}},
    {"$object": {"class": 1, "repr": 2}},
    {"$dict": [1]},
    {"$dict": 5},
]


@pytest.mark.parametrize("data", BAD_PAYLOADS, ids=lambda d: json.dumps(d))
def test_bad_payload_raises_value_error_naming_the_tag(data: dict) -> None:
    tag = next(iter(data))
    with pytest.raises((ValueError, TypeError), match=re.escape(tag)):
        decode(data)


@pytest.mark.parametrize("data", BAD_PAYLOADS, ids=lambda d: json.dumps(d))
def test_bad_payload_nested_anywhere_still_raises(data: dict) -> None:
    with pytest.raises((ValueError, TypeError)):
        decode({"outer": [1, {"$tuple": [data]}]})


def _consumer_file(tmp_path: Path, request: Any) -> Path:
    path = tmp_path / "consumer.json"
    path.write_text(
        json.dumps(
            {
                "rpctest_contract": 1,
                "kind": "consumer",
                "consumer": "web",
                "stack": "toy",
                "service": "users",
                "interactions": [{"operation": "get", "request": request, "response": {"body": None}}],
            }
        ),
        encoding="utf-8",
    )
    return path


def test_contract_with_bad_tagged_value_is_a_contract_error_naming_the_file(tmp_path: Path) -> None:
    path = _consumer_file(tmp_path, {"when": {"$date": 5}})
    with pytest.raises(fmt.ContractError) as info:
        fmt.load(path)
    assert str(path) in str(info.value)
    assert "$date" in str(info.value)
    assert info.value.path == path


@pytest.mark.parametrize("data", BAD_PAYLOADS, ids=lambda d: json.dumps(d))
def test_every_bad_payload_in_a_contract_file_is_a_contract_error(tmp_path: Path, data: dict) -> None:
    # not a raw decimal.InvalidOperation, IndexError or AttributeError escaping from load()
    with pytest.raises(fmt.ContractError, match=re.escape(str(tmp_path))):
        fmt.load(_consumer_file(tmp_path, data))


def test_bad_tagged_value_in_error_details_is_a_contract_error(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "rpctest_contract": 1,
                "kind": "consumer",
                "consumer": "web",
                "stack": "toy",
                "service": "users",
                "interactions": [
                    {"operation": "get", "response": {"errors": [{"code": "X", "details": {"at": {"$decimal": "?"}}}]}}
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(fmt.ContractError, match=re.escape(str(path))):
        fmt.load(path)


def test_module_exports() -> None:
    assert set(values.__all__) == {"encode", "decode", "ObjectRef", "canonical", "TAGS"}
    assert all(tag.startswith("$") for tag in TAGS)
