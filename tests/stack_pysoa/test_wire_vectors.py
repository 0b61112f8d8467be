"""rpctest's PySOA wire codec against the golden vectors recorded from real pysoa 1.4.9.

Every Redis list element in ``tests/golden/pysoa`` is decoded and compared with its ``decoded``
view, and encoded again and compared byte for byte (vectors README sections 5, 7 and 9). The
hand-made malformed elements must be refused with a :class:`WireError` that says what is wrong.
The codec must do all of this with msgpack 0.6 and 1.x and without pysoa installed.
"""

from __future__ import annotations

import datetime
import decimal
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import pytest

from rpctest.stacks.pysoa import wire
from rpctest.stacks.pysoa.wire import WireError


def _load_vectors_helper() -> ModuleType:
    """``tests/vectors.py`` by path, so this file works whatever is on sys.path."""
    path = Path(__file__).resolve().parents[1] / "vectors.py"
    spec = importlib.util.spec_from_file_location("_rpctest_test_vectors", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vectors = _load_vectors_helper()

FAMILIES = ("calls", "errors", "expiry_framing")
UTC = datetime.timezone.utc


class Case(NamedTuple):
    """One ``rpush`` event of one vector."""

    vector: dict
    index: int
    event: dict

    @property
    def id(self) -> str:
        return f"{self.vector['id']}#{self.index}"

    @property
    def blob(self) -> dict:
        return self.event["data"]

    @property
    def data(self) -> bytes:
        return vectors.blob_bytes(self.blob)


def _all_cases() -> list[Case]:
    cases = []
    for family in FAMILIES:
        for vector in vectors.load("pysoa", family)["vectors"]:
            for index, event in enumerate(vector.get("exchange", [])):
                if event["op"] == "rpush":
                    cases.append(Case(vector, index, event))
    return cases


def _is_malformed(case: Case) -> bool:
    """Hand-made broken input: no envelope in the view, or a raw push of a bad-* vector."""
    if "envelope" not in case.blob.get("decoded", {}):
        return True
    bad = any(tag.startswith("bad-") or tag == "empty-frame" for tag in case.vector["tags"])
    return bad and case.event["by"].startswith("test")


ALL = _all_cases()
WELL_FORMED = [case for case in ALL if not _is_malformed(case)]
MALFORMED = [case for case in ALL if _is_malformed(case)]
REDACTED = [case for case in WELL_FORMED if case.blob.get("redacted")]
CLIENT_REQUESTS = [case for case in WELL_FORMED if case.event["by"] == "client" and "job_request" in case.vector]
RESPONSES = [case for case in WELL_FORMED if case.event["by"] == "server"]
MALFORMED_WITH_VIEW = [case for case in MALFORMED if "decoded" in case.blob]

#: what decode_message must say about each hand-made malformed element
MALFORMED_ERRORS = {
    "soa.frame.lone-surrogate": r"not UTF-8 .*lone surrogate",
    "soa.frame.empty-element": r"empty message",
    "soa.frame.unknown-content-type": r"unknown content-type 'application/xml'",
    "soa.frame.json-envelope-not-map": r"JSON array, not a map",
}


def _ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


# --- views: our decoded values in the vectors' JSON notation -------------------------------


def _to_view(value: Any) -> Any:
    """msgpack ``bin`` as ``{"$bin": hex}``, as the vectors write it; everything else as is."""
    if isinstance(value, dict):
        return {key: _to_view(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_view(item) for item in value]
    if isinstance(value, bytes):
        return {"$bin": value.hex()}
    return value


def _from_view(value: Any) -> Any:
    """The inverse of :func:`_to_view`."""
    if isinstance(value, dict):
        if list(value) == ["$bin"]:
            return bytes.fromhex(value["$bin"])
        return {key: _from_view(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_view(item) for item in value]
    return value


def _prefix_text(data: bytes) -> str:
    return wire.PROTOCOL_PREFIX_V3.decode() if data.startswith(wire.PROTOCOL_PREFIX_V3) else ""


def _view(data: bytes, **decode_options: Any) -> dict:
    """Our decoding of ``data`` in the shape of a pysoa-redis-message ``decoded`` view."""
    frame = wire.parse_frame(data)
    message = wire.decode_message(data, **decode_options)
    return {"protocol_prefix": _prefix_text(data), "headers": frame.headers, "envelope": _to_view(message.envelope)}


def _canonical(view: Any, ignore: list[str]) -> str:
    """Text that differs whenever key order, types or values differ, varying paths blanked out."""
    return json.dumps(vectors.replace_pointers(view, ignore), indent=1, ensure_ascii=False)


def _varies_paths(blob: dict) -> list[str]:
    return [entry["path"] for entry in blob.get("varies", [])]


def _framing_of(decoded: dict) -> dict:
    """encode_message's protocol/content-type arguments for a decoded view."""
    headers = decoded["headers"]
    if decoded["protocol_prefix"] == wire.PROTOCOL_PREFIX_V3.decode():
        version = 3
    else:
        assert decoded["protocol_prefix"] == "", decoded["protocol_prefix"]
        version = 2 if headers else 1
    return {"protocol_version": version, "content_type": headers.get("content-type", wire.CONTENT_TYPE_MSGPACK)}


# --- the vector set itself ------------------------------------------------------------------


def test_vector_inventory_covers_every_kind_of_blob() -> None:
    """Guards the parametrization: an empty or shrunken case list would make the rest vacuous."""
    assert {case.vector["id"].split(".")[1] for case in ALL} >= {"call", "err", "exp", "frame"}
    assert len(WELL_FORMED) >= 30
    assert len(REDACTED) >= 1
    assert set(MALFORMED_ERRORS) == {case.vector["id"] for case in MALFORMED}
    framings = {tuple(_framing_of(case.blob["decoded"]).values()) for case in WELL_FORMED}
    assert framings == {(3, wire.CONTENT_TYPE_MSGPACK), (3, wire.CONTENT_TYPE_JSON), (2, wire.CONTENT_TYPE_MSGPACK)}


# --- 1. decode ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", WELL_FORMED, ids=_ids(WELL_FORMED))
def test_decode_matches_decoded_view(case: Case) -> None:
    ignore = _varies_paths(case.blob)
    ours = _view(case.data)
    for path in ignore:  # a varying field must still be there
        vectors.get_pointer(ours, path)
    assert _canonical(ours, ignore) == _canonical(case.blob["decoded"], ignore)


@pytest.mark.parametrize("case", WELL_FORMED, ids=_ids(WELL_FORMED))
def test_decode_reports_protocol_and_content_type(case: Case) -> None:
    message = wire.decode_message(case.data)
    framing = _framing_of(case.blob["decoded"])
    assert (message.protocol_version, message.content_type) == (framing["protocol_version"], framing["content_type"])
    assert message.headers == {}


# --- 2. encode ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", WELL_FORMED, ids=_ids(WELL_FORMED))
def test_encode_of_decoded_view_is_byte_exact(case: Case) -> None:
    decoded = case.blob["decoded"]
    encoded = wire.encode_message(_from_view(decoded["envelope"]), **_framing_of(decoded))
    assert len(encoded) == len(case.data)
    assert vectors.mask(encoded, case.blob) == vectors.mask(case.data, case.blob)
    assert encoded == case.data  # the view holds the recorded values, so even the varying bytes match


@pytest.mark.parametrize("case", WELL_FORMED, ids=_ids(WELL_FORMED))
def test_decode_then_encode_round_trips(case: Case) -> None:
    message = wire.decode_message(case.data)
    again = wire.encode_message(
        message.envelope, protocol_version=message.protocol_version, content_type=message.content_type
    )
    assert again == case.data


# --- 3. redacted blobs ----------------------------------------------------------------------


@pytest.mark.parametrize("case", REDACTED, ids=_ids(REDACTED))
def test_redacted_blob_is_pysoa_serialized(case: Case) -> None:
    redacted_paths = [path for path in _varies_paths(case.blob) if path.endswith("/traceback")]
    assert redacted_paths, "a redacted blob names its traceback path in varies"
    view = _view(case.data)
    for path in redacted_paths:
        assert vectors.get_pointer(view, path).startswith("<redacted")
    assert wire.encode_message(wire.decode_message(case.data).envelope) == case.data


# --- malformed input ------------------------------------------------------------------------


@pytest.mark.parametrize("case", MALFORMED, ids=_ids(MALFORMED))
def test_malformed_element_is_refused_clearly(case: Case) -> None:
    with pytest.raises(WireError, match=MALFORMED_ERRORS[case.vector["id"]]):
        wire.decode_message(case.data)


@pytest.mark.parametrize("case", MALFORMED_WITH_VIEW, ids=_ids(MALFORMED_WITH_VIEW))
def test_malformed_element_framing_matches_view(case: Case) -> None:
    decoded = case.blob["decoded"]
    frame = wire.parse_frame(case.data)
    assert _prefix_text(case.data) == decoded["protocol_prefix"]
    assert frame.headers == decoded["headers"]
    if "payload_hex" in decoded:
        assert frame.payload.hex() == decoded["payload_hex"]


def test_unknown_content_type_falls_back_to_msgpack_like_pysoa() -> None:
    """The real server read the application/xml element as msgpack and answered (outcome: response)."""
    (case,) = [c for c in MALFORMED if c.vector["id"] == "soa.frame.unknown-content-type"]
    ignore = _varies_paths(case.blob)
    ours = _view(case.data, default_content_type=wire.CONTENT_TYPE_MSGPACK)
    assert _canonical(ours, ignore) == _canonical(case.blob["decoded"], ignore)
    message = wire.decode_message(case.data, default_content_type=wire.CONTENT_TYPE_MSGPACK)
    assert message.content_type == wire.CONTENT_TYPE_MSGPACK
    assert message.headers == {"content-type": "application/xml"}
    frame = wire.parse_frame(case.data)
    assert case.data[: frame.payload_offset] + wire.encode_payload(message.envelope) == case.data
    assert case.vector["outcome"]["kind"] == "response"


def test_lone_surrogate_element_can_still_be_read_and_replayed() -> None:
    (case,) = [c for c in MALFORMED if c.vector["id"] == "soa.frame.lone-surrogate"]
    message = wire.decode_message(case.data, unicode_errors="surrogatepass")
    assert message.envelope["body"]["actions"][0]["body"]["name"] == "a\udc80"
    assert wire.encode_message(message.envelope) == case.data  # the client's surrogatepass packing
    refreshed = wire.with_expiry(case.data, 1234.5)
    assert wire.decode_message(refreshed, unicode_errors="surrogatepass").envelope["meta"]["__expiry__"] == 1234.5
    assert len(refreshed) == len(case.data)


# --- 4. builders, keys, replay --------------------------------------------------------------


@pytest.mark.parametrize("case", CLIENT_REQUESTS, ids=_ids(CLIENT_REQUESTS))
def test_request_envelope_reproduces_recorded_request(case: Case) -> None:
    recorded = case.blob["decoded"]["envelope"]
    job = case.vector["job_request"]
    control = recorded["body"]["control"]
    envelope = wire.request_envelope(
        job["actions"],
        request_id=recorded["request_id"],
        reply_to=recorded["meta"]["reply_to"],
        expiry=recorded["meta"]["__expiry__"],
        correlation_id=recorded["body"]["context"]["correlation_id"],
        continue_on_error=job["continue_on_error"],
        context_extra=job["context_extra"],
        control_extra={k: v for k, v in control.items() if k not in ("continue_on_error", "suppress_response")},
    )
    assert wire.encode_message(envelope, **_framing_of(case.blob["decoded"])) == case.data


@pytest.mark.parametrize("case", RESPONSES, ids=_ids(RESPONSES))
def test_envelope_errors_match_recorded_outcome(case: Case) -> None:
    job_errors, action_errors = wire.envelope_errors(wire.decode_message(case.data).envelope)
    summary = case.vector["outcome"].get("summary")
    if summary is None:  # framing vectors record no summary; their responses are plain successes
        assert (job_errors, action_errors) == ([], [[]])
        return
    triples = [[[e["code"], e["field"], e.get("is_caller_error")] for e in errors] for errors in action_errors]
    assert triples == [action["errors"] for action in summary["actions"]]
    assert [[e["code"], e["field"], e.get("is_caller_error")] for e in job_errors] == summary["job_errors"]


@pytest.mark.parametrize("case", WELL_FORMED, ids=_ids(WELL_FORMED))
def test_queue_keys_and_reply_to_match_recording(case: Case) -> None:
    meta = case.blob["decoded"]["envelope"]["meta"]
    if case.event["by"] == "server":
        assert case.event["key"] == wire.response_queue_key(meta["reply_to"])
    else:
        assert case.event["key"] == wire.request_queue_key(case.vector["service"])
    queue, thread = meta["reply_to"].rsplit("!", 1)
    client_id = queue.rsplit(".", 1)[1]
    assert wire.make_reply_to(case.vector["service"], client_id, int(thread, 16)) == meta["reply_to"]


@pytest.mark.parametrize("case", CLIENT_REQUESTS, ids=_ids(CLIENT_REQUESTS))
def test_with_expiry_changes_only_the_expiry(case: Case) -> None:
    new_expiry = 1999999999.25
    refreshed = wire.with_expiry(case.data, new_expiry)
    before, after = wire.decode_message(case.data), wire.decode_message(refreshed)
    assert after.envelope["meta"]["__expiry__"] == new_expiry
    after.envelope["meta"]["__expiry__"] = before.envelope["meta"]["__expiry__"]
    assert after == before
    expiry_ranges = [e for e in case.blob["varies"] if e["path"] == "/envelope/meta/__expiry__" and "range" in e]
    if expiry_ranges:  # msgpack: only those 8 bytes move
        only_expiry = {"varies": expiry_ranges}
        assert refreshed != case.data
        assert vectors.mask(refreshed, only_expiry) == vectors.mask(case.data, only_expiry)


# --- unit tests: ext types, protocols, JSON, errors -----------------------------------------

EXT_CASES = [
    ("naive-datetime", datetime.datetime(2024, 2, 29, 13, 45, 6, 789012), "d701000612857799e694"),
    ("utc-datetime", datetime.datetime(2024, 2, 29, 13, 45, 6, 789012, tzinfo=UTC), "d70a000612857799e694"),
    ("pre-epoch-datetime", datetime.datetime(1969, 12, 31, 23, 59, 59, 999999), "d701ffffffffffffffff"),
    ("date", datetime.date(2024, 2, 29), "d60307e8021d"),
    ("time", datetime.time(13, 45, 6, 12), "c707040d2d060000000c"),
    ("decimal", decimal.Decimal("-12.500"), "c7090500072d31322e353030"),
    ("decimal-nan", decimal.Decimal("NaN"), "c705050003" + b"NaN".hex()),
    ("currency", wire.CurrencyAmount("USD", 12345), "c70b02" + b"USD".hex() + "0000000000003039"),
]


@pytest.mark.parametrize(("value", "ext_hex"), [c[1:] for c in EXT_CASES], ids=[c[0] for c in EXT_CASES])
def test_ext_type_bytes_and_round_trip(value: Any, ext_hex: str) -> None:
    payload = wire.encode_payload({"a": value})
    assert payload.hex() == "81a161" + ext_hex
    back = wire.decode_payload(payload)["a"]
    assert type(back) is type(value)
    if isinstance(value, decimal.Decimal) and value.is_nan():
        assert back.is_nan()
    else:
        assert back == value
    if isinstance(value, datetime.datetime):
        assert back.utcoffset() == value.utcoffset()


def test_datetime_uses_pysoas_float_truncation_and_still_round_trips() -> None:
    """PySOA's encoder sends this instant 1 us short; we must send the same and read it back stably."""
    value = datetime.datetime(2258, 3, 7, 22, 3, 44, 841773)
    payload = wire.encode_payload({"a": value})
    assert payload.hex() == "81a161d70100204f0bd106882c"  # 9094111424841772 us, as pysoa 1.4.9 sends it
    back = wire.decode_payload(payload)["a"]
    assert abs(back - value) <= datetime.timedelta(microseconds=1)
    assert wire.encode_payload({"a": back}) == payload


def test_non_utc_datetime_and_unknown_types_are_refused() -> None:
    with pytest.raises(WireError, match="time zone"):
        wire.encode_payload({"a": datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))})
    with pytest.raises(WireError, match="cannot encode a set"):
        wire.encode_payload({"a": {1, 2}})
    with pytest.raises(WireError, match="int64|msgpack"):
        wire.encode_payload({"a": 2**64})
    with pytest.raises(WireError, match="JSON"):
        wire.encode_payload({"a": b"x"}, wire.CONTENT_TYPE_JSON)
    with pytest.raises(WireError, match="3 letters"):
        wire.encode_payload({"a": wire.CurrencyAmount("EURO", 1)})


MSGPACK_HEAD = b"pysoa-redis/3//content-type:application/msgpack;"
ENVELOPE = {"request_id": 7, "meta": {"reply_to": "r"}, "body": {"k": [1, "é", None, True, 1.5]}}


@pytest.mark.parametrize(
    ("version", "content_type", "head"),
    [
        (3, wire.CONTENT_TYPE_MSGPACK, b"pysoa-redis/3//content-type:application/msgpack;"),
        (3, wire.CONTENT_TYPE_JSON, b"pysoa-redis/3//content-type:application/json;"),
        (2, wire.CONTENT_TYPE_MSGPACK, b"content-type:application/msgpack;"),
        (2, wire.CONTENT_TYPE_JSON, b"content-type:application/json;"),
        (1, wire.CONTENT_TYPE_MSGPACK, b""),
    ],
)
def test_protocol_framing_round_trips(version: int, content_type: str, head: bytes) -> None:
    data = wire.encode_message(ENVELOPE, protocol_version=version, content_type=content_type)
    assert data == head + wire.encode_payload(ENVELOPE, content_type)
    assert wire.decode_message(data) == wire.RedisMessage(ENVELOPE, version, content_type, {})


def test_protocol_1_json_needs_the_default_content_type() -> None:
    data = wire.encode_message(ENVELOPE, protocol_version=1, content_type=wire.CONTENT_TYPE_JSON)
    assert data.startswith(b"{")
    with pytest.raises(WireError, match="not valid msgpack"):
        wire.decode_message(data)
    assert wire.decode_message(data, default_content_type=wire.CONTENT_TYPE_JSON).envelope == ENVELOPE


def test_json_text_is_pysoas_json_dumps_defaults() -> None:
    envelope = {"a": [1, "é\udc80", None, float("nan")], "b": {"c": False}}
    payload = wire.encode_payload(envelope, wire.CONTENT_TYPE_JSON)
    assert payload == b'{"a": [1, "\\u00e9\\udc80", null, NaN], "b": {"c": false}}'
    back = wire.decode_payload(payload, wire.CONTENT_TYPE_JSON)
    assert back["a"][1] == "é\udc80" and back["a"][3] != back["a"][3] and back["b"] == {"c": False}


def test_int_map_keys_decode_on_every_msgpack() -> None:
    """msgpack 1.x refuses int keys by default; PySOA (on 0.6) sends them happily."""
    assert wire.decode_payload(wire.encode_payload({1: {2: "x"}})) == {1: {2: "x"}}


def test_bin_and_str_stay_distinct() -> None:
    payload = wire.encode_payload({"b": b"\x00\xff", "s": "\x00"})
    assert payload == bytes.fromhex("82a162c40200ffa173a100")
    assert wire.decode_payload(payload) == {"b": b"\x00\xff", "s": "\x00"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"empty message"),
        ("text", r"bytes, not str"),
        (b"pysoa-redis/4//content-type:application/msgpack;\x80", r"unsupported protocol version 4"),
        (b"pysoa-redis/x//\x80", r"malformed protocol prefix"),
        (b"pysoa-redis/3//content-type:application/msg+pack;\x80", r"bad header syntax at byte 15"),
        (b"pysoa-redis/3//content-type:application/msgpack;x-trace:1;\x80", r"bad header syntax at byte 48"),
        (MSGPACK_HEAD + b"\x92\x01\x02", r"msgpack array, not a map"),
        (MSGPACK_HEAD + b"\x81\xa1a", r"not valid msgpack"),
        (MSGPACK_HEAD + b"\x80\x80", r"not valid msgpack"),
        (MSGPACK_HEAD + b"\x81\xa1a\xd4\x07\x00", r"unknown msgpack ext type 7"),
        (MSGPACK_HEAD + b"\x81\xa1a\xd6\xff\x00\x00\x00\x01", r"ext type -1"),
        (MSGPACK_HEAD + b"\x81\xa1a\xd4\x03\x00", r"ext type 3 must hold 4 bytes"),
        (MSGPACK_HEAD + b"\x81\xa1a\xd6\x03\x07\xe8\x02\x1e", r"ext type 3 holds an invalid"),  # Feb 30th
        (b"pysoa-redis/3//content-type:application/json;{\"a\": ", r"not valid JSON"),
        (b"pysoa-redis/3//content-type:application/json;\"s\"", r"JSON string, not a map"),
        (b"pysoa-redis/3//content-type:application/msgpack;chunk-count:2;chunk-id:1;\x80", r"chunk 1 of 2"),
    ],
    ids=[
        "empty", "not-bytes", "version-4", "bad-prefix", "bad-header-value", "unknown-header", "array",
        "truncated", "extra-data", "ext-7", "ext-timestamp", "ext-short", "ext-bad-date", "bad-json",
        "json-string", "one-chunk-of-two",
    ],
)
def test_bad_elements_raise_wire_error(data: Any, message: str) -> None:
    with pytest.raises(WireError, match=message):
        wire.decode_message(data)


def test_chunks_round_trip_and_are_checked() -> None:
    envelope = {"request_id": 1, "meta": {}, "body": {"x": "y" * 250}}
    chunks = wire.encode_chunks(envelope, 100)
    assert len(chunks) == 3
    assert chunks[1].startswith(b"pysoa-redis/3//content-type:application/msgpack;chunk-count:3;chunk-id:2;")
    message = wire.decode_chunks(chunks)
    assert message.envelope == envelope and message.headers == {"chunk-count": "3"}
    assert wire.encode_chunks(envelope, 10_000) == [wire.encode_message(envelope)]
    with pytest.raises(WireError, match="chunk-id 3 where chunk 2"):
        wire.decode_chunks([chunks[0], chunks[2], chunks[1]])
    with pytest.raises(WireError, match="3 but 2 chunks"):
        wire.decode_chunks(chunks[:2])


def test_request_envelope_key_order_extras_and_switches() -> None:
    envelope = wire.request_envelope(
        ["status", {"action": "echo", "body": {"t": (1, 2)}}],
        request_id=5,
        reply_to="service.s.c!000000000001",
        expiry=100,
        correlation_id="cid",
        switches=[3, 1],
        suppress_response=True,
        context_extra={"switches": [2], "caller": "me", "correlation_id": "override"},
        control_extra={"timeout": 1},
    )
    assert json.dumps(envelope) == json.dumps(
        {
            "request_id": 5,
            "meta": {"client_version": [1, 4, 9], "reply_to": "service.s.c!000000000001", "__expiry__": 100.0},
            "body": {
                "control": {"continue_on_error": False, "suppress_response": True, "timeout": 1},
                "context": {"correlation_id": "override", "switches": [1, 2, 3], "caller": "me"},
                "actions": [{"action": "status", "body": {}}, {"action": "echo", "body": {"t": [1, 2]}}],
            },
        }
    )
    assert isinstance(envelope["meta"]["__expiry__"], float)


def test_with_expiry_needs_an_expiry_and_keeps_json() -> None:
    with pytest.raises(WireError, match="no meta.__expiry__"):
        wire.with_expiry(wire.encode_message({"request_id": 1, "meta": {}, "body": {}}), 5.0)
    data = wire.encode_message({"meta": {"__expiry__": 1.0}}, content_type=wire.CONTENT_TYPE_JSON)
    assert wire.with_expiry(data, 2.5) == b'pysoa-redis/3//content-type:application/json;{"meta": {"__expiry__": 2.5}}'


def test_envelope_errors_reads_job_and_action_errors() -> None:
    error = {"code": "E", "message": "m", "field": None}
    envelope = {"body": {"errors": [error], "actions": [{"action": "a", "errors": [error]}, {"action": "b"}]}}
    assert wire.envelope_errors(envelope) == ([error], [[error], []])
    with pytest.raises(WireError, match="no 'body' map"):
        wire.envelope_errors({"request_id": 1})


def test_keys() -> None:
    assert wire.request_queue_key("users") == "pysoa:service.users"
    assert wire.response_queue_key("service.users.abc!0000000000ff") == "pysoa:service.users.abc!0000000000ff"
    assert wire.make_reply_to("users", "abc", 255) == "service.users.abc!0000000000ff"


def test_wire_module_imports_without_pysoa_and_without_warnings() -> None:
    code = "import sys, rpctest.stacks.pysoa.wire; sys.exit('pysoa' in sys.modules)"
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr or "importing the wire module imported pysoa"


def test_vectors_helper_masks_and_reports_missing_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blob = {"hex": "0102030405", "len": 5, "varies": [{"path": "/a", "range": [1, 3]}, {"path": "/b"}]}
    assert vectors.mask(vectors.blob_bytes(blob), blob) == b"\x01\x00\x00\x04\x05"
    with pytest.raises(ValueError, match="outside 2 bytes"):
        vectors.mask(b"\x01\x02", blob)
    monkeypatch.setenv(vectors.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(vectors.VectorsNotFound, match="nowhere.*RPCTEST_VECTORS_DIR"):
        vectors.load("pysoa", "calls")
