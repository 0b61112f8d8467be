"""The ZeroJSON codec against every blob of the golden vectors, byte for byte.

* request frames: decoding gives the recorded ``decoded`` view; encoding the decoded fields gives
  the recorded bytes (through :class:`wire.Request` for what the real client sent, through
  :func:`wire.dumps` for hand-made bodies, which real code produced with ``json.dumps`` too);
  undecodable bodies fail with exactly the message the real server answered;
* reply frames: decoding and re-encoding reproduce the bytes, ``varies`` ranges masked;
* whole messages: :func:`wire.decode_request` fails where the real server answered an error (with
  its code and message) or did not answer at all, and succeeds everywhere else.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vectors import blob_bytes, iter_blobs, load, mask

from rpctest.stacks.zerojson import wire

FAMILIES = ("calls", "errors", "auth", "sessions", "introspect_attachments", "framing")
_BOM = b"\xef\xbb\xbf"


def _all_vectors() -> list[dict[str, Any]]:
    return [vector for family in FAMILIES for vector in load("zerojson", family)["vectors"]]


VECTORS = _all_vectors()
BLOBS = [
    pytest.param(vector, index, where, blob, id=f"{vector['id']}-{index}-{where}")
    for vector in VECTORS
    for index, where, blob in iter_blobs(vector)
]


def _first_reply_error(vector: dict[str, Any]) -> tuple[int, str] | None:
    for event in vector["exchange"]:
        if event["op"] == "recv":
            decoded = event["frames"][1].get("decoded") or {}
            return decoded.get("code"), decoded.get("error")
    return None


def _by_real_client(vector: dict[str, Any]) -> bool:
    return (vector.get("sent_by") or "").startswith("real zerojson.Client")


def test_every_family_has_vectors() -> None:
    assert len(VECTORS) == 34
    assert {v["id"] for v in VECTORS} >= {"zj.call.add", "zj.frame.no-delimiter", "zj.sess.idle-expiry"}


@pytest.mark.parametrize(("vector", "index", "where", "blob"), BLOBS)
def test_blob_round_trips(vector: dict[str, Any], index: int, where: str, blob: dict[str, Any]) -> None:
    data = blob_bytes(blob)
    event = vector["exchange"][index]
    frame_no = int(where.split("/")[1])
    if blob["encoding"] == "ascii":
        assert data.decode("ascii") == blob["decoded"]
        return
    if blob["encoding"] == "binary":
        assert frame_no == 2 or "four-frames" in vector["id"]
        return
    assert frame_no == 1
    if event["op"] == "send":
        _check_request_body(vector, blob, data)
    else:
        _check_reply_body(blob, data)


def _check_request_body(vector: dict[str, Any], blob: dict[str, Any], data: bytes) -> None:
    try:
        value = wire.loads(data)
    except wire.WireError as exc:
        expected = _first_reply_error(vector)
        assert expected is not None and expected[0] == 4, "an undecodable body must have been answered with 4"
        assert (exc.code, exc.reply_message) == expected
        if data.startswith(_BOM):  # hand-made: a BOM in front of what json.dumps gives
            assert data == _BOM + wire.dumps(blob["decoded"])
        return
    if "decoded" not in blob:  # NaN/Infinity: no strict-JSON view, the text is the reference
        assert "NaN" in blob["text"]
        assert wire.dumps(value) == data
        return
    assert value == blob["decoded"]
    if _by_real_client(vector):
        request = wire.Request.from_dict(value)
        assert wire.encode_request(request)[1] == data
        assert request.to_dict() == blob["decoded"]
    else:
        assert wire.dumps(blob["decoded"]) == data


def _check_reply_body(blob: dict[str, Any], data: bytes) -> None:
    response = wire.Response.from_dict(wire.loads(data))
    encoded = wire.encode_response(response)[1]
    assert mask(encoded, blob) == mask(data, blob)
    assert len(encoded) == len(data)
    if "decoded" in blob:
        assert response.to_dict() == blob["decoded"]
    else:
        assert json.loads(blob["text"]) is not None  # NaN vector: Python reads it back
    for entry in blob.get("varies", []):
        start, end = entry["range"]
        assert len(data[start:end]) == 32 and data[start:end].decode("ascii").isalnum()


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in VECTORS])
def test_whole_messages(vector: dict[str, Any]) -> None:
    """Every recorded message decodes as a whole, or fails exactly as the real server reacted."""
    events = vector["exchange"]
    for index, event in enumerate(events):
        if event["op"] == "recv":
            frames = [blob_bytes(b) for b in event["frames"]]
            response = wire.decode_response(frames)
            again = wire.encode_response(response)
            assert [mask(f, b) for f, b in zip(again, event["frames"])] == [
                mask(f, b) for f, b in zip(frames, event["frames"])
            ]
            if len(frames) == 3:
                assert response.attachment == frames[2]
        if event["op"] != "send":
            continue
        frames = [blob_bytes(b) for b in event["frames"]]
        following = events[index + 1]
        if following["op"] == "no_reply":
            if "no-delimiter" in vector["id"]:
                # the frames are fine; what is missing is the envelope's delimiter (server-side concern)
                assert wire.split_envelope([b"\x00id", *frames]) == ([b"\x00id", *frames], None)
                continue
            with pytest.raises(wire.WireError, match="no reply"):
                wire.decode_request(frames)
            continue
        reply = wire.Response.from_dict(wire.loads(blob_bytes(following["frames"][1])))
        if reply.code == wire.BAD_REQUEST and vector["service"] in (None, "org.pycom.demo") and "framing" in vector["tags"]:
            with pytest.raises(wire.WireError) as caught:
                wire.decode_request(frames)
            assert (caught.value.code, caught.value.reply_message) == (reply.code, reply.error)
        else:
            request = wire.decode_request(frames)
            assert request.attachment == (frames[2] if len(frames) == 3 else None)
            if _by_real_client(vector):
                assert wire.encode_request(request) == frames


def test_request_key_order_and_optional_fields() -> None:
    request = wire.Request("i", "m", session_id="s", extensions={wire.AUTH_EXTENSION: "t"}, attachment=b"\x00")
    frames = wire.encode_request(request)
    assert frames == [
        b"CALL",
        b'{"interface": "i", "method": "m", "args": null, "session_id": "s", '
        b'"extensions": {"org.pycom.auth": "t"}, "version": "1.0"}',
        b"\x00",
    ]
    assert wire.encode_request(wire.Request("i", "m", version=None))[1] == b'{"interface": "i", "method": "m", "args": null}'
    assert request.token == "t"


def test_reply_fields_present_as_pycom_sends_them() -> None:
    assert wire.Response(code=0).to_dict() == {"code": 0, "result": None}
    assert wire.Response(code=4).to_dict() == {"code": 4, "error": None}
    assert list(wire.Response(code=4, error="e", session_id="s", extensions={"x": 1}).to_dict()) == [
        "code",
        "error",
        "session_id",
        "extensions",
    ]
    assert wire.encode_response(wire.Response(result="Пé"))[1] == b'{"code": 0, "result": "\\u041f\\u00e9"}'


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([b"OK"], "2 or 3 frames"),
        ([b"OK", b"{}", b"", b""], "2 or 3 frames"),
        ([b"FAIL", b"{}"], "FAIL"),
        ([b"OK", b"[1]"], "JSON object"),
        ([b"OK", b'{"result": 1}'], "integer 'code'"),
        ([b"OK", b'{"code": "0"}'], "integer"),
        ([b"OK", b'{"code": true}'], "integer"),
        ([b"OK", b'{"code": 1, "error": 5}'], "'error'"),
        ([b"OK", b'{"code": 0, "extensions": []}'], "'extensions'"),
        ([b"OK", b"\xff"], "not UTF-8"),
        ([b"OK", b"{"], "not"),
    ],
)
def test_broken_replies_raise_wire_errors(frames: list[bytes], message: str) -> None:
    with pytest.raises(wire.WireError, match=message):
        wire.decode_response(frames)


def test_wire_error_is_a_transport_error() -> None:
    from rpctest.exceptions import TransportError

    assert issubclass(wire.WireError, TransportError)


def test_encoding_binary_in_json_is_refused_clearly() -> None:
    with pytest.raises(TypeError, match="attachment|JSON"):
        wire.encode_request(wire.Request("i", "m", {"blob": b"x"}))


def test_split_envelope() -> None:
    assert wire.split_envelope([b"id", b"", b"CALL", b"{}"]) == ([b"id"], [b"CALL", b"{}"])
    assert wire.split_envelope([b"a", b"b", b"", b"CALL", b"{}", b""]) == ([b"a", b"b"], [b"CALL", b"{}", b""])
    assert wire.split_envelope([b"id", b"CALL"]) == ([b"id", b"CALL"], None)
    assert wire.split_envelope([b"", b"", b"CALL"]) == ([], [b"", b"CALL"])  # no routing id: the first empty frame ends it
    assert wire.split_envelope([b"id", b""]) == ([b"id"], [])
    assert wire.split_envelope([]) == ([], None)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(value=_json_values | st.dictionaries(st.integers() | st.floats() | st.booleans() | st.none(), st.integers(), max_size=3))
def test_the_encoding_is_json_dumps_byte_for_byte(value: Any) -> None:
    """PyCOM encodes with json.dumps' defaults; wire.dumps calls its C encoder directly (issue 21)."""
    assert wire.dumps(value) == json.dumps(value).encode("utf-8")


def test_what_json_cannot_hold_is_refused_as_json_dumps_refuses_it() -> None:
    circular: list[Any] = []
    circular.append(circular)
    for value in ({"when": object()}, {1j: 2}, circular, b"x"):
        with pytest.raises((TypeError, ValueError)) as expected:
            json.dumps(value)
        with pytest.raises(TypeError, match="as ZeroJSON") as caught:
            wire.dumps(value)
        assert str(expected.value) in str(caught.value)
    assert wire.dumps([1, 2]) == b"[1, 2]"  # nothing of a refused value stays behind for the next one
