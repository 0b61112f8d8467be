"""The ZeroJSON wire format (PyCOM 0.6.0), byte for byte: frames, JSON bodies, codes.

A request is the multipart message ``[command, json(, attachment)]`` after the REQ envelope (routing
ids and one empty delimiter frame); a reply is ``[status, json(, attachment)]``. The only command is
``CALL``; the status is ``OK`` for every protocol answer, error codes included.

JSON is what PyCOM produces with ``json.dumps`` defaults: separators ``", "`` and ``": "``,
``ensure_ascii`` on, ``NaN``/``Infinity`` allowed, keys in insertion order. The request keys come
in the stock client's order (``interface, method, args, [session_id], [extensions], version``), the
reply keys in the server's (``code, [error], [session_id], [result], [extensions]``), so encoding
the fields of a recorded message reproduces its bytes.

Decoding failures raise :class:`WireError`, which also carries the code and the exact message a
PyCOM server answers for that failure (``Invalid encoding, expected UTF-8``, ``Cannot decode
response: ...``), so the server and the codec cannot disagree about them.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rpctest.exceptions import TransportError
from rpctest.untrusted import Undecodable, decode_json

__all__ = [
    "ACCESS_DENIED",
    "AUTH_EXTENSION",
    "BAD_REQUEST",
    "CODE_NAMES",
    "COMMAND_CALL",
    "METHOD_NOT_FOUND",
    "OK",
    "PROTOCOL_VERSION",
    "SERVICE_NOT_FOUND",
    "SESSION_EXPIRED",
    "STATUS_FAIL",
    "STATUS_OK",
    "UNKNOWN",
    "Request",
    "Response",
    "WireError",
    "decode_request",
    "decode_response",
    "dumps",
    "encode_request",
    "encode_response",
    "loads",
    "split_envelope",
]

#: the command frame of a call (the only command PyCOM implements)
COMMAND_CALL = b"CALL"
#: the status frame of every protocol-level reply, error codes included
STATUS_OK = b"OK"
#: defined by ZeroJSON, never delivered by PyCOM 0.6.0 (its crash path cannot send it)
STATUS_FAIL = b"FAIL"
#: what the stock client puts in ``version``; servers never check it
PROTOCOL_VERSION = "1.0"
#: the ``extensions`` key that carries an authentication token
AUTH_EXTENSION = "org.pycom.auth"

OK = 0
UNKNOWN = 1
METHOD_NOT_FOUND = 2
SERVICE_NOT_FOUND = 3
BAD_REQUEST = 4
ACCESS_DENIED = 5
SESSION_EXPIRED = 6

#: ZeroJSON's constant names (``zerojson.constants.ERROR_*`` without the prefix), by code
CODE_NAMES: dict[int, str] = {
    UNKNOWN: "UNKNOWN",
    METHOD_NOT_FOUND: "METHOD_NOT_FOUND",
    SERVICE_NOT_FOUND: "SERVICE_NOT_FOUND",
    BAD_REQUEST: "BAD_REQUEST",
    ACCESS_DENIED: "ACCESS_DENIED",
    SESSION_EXPIRED: "SESSION_EXPIRED",
}

_MISSING: Any = object()


class WireError(TransportError):
    """Bytes that are not a valid ZeroJSON message; ``str()`` says what is wrong with them.

    ``code`` and ``reply_message`` are what a PyCOM server answers when a *request* fails this way
    (code 4 and PyCOM's own wording), so the server can answer exactly as PyCOM does. ``code`` None:
    PyCOM sends no reply at all (its handler crashes on it, as on a body nested too deeply to decode).
    """

    def __init__(self, message: str, *, code: int | None = BAD_REQUEST, reply_message: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reply_message = reply_message if reply_message is not None else message


# -- JSON ----------------------------------------------------------------------------------------------


def dumps(value: Any) -> bytes:
    """``value`` as PyCOM puts it on the wire (``json.dumps`` defaults, UTF-8).

    Raises TypeError (naming the offending value) for what JSON cannot hold, e.g. bytes (ZeroJSON
    carries binary data only as the attachment frame), or a value nested too deeply to encode.
    """
    try:
        return _encode_json(value).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise TypeError(f"cannot encode {_short(value)} as ZeroJSON (JSON): {exc}") from exc


def _json_dumps_in_c(value: Any) -> str:
    """``json.dumps(value)``, by the C encoder ``json.dumps`` ends in, made here with the same settings
    (ensure_ascii, ``", "`` and ``": "``, NaN allowed, circular references checked): the Python layers
    above it (argument checks, the encoder's ``encode`` and ``iterencode``, a closure made per call)
    cost about as much as encoding a small request or reply, which every call and reply is."""
    return "".join(_c_make_encoder({}, _JSON.default, _encode_ascii, None, ": ", ", ", False, False, True)(value, 0))


_JSON = json.JSONEncoder()
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_encode_ascii: Any = json.encoder.encode_basestring_ascii
#: json.dumps' own C encoder where the interpreter has one (CPython's _json), else json.dumps itself
_encode_json: Callable[[Any], str] = _json_dumps_in_c if _c_make_encoder is not None else json.dumps


def loads(data: bytes) -> Any:
    """Decode one JSON frame as PyCOM does: strict UTF-8, then Python's lenient JSON dialect.

    ``NaN``/``Infinity`` are accepted and duplicate keys keep the last value, as in PyCOM; a UTF-8
    BOM is an error. PyCOM's message says "response" even for requests; so does ``reply_message``.

    Every failure is a :class:`WireError`, whatever ``json.loads`` raised. PyCOM's decoder catches
    ``ValueError`` (code 4 ``Cannot decode response: ...``, an integer of more than 4300 digits
    included); nesting deeper than the recursion limit (a ``RecursionError``) crashes its handler
    and gets no reply (observed of PyCOM 0.6.0), so that error has ``code`` None.
    """
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError(
            f"a ZeroJSON body must be UTF-8 JSON; these {len(data)} bytes are not UTF-8 ({exc})",
            reply_message="Invalid encoding, expected UTF-8",
        ) from exc
    try:
        return decode_json(text)
    except Undecodable as exc:
        answered = exc.kind not in ("nesting", "memory")  # the failures that are not a ValueError
        raise WireError(
            f"a ZeroJSON body must be a JSON document; {_short(text)} is {exc}"
            + ("" if answered else " (a PyCOM server sends no reply to it)"),
            code=BAD_REQUEST if answered else None,
            reply_message=f"Cannot decode response: {exc.detail}",
        ) from None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- requests ------------------------------------------------------------------------------------------


@dataclass
class Request:
    """One ZeroJSON call, field by field (names as in PyCOM's request JSON).

    ``session_id`` None and empty ``extensions`` are left out of the JSON, as the stock client
    leaves them out; ``version`` None leaves ``version`` out (hand-made requests, which servers
    accept). ``args`` is always sent, as ``null`` when there are none.
    """

    interface: Any
    method: Any
    args: Any = None
    session_id: Any = None
    extensions: Mapping[str, Any] | None = None
    version: str | None = PROTOCOL_VERSION
    attachment: bytes | None = None
    command: bytes = COMMAND_CALL

    @property
    def token(self) -> Any:
        """The authentication token in ``extensions`` (None when there is none)."""
        extensions = self.extensions
        return extensions.get(AUTH_EXTENSION) if isinstance(extensions, Mapping) else None

    def to_dict(self) -> dict[str, Any]:
        """The request JSON object, keys in the stock client's order."""
        data: dict[str, Any] = {"interface": self.interface, "method": self.method, "args": self.args}
        if self.session_id is not None:
            data["session_id"] = self.session_id
        if self.extensions:
            data["extensions"] = dict(self.extensions)
        if self.version is not None:
            data["version"] = self.version
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], attachment: bytes | None = None, command: bytes = COMMAND_CALL) -> Request:
        """The request a decoded JSON object describes (WireError if it lacks interface or method)."""
        if not isinstance(data, Mapping):
            raise WireError(f"a ZeroJSON request body is a JSON object, not {_short(data)}")
        for name in ("interface", "method"):
            if name not in data:
                raise WireError(
                    f"a ZeroJSON request needs the field {name!r}; got keys {sorted(data)}",
                    reply_message=f"Field {name} is required",
                )
        extensions = data.get("extensions")
        return cls(
            interface=data["interface"],
            method=data["method"],
            args=data.get("args"),
            session_id=data.get("session_id"),
            extensions=extensions,
            version=data.get("version"),
            attachment=attachment,
            command=command,
        )


def encode_request(request: Request) -> list[bytes]:
    """The application frames of ``request``: ``[command, json(, attachment)]``."""
    frames = [bytes(request.command), dumps(request.to_dict())]
    if request.attachment is not None:
        frames.append(bytes(request.attachment))
    return frames


def decode_request(frames: Sequence[bytes]) -> Request:
    """The request in application ``frames`` (after the envelope), checked as a PyCOM server checks.

    The checks run in the server's order (command, UTF-8, JSON, object, fields, frame count), so
    the first failure is the one a server would report; an unknown command or too many frames is
    a WireError with code 4, a body that is not a JSON object one PyCOM never answers.
    """
    frames = [bytes(frame) for frame in frames]
    if len(frames) < 2:
        raise WireError(
            f"a ZeroJSON request has 2 or 3 frames after the envelope, got {len(frames)} "
            "(a PyCOM server sends no reply to it)"
        )
    command = frames[0]
    if command != COMMAND_CALL:
        raise WireError(
            f"unknown ZeroJSON command {command!r} (only {COMMAND_CALL!r} exists)",
            reply_message=f"Unknown command: {command!r}",
        )
    data = loads(frames[1])
    if not isinstance(data, dict):
        raise WireError(
            f"a ZeroJSON request body is a JSON object, not {type(data).__name__} "
            "(a PyCOM server sends no reply to it)"
        )
    request = Request.from_dict(data, command=command)
    if len(frames) > 3:
        raise WireError(
            f"a ZeroJSON request has at most 3 frames (command, body, attachment), got {len(frames)}",
            reply_message=f"Expected 2-3 parts, got {len(frames)}",
        )
    request.attachment = frames[2] if len(frames) == 3 else None
    return request


# -- replies -------------------------------------------------------------------------------------------


@dataclass
class Response:
    """One ZeroJSON reply, field by field.

    ``error`` is sent iff ``code != 0`` (it may be None: JSON ``null``), ``result`` iff
    ``code == 0`` (even when None), ``session_id`` iff not None, ``extensions`` iff not empty.
    """

    code: int = OK
    result: Any = None
    error: str | None = None
    session_id: Any = None
    extensions: Mapping[str, Any] | None = field(default=None)
    attachment: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.code == OK

    def to_dict(self) -> dict[str, Any]:
        """The reply JSON object, keys in PyCOM's order."""
        data: dict[str, Any] = {"code": self.code}
        if self.code != OK:
            data["error"] = self.error
        if self.session_id is not None:
            data["session_id"] = self.session_id
        if self.code == OK:
            data["result"] = self.result
        if self.extensions:
            data["extensions"] = dict(self.extensions)
        return data

    @classmethod
    def from_dict(cls, data: Any, attachment: bytes | None = None) -> Response:
        """The reply a decoded JSON object describes (WireError when it is not a ZeroJSON reply)."""
        if type(data) is not dict and not isinstance(data, Mapping):  # a decoded reply is a dict
            raise WireError(f"a ZeroJSON reply body is a JSON object, not {_short(data)}")
        code = data.get("code", _MISSING)
        if code is _MISSING:
            raise WireError(f"a ZeroJSON reply needs an integer 'code'; got keys {sorted(data)}")
        if not isinstance(code, int) or isinstance(code, bool):
            raise WireError(f"a ZeroJSON reply's 'code' is an integer, not {_short(code)}")
        error = data.get("error")
        if error is not None and not isinstance(error, str):
            raise WireError(f"a ZeroJSON reply's 'error' is a string or null, not {_short(error)}")
        extensions = data.get("extensions")
        if extensions is not None and not isinstance(extensions, Mapping):
            raise WireError(f"a ZeroJSON reply's 'extensions' is an object, not {_short(extensions)}")
        return cls(
            code=code,
            result=data.get("result"),
            error=error,
            session_id=data.get("session_id"),
            extensions=extensions,
            attachment=attachment,
        )


def encode_response(response: Response, *, status: bytes = STATUS_OK) -> list[bytes]:
    """The application frames of ``response``: ``[status, json(, attachment)]``."""
    frames = [status, dumps(response.to_dict())]
    if response.attachment is not None:
        frames.append(bytes(response.attachment))
    return frames


def decode_response(frames: Sequence[bytes]) -> Response:
    """The reply in application ``frames`` (after the envelope); WireError says what is wrong."""
    count = len(frames)
    if count != 2 and count != 3:
        frames = [bytes(frame) for frame in frames]
        raise WireError(f"a ZeroJSON reply has 2 or 3 frames (status, body, attachment), got {count}: {_short(frames)}")
    status = bytes(frames[0])
    if status != STATUS_OK:
        raise WireError(
            f"the reply's status frame is {status!r}, not {STATUS_OK!r}"
            + (" (the server failed to process the request)" if status == STATUS_FAIL else "")
        )
    return Response.from_dict(loads(frames[1]), bytes(frames[2]) if count == 3 else None)


# -- the envelope --------------------------------------------------------------------------------------


def split_envelope(frames: Sequence[bytes]) -> tuple[list[bytes], list[bytes] | None]:
    """(routing ids, application frames) of a message a ROUTER received, split as PyCOM splits it.

    Every leading non-empty frame is a routing id and the first empty frame ends the envelope. A
    message with no empty frame (a DEALER that did not send the delimiter REQ adds) has no
    application frames at all: None.
    """
    frames = list(frames)
    if len(frames) > 1 and len(frames[1]) == 0 and len(frames[0]) != 0:  # one routing id: every DEALER or REQ peer
        return frames[:1], frames[2:]
    for index, frame in enumerate(frames):
        if len(frame) == 0:
            return frames[:index], frames[index + 1 :]
    return frames, None
