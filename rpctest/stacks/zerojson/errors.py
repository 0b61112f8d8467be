"""ZeroJSON error codes in neutral terms, and back; and the exceptions a hosted service raises.

ZeroJSON errors are an integer ``code`` and an ``error`` message (which may be ``null``). The
mapping onto :class:`~rpctest.model.ErrorKind`:

=====  ====================  ================  ===============================================
code   PyCOM name            ErrorKind         why
=====  ====================  ================  ===============================================
1      UNKNOWN               SERVER_ERROR      an exception in the handler, a results mismatch
2      METHOD_NOT_FOUND      NOT_FOUND         no such method in the interface
3      SERVICE_NOT_FOUND     NOT_FOUND         the nameserver knows no provider
4      BAD_REQUEST           CALLER_ERROR      frames, JSON, fields, arguments, unknown interface
5      ACCESS_DENIED         UNAUTHORIZED      no token, a rejected token, a handler's refusal
6      SESSION_EXPIRED       CALLER_ERROR      see below
other  (handler's own)       CALLER_ERROR      unless declared a server error (``caller_error=False``)
=====  ====================  ================  ===============================================

**Code 6 is a caller error, not UNAUTHORIZED.** It says the ``session_id`` the caller sent is not
(or no longer) known to this server process: idle-expired, discarded, bogus or from another
server. Nothing about the caller's identity or rights is in question, and the caller fixes it by
dropping the id and starting a new session; a fuzzer that puts a made-up ``session_id`` in an
otherwise valid request has sent one bad field, which the oracle states as CALLER_ERROR.

**An unknown interface is code 4**, as PyCOM answers it (``Unsupported interface: X``), so it is a
caller error, not NOT_FOUND: rpctest reports what the stack says.

**A handler's own codes** (``RemoteError(message, code=42)``, passed through by PyCOM) are errors a
service raises on purpose for its caller, so they are caller errors, unless a contract or a stub
says otherwise with ``caller_error=False``.

A ``null`` message becomes the empty string in the neutral error (and an empty message goes back
on the wire as ``null``); PyCOM's own client shows such an error as ``Remote error #N``.
"""

from __future__ import annotations

from typing import Any

from rpctest.model import ErrorKind, RpcError
from rpctest.stacks.zerojson.wire import (
    ACCESS_DENIED,
    BAD_REQUEST,
    CODE_NAMES,
    METHOD_NOT_FOUND,
    SERVICE_NOT_FOUND,
    SESSION_EXPIRED,
    UNKNOWN,
)

__all__ = [
    "CODES_BY_NAME",
    "STANDARD_CODES",
    "AccessDenied",
    "BadRequest",
    "MethodNotFound",
    "RemoteError",
    "ServiceNotFound",
    "SessionExpired",
    "classify",
    "client_message",
    "code_number",
    "from_wire",
    "to_wire",
]

_KINDS: dict[int, ErrorKind] = {
    UNKNOWN: ErrorKind.SERVER_ERROR,
    METHOD_NOT_FOUND: ErrorKind.NOT_FOUND,
    SERVICE_NOT_FOUND: ErrorKind.NOT_FOUND,
    BAD_REQUEST: ErrorKind.CALLER_ERROR,
    ACCESS_DENIED: ErrorKind.UNAUTHORIZED,
    SESSION_EXPIRED: ErrorKind.CALLER_ERROR,
}
#: codes PyCOM's own machinery answers for any method (a contract may use them undeclared)
STANDARD_CODES: frozenset[int] = frozenset(_KINDS)
#: the codes by PyCOM's constant names (``"BAD_REQUEST"`` -> 4), for stubs that prefer names
CODES_BY_NAME: dict[str, int] = {name: code for code, name in CODE_NAMES.items()}


def code_number(code: str | int) -> int:
    """The integer code for ``code``: an int, a numeric string, or a name such as ``"BAD_REQUEST"``.

    ValueError names the accepted forms: ZeroJSON codes are integers on the wire.
    """
    if isinstance(code, bool):
        raise ValueError(f"a ZeroJSON error code is an integer, not {code!r}")
    if isinstance(code, int):
        return code
    if isinstance(code, str):
        text = code.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        name = text.upper()
        name = name.removeprefix("ERROR_")
        if name in CODES_BY_NAME:
            return CODES_BY_NAME[name]
    raise ValueError(
        f"a ZeroJSON error code is an integer or one of {', '.join(CODES_BY_NAME)}, not {code!r}"
    )


def classify(code: str | int, *, field: str | None = None, caller_error: bool | None = None, **_: Any) -> ErrorKind:
    """The :class:`ErrorKind` of a ZeroJSON code (the module docstring gives the table and reasons)."""
    try:
        number = code_number(code)
    except ValueError:
        return ErrorKind.SERVER_ERROR if caller_error is False else ErrorKind.CALLER_ERROR
    if number in _KINDS:
        return _KINDS[number]
    if caller_error is False:
        return ErrorKind.SERVER_ERROR
    return ErrorKind.CALLER_ERROR


def from_wire(code: int, message: Any) -> RpcError:
    """The neutral error for a reply's ``code`` and ``error`` (a null message becomes ``""``)."""
    text = "" if message is None else (message if isinstance(message, str) else str(message))
    return RpcError(code, text, kind=classify(code))


def to_wire(error: RpcError) -> tuple[int, str | None]:
    """(code, message) as a ZeroJSON reply carries ``error``; an empty message is ``null``.

    ValueError when the code is not a ZeroJSON code (see :func:`code_number`).
    """
    return code_number(error.code), (error.message or None)


def client_message(code: int, message: str | None) -> str:
    """What PyCOM's client says for an error: the message, or ``Remote error #N`` for ``null``."""
    return message if message else f"Remote error #{code}"


# -- exceptions a hosted service raises ---------------------------------------------------------------


class RemoteError(Exception):
    """Raised by a hosted method to answer with ``code`` (default 1) and ``message``.

    As in PyCOM, the message is ``str()`` of what is given (None stays ``null``), and any integer
    code passes through to the caller unchanged.
    """

    code: int = UNKNOWN

    def __init__(self, message: Any = None, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code_number(code)
        self.message: str | None = None if message is None else str(message)

    def __str__(self) -> str:
        return self.message or f"Remote error #{self.code}"


class MethodNotFound(RemoteError):
    code = METHOD_NOT_FOUND


class ServiceNotFound(RemoteError):
    code = SERVICE_NOT_FOUND


class BadRequest(RemoteError):
    code = BAD_REQUEST


class AccessDenied(RemoteError):
    code = ACCESS_DENIED


class SessionExpired(RemoteError):
    code = SESSION_EXPIRED
