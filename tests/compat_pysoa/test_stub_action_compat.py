"""stub_action against pysoa 1.4.9's own, scenario by scenario: what a test can observe must be the same.

Each scenario is written once, as a pysoa.test user writes it, and run twice: with
``pysoa.test.stub_service.stub_action`` and with ``rpctest.compat.pysoa_test.stub_action``. The code
under test is pysoa's real ``Client``; ``mock`` is ``pysoa.test.compatibility.mock``, the backport in
the sessions that install it. A scenario returns what its test saw (bodies, errors, handle counters,
argument order) or the exception it died of; the two must be equal.
"""

from __future__ import annotations

import random
import unittest.mock as stdlib_mock
from typing import Any, Callable

import pysoa.test.stub_service as pysoa_stub_service
import pytest
from parameterized import parameterized
from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.server.errors import ActionError
from pysoa.test.compatibility import mock as compat_mock

import rpctest.compat.pysoa_test as compat

ANN = {"user": {"id": 1, "name": "Ann"}}


def get_user(user_id: int = 1) -> Any:
    return Client({}).call_action("users", "get_user", {"id": user_id}).body


def failure(call: Callable[[], Any]) -> Any:
    """The (code, field, message) of each error a call fails with, or its body."""
    try:
        return call()
    except Client.CallActionError as exc:
        return [(e.code, e.field, e.message) for e in exc.actions[0].errors]


def kind(value: Any) -> str:
    """'mock' for the mock patched over random.randint, 'stub' for another mock (a stub handle), else repr."""
    if value is random.randint:
        return "mock"
    if isinstance(value, (stdlib_mock.NonCallableMock, compat_mock.NonCallableMock)):
        return "stub"
    return repr(value)


SCENARIOS: dict[str, Callable[[Any], Any]] = {}


def scenario(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
    SCENARIOS[func.__name__] = func
    return func


@scenario
def positional_body(stub_action):
    @stub_action("users", "get_user", ANN)
    def test(stub_get_user):
        return get_user(), stub_get_user.called, stub_get_user.call_count, stub_get_user.call_body

    return test()


@scenario
def call_bodies_is_a_tuple(stub_action):
    with stub_action("users", "get_user", body=ANN) as stub:
        get_user(1)
        get_user(2)
    return stub.call_bodies, type(stub.call_bodies).__name__, stub.call_bodies == ({"id": 1}, {"id": 2})


@scenario
def no_body_answers_empty(stub_action):
    with stub_action("users", "get_user") as stub:
        return get_user(), stub.call_count


@scenario
def errors_as_dicts(stub_action):
    with stub_action("users", "get_user", errors=[{"code": "NOPE", "message": "no such user", "field": "id"}]):
        return failure(get_user)


@scenario
def errors_as_error_objects_positional(stub_action):
    with stub_action("users", "get_user", None, [Error(code="NOPE", message="gone")]):
        return failure(get_user)


@scenario
def side_effect_set_after_creation(stub_action):
    # the seed's example: bodies and an ActionError, one per call
    with stub_action("settings", "get_setting") as stub:
        stub.side_effect = (
            {"value": "first"},
            {"value": "second"},
            ActionError(errors=[Error(code="NO_SUCH_SETTING", message="The setting does not exist")]),
        )
        call = lambda: Client({}).call_action("settings", "get_setting", {"id": "x"}).body  # noqa: E731
        return failure(call), failure(call), failure(call), stub.call_count


@scenario
def return_value_set_after_creation(stub_action):
    with stub_action("payroll", "get_salary") as stub:
        stub.return_value = {"salary": 75950}
        body = Client({}).call_action("payroll", "get_salary", {"user_id": 1}).body
        stub.assert_called_once_with({"user_id": 1})
        stub.assert_has_calls([compat_mock.call({"user_id": 1})])
        return body, stub.call_body


@scenario
def side_effect_callable(stub_action):
    with stub_action("users", "get_user", side_effect=lambda body: {"user": {"id": body["id"]}}):
        return get_user(7)


@scenario
def class_and_method_decorators(stub_action):
    @stub_action("users", "get_user", body=ANN)
    class TestSomething:
        @stub_action("settings", "get_setting", body={"value": 1})
        def test_both(self, first, second):
            get_user()
            Client({}).call_action("settings", "get_setting", {})
            return first.call_count, second.call_count, first.call_body, second.call_body

    return TestSomething().test_both()


def _patches(mock_module: Any, stub_action: Any, patch_above: bool) -> Any:
    def test(first, second):
        value = random.randint(1, 6)
        get_user()
        return kind(first), kind(second), value

    stub = stub_action("users", "get_user", body=ANN)
    patch = mock_module.patch("random.randint", return_value=99)
    wrapped = patch(stub(test)) if patch_above else stub(patch(test))
    return wrapped()


@scenario
def unittest_mock_patch_above_stub(stub_action):
    return _patches(stdlib_mock, stub_action, patch_above=True)


@scenario
def unittest_mock_patch_below_stub(stub_action):
    return _patches(stdlib_mock, stub_action, patch_above=False)


@scenario
def compat_mock_patch_above_stub(stub_action):
    return _patches(compat_mock, stub_action, patch_above=True)


@scenario
def compat_mock_patch_below_stub(stub_action):
    return _patches(compat_mock, stub_action, patch_above=False)


@scenario
def compat_mock_patch_on_class_with_stub_on_method(stub_action):
    @compat_mock.patch("random.randint", return_value=5)
    class TestSomething:
        @stub_action("users", "get_user", body=ANN)
        def test_it(self, first, second):
            get_user()
            return kind(first), kind(second), random.randint(1, 6)

    return TestSomething().test_it()


def _expanded(cls: type, prefix: str) -> list[Any]:
    instance = cls()
    return [getattr(instance, name)() for name in sorted(vars(cls)) if name.startswith(prefix + "_")]


@scenario
def parameterized_expand_over_stub(stub_action):
    class TestExpanded:
        @parameterized.expand([(1,), (2,)])
        @stub_action("users", "get_user", body=ANN)
        def test_user(self, user_id, stub_get_user):
            get_user(user_id)
            return user_id, kind(stub_get_user), stub_get_user.call_body

    return _expanded(TestExpanded, "test_user")


@scenario
def parameterized_expand_over_stub_and_patch(stub_action):
    class TestExpanded:
        @parameterized.expand([("a",), ("b",)])
        @compat_mock.patch("random.randint", return_value=3)
        @stub_action("users", "get_user", body=ANN)
        def test_user(self, label, first, second):
            get_user()
            return label, kind(first), kind(second), random.randint(1, 2)

    return _expanded(TestExpanded, "test_user")


@scenario
def parameterized_function_under_pytest(stub_action):
    # parameterized.parameterized (not .expand) on a function: a generator of (test, *params) cases
    @parameterized([(1,), (2,)])
    @stub_action("users", "get_user", body=ANN)
    def test_user(user_id, stub_get_user):
        return get_user(user_id), stub_get_user.call_body

    return [case[0](*case[1:]) for case in test_user()]


@scenario
def reentering_one_stub_gives_one_handle(stub_action):
    stub = stub_action("users", "get_user", body=ANN)
    with stub as outer:
        get_user(1)
        with stub as inner:
            get_user(2)
            seen = outer is inner, outer.call_count, inner.call_count, outer.call_bodies == ({"id": 1}, {"id": 2})
    return seen


@scenario
def start_and_stop(stub_action):
    stub = stub_action("users", "get_user", body=ANN)
    handle = stub.start()
    try:
        return get_user(), handle.call_count
    finally:
        stub.stop()


#: True where pysoa.test.compatibility.mock is the ``mock`` backport (the -mock sessions)
BACKPORT = compat_mock is not stdlib_mock

#: What the patch scenarios must see: mock.patch's documented argument order (the decorator nearest
#: the function gives the first argument) and the patched value. pysoa 1.4.9 itself fails some of
#: them on Python 3.11, see PYSOA_BUGS; rpctest must not.
PATCH_ORDER = {
    "unittest_mock_patch_above_stub": ("stub", "mock", 99),
    "unittest_mock_patch_below_stub": ("mock", "stub", 99),
    "compat_mock_patch_above_stub": ("stub", "mock", 99),
    "compat_mock_patch_below_stub": ("mock", "stub", 99),
    "compat_mock_patch_on_class_with_stub_on_method": ("stub", "mock", 5),
    "parameterized_expand_over_stub_and_patch": [("a", "stub", "mock", 3), ("b", "stub", "mock", 3)],
}

#: How pysoa 1.4.9 fails those on Python 3.11: its decorator exits the patches stacked above it with no
#: arguments (``patching.__exit__()``), which mock's ``__exit__`` rejects (IndexError); and with the
#: backport installed, a ``unittest.mock.patch`` argument is dropped because pysoa compares against the
#: backport's ``DEFAULT`` sentinel (TypeError: missing argument).
PYSOA_BUGS = ("IndexError", "TypeError")

def observe(run: Callable[[Any], Any], stub_action: Any) -> Any:
    try:
        return ("ok", run(stub_action))
    except Exception as exc:  # noqa: BLE001 - the exception is what is compared
        return ("raised", type(exc).__name__, str(exc)[:200])


def _params() -> list[Any]:
    return [pytest.param(name, id=name) for name in SCENARIOS]


@pytest.mark.rpctest(strict=False)  # pysoa's stubs do not take part in rpctest's strict mode
@pytest.mark.parametrize("name", _params())
def test_scenario_observes_the_same_as_pysoa(name):
    expected = observe(SCENARIOS[name], pysoa_stub_service.stub_action)
    if name in PATCH_ORDER:
        # pysoa either sees mock.patch's order too, or dies of one of its known bugs; rpctest must see it
        assert expected == ("ok", PATCH_ORDER[name]) or expected[:2] in [("raised", bug) for bug in PYSOA_BUGS], expected
        expected = ("ok", PATCH_ORDER[name])
    assert expected[0] == "ok", expected  # the scenario itself works on pysoa
    assert observe(SCENARIOS[name], compat.stub_action) == expected


def test_positional_arguments_are_checked_as_keywords_are():
    from rpctest.exceptions import StubUsageError

    with pytest.raises(StubUsageError, match="side_effect must be"):
        compat.stub_action("users", "get_user", None, None, "not-a-side-effect")


def caller_error_flags(stub_action: Any) -> list[bool]:
    errors = [{"code": "INVALID", "message": "bad id", "field": "id"}, {"code": "DENIED", "message": "no"}]
    with stub_action("users", "get_user", errors=errors):
        with pytest.raises(Client.CallActionError) as exc_info:
            get_user()
    return [e.is_caller_error for e in exc_info.value.actions[0].errors]


@pytest.mark.rpctest(strict=False)
def test_documented_difference_is_caller_error_follows_the_code():
    """docs/migrating-from-pysoa-test.md: pysoa marks every stubbed error False; rpctest as a server would."""
    assert caller_error_flags(pysoa_stub_service.stub_action) == [False, False]
    assert caller_error_flags(compat.stub_action) == [True, False]


def test_stub_client_and_server_are_pysoas_own():
    import pysoa.test.stub_service as original

    assert compat.StubServer is original.StubServer
    assert issubclass(compat.StubClient, original.StubClient) and issubclass(compat.StubClient, Client)
    from rpctest.compat.pysoa_test import stub_service

    assert stub_service.StubClientTransport is original.StubClientTransport
    assert stub_service.stub_action is compat.stub_action


@pytest.mark.rpctest(strict=False)
def test_tally_every_difference_is_a_pysoa_crash_or_pending():
    """The figures: scenarios compared, and how many differ. Each difference must be one where pysoa
    itself dies of a known bug."""
    from interop_helpers import tally

    differed = []
    for name, run in SCENARIOS.items():
        theirs, ours = observe(run, pysoa_stub_service.stub_action), observe(run, compat.stub_action)
        if theirs != ours:
            differed.append(name)
            crashed = theirs[:2] in [("raised", bug) for bug in PYSOA_BUGS]
            assert crashed, (name, theirs, ours)
    tally("pysoa.test", f"stub_action ({'mock backport' if BACKPORT else 'unittest.mock'})", len(SCENARIOS), len(differed))
