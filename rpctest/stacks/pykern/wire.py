"""pykern.api's wire format, clean-room: one msgpack map per binary WebSocket message.

The byte layout is pinned by the golden vectors (``tests/golden/pykern``), so every encoder here
builds its map in the key order pykern's peers put on the wire: a call is
``api_name, api_args, call_id, msg_kind``; a reply ``api_result, api_error, msg_kind, call_id``;
the server's end of a subscription ``msg_kind, call_id``; the client's cancel ``call_id, msg_kind``.
msgpack keeps insertion order, so the order of the dict literal *is* the wire order.

Decoding applies the validity rules of pykern's ``msg_unpack`` for one side (what it accepts, what
makes the peer drop the connection), but reports the problem as words a test failure can show.
Nothing here imports pykern: the wire half must work without it.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Any, Literal

import msgpack

from rpctest.exceptions import TransportError

__all__ = [
    "CALL",
    "REPLY",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "KIND_NAMES",
    "AUTH_API_NAME",
    "AUTH_API_VERSION",
    "WireError",
    "Unpackable",
    "Message",
    "pack",
    "encode_call",
    "encode_subscribe",
    "encode_unsubscribe",
    "encode_reply",
    "encode_error_reply",
    "encode_end_of_subscription",
    "auth_args",
    "check",
    "decode",
    "reply_fields",
]

CALL = 777501
REPLY = 777502
SUBSCRIBE = 777503
UNSUBSCRIBE = 777504
KIND_NAMES = {CALL: "CALL", REPLY: "REPLY", SUBSCRIBE: "SUBSCRIBE", UNSUBSCRIBE: "UNSUBSCRIBE"}

AUTH_API_NAME = "authenticate_connection"
AUTH_API_VERSION = 658584001

Side = Literal["server", "client"]
#: the kinds each side accepts (pykern closes the connection on any other)
_ACCEPTS: dict[str, frozenset[int]] = {
    "server": frozenset({CALL, SUBSCRIBE, UNSUBSCRIBE}),
    "client": frozenset({REPLY, UNSUBSCRIBE}),
}


class WireError(TransportError):
    """A frame that is not a valid pykern.api message for the side reading it (the text says why)."""


class Unpackable(WireError):
    """A value msgpack cannot pack, even with pykern's conversions (a set, ``object()``...)."""


def _default(value: Any) -> Any:
    """pykern's conversions for what msgpack cannot pack by itself (see its ``msg_pack``)."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())  # pykern drops the fraction; a naive datetime is local time
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "tolist"):  # numpy and pandas values
        return value.tolist()
    raise TypeError(f"cannot pack {type(value).__name__} {_short(value)}")


def _short(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real problem
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def pack(value: Any) -> bytes:
    """``value`` as pykern packs it (bin for bytes, arrays for tuples, doubles for floats)."""
    try:
        packed: bytes = msgpack.packb(value, use_bin_type=True, default=_default)
        return packed
    except (TypeError, ValueError, OverflowError) as exc:
        raise Unpackable(f"msgpack cannot pack this message: {exc}") from None


def encode_call(api_name: Any, api_args: Any, call_id: int, *, kind: int = CALL) -> bytes:
    """A CALL (or, with ``kind=SUBSCRIBE``, a SUBSCRIBE) as pykern's client sends it."""
    return pack({"api_name": api_name, "api_args": api_args, "call_id": call_id, "msg_kind": kind})


def encode_subscribe(api_name: Any, api_args: Any, call_id: int) -> bytes:
    return encode_call(api_name, api_args, call_id, kind=SUBSCRIBE)


def encode_unsubscribe(call_id: int) -> bytes:
    """The client's cancel of subscription ``call_id`` (the server does not answer it)."""
    return pack({"call_id": call_id, "msg_kind": UNSUBSCRIBE})


def encode_reply(call_id: int, api_result: Any = None, api_error: str | None = None) -> bytes:
    """A REPLY as pykern's server sends it (``api_error`` None on success)."""
    return pack({"api_result": api_result, "api_error": api_error, "msg_kind": REPLY, "call_id": call_id})


def encode_error_reply(call_id: int, api_error: str) -> bytes:
    return encode_reply(call_id, None, api_error)


def encode_end_of_subscription(call_id: int) -> bytes:
    """The server's UNSUBSCRIBE that ends subscription ``call_id`` normally."""
    return pack({"msg_kind": UNSUBSCRIBE, "call_id": call_id})


def auth_args(token: Any = None, version: Any = AUTH_API_VERSION) -> dict[str, Any]:
    """``api_args`` of the handshake, keys in the order pykern's client puts them."""
    return {"token": token, "version": version}


# -- decoding ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One decoded message: the whole map, plus its checked ``call_id`` and ``msg_kind``."""

    fields: dict[str, Any]
    call_id: int
    kind: int

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.fields


def _unpacker_options() -> dict[str, Any]:
    options: dict[str, Any] = {"raw": False}
    if msgpack.version >= (1, 0, 0):
        # pykern runs on msgpack>=1, whose default refuses non-string map keys; say so explicitly
        # so that this codec rejects what a real peer rejects, whatever the default becomes.
        options["strict_map_key"] = True
    return options


def check(data: bytes | bytearray | memoryview | str, side: Side) -> tuple[Message | None, str | None]:
    """(message, None) if pykern's ``side`` would accept ``data``, else (None, why it would not).

    A peer that gets a frame it rejects drops the connection without a reply, so the reason is all
    a test gets to see; it names the rule that failed. Bytes after the first msgpack value are
    ignored, as pykern's unpacker ignores them.
    """
    if side not in _ACCEPTS:
        raise ValueError(f"side must be 'server' or 'client', not {side!r}")
    if isinstance(data, str):
        return None, f"a text WebSocket message ({len(data)} chars); pykern.api accepts only binary msgpack messages"
    raw = bytes(data)
    if not raw:
        return None, "an empty message (0 bytes) is not a msgpack value"
    unpacker = msgpack.Unpacker(**_unpacker_options())
    unpacker.feed(raw)
    try:
        value = unpacker.unpack()
    except msgpack.OutOfData:
        return None, f"truncated msgpack: {len(raw)} bytes end inside a value"
    except Exception as exc:  # FormatError, StackError, ValueError (non-string map key), ...
        detail = str(exc) or "invalid first byte or structure"
        return None, f"not msgpack ({type(exc).__name__}: {detail}); first bytes {raw[:8].hex()}"
    return _check_value(value, side)


def _check_value(value: Any, side: Side) -> tuple[Message | None, str | None]:
    if not isinstance(value, dict):
        return None, f"the message is a msgpack {type(value).__name__}, not a map"
    for key in ("call_id", "msg_kind"):
        if key not in value:
            return None, f"the message has no {key} (its keys: {', '.join(map(str, value)) or 'none'})"
        if not value[key]:  # pykern tests truthiness: 0, "", nil and [] all count as missing
            return None, f"{key} is {value[key]!r}; it must be a positive integer"
    for key in ("call_id", "msg_kind"):
        item = value[key]
        if not isinstance(item, int):
            return None, f"{key} is a {type(item).__name__} ({item!r}), not an integer"
        if item <= 0:
            return None, f"{key} is {item}; it must be a positive integer"
    kind = value["msg_kind"]
    if kind not in KIND_NAMES:
        return None, f"msg_kind {kind} is not a pykern.api message kind ({_kinds_text()})"
    if kind not in _ACCEPTS[side]:
        allowed = ", ".join(KIND_NAMES[k] for k in sorted(_ACCEPTS[side]))
        return None, f"msg_kind {KIND_NAMES[kind]} ({kind}) is invalid for the {side}, which accepts {allowed}"
    return Message(fields=value, call_id=value["call_id"], kind=kind), None


def _kinds_text() -> str:
    return ", ".join(f"{name} {number}" for number, name in KIND_NAMES.items())


def decode(data: bytes | bytearray | memoryview | str, side: Side) -> Message:
    """The message in ``data`` as ``side`` reads it, or :class:`WireError` saying what is wrong."""
    message, problem = check(data, side)
    if message is None:
        raise WireError(f"invalid pykern.api message for the {side}: {problem}")
    return message


def reply_fields(message: Message) -> tuple[Any, str | None]:
    """(api_result, api_error) of a REPLY, or WireError if it lacks one (pykern's client then fails the call)."""
    missing = [key for key in ("api_result", "api_error") if key not in message]
    if missing:
        raise WireError(f"REPLY to call {message.call_id} has no {' or '.join(missing)} key: {_short(message.fields)}")
    error = message.get("api_error")
    if error is not None and not isinstance(error, str):
        raise WireError(f"REPLY to call {message.call_id} has a {type(error).__name__} api_error, not a string: {_short(error)}")
    return message.get("api_result"), error
