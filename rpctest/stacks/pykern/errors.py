"""pykern.api errors in neutral terms, and back: the ``api_error`` string is the only carrier.

pykern's server puts ``"<ClassName>: <message>"`` in a reply's ``api_error`` for any
``pykern.util.APIError`` it raises or an API raises (``APINotFound: api_name=x``,
``NotEnoughCredit: balance=3``, ``APIForbidden: `` with an empty message), and a bare text for the
two cases that have no class: ``missing reply`` (the API returned None) and
``unhandled_exception=...``. Its client raises the base ``pykern.util.APIError`` with that text for
all of them, so the class can only be read back from the prefix. The neutral error's ``code`` is
that class name (``"APIError"`` for a bare text), so ``to_api_error(parse_api_error(s)) == s``.

**Caller error or server error?** pykern itself does not say. rpctest's rule, documented in
docs/stacks/pykern.md: an exception an API raises *on purpose* (an ``APIError`` subclass) is
addressed to its caller, so it is a caller error, unless the API declares the class a server error
(``server_errors=`` in :func:`rpctest.stacks.pykern.api_schema`, or ``caller_error=False`` on a
stubbed error); what pykern wraps itself (``APICallError`` for an unhandled exception, a bare
``missing reply``) is a server error.
"""

from __future__ import annotations

import re
from typing import Any

from rpctest.model import ErrorKind, RpcError

__all__ = [
    "API_ERROR",
    "PROTOCOL_CLASSES",
    "STANDARD_CODES",
    "MISSING_REPLY",
    "classify",
    "parse_api_error",
    "to_api_error",
    "error_name",
    "declare_server_errors",
]

#: the code of an ``api_error`` text without a class prefix (the client raises the base class)
API_ERROR = "APIError"
#: the text pykern's server sends when an API returns None
MISSING_REPLY = "missing reply"
#: pykern.api's own error classes (``pykern.api.util``), by what they mean to a caller
_KINDS: dict[str, ErrorKind] = {
    "APINotFound": ErrorKind.NOT_FOUND,
    "APIForbidden": ErrorKind.UNAUTHORIZED,
    "APICallError": ErrorKind.SERVER_ERROR,
    "APIKindError": ErrorKind.CALLER_ERROR,
    "APIProtocolError": ErrorKind.CALLER_ERROR,
    "APIDisconnected": ErrorKind.TRANSPORT,
    API_ERROR: ErrorKind.SERVER_ERROR,
}
#: classes after whose reply the server closes the connection
PROTOCOL_CLASSES = frozenset({"APIProtocolError"})
#: codes pykern's server answers for any API (a contract may use them without declaring them)
STANDARD_CODES = frozenset(_KINDS) - {"APIDisconnected"}

#: application error classes the APIs declared server errors (``api_schema(server_errors=...)``)
_DECLARED_SERVER_ERRORS: set[str] = set()

_PREFIX = re.compile(r"\A([A-Za-z_][A-Za-z0-9_]*): (.*)\Z", re.DOTALL)


def classify(code: str | int, *, field: str | None = None, caller_error: bool | None = None, **_: Any) -> ErrorKind:
    """The :class:`ErrorKind` of a pykern error class name (see the module docstring for the rule)."""
    if code in _KINDS:
        return _KINDS[code]
    if caller_error is False or (caller_error is None and code in _DECLARED_SERVER_ERRORS):
        return ErrorKind.SERVER_ERROR
    return ErrorKind.CALLER_ERROR


def declare_server_errors(names: Any) -> None:
    """Remember application error classes that mean "the server failed", not "you asked wrongly"."""
    _DECLARED_SERVER_ERRORS.update(error_name(name) for name in names)


def parse_api_error(text: str) -> RpcError:
    """The neutral error for a reply's ``api_error`` text (what the stock client's APIError says)."""
    match = _PREFIX.match(text)
    if match is None:
        return RpcError(API_ERROR, text, kind=ErrorKind.SERVER_ERROR)
    code, message = match.group(1), match.group(2)
    return RpcError(code, message, kind=classify(code))


def to_api_error(error: RpcError) -> str:
    """The ``api_error`` text pykern's server would send for ``error``."""
    if error.code == API_ERROR:
        return error.message
    return f"{error.code}: {error.message}"


def error_name(item: Any) -> str:
    """The class name of an exception class or instance, or the string itself (declarations)."""
    if isinstance(item, str):
        return item
    if isinstance(item, type):
        return item.__name__
    return type(item).__name__
