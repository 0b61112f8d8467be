"""PySOA error codes in neutral terms, and back.

Works on plain dicts as they travel on the wire, so the wire half and the assertions need no pysoa
import; :func:`to_native` is the only function that builds a ``pysoa.common.errors.Error`` and it
imports pysoa lazily.
"""

from __future__ import annotations

from typing import Any, Mapping

from rpctest.model import ErrorKind, RpcError

__all__ = [
    "VALIDATION_CODES",
    "STANDARD_CODES",
    "NATIVE_FIELDS",
    "classify",
    "default_is_caller_error",
    "from_wire",
    "to_wire",
    "to_native",
]

#: codes that Conformity validation produces; a stubbed error with one of them is a caller error
VALIDATION_CODES = frozenset({"INVALID", "MISSING", "UNKNOWN"})
_UNAUTHORIZED = frozenset({"NOT_AUTHORIZED", "ACCESS_DENIED"})
_SERVER = frozenset(
    {"SERVER_ERROR", "ACTION_TIMEOUT", "JOB_TIMEOUT", "RESPONSE_TOO_LARGE", "RESPONSE_NOT_SERIALIZABLE"}
)
#: codes PySOA's server machinery itself answers for any action (Conformity validation, the unknown
#: action, an exception in ``run``, timeouts and oversized or unserializable responses)
STANDARD_CODES = VALIDATION_CODES | _SERVER
#: attributes of a PySOA error beyond code, message and field, in wire order
NATIVE_FIELDS = ("traceback", "variables", "denied_permissions", "is_caller_error")


def default_is_caller_error(code: str | int) -> bool:
    """What a stub's ``is_caller_error`` defaults to: true for validation codes only."""
    return code in VALIDATION_CODES


def classify(code: str | int, *, field: str | None = None, is_caller_error: bool | None = None, **_: Any) -> ErrorKind:
    """Map a PySOA error onto an :class:`ErrorKind`.

    UNKNOWN on the field ``action`` is PySOA's "no such action"; NOT_FOUND is a defined constant
    some services use. App codes follow ``is_caller_error``, the only signal PySOA gives.
    """
    if code == "UNKNOWN" and field == "action":
        return ErrorKind.NOT_FOUND
    if code == "NOT_FOUND":
        return ErrorKind.NOT_FOUND
    if code in VALIDATION_CODES:
        return ErrorKind.CALLER_ERROR
    if code in _UNAUTHORIZED:
        return ErrorKind.UNAUTHORIZED
    if code in _SERVER:
        return ErrorKind.SERVER_ERROR
    if is_caller_error:
        return ErrorKind.CALLER_ERROR
    return ErrorKind.SERVER_ERROR


def from_wire(error: Mapping[str, Any] | Any) -> RpcError:
    """A neutral error from a wire dict or any object with PySOA's error attributes."""
    get = error.get if isinstance(error, Mapping) else (lambda key, default=None: getattr(error, key, default))
    code: Any = get("code")
    field = get("field")
    details = {key: get(key) for key in NATIVE_FIELDS if get(key) is not None}
    kind = classify(code, field=field, is_caller_error=details.get("is_caller_error"))
    return RpcError(code, get("message") or "", field=field, kind=kind, details=details)


def to_wire(error: RpcError) -> dict[str, Any]:
    """The dict PySOA puts on the wire for ``error`` (``is_caller_error`` defaulted from the code)."""
    details = error.details
    is_caller_error = details.get("is_caller_error")
    if is_caller_error is None:
        is_caller_error = default_is_caller_error(error.code)
    return {
        "code": error.code,
        "message": error.message,
        "field": error.field,
        "traceback": details.get("traceback"),
        "variables": details.get("variables"),
        "denied_permissions": details.get("denied_permissions"),
        "is_caller_error": bool(is_caller_error),
    }


def to_native(error: RpcError) -> Any:
    """A ``pysoa.common.errors.Error`` for ``error`` (imports pysoa; call only from the host half)."""
    from pysoa.common.errors import Error

    return Error(**to_wire(error))
