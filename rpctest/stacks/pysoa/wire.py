"""PySOA's Redis-gateway wire format, without pysoa.

This is the *wire half* of the PySOA adapter: it turns the Redis list elements that PySOA clients and
servers push into envelopes and back, byte for byte as PySOA 1.4.x does, so that rpctest's stub
server, wire client and golden-vector tests work with no stack library installed. It needs only
``msgpack`` (0.6.x, as pinned by pysoa, or 1.x, as needed by other stacks).

A list element (a *frame*) is::

    [b"pysoa-redis/3//"] [b"content-type:application/msgpack;" [b"chunk-count:N;chunk-id:i;"]] payload

Protocol 3 (the default) has the version prefix and the headers, protocol 2 only the headers and
protocol 1 neither. The payload is the envelope ``{request_id, meta, body}`` serialized with
msgpack (plus PySOA's ext types) or JSON.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
import struct
import warnings
from dataclasses import dataclass, field
from collections.abc import Callable, Iterable, Mapping, Sequence  # not typing's: isinstance is slower there
from typing import Any, NamedTuple

import msgpack

from rpctest.exceptions import TransportError
from rpctest.stacks.pysoa import fastpack
from rpctest.untrusted import Undecodable, decode_json

__all__ = [
    "PROTOCOL_PREFIX_V3",
    "CONTENT_TYPE_MSGPACK",
    "CONTENT_TYPE_JSON",
    "CONTENT_TYPES",
    "QUEUE_KEY_PREFIX",
    "DEFAULT_CLIENT_VERSION",
    "WireError",
    "CurrencyAmount",
    "RedisMessage",
    "Frame",
    "parse_frame",
    "encode_payload",
    "decode_payload",
    "encode_message",
    "message_from_payload",
    "chunks_from_payload",
    "decode_message",
    "decode_frame",
    "encode_chunks",
    "decode_chunks",
    "with_expiry",
    "request_envelope",
    "envelope_errors",
    "make_reply_to",
    "request_queue_key",
    "response_queue_key",
]

PROTOCOL_PREFIX_V3 = b"pysoa-redis/3//"
CONTENT_TYPE_MSGPACK = "application/msgpack"
CONTENT_TYPE_JSON = "application/json"
#: the content types PySOA 1.4 ships serializers for
CONTENT_TYPES = (CONTENT_TYPE_MSGPACK, CONTENT_TYPE_JSON)
#: every Redis key PySOA uses starts with this
QUEUE_KEY_PREFIX = "pysoa:"
#: ``meta.client_version`` as sent by pysoa 1.4.9, the version the golden vectors were recorded with
DEFAULT_CLIENT_VERSION = (1, 4, 9)

_PROTOCOL_VERSIONS = (1, 2, 3)
_KNOWN_HEADERS = ("content-type", "chunk-count", "chunk-id")
# PySOA reads the version as any run of digits, and the headers with optional blanks around the
# name, the colon and the value; values are restricted to [a-zA-Z0-9_/.-].
_VERSION_RE = re.compile(rb"pysoa-redis/([0-9]+)//")
_HEADER_RE = re.compile(rb"\s*(content-type|chunk-count|chunk-id)\s*:\s*([a-zA-Z0-9_/.-]+)\s*;")
# Neither a msgpack map nor a JSON object can start like this, so it can only be a broken header.
_HEADER_LIKE_RE = re.compile(rb"\s*[A-Za-z][A-Za-z0-9_.-]*\s*:")
#: the framing of nearly every message (protocol 3, msgpack), which parse_frame recognises at once
_COMMON_FRAMING = PROTOCOL_PREFIX_V3 + b"content-type:" + CONTENT_TYPE_MSGPACK.encode("ascii") + b";"
_COMMON_OFFSET = len(_COMMON_FRAMING)

# PySOA's msgpack ext type codes and their struct layouts (big-endian).
_EXT_DATETIME = 1
_EXT_CURRINT = 2
_EXT_DATE = 3
_EXT_TIME = 4
_EXT_DECIMAL = 5
_EXT_DATETIME_UTC = 10
_DATETIME = struct.Struct("!q")
_CURRINT = struct.Struct("!3sq")
_DATE = struct.Struct("!HBB")
_TIME = struct.Struct("!3BL")
_DECIMAL_LENGTH = struct.Struct("!H")
_EPOCH = datetime.datetime(1970, 1, 1)
_EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class WireError(TransportError, ValueError):
    """Bytes that are not a PySOA Redis message, or a value PySOA cannot put on the wire.

    The message says what is wrong, so a stub server or test can show it instead of a traceback
    from deep inside msgpack or json.
    """


@dataclass(frozen=True)
class CurrencyAmount:
    """A ``currint.Amount`` as it travels (ext type 2), so decoding needs no currint install.

    Not a NamedTuple on purpose: msgpack would pack a tuple as an array without asking us.
    """

    code: str
    minor_value: int


@dataclass
class RedisMessage:
    """One decoded Redis list element.

    ``content_type`` is the serializer the payload was decoded with (and the one to answer with, as
    PySOA's server does). ``headers`` holds the other headers on the wire, such as ``chunk-count``;
    a declared content type that was not understood and fell back to a default is kept there too.
    """

    envelope: dict[str, Any]
    protocol_version: int = 3
    content_type: str = CONTENT_TYPE_MSGPACK
    headers: dict[str, str] = field(default_factory=dict)


class Frame(NamedTuple):
    """A list element split into its parts, before the payload is deserialized.

    ``payload_offset`` is where the payload starts, so tools can rewrite the payload and keep the
    framing bytes exactly as they were.
    """

    protocol_version: int
    headers: dict[str, str]
    payload: bytes
    payload_offset: int


# --- msgpack version differences ------------------------------------------------------------


def _accepts(func: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Whether this msgpack accepts the keyword arguments (probing beats parsing version numbers)."""
    try:
        func(*args, **kwargs)
    except TypeError:
        return False
    return True


# ``surrogatepass`` lets a lone surrogate travel, as PySOA's client allows (its server then fails).
_PACK_KWARGS: dict[str, Any] = {"use_bin_type": True}
if _accepts(msgpack.packb, "", use_bin_type=True, unicode_errors="surrogatepass"):
    _PACK_KWARGS["unicode_errors"] = "surrogatepass"
# msgpack 0.6 returns bytes for str unless raw=False; 1.x rejects int map keys unless told not to.
_UNPACK_KWARGS: dict[str, Any] = {"raw": False}
if _accepts(msgpack.unpackb, b"\x80", raw=False, strict_map_key=False):
    _UNPACK_KWARGS["strict_map_key"] = False
# msgpack >= 1.0 turns ext type -1 into a Timestamp without asking ext_hook; PySOA rejects it.
_TIMESTAMP_TYPE: type | None = getattr(msgpack, "Timestamp", None)


def _honours_unicode_errors() -> bool:
    """Whether ``unicode_errors`` works with ``raw=False`` (msgpack 1.x; 0.6 ignores it there)."""
    lone_surrogate = b"\xa3\xed\xb2\x80"  # a msgpack str holding "\udc80", packed with surrogatepass
    try:
        msgpack.unpackb(lone_surrogate, raw=False, unicode_errors="surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


_UNPACK_HONOURS_UNICODE_ERRORS = _honours_unicode_errors()


def _unpackb(payload: bytes, unicode_errors: str) -> Any:
    """``msgpack.unpackb`` with our ext types and string error handling, on any msgpack."""
    if unicode_errors == "strict":
        return msgpack.unpackb(payload, ext_hook=_ext_hook, **_UNPACK_KWARGS)
    if _UNPACK_HONOURS_UNICODE_ERRORS:
        return msgpack.unpackb(payload, ext_hook=_ext_hook, unicode_errors=unicode_errors, **_UNPACK_KWARGS)
    # msgpack 0.6 applies unicode_errors only with its deprecated ``encoding`` (bin and str stay apart)
    kwargs = {key: value for key, value in _UNPACK_KWARGS.items() if key != "raw"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return msgpack.unpackb(payload, ext_hook=_ext_hook, encoding="utf-8", unicode_errors=unicode_errors, **kwargs)


# --- msgpack ext types ----------------------------------------------------------------------


def _pysoa_microseconds(value: datetime.datetime, epoch: datetime.datetime) -> int:
    """Microseconds since the epoch, rounded the way PySOA's encoder does.

    PySOA goes through float seconds and truncates, which is 1 us short for some values; doing the
    same keeps our bytes identical to a real client's.
    """
    return int((value - epoch).total_seconds() * 1000000.0)


def _encode_datetime(value: datetime.datetime) -> msgpack.ExtType:
    """Ext 1 for naive date-times, ext 10 for UTC ones; PySOA has no way to send other zones."""
    if value.tzinfo is None:
        code, epoch = _EXT_DATETIME, _EPOCH
    elif value.utcoffset() == datetime.timedelta(0):
        code, epoch = _EXT_DATETIME_UTC, _EPOCH_UTC
    else:
        raise WireError(f"cannot encode a date-time in time zone {value.tzinfo!r}: PySOA sends naive or UTC only")
    try:
        return msgpack.ExtType(code, _DATETIME.pack(_pysoa_microseconds(value, epoch)))
    except struct.error as exc:
        raise WireError(f"date-time {value!r} does not fit PySOA's int64 microseconds") from exc


def _encode_decimal(value: decimal.Decimal) -> msgpack.ExtType:
    """Ext 5: a 2-byte length and the decimal's text (PySOA would silently cut it at 65535)."""
    text = str(value).encode("ascii")
    if len(text) > 0xFFFF:
        raise WireError(f"Decimal with {len(text)} characters is too long for PySOA's ext type 5 (max 65535)")
    return msgpack.ExtType(_EXT_DECIMAL, _DECIMAL_LENGTH.pack(len(text)) + text)


def _currency_parts(value: Any) -> tuple[str, int] | None:
    """(code, minor value) of a CurrencyAmount or a real ``currint.Amount``; None for anything else."""
    if isinstance(value, CurrencyAmount):
        return value.code, value.minor_value
    if type(value).__module__.split(".")[0] == "currint" and hasattr(value, "currency"):
        return value.currency.code, value.value
    return None


def _encode_currency(code: str, minor_value: int) -> msgpack.ExtType:
    """Ext 2: the upper-cased 3-letter ISO code then the minor value as int64."""
    raw = code.upper().encode("ascii", "replace")
    if len(raw) != 3:
        raise WireError(f"currency code {code!r} must have 3 letters to fit PySOA's ext type 2")
    try:
        return msgpack.ExtType(_EXT_CURRINT, _CURRINT.pack(raw, minor_value))
    except struct.error as exc:
        raise WireError(f"currency minor value {minor_value!r} does not fit int64") from exc


def _ext_default(value: Any) -> msgpack.ExtType:
    """msgpack's ``default`` hook: PySOA's ext types, and a clear error for everything else."""
    if isinstance(value, datetime.datetime):  # before date: a datetime is a date
        return _encode_datetime(value)
    if isinstance(value, datetime.date):
        return msgpack.ExtType(_EXT_DATE, _DATE.pack(value.year, value.month, value.day))
    if isinstance(value, datetime.time):  # like PySOA, a time's tzinfo is not sent
        return msgpack.ExtType(_EXT_TIME, _TIME.pack(value.hour, value.minute, value.second, value.microsecond))
    if isinstance(value, decimal.Decimal):
        return _encode_decimal(value)
    currency = _currency_parts(value)
    if currency is not None:
        return _encode_currency(*currency)
    raise WireError(
        f"cannot encode a {type(value).__name__} to PySOA msgpack: only dict, list, tuple, str, bytes, int, "
        "float, bool, None, datetime, date, time, Decimal and currency amounts travel"
    )


def _decode_datetime(code: int, data: bytes) -> datetime.datetime:
    """The date-time a PySOA encoder turned into these microseconds.

    PySOA's encoder truncates through a float (see :func:`_pysoa_microseconds`); when the exact
    instant would not encode back to the same integer, the neighbouring microsecond that does is
    the value the sender had, so we return that one and re-encoding stays byte-exact.
    """
    (micros,) = _DATETIME.unpack(data)
    epoch = _EPOCH_UTC if code == _EXT_DATETIME_UTC else _EPOCH
    try:
        exact = epoch + datetime.timedelta(microseconds=micros)
    except OverflowError as exc:
        raise WireError(f"date-time ext value {micros} us is outside Python's datetime range") from exc
    for delta in (0, 1, -1, 2, -2):
        try:
            candidate = exact + datetime.timedelta(microseconds=delta)
        except OverflowError:
            continue
        if _pysoa_microseconds(candidate, epoch) == micros:
            return candidate
    return exact


def _decode_decimal(data: bytes) -> decimal.Decimal:
    """Ext 5 back to a Decimal, checking the length prefix instead of trusting it."""
    (length,) = _DECIMAL_LENGTH.unpack(data[:2])
    text = data[2:]
    if len(text) != length:
        raise WireError(f"Decimal ext says {length} bytes but carries {len(text)}")
    try:
        return decimal.Decimal(text.decode("ascii"))
    except (UnicodeDecodeError, decimal.InvalidOperation) as exc:
        raise WireError(f"Decimal ext holds {text!r}, which is not a decimal number") from exc


_EXT_SIZES = {_EXT_DATETIME: 8, _EXT_DATETIME_UTC: 8, _EXT_DATE: 4, _EXT_TIME: 7, _EXT_CURRINT: 11}


def _ext_hook(code: int, data: bytes) -> Any:
    """msgpack's ``ext_hook``: PySOA's ext types back to Python values."""
    size = _EXT_SIZES.get(code)
    if size is not None and len(data) != size:
        raise WireError(f"msgpack ext type {code} must hold {size} bytes, not {len(data)}")
    try:
        if code in (_EXT_DATETIME, _EXT_DATETIME_UTC):
            return _decode_datetime(code, data)
        if code == _EXT_DATE:
            return datetime.date(*_DATE.unpack(data))
        if code == _EXT_TIME:
            return datetime.time(*_TIME.unpack(data))
        if code == _EXT_DECIMAL:
            return _decode_decimal(data)
        if code == _EXT_CURRINT:
            raw_code, minor_value = _CURRINT.unpack(data)
            return CurrencyAmount(raw_code.decode("ascii"), minor_value)
    except (ValueError, struct.error) as exc:
        if isinstance(exc, WireError):
            raise
        raise WireError(f"msgpack ext type {code} holds an invalid value: {exc}") from exc
    raise WireError(f"unknown msgpack ext type {code}: PySOA uses 1, 2, 3, 4, 5 and 10")


def _reject_timestamps(value: Any) -> None:
    """Fail on msgpack's own Timestamp (ext -1), which PySOA does not understand, on every msgpack."""
    if isinstance(value, dict):
        for item in value.values():
            _reject_timestamps(item)
    elif isinstance(value, list):
        for item in value:
            _reject_timestamps(item)
    elif _TIMESTAMP_TYPE is not None and isinstance(value, _TIMESTAMP_TYPE):
        raise WireError("unknown msgpack ext type -1 (msgpack Timestamp): PySOA uses 1, 2, 3, 4, 5 and 10")


# --- payload serializers --------------------------------------------------------------------


def _pack_msgpack(envelope: dict[str, Any]) -> bytes:
    if fastpack.PAYS:  # the same bytes as msgpack's pure-Python fallback, several times faster
        try:
            return fastpack.packb(envelope)
        except fastpack.NotFast:
            pass
    try:
        packed: bytes = msgpack.packb(envelope, default=_ext_default, **_PACK_KWARGS)
        return packed
    except WireError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise WireError(f"cannot encode the envelope as msgpack: {exc}") from exc


def _dump_json(envelope: dict[str, Any]) -> bytes:
    """PySOA's JSON serializer is ``json.dumps`` with every default; spelled out so it stays that way."""
    try:
        text = json.dumps(envelope, ensure_ascii=True, allow_nan=True, sort_keys=False, separators=(", ", ": "))
    except (TypeError, ValueError) as exc:
        raise WireError(f"cannot encode the envelope as JSON (PySOA sends plain JSON types only): {exc}") from exc
    return text.encode("utf-8")


def _unpack_msgpack(payload: bytes, unicode_errors: str) -> Any:
    if fastpack.PAYS and unicode_errors == "strict":
        # under msgpack's pure-Python fallback, fastpack reads what it can vouch for (msgpack's value;
        # it holds no ext type, so no Timestamp either); anything else still goes through msgpack
        try:
            return fastpack.unpackb(payload)
        except fastpack.NotFast:
            pass
    try:
        value = _unpackb(payload, unicode_errors)
    except WireError:
        raise
    except UnicodeDecodeError as exc:
        raise WireError(
            f"payload is not valid msgpack: a string is not UTF-8 ({exc.reason} at string byte {exc.start}); "
            "a lone surrogate? PySOA's client packs those with surrogatepass and its server cannot read them "
            "(decode with unicode_errors='surrogatepass' to see the message anyway)"
        ) from exc
    except Exception as exc:  # msgpack 0.6 and 1.x raise different classes (ValueError, UnpackException...)
        raise WireError(f"payload is not valid msgpack ({type(exc).__name__}: {exc})") from exc
    if _TIMESTAMP_TYPE is not None and b"\xff" in payload:  # only then can an ext type -1 be in there
        _reject_timestamps(value)
    return value


def _load_json(payload: bytes) -> Any:
    try:
        return decode_json(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise WireError(f"payload is not valid JSON ({type(exc).__name__}: {exc})") from exc
    except Undecodable as exc:  # a syntax error, or nesting or an integer Python cannot read
        raise WireError(f"payload is not valid JSON ({type(exc.original).__name__}: {exc.detail})") from exc


def _check_content_type(content_type: str) -> None:
    if content_type not in CONTENT_TYPES:
        raise WireError(f"unknown content-type {content_type!r}: PySOA knows {', '.join(CONTENT_TYPES)}")


def encode_payload(envelope: dict[str, Any], content_type: str = CONTENT_TYPE_MSGPACK) -> bytes:
    """Serialize an envelope exactly as PySOA's serializer for ``content_type`` does (no framing)."""
    _check_content_type(content_type)
    if not isinstance(envelope, dict):
        raise WireError(f"an envelope must be a dict, not {type(envelope).__name__}")
    if content_type == CONTENT_TYPE_JSON:
        return _dump_json(envelope)
    return _pack_msgpack(envelope)


def decode_payload(payload: bytes, content_type: str = CONTENT_TYPE_MSGPACK, *, unicode_errors: str = "strict") -> dict[str, Any]:
    """Deserialize a payload and insist on a map, as every PySOA envelope is one.

    ``unicode_errors="surrogatepass"`` reads strings with lone surrogates, which PySOA's client can
    send but its server cannot read (msgpack only; JSON escapes them anyway).
    """
    _check_content_type(content_type)
    if content_type == CONTENT_TYPE_JSON:
        value = _load_json(payload)
    else:
        value = _unpack_msgpack(payload, unicode_errors)
    if not isinstance(value, dict):
        kind = "JSON" if content_type == CONTENT_TYPE_JSON else "msgpack"
        raise WireError(f"payload is a {kind} {_type_word(value)}, not a map: a PySOA envelope must be a map")
    return value


def _type_word(value: Any) -> str:
    return {list: "array", str: "string", bytes: "bin", bool: "boolean", type(None): "nil"}.get(
        type(value), type(value).__name__
    )


# --- framing --------------------------------------------------------------------------------


def parse_frame(data: bytes) -> Frame:
    """Split a list element into protocol version, headers and payload, as PySOA reads them.

    Like PySOA: a ``pysoa-redis/N//`` prefix gives the version, otherwise a leading
    ``content-type`` means protocol 2 and anything else protocol 1; headers are then read while
    they match. Unlike PySOA, something that looks like a header but is not a valid one is an
    error here instead of being handed to the deserializer.
    """
    if type(data) is bytes and data.startswith(_COMMON_FRAMING) and data[_COMMON_OFFSET : _COMMON_OFFSET + 1] >= b"\x80":
        # nearly every message: protocol 3, msgpack, not chunked; a byte past ASCII (a msgpack map's
        # head) can start no header, so the reading below would end here with these very parts
        return Frame(3, {"content-type": CONTENT_TYPE_MSGPACK}, data[_COMMON_OFFSET:], _COMMON_OFFSET)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError(f"a Redis message is bytes, not {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise WireError("empty message: a PySOA Redis list element is never empty")
    offset, version = _parse_version(data)
    headers: dict[str, str] = {}
    while match := _HEADER_RE.match(data, offset):
        headers[match.group(1).decode("ascii")] = match.group(2).decode("ascii")
        offset = match.end()
    if _HEADER_LIKE_RE.match(data, offset):
        snippet = data[offset : offset + 40]
        raise WireError(
            f"bad header syntax at byte {offset}: {snippet!r}; expected 'name:value;' with name one of "
            f"{', '.join(_KNOWN_HEADERS)} and a value of letters, digits and _ / . -"
        )
    return Frame(version, headers, data[offset:], offset)


def _parse_version(data: bytes) -> tuple[int, int]:
    """(payload offset, protocol version) from the start of a frame."""
    match = _VERSION_RE.match(data)
    if match:
        digits = match.group(1)
        # PySOA reads any run of digits; more than int() converts (4300) is no version either
        version = int(digits) if len(digits) <= 9 else -1
        if version not in _PROTOCOL_VERSIONS:
            shown = digits.decode() if version >= 0 else f"of {len(digits)} digits"
            raise WireError(f"unsupported protocol version {shown} in prefix {match.group(0)[:40]!r}: PySOA has 1-3")
        return match.end(), version
    if data.startswith(b"pysoa-redis/"):
        raise WireError(f"malformed protocol prefix {data[:24]!r}: expected b'pysoa-redis/<N>//'")
    if data.startswith(b"content-type"):
        return 0, 2
    return 0, 1


def _payload_content_type(frame: Frame, default_content_type: str | None) -> tuple[str, dict[str, str]]:
    """The serializer to use and the headers left over, following PySOA's server fallback rules."""
    headers = dict(frame.headers)
    declared = headers.get("content-type")
    if declared in CONTENT_TYPES:
        del headers["content-type"]
        return declared, headers
    if declared is None:
        return default_content_type or CONTENT_TYPE_MSGPACK, headers
    if default_content_type is None:
        raise WireError(
            f"unknown content-type {declared!r}: PySOA knows {', '.join(CONTENT_TYPES)} (a real PySOA server "
            "falls back to its default serializer; pass default_content_type to do the same)"
        )
    _check_content_type(default_content_type)
    return default_content_type, headers


def _check_chunk_headers(headers: Mapping[str, str]) -> tuple[int, int] | None:
    """(chunk id, chunk count) of a chunk, None for a whole message."""
    if "chunk-count" not in headers and "chunk-id" not in headers:
        return None
    try:
        count, index = int(headers["chunk-count"]), int(headers["chunk-id"])
    except KeyError as exc:
        raise WireError(f"chunked message without the {exc.args[0]} header") from None
    except ValueError:
        raise WireError(f"chunk headers must be numbers, got {dict(headers)!r}") from None
    if not 1 <= index <= count:
        raise WireError(f"chunk-id {index} is outside 1..chunk-count {count}")
    return index, count


def _frame_bytes(protocol_version: int, content_type: str) -> bytes:
    """What precedes the payload for a protocol version (PySOA 1.4's layout)."""
    if protocol_version not in _PROTOCOL_VERSIONS:
        raise WireError(f"unsupported protocol version {protocol_version!r}: PySOA has 1, 2 and 3")
    if protocol_version == 1:
        return b""
    header = b"content-type:" + content_type.encode("ascii") + b";"
    return PROTOCOL_PREFIX_V3 + header if protocol_version == 3 else header


def encode_message(
    envelope: dict[str, Any], *, protocol_version: int = 3, content_type: str = CONTENT_TYPE_MSGPACK
) -> bytes:
    """The list element PySOA pushes for ``envelope``, byte for byte.

    Protocol 1 has no header, so the receiver must already know the content type (PySOA assumes
    its default, msgpack).
    """
    _check_content_type(content_type)
    frame = _frame_bytes(protocol_version, content_type)
    return frame + encode_payload(envelope, content_type)


def message_from_payload(payload: bytes, *, protocol_version: int = 3, content_type: str = CONTENT_TYPE_MSGPACK) -> bytes:
    """The list element for a payload already encoded (by :func:`encode_payload`): what
    :func:`encode_message` returns, for a server that measures the payload before sending it."""
    _check_content_type(content_type)
    return _frame_bytes(protocol_version, content_type) + payload


def decode_message(
    data: bytes, *, default_content_type: str | None = None, unicode_errors: str = "strict"
) -> RedisMessage:
    """Decode one list element into a :class:`RedisMessage`; a :class:`WireError` says why not.

    ``default_content_type`` is used when the frame names no content type (protocol 1, or a
    headerless 2/3), and also, as a real PySOA server does, when it names one nobody knows; left at
    None, an unknown content type is an error, because a test usually wants to hear about it.
    """
    return decode_frame(parse_frame(data), default_content_type=default_content_type, unicode_errors=unicode_errors)


def decode_frame(frame: Frame, *, default_content_type: str | None = None, unicode_errors: str = "strict") -> RedisMessage:
    """:func:`decode_message` for a frame :func:`parse_frame` already split (a reader that looked at
    its headers first need not parse it twice)."""
    content_type, headers = _payload_content_type(frame, default_content_type)
    chunk = _check_chunk_headers(headers)
    if chunk is not None and chunk[1] > 1:
        raise WireError(f"this is chunk {chunk[0]} of {chunk[1]}: decode all chunks together with decode_chunks()")
    envelope = decode_payload(frame.payload, content_type, unicode_errors=unicode_errors)
    return RedisMessage(envelope, frame.protocol_version, content_type, headers)


# --- chunking (server responses, protocol 3) ------------------------------------------------


def encode_chunks(envelope: dict[str, Any], chunk_size: int, *, content_type: str = CONTENT_TYPE_MSGPACK) -> list[bytes]:
    """The list elements a PySOA server pushes when chunking responses larger than ``chunk_size``.

    A payload that fits is sent whole, as one unchunked element, exactly as PySOA does.
    """
    if chunk_size <= 0:
        raise WireError(f"chunk_size must be positive, not {chunk_size!r}")
    return chunks_from_payload(encode_payload(envelope, content_type), chunk_size, content_type=content_type)


def chunks_from_payload(payload: bytes, chunk_size: int, *, content_type: str = CONTENT_TYPE_MSGPACK) -> list[bytes]:
    """:func:`encode_chunks` for a payload already encoded."""
    if chunk_size <= 0:
        raise WireError(f"chunk_size must be positive, not {chunk_size!r}")
    if len(payload) <= chunk_size:
        return [_frame_bytes(3, content_type) + payload]
    count = math.ceil(len(payload) / chunk_size)
    head = _frame_bytes(3, content_type) + b"chunk-count:%d;" % count
    return [
        head + b"chunk-id:%d;" % (index + 1) + payload[index * chunk_size : (index + 1) * chunk_size]
        for index in range(count)
    ]


def decode_chunks(chunks: Sequence[bytes], *, default_content_type: str | None = None) -> RedisMessage:
    """Join a chunked response (all its list elements, in order) and decode it.

    The checks are the ones PySOA's client makes: every chunk has both chunk headers, the same
    chunk count, and the next chunk id.
    """
    if not chunks:
        raise WireError("no chunks given")
    frames = [parse_frame(chunk) for chunk in chunks]
    content_type, headers = _payload_content_type(frames[0], default_content_type)
    first = _check_chunk_headers(headers)
    if first is None:
        if len(frames) > 1:
            raise WireError("the first element is not a chunk, but more elements were given")
        envelope = decode_payload(frames[0].payload, content_type)
        return RedisMessage(envelope, frames[0].protocol_version, content_type, headers)
    _check_chunk_sequence(frames, first[1])
    envelope = decode_payload(b"".join(frame.payload for frame in frames), content_type)
    headers.pop("chunk-id", None)
    return RedisMessage(envelope, frames[0].protocol_version, content_type, headers)


def _check_chunk_sequence(frames: Sequence[Frame], count: int) -> None:
    if len(frames) != count:
        raise WireError(f"chunk-count is {count} but {len(frames)} chunks were given")
    for expected, frame in enumerate(frames, start=1):
        chunk = _check_chunk_headers(frame.headers)
        if chunk is None:
            raise WireError(f"element {expected} has no chunk headers")
        if chunk[1] != count:
            raise WireError(f"chunk {expected} says chunk-count {chunk[1]}, the first said {count}")
        if chunk[0] != expected:
            raise WireError(f"chunk-id {chunk[0]} where chunk {expected} was expected")


# --- replay ---------------------------------------------------------------------------------


def with_expiry(data: bytes, expiry: float) -> bytes:
    """``data`` with ``meta.__expiry__`` set to ``expiry`` (epoch seconds), all else unchanged.

    Recorded requests carry an expiry long past, and a server drops expired requests silently, so a
    replay must refresh it (vectors README section 7). The framing bytes are kept as they were (even
    an unknown content type, which PySOA reads as msgpack), lone surrogates survive, and the expiry
    is always a float, so in msgpack its byte range does not move.
    """
    frame = parse_frame(data)
    content_type, headers = _payload_content_type(frame, CONTENT_TYPE_MSGPACK)
    if _check_chunk_headers(headers) is not None:
        raise WireError("cannot refresh the expiry of a single chunk; requests are never chunked")
    envelope = decode_payload(frame.payload, content_type, unicode_errors="surrogatepass")
    meta = envelope.get("meta")
    if not isinstance(meta, dict) or "__expiry__" not in meta:
        raise WireError("message has no meta.__expiry__ to refresh (PySOA never expires such a message)")
    meta["__expiry__"] = float(expiry)
    return bytes(data[: frame.payload_offset]) + encode_payload(envelope, content_type)


# --- envelopes and keys ---------------------------------------------------------------------


def _as_sent(value: Any) -> Any:
    """A copy of ``value`` as PySOA's client puts it on the wire.

    The client runs ``attr.asdict`` over the job request, which makes tuples, sets and frozensets
    into lists (so a tuple can never reach an action) and copies dicts.
    """
    kind = type(value)
    if kind in _SENT_AS_IS:  # the leaves of every body, before the isinstance checks subclasses need
        return value
    leaves = _SENT_AS_IS  # the leaves again, inline: a call per leaf was most of a request's copy
    if kind is dict or isinstance(value, dict):
        return {key: item if type(item) in leaves else _as_sent(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [item if type(item) in leaves else _as_sent(item) for item in value]
    return value


_SENT_AS_IS = frozenset((str, int, float, bool, type(None), bytes))


def _action_request(action: Any) -> dict[str, Any]:
    """``{action, body}`` from a name, a mapping, or an object with ``action``/``body`` attributes."""
    if isinstance(action, str):
        name, body = action, {}
    elif isinstance(action, Mapping):
        unknown = set(action) - {"action", "body"}
        if "action" not in action or unknown:
            raise WireError(f"an action request has the keys 'action' and optionally 'body', not {sorted(action)}")
        name, body = action["action"], action.get("body", {})
    else:
        name, body = getattr(action, "action"), getattr(action, "body", {})
    return {"action": name, "body": _as_sent(body)}


def _merged_switches(switches: Iterable[int], extra: Iterable[int]) -> list[int]:
    """The switches list in the order PySOA's client sends it.

    The client merges them through sets, so the order is a set's iteration order; the same set
    operations, in the same sequence, give the same order (ints hash to themselves).
    """
    merged = set(switches)
    merged |= set(extra)
    return list(set() | merged) if merged else []


def request_envelope(
    actions: Iterable[Any],
    *,
    request_id: int,
    reply_to: str,
    expiry: float,
    correlation_id: str,
    switches: Iterable[int] = (),
    continue_on_error: bool = False,
    suppress_response: bool = False,
    client_version: Sequence[int] = DEFAULT_CLIENT_VERSION,
    context_extra: Mapping[str, Any] | None = None,
    control_extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The request envelope PySOA's client sends, with its exact key order.

    That order is ``request_id, meta{client_version, reply_to, __expiry__}, body{control, context,
    actions}``; ``control`` is ``continue_on_error, suppress_response`` then ``control_extra`` (e.g.
    ``timeout``), and ``context`` is ``correlation_id, switches`` then ``context_extra``. As in the
    client, extra keys that already exist replace the value in place, and ``switches`` in
    ``context_extra`` are merged into the switches. Pass ``expiry`` as epoch seconds (now + 60 s
    by default in PySOA).
    """
    context_extra = dict(context_extra or {})
    extra_switches = context_extra.pop("switches", None) or ()
    control = {"continue_on_error": continue_on_error, "suppress_response": suppress_response}
    control.update(control_extra or {})
    context = {"correlation_id": correlation_id, "switches": _merged_switches(switches, extra_switches)}
    context.update(context_extra)
    body = {
        "control": _as_sent(control),
        "context": _as_sent(context),
        "actions": [_action_request(action) for action in actions],
    }
    meta = {"client_version": list(client_version), "reply_to": reply_to, "__expiry__": float(expiry)}
    return {"request_id": request_id, "meta": meta, "body": body}


def envelope_errors(envelope: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """(job errors, errors of each action) of a response envelope, as the dicts on the wire.

    A job error (e.g. a RESPONSE_TOO_LARGE) comes with no actions at all; an action error sits
    with its action. Tests want both without walking the envelope by hand.
    """
    body = envelope.get("body") if isinstance(envelope, Mapping) else None
    if not isinstance(body, Mapping):
        raise WireError("not a response envelope: it has no 'body' map")
    job_errors = body.get("errors") or []
    actions = body.get("actions") or []
    if not isinstance(job_errors, list) or not isinstance(actions, list):
        raise WireError("not a response envelope: body.errors and body.actions must be lists")
    action_errors = [list(action.get("errors") or []) if isinstance(action, Mapping) else [] for action in actions]
    return list(job_errors), action_errors


def make_reply_to(service: str, client_id: str, thread_id: int) -> str:
    """``meta.reply_to`` as PySOA's client makes it: ``service.<service>.<client id>!<thread id hex>``.

    The ``!`` is what marks a response queue; the thread id is zero-padded to 12 hex digits.
    """
    return f"service.{service}.{client_id}!{thread_id:012x}"


def request_queue_key(service: str) -> str:
    """The Redis list a service's servers pop requests from."""
    return f"{QUEUE_KEY_PREFIX}service.{service}"


def response_queue_key(reply_to: str) -> str:
    """The Redis list a server pushes a response onto: the prefix plus the request's ``reply_to``."""
    return QUEUE_KEY_PREFIX + reply_to
