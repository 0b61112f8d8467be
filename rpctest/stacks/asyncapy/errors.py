"""AsyncAPY's error vocabulary in neutral terms: four error packets, and two outcomes with no packet.

AsyncAPY's server has exactly four errors, each sent as the two-key packet
``{"status": "failure", "error": CODE}`` and followed by a close (as observed of AsyncAPY 0.5.0).
Everything else it does wrong is *silent*: no handler matches, a handler raises, the payload cannot
be turned into a packet: the connection is closed without a byte. rpctest names that outcome
:data:`CLOSED_WITHOUT_REPLY`, so that a silent close can be told apart from a timeout (which the
wire client raises as :class:`~rpctest.exceptions.CallTimeout`) and from a reset
(:data:`CONNECTION_RESET`).

**Kinds, and why** (:func:`classify`):

===============================  ==============  ===================================================
code                             kind            why
===============================  ==============  ===================================================
``ERR_REQUEST_MALFORMED``        caller_error    the frame's payload is not a readable packet
``ERR_HEADER_INVALID``           caller_error    a version other than 22 or an unknown encoding byte
``ERR_TIMED_OUT``                transport       the server's per-connection deadline ran out; the
                                                 packet does not say whether the request never
                                                 arrived whole (a framing problem) or the handler was
                                                 too slow, and either way no answer came
``ERR_SESSION_LIMIT_REACHED``    server_error    the server refuses work because of its own state
                                                 (a limit that AsyncAPY applies per *listening*
                                                 address and leaks after handler failures), not
                                                 because of anything in the request
``CLOSED_WITHOUT_REPLY``         transport       no packet at all: AsyncAPY's answer to "no handler
                                                 matches" (one bad field, an unknown operation, a
                                                 failed API-key check), to a handler that raises, and
                                                 to payloads it cannot read
``CONNECTION_RESET``             transport       the peer reset the connection
any other code                   caller_error    an application handler sent a failure packet of its
                                                 own on purpose (``caller_error=False`` on a stubbed
                                                 error makes it a server error)
===============================  ==============  ===================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rpctest.model import ErrorKind, RpcError

__all__ = [
    "ERR_REQUEST_MALFORMED",
    "ERR_HEADER_INVALID",
    "ERR_TIMED_OUT",
    "ERR_SESSION_LIMIT_REACHED",
    "FRAMEWORK_CODES",
    "CLOSED_WITHOUT_REPLY",
    "CONNECTION_RESET",
    "OUTCOME_CODES",
    "STANDARD_CODES",
    "FAILURE",
    "classify",
    "error_packet",
    "is_error_packet",
    "error_from_packet",
    "closed_without_reply",
    "connection_reset",
]

ERR_REQUEST_MALFORMED = "ERR_REQUEST_MALFORMED"
ERR_HEADER_INVALID = "ERR_HEADER_INVALID"
ERR_TIMED_OUT = "ERR_TIMED_OUT"
ERR_SESSION_LIMIT_REACHED = "ERR_SESSION_LIMIT_REACHED"
#: the four codes AsyncAPY's server itself sends
FRAMEWORK_CODES = frozenset({ERR_REQUEST_MALFORMED, ERR_HEADER_INVALID, ERR_TIMED_OUT, ERR_SESSION_LIMIT_REACHED})

#: rpctest's name for a close with no packet at all (AsyncAPY has no error for "no handler matches")
CLOSED_WITHOUT_REPLY = "CLOSED_WITHOUT_REPLY"
#: rpctest's name for a connection the peer reset
CONNECTION_RESET = "CONNECTION_RESET"
#: outcomes without a packet, which only rpctest names
OUTCOME_CODES = frozenset({CLOSED_WITHOUT_REPLY, CONNECTION_RESET})
#: what a contract's stubbed errors may use for any operation (a stub may close silently on purpose)
STANDARD_CODES = FRAMEWORK_CODES | {CLOSED_WITHOUT_REPLY}

#: the ``status`` of an error packet
FAILURE = "failure"

_KINDS: dict[str, ErrorKind] = {
    ERR_REQUEST_MALFORMED: ErrorKind.CALLER_ERROR,
    ERR_HEADER_INVALID: ErrorKind.CALLER_ERROR,
    ERR_TIMED_OUT: ErrorKind.TRANSPORT,
    ERR_SESSION_LIMIT_REACHED: ErrorKind.SERVER_ERROR,
    CLOSED_WITHOUT_REPLY: ErrorKind.TRANSPORT,
    CONNECTION_RESET: ErrorKind.TRANSPORT,
}


def classify(code: str | int, *, field: str | None = None, caller_error: bool | None = None, **_: Any) -> ErrorKind:
    """The :class:`ErrorKind` of an AsyncAPY error code (table in the module docstring)."""
    if isinstance(code, str) and code in _KINDS:
        return _KINDS[code]
    if caller_error is False:
        return ErrorKind.SERVER_ERROR
    return ErrorKind.CALLER_ERROR


def error_packet(code: str) -> dict[str, str]:
    """The packet AsyncAPY sends for ``code``, keys in its order: ``{"status": "failure", "error": code}``."""
    return {"status": FAILURE, "error": code}


def is_error_packet(packet: Any) -> bool:
    """Whether a reply packet is a failure packet: ``status`` is ``"failure"`` and ``error`` a string.

    AsyncAPY has no success envelope, so a handler's reply of that shape reads exactly like a
    framework error; it is taken as an error too (with its other keys in ``details["packet"]``).
    """
    return isinstance(packet, Mapping) and packet.get("status") == FAILURE and isinstance(packet.get("error"), str)


def error_from_packet(packet: Mapping[str, Any]) -> RpcError:
    """The neutral error of a failure packet (no message: AsyncAPY's packets carry none)."""
    code = packet["error"]
    extra = {key: value for key, value in packet.items() if key not in ("status", "error")}
    details = {"packet": dict(packet)} if extra else None
    return RpcError(code, "", kind=classify(code), details=details)


def closed_without_reply(address: str) -> RpcError:
    """The error of a call whose connection the server closed without sending a byte."""
    return RpcError(
        CLOSED_WITHOUT_REPLY,
        f"the server at {address} closed the connection without a reply (AsyncAPY does this when no handler "
        f"matches the packet, when a handler raises, and when the payload cannot be read)",
        kind=ErrorKind.TRANSPORT,
    )


def connection_reset(address: str) -> RpcError:
    """The error of a call whose connection the server reset before sending a byte."""
    return RpcError(CONNECTION_RESET, f"the server at {address} reset the connection without a reply", kind=ErrorKind.TRANSPORT)
