"""The pykern.api codec against the golden vectors, and against pykern's own msg_pack/msg_unpack.

The vectors pin the bytes; the differential tests pin the rules (which frames a peer accepts)
beyond the few frames the vectors hold. pykern is only needed for the differential half.
"""

from __future__ import annotations

import datetime
import enum

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stack_pykern.pkwire_helpers import from_decoded, types_result
from vectors import blob_bytes, load

from rpctest.exceptions import TransportError
from rpctest.stacks.pykern import wire

FAMILIES = ("calls", "errors", "subscriptions", "framing")


def _messages():
    """(vector id, event op, blob) for every WebSocket message of every vector."""
    for family in FAMILIES:
        for vector in load("pykern", family)["vectors"]:
            for index, event in enumerate(vector["exchange"]):
                if event["op"] in ("send", "recv"):
                    yield pytest.param(vector["id"], event["op"], event["data"], id=f"{vector['id']}/{index}")


MESSAGES = list(_messages())
DECODED = [p for p in MESSAGES if "decoded" in p.values[2]]

#: the framing vectors a server must refuse, with the words the refusal must contain
REJECTED = {
    "pk.frame.garbage": "not msgpack",
    "pk.frame.call-id-zero": "call_id is 0",
    "pk.frame.call-id-string": "call_id is a str",
    "pk.frame.reply-kind-to-server": "msg_kind REPLY (777502) is invalid for the server",
    "pk.frame.unknown-kind": "msg_kind 12345 is not a pykern.api message kind",
    "pk.frame.truncated-msgpack": "truncated msgpack",
    "pk.frame.empty-message": "empty message",
}


def test_the_vectors_hold_every_kind_of_message():
    """Guards the parametrization: if the files shrink, the byte tests below would prove little."""
    ops = [p.values[1] for p in DECODED]
    assert len(DECODED) >= 80 and ops.count("send") >= 30 and ops.count("recv") >= 30
    assert len(DECODED) - len(BUILT) == 2, "only the missing-api-args/name messages lack an encoder"


@pytest.mark.parametrize(("vector_id", "op", "blob"), DECODED)
def test_encoding_the_decoded_view_gives_the_recorded_bytes(vector_id, op, blob):
    assert not blob.get("varies"), "pykern messages are deterministic (README section 7)"
    assert wire.pack(from_decoded(blob["decoded"])).hex() == blob["hex"]


#: messages a peer's encoder builds (the hand-made ones that leave out api_name or api_args are not)
BUILT = [p for p in DECODED if p.values[1] == "recv" or p.values[2]["decoded"].get("msg_kind") == wire.UNSUBSCRIBE
         or set(p.values[2]["decoded"]) == {"api_name", "api_args", "call_id", "msg_kind"}]


@pytest.mark.parametrize(("vector_id", "op", "blob"), BUILT)
def test_the_role_encoders_give_the_recorded_bytes(vector_id, op, blob):
    """Each message rebuilt by the encoder its sender uses, from its fields (not from the dict order)."""
    fields = from_decoded(blob["decoded"])
    kind = fields["msg_kind"]
    if op == "send" and kind == wire.UNSUBSCRIBE:
        data = wire.encode_unsubscribe(fields["call_id"])
    elif op == "send":
        data = wire.encode_call(fields["api_name"], fields["api_args"], fields["call_id"], kind=kind)
    elif kind == wire.UNSUBSCRIBE:
        data = wire.encode_end_of_subscription(fields["call_id"])
    else:
        data = wire.encode_reply(fields["call_id"], fields["api_result"], fields["api_error"])
    assert data.hex() == blob["hex"]


@pytest.mark.parametrize(("vector_id", "op", "blob"), DECODED)
def test_decoding_the_recorded_bytes_gives_the_decoded_view(vector_id, op, blob):
    side = "server" if op == "send" else "client"
    message, problem = wire.check(blob_bytes(blob), side)
    if vector_id in REJECTED:  # the framing vectors: messages the server refuses (next test)
        assert message is None and REJECTED[vector_id] in problem
        return
    assert problem is None
    assert message.fields == from_decoded(blob["decoded"])
    assert message.call_id == blob["decoded"]["call_id"]
    assert message.kind == blob["decoded"]["msg_kind"]


def _rejected_params():
    for vector in load("pykern", "framing")["vectors"]:
        sends = [e for e in vector["exchange"] if e["op"] == "send"]
        yield pytest.param(vector["id"], sends[0]["data"], id=vector["id"])


@pytest.mark.parametrize(("vector_id", "blob"), list(_rejected_params()))
def test_frames_the_server_closes_on_are_refused_with_the_reason(vector_id, blob):
    message, problem = wire.check(blob_bytes(blob), "server")
    assert message is None
    assert REJECTED[vector_id] in problem
    with pytest.raises(wire.WireError, match="invalid pykern.api message for the server") as caught:
        wire.decode(blob_bytes(blob), "server")
    assert isinstance(caught.value, TransportError) and REJECTED[vector_id] in str(caught.value)


def test_every_framing_vector_is_covered():
    assert {p.values[0] for p in _rejected_params()} == set(REJECTED)


def test_sides_accept_only_their_kinds():
    call = wire.encode_call("echo", {}, 1)
    reply = wire.encode_reply(1, {})
    assert wire.check(call, "server")[1] is None
    assert "invalid for the client" in wire.check(call, "client")[1]
    assert wire.check(reply, "client")[1] is None
    assert wire.check(wire.encode_unsubscribe(3), "client")[1] is None  # the server's end of a stream
    assert wire.check(wire.encode_unsubscribe(3), "server")[1] is None
    assert "text WebSocket message" in wire.check("{}", "server")[1]
    assert "not a map" in wire.check(wire.pack([1, 2]), "server")[1]
    assert "has no msg_kind" in wire.check(wire.pack({"call_id": 1}), "server")[1]
    with pytest.raises(ValueError, match="side"):
        wire.check(call, "both")


def test_packing_rules_match_the_types_vector():
    """The real values behind pk.call.types-packing (a tz-aware datetime, a tuple, bytes) pack to its bytes."""
    vector = next(v for v in load("pykern", "calls")["vectors"] if v["id"] == "pk.call.types-packing")
    recorded = [e["data"]["hex"] for e in vector["exchange"] if e["op"] == "recv"][-1]
    assert wire.encode_reply(2, types_result()).hex() == recorded


def test_enums_and_tolist_values_pack_as_their_values():
    class Colour(enum.Enum):
        RED = "red"

    class Array:
        def tolist(self):
            return [1, 2]

    naive = datetime.datetime(2024, 1, 2, 3, 4, 5, 999000)
    assert wire.pack({"c": Colour.RED, "a": Array(), "d": naive}) == wire.pack(
        {"c": "red", "a": [1, 2], "d": int(naive.timestamp())}
    )


def test_what_msgpack_cannot_pack_is_named():
    with pytest.raises(wire.Unpackable, match="cannot pack set"):
        wire.pack({"s": {1, 2}})


def test_reply_fields_requires_both_keys():
    message = wire.decode(wire.pack({"api_result": 1, "msg_kind": wire.REPLY, "call_id": 4}), "client")
    with pytest.raises(wire.WireError, match="REPLY to call 4 has no api_error key"):
        wire.reply_fields(message)
    assert wire.reply_fields(wire.decode(wire.encode_reply(4, None, "missing reply"), "client")) == (None, "missing reply")


# -- differential: pykern's own codec ---------------------------------------------------------------------


def _pykern_util():
    return pytest.importorskip("pykern.api.util")


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.sampled_from([0, 1, -1, 777501, 777502, 777503, 777504, 12345]),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.binary(max_size=4),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6,
)
_keys = st.sampled_from(["call_id", "msg_kind", "api_name", "api_args", "api_result", "api_error", "x"])
_maps = st.dictionaries(st.one_of(_keys, st.integers(0, 3)), _values, max_size=5)
_ids = st.one_of(st.sampled_from([0, 1, 2, -1, True, "1", None, 1.0, 777501, 777502, 777503, 777504]), _values)
_messages_ish = st.fixed_dictionaries(
    {"call_id": _ids, "msg_kind": _ids},
    optional={"api_name": _values, "api_args": _values, "api_result": _values, "api_error": _values},
)
_frames = st.one_of(
    _messages_ish.map(lambda m: msgpack.packb(m, use_bin_type=True)),
    _maps.map(lambda m: msgpack.packb(m, use_bin_type=True)),
    _values.map(lambda v: msgpack.packb(v, use_bin_type=True)),
    st.binary(max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(frame=_frames, side=st.sampled_from(["server", "client"]))
def test_acceptance_agrees_with_pykern_msg_unpack(frame, side):
    theirs, their_error = _pykern_util().msg_unpack(frame, side)
    ours, our_error = wire.check(frame, side)
    assert (their_error is None) == (our_error is None), (their_error, our_error)
    if ours is not None:
        assert dict(theirs) == {**ours.fields, "msg_kind": theirs["msg_kind"]}
        assert theirs["msg_kind"].value == ours.kind


@settings(max_examples=200, deadline=None)
@given(value=_values)
def test_packing_agrees_with_pykern_msg_pack(value):
    assert wire.pack(value) == _pykern_util().msg_pack(value)


def test_packing_datetimes_tuples_and_bytes_agrees_with_pykern():
    value = types_result()
    assert wire.pack(value) == _pykern_util().msg_pack(value)
