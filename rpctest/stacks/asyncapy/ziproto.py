"""ZiProto, the payload encoding 1 of AsyncAProto, as AsyncAPY's peers actually speak it.

ZiProto is Intellivoid's serializer (PyPI ``ziproto`` 1.0), a subset of MessagePack:
nil, bool, int, float, str, bin, array and map; no ext types. rpctest carries its own small codec
instead of depending on PyPI's ``ziproto`` (which AsyncAPY imports) for three reasons: the wire half
must need no stack library; the MessagePack library rpctest already depends on cannot reproduce
the limits below (its unpacker does not say which format a map used, and its options differ
between msgpack 0.6 and 1.x); and what matters for a stub server is what AsyncAPY's server
*accepts*, which is ziproto 1.0's decoder with its defects, not MessagePack.

**Encoding** gives exactly MessagePack's bytes (``msgpack.packb(value, use_bin_type=True)``), which
is also what ziproto 1.0's encoder produces for every value it encodes correctly: the smallest
integer format, float64 for every float, fixstr/str8/str16/str32, bin8/16/32, fix/16/32 maps and
arrays. One deliberate difference: ziproto 1.0 encodes an empty ``bytes`` as a lone ``0xC4`` with no
length byte, which is invalid; this encoder writes the valid ``C4 00``.

**Decoding** reproduces what ziproto 1.0 accepts and rejects, because AsyncAPY's server answers by
it (the test suite pins each rule against the golden vectors and MessagePack):

* map16, map32, array16 and array32 are **rejected**, whatever their entry count (ziproto 1.0
  fails on them), so a map or array of 16 or more entries cannot be decoded: AsyncAPY answers such
  a request with ``ERR_REQUEST_MALFORMED``;
* ext types, ``0xC1``, an empty input and a missing header or length byte are rejected;
* **bytes after the first value are ignored**;
* a str or bin whose length runs past the end of the data is cut short silently (ziproto slices
  a memoryview), and only a value expected *after* it fails;
* ``bin`` decodes to ``bytes`` (ziproto gives a memoryview; both are unusable to AsyncAPY, whose
  server cannot JSON-serialise them and closes the connection silently);
* a map key that is a map or an array is rejected (unhashable); a str that is not UTF-8 is rejected;
* so is nesting deeper than 512 levels or than the interpreter's recursion limit allows (ziproto
  1.0 fails on 1000 levels, and AsyncAPY answers ``ERR_REQUEST_MALFORMED``).

Every rejection raises :class:`ZiProtoError` (a ``ValueError``) whose message says what and where.
"""

from __future__ import annotations

import struct
from typing import Any

from rpctest.untrusted import describe_failure

__all__ = ["ZiProtoError", "encode", "decode", "decode_prefix"]


class ZiProtoError(ValueError):
    """A value ZiProto cannot encode, or bytes ziproto 1.0 cannot decode (the message says why)."""


# -- encoding ------------------------------------------------------------------------------------------


def encode(value: Any) -> bytes:
    """The ZiProto (= MessagePack) bytes of ``value``: None, bool, int, float, str, bytes, list,
    tuple and dict, nested. Anything else raises :class:`ZiProtoError`."""
    out = bytearray()
    _encode(value, out, 0)
    return bytes(out)


_MAX_DEPTH = 512


def _encode(value: Any, out: bytearray, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ZiProtoError("ZiProto cannot encode a value nested more than 512 levels deep")
    if value is None:
        out.append(0xC0)
    elif value is False:
        out.append(0xC2)
    elif value is True:
        out.append(0xC3)
    elif isinstance(value, int):
        _encode_int(int(value), out)
    elif isinstance(value, float):
        out.append(0xCB)
        out += struct.pack(">d", value)
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        size = len(data)
        if size < 32:
            out.append(0xA0 | size)
        elif size <= 0xFF:
            out += bytes((0xD9, size))
        elif size <= 0xFFFF:
            out.append(0xDA)
            out += struct.pack(">H", size)
        elif size <= 0xFFFFFFFF:
            out.append(0xDB)
            out += struct.pack(">I", size)
        else:  # pragma: no cover - 4 GiB strings
            raise ZiProtoError(f"a str of {size} bytes is too long for ZiProto")
        out += data
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        size = len(data)
        if size <= 0xFF:
            out += bytes((0xC4, size))
        elif size <= 0xFFFF:
            out.append(0xC5)
            out += struct.pack(">H", size)
        elif size <= 0xFFFFFFFF:
            out.append(0xC6)
            out += struct.pack(">I", size)
        else:  # pragma: no cover
            raise ZiProtoError(f"a bin of {size} bytes is too long for ZiProto")
        out += data
    elif isinstance(value, dict):
        _encode_count(len(value), out, 0x80, 0xDE, 0xDF)
        for key, item in value.items():
            _encode(key, out, depth + 1)
            _encode(item, out, depth + 1)
    elif isinstance(value, (list, tuple)):
        _encode_count(len(value), out, 0x90, 0xDC, 0xDD)
        for item in value:
            _encode(item, out, depth + 1)
    else:
        raise ZiProtoError(f"ZiProto cannot encode a {type(value).__name__}: {value!r:.80}")


def _encode_int(value: int, out: bytearray) -> None:
    if 0 <= value <= 0x7F:
        out.append(value)
    elif -32 <= value < 0:
        out.append(value & 0xFF)
    elif value > 0:
        for limit, head, fmt in ((0xFF, 0xCC, ">B"), (0xFFFF, 0xCD, ">H"), (0xFFFFFFFF, 0xCE, ">I"), (0xFFFFFFFFFFFFFFFF, 0xCF, ">Q")):
            if value <= limit:
                out.append(head)
                out += struct.pack(fmt, value)
                return
        raise ZiProtoError(f"the int {value} is too large for ZiProto (at most 2**64 - 1)")
    else:
        for limit, head, fmt in ((-0x80, 0xD0, ">b"), (-0x8000, 0xD1, ">h"), (-0x80000000, 0xD2, ">i"), (-0x8000000000000000, 0xD3, ">q")):
            if value >= limit:
                out.append(head)
                out += struct.pack(fmt, value)
                return
        raise ZiProtoError(f"the int {value} is too small for ZiProto (at least -2**63)")


def _encode_count(count: int, out: bytearray, fix: int, head16: int, head32: int) -> None:
    if count <= 0x0F:
        out.append(fix | count)
    elif count <= 0xFFFF:
        out.append(head16)
        out += struct.pack(">H", count)
    else:
        out.append(head32)
        out += struct.pack(">I", count)


# -- decoding ------------------------------------------------------------------------------------------

#: fixed-size scalars: head byte -> (struct format, size)
_SCALARS: dict[int, tuple[str, int]] = {
    0xCA: (">f", 4),
    0xCB: (">d", 8),
    0xCC: (">B", 1),
    0xCD: (">H", 2),
    0xCE: (">I", 4),
    0xCF: (">Q", 8),
    0xD0: (">b", 1),
    0xD1: (">h", 2),
    0xD2: (">i", 4),
    0xD3: (">q", 8),
}
#: str and bin with a length field: head byte -> (length format, length size, is str)
_SIZED: dict[int, tuple[str, int, bool]] = {
    0xD9: (">B", 1, True),
    0xDA: (">H", 2, True),
    0xDB: (">I", 4, True),
    0xC4: (">B", 1, False),
    0xC5: (">H", 2, False),
    0xC6: (">I", 4, False),
}
_LONG_CONTAINERS = {0xDC: "array16", 0xDD: "array32", 0xDE: "map16", 0xDF: "map32"}


def decode(data: bytes | bytearray | memoryview) -> Any:
    """The first value in ``data``, as ziproto 1.0 decodes it (trailing bytes ignored; see the
    module docstring for what is rejected)."""
    value, _end = decode_prefix(data)
    return value


def decode_prefix(data: bytes | bytearray | memoryview) -> tuple[Any, int]:
    """The first value in ``data`` and the offset just past it (which may exceed ``len(data)`` when a
    str or bin at the end was cut short, as ziproto 1.0 allows)."""
    buffer = bytes(data)
    if not buffer:
        raise ZiProtoError("empty ZiProto input")
    try:
        return _decode(buffer, 0, 0)
    except RecursionError as exc:  # nesting that reaches the interpreter's limit before _MAX_DEPTH
        raise ZiProtoError(f"ZiProto {describe_failure(exc)}") from None


def _decode(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > _MAX_DEPTH:
        raise ZiProtoError(f"ZiProto nested more than {_MAX_DEPTH} levels at offset {pos}")
    if pos >= len(data):
        raise ZiProtoError(f"ZiProto data ends at offset {pos}, where a value was expected")
    head = data[pos]
    pos += 1
    if head <= 0x7F:
        return head, pos
    if head >= 0xE0:
        return head - 0x100, pos
    if 0x80 <= head <= 0x8F:
        return _decode_map(data, pos, head & 0x0F, depth)
    if 0x90 <= head <= 0x9F:
        return _decode_array(data, pos, head & 0x0F, depth)
    if 0xA0 <= head <= 0xBF:
        return _text(data, pos, head & 0x1F)
    if head == 0xC0:
        return None, pos
    if head == 0xC2:
        return False, pos
    if head == 0xC3:
        return True, pos
    if head in _SCALARS:
        fmt, size = _SCALARS[head]
        raw = data[pos : pos + size]
        if len(raw) < size:
            raise ZiProtoError(f"ZiProto value 0x{head:02x} at offset {pos - 1} is truncated ({len(raw)} of {size} bytes)")
        return struct.unpack(fmt, raw)[0], pos + size
    if head in _SIZED:
        fmt, size, is_str = _SIZED[head]
        raw = data[pos : pos + size]
        if len(raw) < size:
            raise ZiProtoError(f"the length of ZiProto value 0x{head:02x} at offset {pos - 1} is truncated")
        length = struct.unpack(fmt, raw)[0]
        pos += size
        if is_str:
            return _text(data, pos, length)
        return data[pos : pos + length], pos + length
    if head in _LONG_CONTAINERS:
        raise ZiProtoError(
            f"{_LONG_CONTAINERS[head]} at offset {pos - 1}: ziproto 1.0 cannot decode maps or arrays with a "
            f"16- or 32-bit count (16 entries or more)"
        )
    if head == 0xC1:
        raise ZiProtoError(f"0xc1 at offset {pos - 1} is never used in ZiProto")
    raise ZiProtoError(f"0x{head:02x} at offset {pos - 1} is a MessagePack ext type, which ZiProto does not have")


def _text(data: bytes, pos: int, length: int) -> tuple[str, int]:
    raw = data[pos : pos + length]  # cut short silently at the end of the data, as ziproto 1.0 does
    try:
        return raw.decode("utf-8"), pos + length
    except UnicodeDecodeError as exc:
        raise ZiProtoError(f"a ZiProto str at offset {pos} is not UTF-8: {exc.reason}") from None


def _decode_array(data: bytes, pos: int, count: int, depth: int) -> tuple[list[Any], int]:
    items = []
    for _ in range(count):
        item, pos = _decode(data, pos, depth + 1)
        items.append(item)
    return items, pos


def _decode_map(data: bytes, pos: int, count: int, depth: int) -> tuple[dict[Any, Any], int]:
    result: dict[Any, Any] = {}
    for _ in range(count):
        where = pos
        key, pos = _decode(data, pos, depth + 1)
        value, pos = _decode(data, pos, depth + 1)
        if isinstance(key, (dict, list)):
            raise ZiProtoError(f"a ZiProto map key at offset {where} is a {type(key).__name__}, which cannot be a key")
        result[key] = value
    return result, pos
