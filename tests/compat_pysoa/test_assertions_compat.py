"""The raises_* helpers against pysoa 1.4.9's own, case by case: same outcome, same message, same soa_errors.

Each case runs once with ``pysoa.test.assertions`` (which still imports on pytest 8.4 and 9) and once
with ``rpctest.compat.pysoa_test``, around a call through pysoa's real ``Client`` to a stub server
(pysoa's StubClient) that answers with the case's errors; the two outcomes must be equal.
"""

from __future__ import annotations

import copy
from typing import Any

import pysoa.test.assertions as pysoa_assertions
import pytest
from pysoa.client.client import Client
from pysoa.common.errors import Error

import rpctest.compat.pysoa_test as compat
from rpctest.compat.pysoa_test import StubClient

FROZEN = {"code": "FROZEN", "message": "account is frozen"}
OTHER = {"code": "OTHER", "message": "something else"}
LOCKED = {"code": "LOCKED", "message": "id is locked", "field": "id"}
BAD_NAME = {"code": "INVALID", "message": "bad name", "field": "name"}

#: (case id, helper name, positional args, keyword args, errors the call fails with; None: it succeeds)
CASES: list[tuple[str, str, tuple[Any, ...], dict[str, Any], list[dict[str, Any]] | None]] = [
    ("call-error", "raises_call_action_error", (), {}, [FROZEN]),
    ("call-error-match", "raises_call_action_error", (), {"match": "FROZEN"}, [FROZEN]),
    ("call-error-match-misses", "raises_call_action_error", (), {"match": "NOPE"}, [FROZEN]),
    ("call-error-not-raised", "raises_call_action_error", (), {}, None),
    ("codes-one", "raises_error_codes", ("FROZEN",), {}, [FROZEN]),
    ("codes-list-missing", "raises_error_codes", (["FROZEN", "OTHER"],), {}, [FROZEN]),
    ("codes-field-ignored", "raises_error_codes", ("FROZEN",), {}, [FROZEN, LOCKED]),
    ("codes-field-does-not-match", "raises_error_codes", ("LOCKED",), {}, [LOCKED]),
    ("codes-only-field-unexpected", "raises_error_codes", ("FROZEN",), {"only": True}, [FROZEN, LOCKED]),
    ("codes-only-missing-and-unexpected", "raises_error_codes", ("OTHER",), {"only": True}, [FROZEN]),
    ("only-codes-set", "raises_only_error_codes", ({"FROZEN"},), {}, [FROZEN]),
    ("only-codes-extra", "raises_only_error_codes", ("FROZEN",), {}, [FROZEN, OTHER]),
    ("only-codes-tuple", "raises_only_error_codes", (("FROZEN", "OTHER"),), {}, [OTHER, FROZEN]),
    ("codes-not-raised", "raises_error_codes", ("FROZEN",), {}, None),
    ("codes-match-kwarg", "raises_error_codes", ("FROZEN",), {"match": "frozen"}, [FROZEN]),
    ("fields-one", "raises_field_errors", ({"id": "LOCKED"},), {}, [LOCKED]),
    ("fields-list-missing", "raises_field_errors", ({"id": ["LOCKED", "INVALID"]},), {}, [LOCKED]),
    ("fields-plain-error-ignored", "raises_field_errors", ({"id": "LOCKED"},), {}, [FROZEN, LOCKED]),
    ("fields-wrong-field", "raises_field_errors", ({"name": "LOCKED"},), {}, [LOCKED]),
    ("fields-only-plain-unexpected", "raises_field_errors", ({"id": "LOCKED"},), {"only": True}, [FROZEN, LOCKED]),
    ("only-fields-other-field", "raises_only_field_errors", ({"id": "LOCKED"},), {}, [LOCKED, BAD_NAME]),
    ("only-fields-two-fields", "raises_only_field_errors", ({"id": {"LOCKED"}, "name": "INVALID"},), {}, [BAD_NAME, LOCKED]),
    ("fields-not-raised", "raises_field_errors", ({"id": "LOCKED"},), {}, None),
]


def outcome(module: Any, helper: str, args: tuple[Any, ...], kwargs: dict[str, Any], errors: list[dict[str, Any]] | None) -> tuple[Any, ...]:
    """What a test observes: it passes (with these soa_errors), fails through pytest.fail, or raises."""
    args, kwargs = copy.deepcopy((args, kwargs))  # pysoa empties a set of codes it is given
    answer = {"errors": errors} if errors else {"body": {"ok": True}}
    client = StubClient({"accounts": {"freeze": answer}})
    try:
        with getattr(module, helper)(*args, **kwargs) as info:
            client.call_action("accounts", "freeze", {"id": 1})
    except pytest.fail.Exception as exc:
        return ("failed", str(exc))
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return ("raised", type(exc).__name__)
    soa = [(e.code, e.field, e.message) for e in info.soa_errors]
    return ("passed", soa, type(info).__name__, info.type.__name__, all(isinstance(e, Error) for e in info.soa_errors))


@pytest.mark.parametrize(("helper", "args", "kwargs", "errors"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_helper_behaves_as_pysoas(helper, args, kwargs, errors):
    expected = outcome(pysoa_assertions, helper, args, kwargs, errors)
    assert outcome(compat, helper, args, kwargs, errors) == expected


def test_cases_cover_pass_and_fail_of_every_helper():
    """The table is not lopsided: each helper is seen both passing and failing under pysoa."""
    seen: dict[str, set[str]] = {}
    for _, helper, args, kwargs, errors in CASES:
        seen.setdefault(helper, set()).add(outcome(pysoa_assertions, helper, args, kwargs, errors)[0])
    assert set(seen) == {name for name in compat.__all__ if name.startswith("raises_")}
    assert all({"passed", "failed"} <= kinds for kinds in seen.values()), seen


def test_yields_pytest_exception_info_with_soa_errors():
    client = StubClient({"accounts": {"freeze": {"errors": [FROZEN, LOCKED]}}})
    with compat.raises_error_codes("FROZEN") as exc_info:
        client.call_action("accounts", "freeze", {"id": 1})
    assert isinstance(exc_info, pytest.ExceptionInfo)
    assert exc_info.type is Client.CallActionError
    assert exc_info.match("FROZEN")
    assert [(e.code, e.field) for e in exc_info.soa_errors] == [("FROZEN", None), ("LOCKED", "id")]
    assert "CallActionError" in exc_info.exconly()


def test_failure_is_pytest_fail_not_assertion_error():
    client = StubClient({"accounts": {"freeze": {"errors": [FROZEN]}}})
    with pytest.raises(pytest.fail.Exception, match=r"Expected errors not found in response: \['OTHER'\]") as failed:
        with compat.raises_error_codes("OTHER"):
            client.call_action("accounts", "freeze", {"id": 1})
    assert not isinstance(failed.value, AssertionError)


def test_other_exceptions_pass_through_unchanged():
    with pytest.raises(KeyError, match="not a call error"):
        with compat.raises_field_errors({"id": "LOCKED"}):
            raise KeyError("not a call error")


def test_bad_field_errors_argument_is_a_clear_error():
    with pytest.raises(TypeError, match="field_errors must be a mapping"):
        with compat.raises_field_errors(["LOCKED"]):  # type: ignore[arg-type]
            pass


def test_a_set_of_codes_is_left_as_given():
    """pysoa removes each matched code from a set it is given (a side effect no test wants); rpctest copies it."""
    codes = {"FROZEN"}
    client = StubClient({"accounts": {"freeze": {"errors": [FROZEN]}}})
    with compat.raises_only_error_codes(codes):
        client.call_action("accounts", "freeze", {"id": 1})
    assert codes == {"FROZEN"}


def test_tally_no_case_differs():
    from interop_helpers import tally

    differed = [case[0] for case in CASES if outcome(pysoa_assertions, *case[1:]) != outcome(compat, *case[1:])]
    tally("pysoa.test", "raises_* helpers", len(CASES), len(differed))
    assert differed == []
