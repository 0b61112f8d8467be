"""The fast PySOA msgpack codec against msgpack itself, value for value and byte for byte.

:mod:`rpctest.stacks.pysoa.fastpack` replaces msgpack's pure-Python fallback on the wire: every value
it packs must come out as ``msgpack.packb`` packs it (bin type on, lone surrogates passed), every
payload it unpacks must give what ``msgpack.unpackb`` gives, and whatever it cannot vouch for must be
refused with ``NotFast`` (so the wire runs msgpack, and msgpack's own value or error stands).
"""

from __future__ import annotations

import datetime
import math
import struct
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpctest.stacks.pysoa import fastpack, wire

_UNPACK_KWARGS: dict[str, Any] = dict(wire._UNPACK_KWARGS)

#: every integer format's edges, where msgpack switches to the next larger one
_EDGES = [sign * (2**bits + delta) for bits in (4, 5, 6, 7, 8, 15, 16, 31, 32, 63) for delta in (-1, 0, 1) for sign in (1, -1)]
_INTEGERS = st.one_of(st.sampled_from([edge for edge in _EDGES if -(2**63) <= edge < 2**64]), st.integers(-(2**63), 2**64 - 1))
_TEXT = st.one_of(st.text(max_size=40), st.text(min_size=28, max_size=300), st.sampled_from(["", "x" * 31, "x" * 32, "é" * 16, "x" * 255, "x" * 256, "x" * 65536, "\udc80"]))
_BYTES = st.one_of(st.binary(max_size=40), st.sampled_from([b"", b"y" * 255, b"y" * 256, b"y" * 65536]))
_SCALARS = st.one_of(st.none(), st.booleans(), _INTEGERS, st.floats(allow_nan=False), _TEXT, _BYTES)
_TREES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=20),
        st.tuples(children, children),
        st.dictionaries(_TEXT, children, max_size=20),
    ),
    max_leaves=60,
)


def _reference_pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, **wire._PACK_KWARGS)
    return packed


def _as_unpacked(value: Any) -> Any:
    """What msgpack gives back for ``value``: tuples come back as lists."""
    if isinstance(value, dict):
        return {key: _as_unpacked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_unpacked(item) for item in value]
    return value


@settings(max_examples=400, database=None)
@given(_TREES)
def test_packs_every_json_like_tree_as_msgpack_does(value: Any) -> None:
    assert fastpack.packb(value) == _reference_pack(value)


@settings(max_examples=400, database=None)
@given(_TREES)
def test_unpacks_what_msgpack_packed_as_msgpack_does(value: Any) -> None:
    data = _reference_pack(value)
    try:
        theirs = msgpack.unpackb(data, **_UNPACK_KWARGS)
    except UnicodeDecodeError:  # a lone surrogate, which msgpack packs and cannot read: msgpack says so
        with pytest.raises(fastpack.NotFast):
            fastpack.unpackb(data)
        return
    ours = fastpack.unpackb(data)
    assert ours == theirs == _as_unpacked(value)
    assert _reference_pack(ours) == _reference_pack(theirs)  # the same types (1 and True, 1.0 and 1)


@settings(max_examples=300, database=None)
@given(st.binary(max_size=60), _TREES)
def test_refuses_or_agrees_on_any_bytes(noise: bytes, value: Any) -> None:
    """Arbitrary bytes, and a valid payload cut short or followed by more: the same value as msgpack's,
    or NotFast (then msgpack decides, value or error)."""
    packed = _reference_pack(value)
    for data in (noise, packed[: len(packed) // 2], packed + noise[:3], noise + packed):
        try:
            ours = fastpack.unpackb(data)
        except fastpack.NotFast:
            continue
        assert _reference_pack(ours) == _reference_pack(msgpack.unpackb(data, **_UNPACK_KWARGS))


def test_the_float_formats_and_nan_travel_bit_for_bit() -> None:
    for value in (math.nan, math.inf, -math.inf, -0.0, 5e-324):
        assert fastpack.packb(value) == _reference_pack(value)
    single = b"\xca" + struct.pack(">f", 1.5)
    assert fastpack.unpackb(single) == 1.5 == msgpack.unpackb(single, **_UNPACK_KWARGS)


@pytest.mark.parametrize(
    "value",
    [
        2**64,
        -(2**63) - 1,
        type("MyInt", (int,), {})(5),
        type("MyDict", (dict,), {})(a=1),
        type("MyStr", (str,), {})("s"),
        bytearray(b"ab"),
        datetime.date(2020, 1, 2),
        msgpack.ExtType(5, b"\x00\x01x"),
        {1, 2},
    ],
    ids=["u64+1", "i64-1", "int subclass", "dict subclass", "str subclass", "bytearray", "date", "ext", "set"],
)
def test_leaves_to_msgpack_what_it_does_not_handle_exactly(value: Any) -> None:
    with pytest.raises(fastpack.NotFast):
        fastpack.packb({"body": [value]})


def test_leaves_deep_nesting_to_msgpack() -> None:
    deep: Any = 1
    for _ in range(200):
        deep = [deep]
    with pytest.raises(fastpack.NotFast):
        fastpack.packb(deep)
    with pytest.raises(fastpack.NotFast):
        fastpack.unpackb(_reference_pack(deep))


@pytest.mark.parametrize(
    "data",
    [b"", b"\xc1", b"\x81\x01\x02", b"\xa3\xed\xb2\x80", b"\xd4\x05\x00", b"\x92\x01", b"\x01\x02", b"\xdb\xff\xff\xff\xff"],
    ids=["empty", "0xc1", "int key", "surrogate", "ext", "short array", "extra data", "str32 past the end"],
)
def test_leaves_to_msgpack_bytes_it_cannot_vouch_for(data: bytes) -> None:
    with pytest.raises(fastpack.NotFast):
        fastpack.unpackb(data)


def test_the_wire_gives_msgpack_errors_and_ext_types_through_the_fallback() -> None:
    """What fastpack leaves to msgpack still gets msgpack's answer on the wire: PySOA's ext types
    both ways, and a clear WireError for bytes that are not msgpack."""
    envelope = {"body": {"when": datetime.date(2020, 1, 2), "n": 1}}
    payload = wire.encode_payload(envelope)
    assert payload == msgpack.packb(envelope, default=wire._ext_default, **wire._PACK_KWARGS)
    assert wire.decode_payload(payload) == envelope
    with pytest.raises(wire.WireError, match="not valid msgpack"):
        wire.decode_payload(b"\x81\xa1a\xc1")


def test_pays_only_under_msgpacks_pure_python_fallback() -> None:
    """The codec is used where msgpack is pure Python (pysoa's msgpack 0.6 on Python 3.11), not where
    msgpack's compiled extension is faster."""
    assert fastpack.PAYS is (msgpack.Packer.__module__ == "msgpack.fallback")


@settings(max_examples=300, database=None)
@given(_TREES, st.lists(_TREES, min_size=1, max_size=4), _TEXT)
def test_a_packed_part_spliced_in_gives_the_bytes_msgpack_gives_for_the_whole(part: Any, others: list[Any], key: str) -> None:
    """A stub server packs a constant action response once and splices its bytes into each envelope."""
    try:
        spliced = fastpack.Packed(fastpack.packb(part))
    except fastpack.NotFast:
        return
    whole = {"request_id": 7, "meta": {key: others}, "body": {"actions": [*others, part], key: part}}
    with_splices = {"request_id": 7, "meta": {key: others}, "body": {"actions": [*others, spliced], key: spliced}}
    assert fastpack.packb(with_splices) == _reference_pack(whole)


def test_msgpack_refuses_a_packed_part_instead_of_packing_it_as_bin() -> None:
    """Should a splice ever reach msgpack itself (the wire's fallback), it fails loudly."""
    with pytest.raises(wire.WireError, match="Packed"):
        wire._pack_msgpack({"actions": [fastpack.Packed(b"\x80")], "x": datetime.timezone.utc})
