"""Kyoukai's errors in neutral terms: an HTTP status, mapped onto :class:`~rpctest.model.ErrorKind`.

Kyoukai has no error envelope: an error is the response's status code (and whatever body the error
handler or werkzeug's error page gives). The neutral error's ``code`` is that status as an int.

=============  ===============  ====================================================================
status         ErrorKind        why
=============  ===============  ====================================================================
404, 405, 410  NOT_FOUND        no such route (404, a converter rejecting a value, 410), or the path
                                exists without that method (405): the operation ``"METHOD /path"``
                                does not exist
401, 403, 407  UNAUTHORIZED     the caller's identity or rights
other 4xx      CALLER_ERROR     the request is wrong (400, 409, 413, 415, 418, 422, ...)
3xx            CALLER_ERROR     a redirect (Kyoukai's 307 for a missing trailing slash): rpctest's
                                clients do not follow it; the caller asked for a non-canonical path
5xx            SERVER_ERROR     the service failed
anything else  TRANSPORT        not an HTTP status a server can send
=============  ===============  ====================================================================

**The canned page.** Kyoukai 2.2.1.post1 answers any error whose handler keeps the status code
(every plain 404, 405, ``abort(4xx)``, unhandled exception) with a fixed ``HTTP/1.0 500 INTERNAL
SERVER ERROR`` "Critical Server Error" page written by its httptools backend (its Content-Length,
310, is one byte short of the 311-byte body; 2.2.1 answers the real status).
It is a 500, so SERVER_ERROR, and :func:`is_critical_page` recognises it so reports can say it is
Kyoukai's error-handler regression rather than the application's own 500.
"""

from __future__ import annotations

from typing import Any, Iterable

from rpctest.model import ErrorKind, RpcError

__all__ = [
    "CRITICAL_PAGE_MESSAGE",
    "NOT_FOUND_STATUSES",
    "UNAUTHORIZED_STATUSES",
    "classify",
    "error_for_status",
    "is_critical_page",
    "status_number",
]

NOT_FOUND_STATUSES = frozenset({404, 405, 410})
UNAUTHORIZED_STATUSES = frozenset({401, 403, 407})
#: the neutral error message for Kyoukai's canned "Critical Server Error" page
CRITICAL_PAGE_MESSAGE = (
    "Kyoukai's canned Critical Server Error page (HTTP/1.0 500): the 2.2.1.post1 error-handler bug, "
    "an error page the app or its routing made (404, 405, abort) was lost"
)
_CRITICAL_TITLE = b"<title>Critical Server Error</title>"


def status_number(code: str | int) -> int:
    """The status as an int: an int, or a numeric string such as ``"404"`` (ValueError otherwise)."""
    if isinstance(code, bool):
        raise ValueError(f"an HTTP status is an integer, not {code!r}")
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.strip().isdigit():
        return int(code.strip())
    raise ValueError(f"an HTTP status is an integer such as 404, not {code!r}")


def classify(code: str | int, *, field: str | None = None, **_: Any) -> ErrorKind:
    """The :class:`ErrorKind` of an HTTP status (the module docstring gives the table and reasons)."""
    try:
        status = status_number(code)
    except ValueError:
        return ErrorKind.TRANSPORT
    if status in NOT_FOUND_STATUSES:
        return ErrorKind.NOT_FOUND
    if status in UNAUTHORIZED_STATUSES:
        return ErrorKind.UNAUTHORIZED
    if 300 <= status < 500:
        return ErrorKind.CALLER_ERROR
    if 500 <= status < 600:
        return ErrorKind.SERVER_ERROR
    return ErrorKind.TRANSPORT


def is_critical_page(http_version: str, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> bool:
    """Whether a response is Kyoukai's canned "Critical Server Error" page (the post1 regression)."""
    if status != 500 or http_version != "HTTP/1.0":
        return False
    backend = {name.lower(): value for name, value in headers}.get("x-http-backend")
    return backend is not None and _CRITICAL_TITLE in body


def error_for_status(status: int, reason: str = "", *, critical: bool = False, **details: Any) -> RpcError:
    """The neutral error for a non-2xx response: code = the status, message = its reason phrase.

    ``details`` keeps what has no neutral meaning (``status``, ``critical_page``, the body text).
    """
    message = CRITICAL_PAGE_MESSAGE if critical else reason
    info = {"status": status, **details}
    if critical:
        info["critical_page"] = True
    return RpcError(status, message, kind=classify(status), details=info)
