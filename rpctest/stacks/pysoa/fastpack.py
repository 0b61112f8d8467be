"""MessagePack for PySOA's envelopes, faster than msgpack's pure-Python fallback, byte for byte the same.

pysoa pins msgpack 0.6, which has no compiled extension for Python 3.11, so every PySOA frame rpctest
packed or unpacked went through ``msgpack.fallback``: its ``Packer`` tries a chain of ``isinstance``
checks per value and writes through a ``BytesIO``, its ``Unpacker`` reserves and reads a buffer per
header, and the four codec runs of a round trip (request and reply, each packed and unpacked) were
most of rpctest's own CPU time on the wire. This codec dispatches on the exact type (the JSON-like
trees of an envelope: ``dict``, ``list``, ``tuple``, ``str``, ``int``, ``float``, ``bool``, ``None``,
``bytes``) and slices ``bytes`` directly.

It never decides anything msgpack would decide differently: whatever it does not handle exactly as
``msgpack.packb(value, use_bin_type=True, unicode_errors="surrogatepass")`` and ``msgpack.unpackb(data,
raw=False, strict_map_key=False)`` would (a subclass, an ext type, an integer out of range, deep
nesting, a map key that is not a ``str``, bytes that are not valid or not complete), raises
:class:`NotFast`, and :mod:`rpctest.stacks.pysoa.wire` then runs msgpack itself, which gives the value
or the error it always gave. :data:`PAYS` says whether msgpack is the pure-Python fallback; with its
compiled extension (msgpack 1.x) msgpack is faster and is used directly.
"""

from __future__ import annotations

import struct
from typing import Any, Callable

import msgpack

__all__ = ["PAYS", "NotFast", "Packed", "packb", "unpackb"]

#: whether this msgpack runs in pure Python (then this codec is several times faster than it)
PAYS: bool = getattr(msgpack.Packer, "__module__", "") == "msgpack.fallback"

#: nesting beyond this is left to msgpack, whose own limit (511) and error then apply
_MAX_DEPTH = 100


class NotFast(Exception):
    """The value or the bytes need msgpack itself (this codec cannot vouch for the same result)."""


# -- packing -----------------------------------------------------------------------------------------


class Packed:
    """A value :func:`packb` packed before, spliced into a later packing as its bytes.

    A msgpack map or array is its header followed by its items' encodings, so a part of a message
    that is the same every time (a stub server's constant action response) is packed once and its
    bytes stand in for it: ``packb({"k": Packed(packb(v))}) == packb({"k": v})``. Not a ``bytes``
    subclass on purpose: msgpack would pack that as bin without a word, where it refuses this.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


_FIXSTR = [bytes((0xA0 | n,)) for n in range(32)]
_FIXMAP = [bytes((0x80 | n,)) for n in range(16)]
_FIXARRAY = [bytes((0x90 | n,)) for n in range(16)]
_SMALL_INTS = {n: bytes((n & 0xFF,)) for n in range(-32, 128)}
_B_H = struct.Struct(">BH").pack
_B_I = struct.Struct(">BI").pack
_B_D = struct.Struct(">Bd").pack
#: (upper bound, head byte, struct) for ints past the fixints, smallest format first, as msgpack picks
_POSITIVE = ((0xFF, struct.Struct(">BB").pack, 0xCC), (0xFFFF, _B_H, 0xCD), (0xFFFFFFFF, _B_I, 0xCE),
             (0xFFFFFFFFFFFFFFFF, struct.Struct(">BQ").pack, 0xCF))
_NEGATIVE = ((-0x80, struct.Struct(">Bb").pack, 0xD0), (-0x8000, struct.Struct(">Bh").pack, 0xD1),
             (-0x80000000, struct.Struct(">Bi").pack, 0xD2), (-0x8000000000000000, struct.Struct(">Bq").pack, 0xD3))


def packb(value: Any) -> bytes:
    """``value`` as msgpack packs it (bin type on, lone surrogates passed), or :class:`NotFast`."""
    parts: list[bytes] = []
    _pack(value, parts.append, 0)
    return b"".join(parts)


#: the packed form of short strings seen before (an envelope's keys, a client's reply_to...), bounded
_STRINGS: dict[str, bytes] = {}
_STRINGS_KEPT = 4096
_STRING_KEPT_SIZE = 64


def _packed_str(value: str) -> bytes:
    """A ``str`` (exactly) in msgpack's str format: the smallest header that holds its UTF-8 length."""
    data = value.encode("utf-8", "surrogatepass")
    size = len(data)
    if size < 32:
        packed = _FIXSTR[size] + data
        if len(_STRINGS) < _STRINGS_KEPT:
            _STRINGS[value] = packed
        return packed
    if size <= 0xFF:
        packed = bytes((0xD9, size)) + data
        if size <= _STRING_KEPT_SIZE and len(_STRINGS) < _STRINGS_KEPT:
            _STRINGS[value] = packed
        return packed
    if size <= 0xFFFF:
        return _B_H(0xDA, size) + data
    if size <= 0xFFFFFFFF:
        return _B_I(0xDB, size) + data
    raise NotFast()


def _pack(value: Any, out: Callable[[bytes], Any], depth: int) -> None:
    kind = type(value)
    if kind is str:
        out(_STRINGS.get(value) or _packed_str(value))
    elif kind is dict:
        if depth >= _MAX_DEPTH:
            raise NotFast()
        _pack_header(len(value), out, _FIXMAP, 0xDE, 0xDF)
        depth += 1
        strings = _STRINGS
        for key, item in value.items():
            # the common items inline (a call per item was most of the time): str keys and values
            if type(key) is str:
                out(strings.get(key) or _packed_str(key))
            else:
                _pack(key, out, depth)
            if type(item) is str:
                out(strings.get(item) or _packed_str(item))
            else:
                _pack(item, out, depth)
    elif kind is int:
        small = _SMALL_INTS.get(value)
        if small is not None:
            out(small)
        else:
            _pack_int(value, out)
    elif kind is list or kind is tuple:
        if depth >= _MAX_DEPTH:
            raise NotFast()
        _pack_header(len(value), out, _FIXARRAY, 0xDC, 0xDD)
        depth += 1
        for item in value:
            _pack(item, out, depth)
    elif value is None:
        out(b"\xc0")
    elif value is True:
        out(b"\xc3")
    elif value is False:
        out(b"\xc2")
    elif kind is float:
        out(_B_D(0xCB, value))
    elif kind is bytes:
        size = len(value)
        if size <= 0xFF:
            out(bytes((0xC4, size)))
        elif size <= 0xFFFF:
            out(_B_H(0xC5, size))
        elif size <= 0xFFFFFFFF:
            out(_B_I(0xC6, size))
        else:
            raise NotFast()
        out(value)
    elif kind is Packed:
        out(value.data)
    else:  # a subclass, an ext type, anything msgpack's default hook decides
        raise NotFast()


def _pack_header(count: int, out: Callable[[bytes], Any], fixed: list[bytes], head16: int, head32: int) -> None:
    if count < 16:
        out(fixed[count])
    elif count <= 0xFFFF:
        out(_B_H(head16, count))
    elif count <= 0xFFFFFFFF:
        out(_B_I(head32, count))
    else:
        raise NotFast()


def _pack_int(value: int, out: Callable[[bytes], Any]) -> None:
    if value > 0:
        for bound, pack, head in _POSITIVE:
            if value <= bound:
                out(pack(head, value))
                return
    else:
        for bound, pack, head in _NEGATIVE:
            if value >= bound:
                out(pack(head, value))
                return
    raise NotFast()  # out of msgpack's range: its default hook and error apply


# -- unpacking ---------------------------------------------------------------------------------------

_U16 = struct.Struct(">H").unpack_from
_U32 = struct.Struct(">I").unpack_from
#: fixed-size scalars after their head byte: head -> (struct reader, size)
_SCALARS: dict[int, tuple[Callable[[bytes, int], tuple[Any, ...]], int]] = {
    0xCA: (struct.Struct(">f").unpack_from, 4),
    0xCB: (struct.Struct(">d").unpack_from, 8),
    0xCC: (struct.Struct(">B").unpack_from, 1),
    0xCD: (_U16, 2),
    0xCE: (_U32, 4),
    0xCF: (struct.Struct(">Q").unpack_from, 8),
    0xD0: (struct.Struct(">b").unpack_from, 1),
    0xD1: (struct.Struct(">h").unpack_from, 2),
    0xD2: (struct.Struct(">i").unpack_from, 4),
    0xD3: (struct.Struct(">q").unpack_from, 8),
}


def unpackb(data: bytes) -> Any:
    """The one value in ``data`` as msgpack unpacks it (str as str, bin as bytes), or :class:`NotFast`
    (ext types, map keys other than str, anything malformed, incomplete or followed by more bytes)."""
    if type(data) is not bytes:
        raise NotFast()
    try:
        value, end = _unpack(data, 0, 0)
    except (IndexError, struct.error, UnicodeDecodeError, RecursionError):
        raise NotFast() from None
    if end != len(data):
        raise NotFast()
    return value


def _unpack(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    # A str or bin running past the end is cut short by the slice; its end offset is then past the
    # data, so the next read fails or unpackb's final check does (no value is ever taken from it).
    head = data[pos]
    pos += 1
    if head <= 0x7F:
        return head, pos
    if 0xA0 <= head <= 0xBF:
        end = pos + (head & 0x1F)
        return data[pos:end].decode("utf-8"), end
    if 0x80 <= head <= 0x8F:
        return _unpack_map(data, pos, head & 0x0F, depth)
    if 0x90 <= head <= 0x9F:
        return _unpack_array(data, pos, head & 0x0F, depth)
    if head >= 0xE0:
        return head - 0x100, pos
    if head == 0xC0:
        return None, pos
    if head == 0xC2:
        return False, pos
    if head == 0xC3:
        return True, pos
    scalar = _SCALARS.get(head)
    if scalar is not None:
        read, size = scalar
        return read(data, pos)[0], pos + size
    return _unpack_sized(data, pos, head, depth)


def _unpack_sized(data: bytes, pos: int, head: int, depth: int) -> tuple[Any, int]:
    """str8/16/32, bin8/16/32, array16/32 and map16/32: a length field, then the items."""
    if head in (0xD9, 0xC4):
        size, pos = data[pos], pos + 1
    elif head in (0xDA, 0xC5, 0xDC, 0xDE):
        size, pos = _U16(data, pos)[0], pos + 2
    elif head in (0xDB, 0xC6, 0xDD, 0xDF):
        size, pos = _U32(data, pos)[0], pos + 4
    else:  # ext types and 0xc1: msgpack's own ext hook or error
        raise NotFast()
    if head in (0xDC, 0xDD):
        return _unpack_array(data, pos, size, depth)
    if head in (0xDE, 0xDF):
        return _unpack_map(data, pos, size, depth)
    end = pos + size
    raw = data[pos:end]
    return (raw.decode("utf-8") if head >= 0xD9 else raw), end


def _unpack_array(data: bytes, pos: int, count: int, depth: int) -> tuple[list[Any], int]:
    if depth >= _MAX_DEPTH or count > len(data) - pos:
        raise NotFast()
    items = []
    depth += 1
    for _ in range(count):
        item, pos = _unpack(data, pos, depth)
        items.append(item)
    return items, pos


def _unpack_map(data: bytes, pos: int, count: int, depth: int) -> tuple[dict[str, Any], int]:
    if depth >= _MAX_DEPTH or count > len(data) - pos:
        raise NotFast()
    result: dict[str, Any] = {}
    depth += 1
    for _ in range(count):
        head = data[pos]
        if 0xA0 <= head <= 0xBF:  # a fixstr key, inline (a call per key was most of the time)
            end = pos + 1 + (head & 0x1F)
            key = data[pos + 1 : end].decode("utf-8")
            pos = end
        else:
            key, pos = _unpack(data, pos, depth)
            if type(key) is not str:
                raise NotFast()
        head = data[pos]
        if 0xA0 <= head <= 0xBF:
            end = pos + 1 + (head & 0x1F)
            result[key] = data[pos + 1 : end].decode("utf-8")
            pos = end
        elif head <= 0x7F:
            result[key] = head
            pos += 1
        else:
            result[key], pos = _unpack(data, pos, depth)
    return result, pos
