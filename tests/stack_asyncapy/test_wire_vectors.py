"""The AsyncAProto codec against every blob of the golden vectors, ZiProto against MessagePack, and
:func:`server_verdict` against what AsyncAPY's server did with each recorded body."""

from __future__ import annotations

import json

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpctest.exceptions import TransportError
from rpctest.stacks.asyncapy import errors, wire, ziproto
from rpctest.stacks.asyncapy.wire import Framing, FrameDecoder, WireError
from stack_asyncapy.aap_helpers import all_vectors, naive_view
from vectors import blob_bytes

VECTORS = all_vectors()


def _blobs(op: str):
    for vector in VECTORS:
        for index, event in enumerate(vector["exchange"]):
            if event["op"] == op:
                yield pytest.param(vector["id"], event["data"], id=f"{vector['id']}/{index}")


SENT = list(_blobs("send"))
RECEIVED = list(_blobs("recv"))

#: sent blobs whose bytes cannot be rebuilt from their decoded view, and why
NOT_ENCODABLE = {
    "aap.frame.json-empty-object-padded": "'{ }' has whitespace Python's json.dumps never writes",
    "aap.call.ziproto-trailing-bytes": "two junk bytes follow the payload",
    "aap.frame.bad-encoding-2": "the decoded payload (123) is a naive ZiProto read of JSON text",
    "aap.frame.enc-json-payload-ziproto": "no decoded payload (it does not decode as JSON)",
    "aap.frame.ziproto-truncated": "no decoded payload (truncated)",
    "aap.frame.ziproto-bin-value": "no decoded payload (a bin value)",
    "aap.frame.ziproto-map16": "no decoded payload (map16)",
    "aap.frame.two-pipelined": "no decoded payload (two frames)",
}

#: what each sent payload that does not decode fails with, in the vectors' words and in ours
UNDECODABLE = {
    "aap.frame.enc-json-payload-ziproto": ("UnicodeDecodeError", "not valid text", None),
    "aap.frame.ziproto-truncated": ("IndexError", "ends at offset", errors.ERR_REQUEST_MALFORMED),
    "aap.frame.ziproto-map16": ("AttributeError", "map16", errors.ERR_REQUEST_MALFORMED),
    "aap.frame.two-pipelined": ("JSONDecodeError", "Extra data", errors.ERR_REQUEST_MALFORMED),
}


def test_the_vectors_hold_what_these_tests_rely_on():
    """Guards the parametrization: the families shrinking would make the byte tests prove little."""
    assert len(VECTORS) == 29
    assert len(SENT) == 28 and len(RECEIVED) == 22
    assert {event["op"] for v in VECTORS for event in v["exchange"]} == {"connect", "send", "recv", "server_close", "pause", "shut_wr"}


# -- what was sent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("vector_id", "blob"), SENT)
def test_the_naive_view_of_every_sent_frame_matches_the_vector(vector_id, blob):
    view = naive_view(blob_bytes(blob))
    decoded = blob["decoded"]
    for key in ("length_header", "bytes_after_header", "version", "encoding"):
        assert view[key] == decoded[key], key
    if "payload" in decoded:
        assert view["payload"] == decoded["payload"]
    else:
        assert "payload_note" in view and "payload_note" in decoded


@pytest.mark.parametrize(("vector_id", "blob"), [p for p in SENT if p.values[0] not in NOT_ENCODABLE])
def test_encoding_the_decoded_view_gives_the_sent_bytes(vector_id, blob):
    """Header fields a hand-made frame got wrong on purpose are forced; the payload is always ours."""
    decoded = blob["decoded"]
    framing = Framing()
    payload = wire.encode_payload(decoded["payload"], decoded["encoding"])
    length = decoded["length_header"] if decoded["length_header"] != len(payload) + 2 else None
    data = framing.frame(payload, encoding=decoded["encoding"], version=decoded["version"], length=length)
    assert data.hex() == blob["hex"]


@pytest.mark.parametrize(
    ("vector_id", "blob"),
    [p for p in SENT if p.values[0] not in NOT_ENCODABLE and p.values[1]["decoded"]["version"] == 22
     and isinstance(p.values[1]["decoded"]["payload"], dict) and p.values[1]["decoded"]["length_header"] == p.values[1]["decoded"]["bytes_after_header"]],
)
def test_the_client_encoder_writes_the_sent_packets(vector_id, blob):
    """Packets as a client sends them: ``Framing.encode`` in the frame's encoding."""
    decoded = blob["decoded"]
    assert Framing(encoding=decoded["encoding"]).encode(decoded["payload"]).hex() == blob["hex"]


@pytest.mark.parametrize("vector_id", sorted(UNDECODABLE))
def test_undecodable_payloads_fail_as_recorded(vector_id):
    blob = next(p.values[1] for p in SENT if p.values[0] == vector_id)
    recorded, words, code = UNDECODABLE[vector_id]
    assert recorded in blob["decoded"]["payload_note"]
    data = blob_bytes(blob)
    with pytest.raises(WireError) as caught:
        wire.decode_payload(data[6:], data[5])
    assert words in str(caught.value)
    assert caught.value.code == code


def test_a_bin_value_decodes_but_is_not_json():
    """aap.frame.ziproto-bin-value: ZiProto reads it (as bytes); AsyncAPY then cannot re-serialise it."""
    blob = next(p.values[1] for p in SENT if p.values[0] == "aap.frame.ziproto-bin-value")
    packet = ziproto.decode(blob_bytes(blob)[6:])
    assert packet == {"action": "echo", "text": b"\x00\x01"}
    with pytest.raises(TypeError):
        json.dumps(packet)


# -- what came back -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("vector_id", "blob"), RECEIVED)
def test_decoding_every_received_stream_gives_its_frames(vector_id, blob):
    frames = Framing().decode(blob_bytes(blob))
    assert [frame.to_dict() for frame in frames] == blob["decoded"]


@pytest.mark.parametrize(("vector_id", "blob"), RECEIVED)
def test_encoding_every_received_frame_gives_the_server_bytes(vector_id, blob):
    """The server's spelling: json.dumps defaults, failure packets keyed status then error."""
    data = b"".join(Framing(encoding=frame["encoding"]).encode(frame["payload"]) for frame in blob["decoded"])
    assert data.hex() == blob["hex"]


@pytest.mark.parametrize(("vector_id", "blob"), RECEIVED)
def test_the_received_streams_decode_in_any_pieces(vector_id, blob):
    data = blob_bytes(blob)
    decoder = FrameDecoder()
    frames = []
    for byte in data:
        frames += decoder.feed(bytes([byte]))
    decoder.close()
    assert [frame.to_dict() for frame in frames] == blob["decoded"]


def test_failure_packets_are_the_four_codes_with_their_recorded_lengths():
    """As observed of AsyncAPY 0.5.0: Content-Length 57, 54, 49, 61 (JSON) and 46 (ZiProto malformed)."""
    lengths = {code: len(Framing().encode(errors.error_packet(code))) - 4 for code in errors.FRAMEWORK_CODES}
    assert lengths == {"ERR_REQUEST_MALFORMED": 57, "ERR_HEADER_INVALID": 54, "ERR_TIMED_OUT": 49, "ERR_SESSION_LIMIT_REACHED": 61}
    assert Framing(encoding="ziproto").encode(errors.error_packet("ERR_REQUEST_MALFORMED"))[:6].hex() == "0000002e1601"


def test_json_is_spelled_as_python_dumps_it():
    assert wire.dump_json({"é": float("nan"), "k": [1, 2.5]}) == b'{"\\u00e9": NaN, "k": [1, 2.5]}'


# -- framing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header_size", [2, 4, 8])
@pytest.mark.parametrize("byteorder", ["big", "little"])
@pytest.mark.parametrize("encoding", ["json", "ziproto"])
def test_every_framing_round_trips(header_size, byteorder, encoding):
    framing = Framing(header_size, byteorder, encoding=encoding)
    packet = {"action": "echo", "text": "hé", "n": [1, -2, 3.5, None, True]}
    data = framing.encode(packet)
    length = len(data) - header_size
    assert data[:header_size] == length.to_bytes(header_size, byteorder)
    assert data[header_size : header_size + 2] == bytes((22, wire.encoding_number(encoding)))
    (frame,) = framing.decode(data)
    assert frame.packet == packet and frame.length == length


def test_the_documented_ziproto_example_is_what_we_write():
    """docs/protocol.rst's ZiProto example is right (its JSON one has the wrong encoding byte)."""
    assert Framing(encoding=1).encode({"foo": "bar"}).hex() == "0000000b160181a3666f6fa3626172"
    assert Framing().encode({"foo": "bar"})[5] == 0


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (bytes.fromhex("00000001") + b"\x16", errors.ERR_REQUEST_MALFORMED, "cannot hold"),
        (bytes.fromhex("000000050b007b7d20"), errors.ERR_HEADER_INVALID, "Protocol-Version 11"),
        (bytes.fromhex("0000000516027b7d20"), errors.ERR_HEADER_INVALID, "Content-Encoding 2"),
        (bytes.fromhex("0000000516007b7d7d"), errors.ERR_REQUEST_MALFORMED, "does not parse"),
        (bytes.fromhex("000000071600") + b"[1, 2]"[:5], errors.ERR_REQUEST_MALFORMED, "does not parse"),
        (bytes.fromhex("000000081600") + b"[1, 2]", None, "not a packet"),
        (bytes.fromhex("0000000316017b"), errors.ERR_REQUEST_MALFORMED, "not a packet"),
    ],
)
def test_broken_frames_raise_with_the_servers_code(data, code, words):
    decoder = FrameDecoder()
    with pytest.raises(WireError) as caught:
        decoder.feed(data)
    assert isinstance(caught.value, TransportError)
    assert caught.value.code == code and words in str(caught.value)
    with pytest.raises(WireError):  # nothing after a broken frame is trusted
        decoder.feed(Framing().encode({"a": 1}))


def test_a_stream_ending_inside_a_frame_is_an_error():
    data = Framing().encode({"a": 1})
    decoder = FrameDecoder()
    assert decoder.feed(data[:-1]) == []
    with pytest.raises(WireError, match="ended inside a frame"):
        decoder.close()
    assert wire.split_stream(data + data[:3])[1] == data[:3]


def test_framing_options_are_validated():
    for bad in ({"header_size": 3}, {"byteorder": "middle"}, {"encoding": "xml"}, {"version": 256}):
        with pytest.raises(ValueError):
            Framing(**bad)
    with pytest.raises(ValueError, match="does not fit"):
        Framing(header_size=2).length_header(70000)
    with pytest.raises(TypeError, match="mapping"):
        Framing().encode([1, 2])  # type: ignore[arg-type]


# -- the server's verdict on each recorded body -----------------------------------------------------------

#: vectors whose body reached the server whole, and what it did with it
VERDICTS = {
    "aap.call.echo-ziproto": ("dispatch", None, 1),
    "aap.call.add-mixed-types": ("dispatch", None, 0),
    "aap.call.add-ziproto": ("dispatch", None, 1),
    "aap.call.multi-group-replies": ("dispatch", None, 0),
    "aap.call.json-string-wrapping-object": ("dispatch", None, 0),
    "aap.call.fragmented-bytewise": ("dispatch", None, 0),
    "aap.call.ziproto-trailing-bytes": ("dispatch", None, 1),
    "aap.err.missing-field": ("dispatch", None, 0),  # dispatched; no handler matches
    "aap.err.regex-reject": ("dispatch", None, 0),
    "aap.err.handler-raises": ("dispatch", None, 0),
    "aap.err.handler-timeout": ("dispatch", None, 0),
    "aap.auth.valid-key": ("dispatch", None, 0),
    "aap.auth.invalid-key": ("dispatch", None, 0),
    "aap.frame.json-array": ("silent_close", None, 0),
    "aap.frame.json-false": ("hang", None, 0),
    "aap.frame.json-empty-object-short": ("error", errors.ERR_REQUEST_MALFORMED, 0),
    "aap.frame.json-empty-object-padded": ("hang", None, 0),
    "aap.frame.bad-version-11": ("error", errors.ERR_HEADER_INVALID, 0),
    "aap.frame.bad-encoding-2": ("error", errors.ERR_HEADER_INVALID, 0),
    "aap.frame.enc-json-payload-ziproto": ("silent_close", None, 0),
    "aap.frame.ziproto-truncated": ("error", errors.ERR_REQUEST_MALFORMED, 1),
    "aap.frame.ziproto-bin-value": ("silent_close", None, 1),
    "aap.frame.ziproto-map16": ("error", errors.ERR_REQUEST_MALFORMED, 1),
}


@pytest.mark.parametrize("vector_id", sorted(VERDICTS))
def test_server_verdict_matches_what_the_server_did(vector_id):
    vector = next(v for v in VECTORS if v["id"] == vector_id)
    body = blob_bytes(next(e for e in vector["exchange"] if e["op"] == "send")["data"])[4:]
    verdict = wire.server_verdict(body)
    action, code, encoding = VERDICTS[vector_id]
    assert (verdict.action, verdict.code, verdict.encoding) == (action, code, encoding), verdict.reason
    recv = [e for e in vector["exchange"] if e["op"] == "recv"]
    if action == "error":  # the recorded error packet, in the recorded encoding
        (frame,) = recv[0]["data"]["decoded"]
        assert (frame["encoding"], frame["payload"]) == (encoding, errors.error_packet(code))
    if action == "dispatch":
        assert isinstance(verdict.packet, dict) and verdict.packet


def test_server_verdict_rules_beyond_the_vectors():
    def verdict(payload: bytes, encoding: int = 0) -> wire.Verdict:
        return wire.server_verdict(bytes((22, encoding)) + payload)

    assert verdict(b"0  ").action == "hang" and verdict(b"null").action == "hang" and verdict(b'""  ').action == "hang"
    assert verdict(b"true").action == "silent_close" and verdict(b"42 ").action == "silent_close"
    assert verdict(b'"nope"').action == "silent_close"
    assert verdict(b"\x81\x01\xa1x", 1).packet == {"1": "x"}, "integer keys become strings (JSON round trip)"
    assert verdict(b"\x80\xc1\xc1", 1).action == "hang"
    assert verdict(b"\xa3abc", 1).code == errors.ERR_REQUEST_MALFORMED
    assert wire.server_verdict(b"\x16\x00{}").code == errors.ERR_REQUEST_MALFORMED
    assert wire.server_verdict(b"").code == errors.ERR_REQUEST_MALFORMED


# -- ZiProto against MessagePack ------------------------------------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text() | st.binary()


def _values(max_entries: int):
    return st.recursive(
        _SCALARS,
        lambda inner: st.lists(inner, max_size=max_entries) | st.dictionaries(st.text(max_size=8), inner, max_size=max_entries),
        max_leaves=40,
    )


@settings(max_examples=120, deadline=None)
@given(_values(40))
def test_ziproto_encodes_as_msgpack_does(value):
    assert ziproto.encode(value) == msgpack.packb(value, use_bin_type=True)


@settings(max_examples=120, deadline=None)
@given(_values(15), st.binary(max_size=4))
def test_ziproto_decodes_what_it_encodes_ignoring_trailing_bytes(value, trailing):
    assert ziproto.decode(ziproto.encode(value) + trailing) == value


@settings(max_examples=100, deadline=None)
@given(st.integers(16, 40), st.sampled_from(["map", "array"]))
def test_ziproto_refuses_16_entries_or_more_as_ziproto_1_0_does(count, kind):
    value = {f"k{i}": i for i in range(count)} if kind == "map" else list(range(count))
    data = ziproto.encode(value)
    assert msgpack.unpackb(data, raw=False) == value
    with pytest.raises(ziproto.ZiProtoError, match=f"{kind}16"):
        ziproto.decode(data)


def test_ziproto_1_0_quirks():
    with pytest.raises(ziproto.ZiProtoError, match="map16"):
        ziproto.decode(bytes.fromhex("de0001a161a162"))  # a map16 of one entry fails too
    for bad in (b"", b"\xc1", b"\xd4\x01\x00", b"\xcd\x01", b"\x81\x91\x01\x02"):
        with pytest.raises(ziproto.ZiProtoError):
            ziproto.decode(bad)
    assert ziproto.decode(b"\x81\xa1a\xa4hi") == {"a": "hi"}, "a str cut short at the end is kept, as ziproto slices"
    assert ziproto.decode(b"\xca\x3f\xc0\x00\x00") == 1.5
    assert ziproto.encode(b"") == b"\xc4\x00", "the valid empty bin (ziproto 1.0 writes a lone 0xc4)"
    with pytest.raises(ziproto.ZiProtoError):
        ziproto.encode({1, 2})
