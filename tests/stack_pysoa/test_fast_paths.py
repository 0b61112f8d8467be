"""The PySOA wire's shortcuts for the usual message give what the general reading gives.

``parse_frame`` recognises the framing nearly every message has (protocol 3, msgpack) by a prefix
test; the stub server's job-request check skips building pointers for fields that pass. Each is
compared here with the general path on the same input: the same parts, the same errors.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rpctest.stacks.pysoa import wire

_COMMON = wire.PROTOCOL_PREFIX_V3 + b"content-type:application/msgpack;"
#: what follows the common framing: msgpack maps, more headers (chunks), blanks, broken headers, nothing
_TAILS = st.one_of(
    st.binary(max_size=40),
    st.builds(lambda head, rest: bytes((head,)) + rest, st.integers(0x80, 0xFF), st.binary(max_size=20)),
    st.sampled_from([b"", b"chunk-count:2;chunk-id:1;\x80", b" content-type:application/json;\x80", b"x-unknown:1;\x80", b"\x80"]),
)


def _general(data: bytes) -> Any:
    """parse_frame's general reading (a bytearray never takes the shortcut)."""
    try:
        return wire.parse_frame(bytearray(data))  # type: ignore[arg-type]  # it reads any bytes-like value
    except wire.WireError as exc:
        return ("error", str(exc))


@settings(max_examples=400, database=None)
@given(_TAILS)
def test_the_common_framing_is_read_as_the_general_reading_reads_it(tail: bytes) -> None:
    data = _COMMON + tail
    try:
        ours: Any = wire.parse_frame(data)
    except wire.WireError as exc:
        ours = ("error", str(exc))
    assert ours == _general(data)


def test_the_shortcut_keeps_the_payload_and_its_offset() -> None:
    frame = wire.parse_frame(_COMMON + b"\x81\xa1a\x01")
    assert frame == wire.Frame(3, {"content-type": "application/msgpack"}, b"\x81\xa1a\x01", len(_COMMON))


def test_headers_after_the_content_type_are_still_read() -> None:
    frame = wire.parse_frame(_COMMON + b"chunk-count:2;chunk-id:1;\x80")
    assert frame.headers == {"content-type": "application/msgpack", "chunk-count": "2", "chunk-id": "1"}
    assert frame.payload == b"\x80"
