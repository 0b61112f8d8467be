"""AsyncAProto V2 framing: the bytes AsyncAPY's server and clients exchange, and what its server makes of them.

Every frame, in either direction (the same layout for requests, replies and error packets)::

    Content-Length  header_size bytes (2, 4 or 8), unsigned, in the agreed byte order; = len(payload) + 2
    Version         1 byte, 22 (0x16); nothing else is accepted
    Encoding        1 byte, 0 = JSON, 1 = ZiProto
    payload         JSON text or ZiProto bytes of a map (a "packet")

``header_size`` and ``byteorder`` are agreed out of band: nothing on the wire says them, so a
:class:`Framing` carries them (and the default encoding of what it encodes).

**JSON is spelled as AsyncAPY spells it**: Python's default ``json.dumps``, i.e. ``", "`` and
``": "`` separators, ``ensure_ascii`` (``é`` is ``\\u00e9``), keys in insertion order, ``NaN`` passed
through. The golden vectors pin this byte for byte. ZiProto is :mod:`.ziproto`.

Two readers, because the two sides read differently:

* :class:`FrameDecoder` is the incremental decoder of a byte stream (a client reading replies):
  feed it bytes, get whole :class:`Frame` objects, and a :class:`WireError` when a frame is
  broken, with ``code`` set to the AsyncAPY error code the server would answer such a frame with;
* :func:`server_verdict` is what AsyncAPY's *server* does with one request body (the bytes after
  the length header): dispatch a packet, answer an error packet, close silently, or hang until
  its deadline. Its rules, in the server's order, are in the function's docstring; the stub server
  and framing oracles share them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rpctest.exceptions import TransportError
from rpctest.stacks.asyncapy import errors, ziproto
from rpctest.untrusted import Undecodable, decode_json, describe_failure

__all__ = [
    "VERSION",
    "JSON",
    "ZIPROTO",
    "ENCODINGS",
    "HEADER_SIZES",
    "BYTEORDERS",
    "MIN_BODY",
    "WireError",
    "Framing",
    "Frame",
    "FrameDecoder",
    "Verdict",
    "encoding_number",
    "encoding_name",
    "dump_json",
    "encode_payload",
    "packet_payload",
    "decode_payload",
    "server_verdict",
    "split_stream",
]

VERSION = 22
JSON = 0
ZIPROTO = 1
#: Content-Encoding byte -> name (AsyncAPY's own names: ``Packet(..., encoding="json")``)
ENCODINGS = {JSON: "json", ZIPROTO: "ziproto"}
HEADER_SIZES = (2, 4, 8)
BYTEORDERS = ("big", "little")
#: the shortest body (version + encoding + payload) AsyncAPY's server reads; shorter is ERR_REQUEST_MALFORMED
MIN_BODY = 5


class WireError(TransportError):
    """Bytes that are not a valid AsyncAProto frame, or a payload that is not a packet.

    ``code`` is the error AsyncAPY's server answers the same defect with when a *request* has it
    (``ERR_REQUEST_MALFORMED`` or ``ERR_HEADER_INVALID``), or None when it has no error for it
    (an incomplete frame at the end of a stream).
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        #: the whole frames that came before the broken one (set by :class:`FrameDecoder`)
        self.frames: list[Frame] = []


def encoding_number(encoding: int | str) -> int:
    """0 or 1 from ``0``/``1``/``"json"``/``"ziproto"`` (ValueError for anything else)."""
    if isinstance(encoding, str):
        for number, name in ENCODINGS.items():
            if encoding.lower() == name:
                return number
        raise ValueError(f"an AsyncAProto encoding is 'json' (0) or 'ziproto' (1), not {encoding!r}")
    if isinstance(encoding, bool) or encoding not in ENCODINGS:
        raise ValueError(f"an AsyncAProto encoding is 0 (JSON) or 1 (ZiProto), not {encoding!r}")
    return int(encoding)


def encoding_name(encoding: int) -> str:
    """``"json"``, ``"ziproto"``, or ``"encoding N"`` for a byte AsyncAPY does not know."""
    return ENCODINGS.get(encoding, f"encoding {encoding}")


# -- payloads -------------------------------------------------------------------------------------------


def dump_json(value: Any) -> bytes:
    """``value`` as AsyncAPY's JSON: Python's default ``json.dumps``, ASCII bytes."""
    return json.dumps(value).encode("ascii")


def encode_payload(value: Any, encoding: int | str = JSON) -> bytes:
    """The payload bytes of ``value`` in ``encoding`` (TypeError/ValueError if it cannot be encoded)."""
    number = encoding_number(encoding)
    if number == JSON:
        return dump_json(value)
    return ziproto.encode(value)


def packet_payload(packet: Mapping[str, Any], encoding: int) -> bytes:
    """The payload of a reply packet as AsyncAPY's server sends a handler's ``Packet``: a Packet holds
    its payload as the ``json.dumps`` text of the map, sent as it is in JSON and read back and packed
    in ZiProto. TypeError/ValueError if the packet cannot be serialised (AsyncAPY's Packet refuses it)."""
    text = json.dumps(packet)
    if encoding == ZIPROTO:
        return ziproto.encode(json.loads(text))
    return text.encode("ascii")


def decode_payload(payload: bytes, encoding: int | str) -> Any:
    """The value in ``payload`` (any JSON/ZiProto value, not only a map).

    JSON is read by ``json.loads`` on the bytes (UTF-8/16/32 detected, ``NaN`` accepted, trailing
    data refused); ZiProto by :func:`.ziproto.decode` (trailing bytes ignored). A failure raises
    :class:`WireError` with code ``ERR_REQUEST_MALFORMED``, or none for the JSON failures that are not
    a syntax error (bytes that are not text, nesting deeper than the recursion limit, an integer of
    more than 4300 digits), which AsyncAPY's server does not catch and answers with a silent close.
    """
    number = encoding_number(encoding)
    if number == JSON:
        try:
            return decode_json(payload)
        except Undecodable as exc:
            # AsyncAPY's server catches JSONDecodeError only: anything else closes silently, so no code
            code = errors.ERR_REQUEST_MALFORMED if exc.kind == "syntax" else None
            raise WireError(f"the JSON payload {_json_failure(exc)}", code=code) from None
    try:
        return ziproto.decode(payload)
    except ziproto.ZiProtoError as exc:
        raise WireError(f"the ZiProto payload does not decode: {exc}", code=errors.ERR_REQUEST_MALFORMED) from None


# -- frames ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One whole frame: its header fields, its raw payload and the decoded value (``packet``)."""

    length: int
    version: int
    encoding: int
    payload: bytes = field(repr=False)
    packet: Any = None

    @property
    def is_error(self) -> bool:
        """Whether the packet is a failure packet (``{"status": "failure", "error": ...}``)."""
        return errors.is_error_packet(self.packet)

    def to_dict(self) -> dict[str, Any]:
        """The vectors' ``asyncaproto-stream`` view of the frame: length, version, encoding, payload."""
        return {"length": self.length, "version": self.version, "encoding": self.encoding, "payload": self.packet}


@dataclass(frozen=True)
class Framing:
    """The framing both sides must agree on, and the encoding of what this side encodes.

    ``header_size`` is 2, 4 (AsyncAPY's default) or 8 bytes; ``byteorder`` is ``"big"`` (default) or
    ``"little"``; ``version`` is what is written and expected (22; another value is useful only to
    send AsyncAPY what it refuses); ``encoding`` is 0/``"json"`` (default) or 1/``"ziproto"``.
    """

    header_size: int = 4
    byteorder: Literal["big", "little"] = "big"
    version: int = VERSION
    encoding: int = JSON

    def __post_init__(self) -> None:
        if self.header_size not in HEADER_SIZES or isinstance(self.header_size, bool):
            raise ValueError(f"the AsyncAProto header size is 2, 4 or 8 bytes, not {self.header_size!r}")
        if self.byteorder not in BYTEORDERS:
            raise ValueError(f"the AsyncAProto byte order is 'big' or 'little', not {self.byteorder!r}")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or not 0 <= self.version <= 255:
            raise ValueError(f"the AsyncAProto version is one byte (22), not {self.version!r}")
        object.__setattr__(self, "encoding", encoding_number(self.encoding))

    @property
    def max_length(self) -> int:
        """The largest Content-Length the header can hold."""
        return (1 << (8 * self.header_size)) - 1

    @property
    def is_default(self) -> bool:
        """Whether this is AsyncAPY's default framing (4 bytes, big-endian, version 22, JSON)."""
        return self == Framing()

    def length_header(self, length: int) -> bytes:
        """``length`` as a Content-Length header (ValueError if it does not fit)."""
        if not 0 <= length <= self.max_length:
            raise ValueError(f"a Content-Length of {length} does not fit in {self.header_size} bytes")
        return length.to_bytes(self.header_size, self.byteorder)

    def read_length(self, header: bytes | bytearray) -> int:
        """The Content-Length in the first ``header_size`` bytes of ``header``."""
        return int.from_bytes(header[: self.header_size], self.byteorder)

    def frame(
        self, payload: bytes, *, encoding: int | None = None, version: int | None = None, length: int | None = None
    ) -> bytes:
        """A frame around raw ``payload`` bytes; each header field can be forced (to build bad frames)."""
        enc = self.encoding if encoding is None else encoding
        ver = self.version if version is None else version
        size = len(payload) + 2 if length is None else length
        return self.length_header(size) + bytes((ver, enc)) + payload

    def encode_value(self, value: Any, *, encoding: int | str | None = None) -> bytes:
        """A frame carrying any encodable ``value`` (a packet is a map; other values are for tests)."""
        number = self.encoding if encoding is None else encoding_number(encoding)
        return self.frame(encode_payload(value, number), encoding=number)

    def encode(self, packet: Mapping[str, Any], *, encoding: int | str | None = None) -> bytes:
        """The frame of a packet, as AsyncAPY's client and server write it."""
        if not isinstance(packet, Mapping):
            raise TypeError(f"an AsyncAProto packet is a mapping, not {type(packet).__name__}: {packet!r:.80}")
        return self.encode_value(dict(packet), encoding=encoding)

    def decoder(self, *, require_mapping: bool = True) -> "FrameDecoder":
        """A fresh incremental decoder for this framing."""
        return FrameDecoder(self, require_mapping=require_mapping)

    def decode(self, data: bytes, *, require_mapping: bool = True) -> list[Frame]:
        """Every frame of a whole stream; :class:`WireError` if a frame is broken or the stream ends inside one."""
        decoder = self.decoder(require_mapping=require_mapping)
        frames = decoder.feed(data)
        decoder.close()
        return frames

    def to_query(self) -> dict[str, str]:
        """The options that differ from AsyncAPY's defaults, as address query parameters."""
        query: dict[str, str] = {}
        if self.header_size != 4:
            query["header_size"] = str(self.header_size)
        if self.byteorder != "big":
            query["byteorder"] = self.byteorder
        if self.encoding != JSON:
            query["encoding"] = ENCODINGS[self.encoding]
        return query


class FrameDecoder:
    """Reads frames out of a byte stream that arrives in arbitrary pieces.

    :meth:`feed` returns the frames completed by the new bytes. A broken frame raises
    :class:`WireError` (``code`` as AsyncAPY's server would answer it): a Content-Length below 2, a
    version other than the framing's, an encoding byte other than 0 or 1, a payload that does not
    decode, or (``require_mapping``) a value that is not a map. The decoder is then :attr:`broken`
    and refuses more bytes, since nothing after a broken frame can be trusted to be aligned.
    :meth:`close` raises if the stream ended inside a frame.
    """

    def __init__(self, framing: Framing | None = None, *, require_mapping: bool = True) -> None:
        self.framing = framing or Framing()
        self.require_mapping = require_mapping
        self._buffer = bytearray()
        self.broken: WireError | None = None

    @property
    def buffered(self) -> bytes:
        """Bytes received that do not make a whole frame yet."""
        return bytes(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        if self.broken is not None:
            raise self.broken
        self._buffer += data
        frames: list[Frame] = []
        size = self.framing.header_size
        try:
            while len(self._buffer) >= size:
                length = self.framing.read_length(self._buffer)
                if length < 2:
                    self._fail(f"Content-Length {length} cannot hold the version and encoding bytes", errors.ERR_REQUEST_MALFORMED)
                if len(self._buffer) < size + length:
                    break
                body = bytes(self._buffer[size : size + length])
                del self._buffer[: size + length]
                frames.append(self._frame(length, body))
        except WireError as exc:
            exc.frames = frames
            raise
        return frames

    def _fail(self, message: str, code: str | None) -> None:
        self.broken = WireError(message, code=code)
        raise self.broken

    def _frame(self, length: int, body: bytes) -> Frame:
        version, encoding, payload = body[0], body[1], body[2:]
        if version != self.framing.version:
            self._fail(f"Protocol-Version {version}, expected {self.framing.version}", errors.ERR_HEADER_INVALID)
        if encoding not in ENCODINGS:
            self._fail(f"Content-Encoding {encoding} is neither 0 (JSON) nor 1 (ZiProto)", errors.ERR_HEADER_INVALID)
        try:
            value = decode_payload(payload, encoding)
        except WireError as exc:
            self._fail(f"a {length}-byte frame: {exc}", exc.code)
        if self.require_mapping and not isinstance(value, dict):
            # AsyncAPY answers a ZiProto non-map with ERR_REQUEST_MALFORMED, a JSON one with silence or a hang
            code = errors.ERR_REQUEST_MALFORMED if encoding == ZIPROTO else None
            self._fail(f"a {length}-byte frame holds a {type(value).__name__}, not a packet (a map): {value!r:.80}", code)
        return Frame(length, version, encoding, payload, value)

    def close(self) -> None:
        """The stream ended: :class:`WireError` if it ended inside a frame."""
        if self.broken is not None:
            raise self.broken
        if self._buffer:
            size = self.framing.header_size
            if len(self._buffer) < size:
                detail = f"{len(self._buffer)} byte(s) of a {size}-byte length header"
            else:
                detail = f"{len(self._buffer) - size} of the {self.framing.read_length(self._buffer)} bytes its length header announced"
            self._fail(f"the stream ended inside a frame: {detail}", None)


def split_stream(data: bytes, framing: Framing | None = None) -> tuple[list[Frame], bytes, WireError | None]:
    """As many frames as ``data`` holds, the bytes left over, and the error that stopped the split (if any).

    A lenient view for reports and replays: it never raises.
    """
    decoder = FrameDecoder(framing)
    try:
        frames = decoder.feed(data)
    except WireError as exc:
        return exc.frames, decoder.buffered, exc
    return frames, decoder.buffered, None


# -- what AsyncAPY's server does with a request body --------------------------------------------------


Action = Literal["dispatch", "error", "silent_close", "hang"]


@dataclass(frozen=True)
class Verdict:
    """What AsyncAPY's server does with one request body.

    ``action``: ``dispatch`` (``packet`` goes to the handlers), ``error`` (send the error packet
    ``code`` in ``encoding``, then close), ``silent_close`` (close without a byte) or ``hang`` (nothing
    is dispatched and the connection stays open until the server's deadline, which then answers
    ``ERR_TIMED_OUT``). ``encoding`` is the request's encoding (the reply encoding of a dispatched
    packet); ``reason`` says why, in words.
    """

    action: Action
    reason: str
    packet: dict[str, Any] | None = None
    code: str | None = None
    encoding: int = JSON


def server_verdict(body: bytes, version: int = VERSION) -> Verdict:
    """AsyncAPY 0.5.0's server on one request body (version byte, encoding byte, payload), in its order.

    1. fewer than 5 bytes: ``ERR_REQUEST_MALFORMED`` (JSON);
    2. version other than 22, then encoding other than 0/1: ``ERR_HEADER_INVALID`` (JSON);
    3. ZiProto that does not decode, or decodes to anything but a map: ``ERR_REQUEST_MALFORMED``
       answered **in ZiProto** (the one error AsyncAPY sends in ZiProto);
    4. JSON that is not text (invalid UTF-8), nested deeper than the recursion limit, or holding an
       integer of more than 4300 digits: silent close (only ``JSONDecodeError`` is caught); JSON that
       does not parse (syntax, extra data): ``ERR_REQUEST_MALFORMED`` (JSON);
    5. a falsy value (``false``, ``null``, ``0``, ``""``, ``[]``, ``{}``): nothing is dispatched and
       the connection hangs until the deadline;
    6. a JSON string is parsed again (AsyncAPY's Packet takes JSON text): the wrapped object is
       dispatched; a string that does not hold a JSON object: silent close;
    7. any other non-map (a non-empty array, a number, ``true``): silent close;
    8. a map that cannot be re-serialised as JSON (a ZiProto ``bin`` value or key): silent close;
       otherwise the packet is the JSON round trip of the map (integer keys become strings), and it
       is dispatched.

    Step 5 for ZiProto (an empty map padded with trailing bytes) was not recorded; it is assumed to
    behave as for JSON.
    """
    if len(body) < MIN_BODY:
        return Verdict("error", f"a {len(body)}-byte body is shorter than {MIN_BODY} bytes", code=errors.ERR_REQUEST_MALFORMED)
    if body[0] != version:
        return Verdict("error", f"Protocol-Version {body[0]}, expected {version}", code=errors.ERR_HEADER_INVALID)
    encoding = body[1]
    if encoding not in ENCODINGS:
        return Verdict("error", f"Content-Encoding {encoding} is neither 0 (JSON) nor 1 (ZiProto)", code=errors.ERR_HEADER_INVALID)
    payload = body[2:]
    if encoding == ZIPROTO:
        try:
            value = ziproto.decode(payload)
        except ziproto.ZiProtoError as exc:
            return Verdict("error", f"the ZiProto payload does not decode: {exc}", code=errors.ERR_REQUEST_MALFORMED, encoding=ZIPROTO)
        if not isinstance(value, dict):
            return Verdict(
                "error", f"the ZiProto payload is a {type(value).__name__}, not a map", code=errors.ERR_REQUEST_MALFORMED, encoding=ZIPROTO
            )
    else:
        try:
            value = decode_json(payload)
        except Undecodable as exc:
            if exc.kind == "syntax":
                return Verdict("error", f"the JSON payload {_json_failure(exc)}", code=errors.ERR_REQUEST_MALFORMED)
            return Verdict("silent_close", f"the JSON payload {_json_failure(exc)}; AsyncAPY does not catch that")
    if not value:
        return Verdict("hang", f"the payload is falsy ({_short(value)}): AsyncAPY dispatches nothing and keeps the connection open", encoding=encoding)
    if isinstance(value, str):
        try:
            value = decode_json(value)
        except Undecodable:
            return Verdict("silent_close", "the payload is a string that does not hold JSON; AsyncAPY's Packet raises", encoding=encoding)
        if not isinstance(value, dict):
            return Verdict("silent_close", f"the payload is a string holding a {type(value).__name__}, not an object", encoding=encoding)
    elif not isinstance(value, dict):
        return Verdict("silent_close", f"the payload is a {type(value).__name__} ({_short(value)}), not a packet; AsyncAPY's Packet raises", encoding=encoding)
    if encoding == JSON:  # json.loads already gave what AsyncAPY's dumps-then-loads round trip gives
        return Verdict("dispatch", "a packet", packet=value, encoding=encoding)
    try:
        packet = json.loads(json.dumps(value))
    except (TypeError, ValueError, RecursionError) as exc:
        return Verdict("silent_close", f"the packet cannot be re-serialised as JSON ({exc}); AsyncAPY does not catch that", encoding=encoding)
    return Verdict("dispatch", "a packet", packet=packet, encoding=encoding)


def _json_failure(exc: Undecodable) -> str:
    """How a JSON payload failed, in the words of the stub server's diagnostics and the client's errors."""
    cause = exc.original
    if isinstance(cause, json.JSONDecodeError):
        return f"does not parse: {cause.msg} at position {cause.pos}"
    if isinstance(cause, UnicodeDecodeError):
        return f"is not valid text: {cause.reason} at byte {cause.start}"
    return f"cannot be read: it is {describe_failure(cause) if cause is not None else exc}"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
