"""ZeroJSON codes <-> neutral ErrorKind, and the exceptions hosted services raise."""

from __future__ import annotations

import pytest

from rpctest.model import ErrorKind, RpcError
from rpctest.stacks.zerojson import errors, wire


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (1, ErrorKind.SERVER_ERROR),
        (2, ErrorKind.NOT_FOUND),
        (3, ErrorKind.NOT_FOUND),
        (4, ErrorKind.CALLER_ERROR),
        (5, ErrorKind.UNAUTHORIZED),
        (6, ErrorKind.CALLER_ERROR),
        (42, ErrorKind.CALLER_ERROR),
        ("BAD_REQUEST", ErrorKind.CALLER_ERROR),
        ("ERROR_ACCESS_DENIED", ErrorKind.UNAUTHORIZED),
        ("2", ErrorKind.NOT_FOUND),
    ],
)
def test_classify(code: int | str, kind: ErrorKind) -> None:
    assert errors.classify(code) is kind


def test_own_codes_can_be_declared_server_errors() -> None:
    assert errors.classify(42, caller_error=False) is ErrorKind.SERVER_ERROR
    assert errors.classify(4, caller_error=False) is ErrorKind.CALLER_ERROR, "standard codes keep their meaning"
    assert errors.classify("nonsense", caller_error=False) is ErrorKind.SERVER_ERROR


def test_code_number() -> None:
    assert [errors.code_number(c) for c in (4, "4", "bad_request", "ERROR_SESSION_EXPIRED", "-3")] == [4, 4, 4, 6, -3]
    for bad in (True, "NOPE", 1.5, None):
        with pytest.raises(ValueError, match="integer"):
            errors.code_number(bad)  # type: ignore[arg-type]
    assert errors.STANDARD_CODES == {1, 2, 3, 4, 5, 6}


def test_wire_round_trip() -> None:
    error = errors.from_wire(5, "go away")
    assert error == RpcError(5, "go away", kind=ErrorKind.UNAUTHORIZED)
    assert errors.to_wire(error) == (5, "go away")
    nameless = errors.from_wire(4, None)
    assert nameless.message == "" and errors.to_wire(nameless) == (4, None)
    assert errors.client_message(4, None) == "Remote error #4"
    assert errors.client_message(4, "x") == "x"
    assert errors.to_wire(RpcError("METHOD_NOT_FOUND", "m")) == (2, "m")
    with pytest.raises(ValueError):
        errors.to_wire(RpcError("WHAT", "m"))


def test_remote_errors_carry_codes() -> None:
    assert errors.RemoteError("x").code == wire.UNKNOWN
    assert errors.RemoteError("x", code=42).code == 42
    assert [cls("m").code for cls in (errors.MethodNotFound, errors.ServiceNotFound, errors.BadRequest, errors.AccessDenied, errors.SessionExpired)] == [2, 3, 4, 5, 6]
    assert str(errors.RemoteError(None, code=7)) == "Remote error #7"
    assert errors.RemoteError([1, 2]).message == "[1, 2]"
    assert errors.RemoteError(None).message is None
