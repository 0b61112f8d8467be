"""rpctest.stub_action where a pysoa.test suite puts pysoa's: the real pysoa 1.4.9 Client, the real
``parameterized`` package and the mock pysoa.test uses (the ``mock`` backport where installed),
decorators at module level as a migrating suite has them.

pysoa's ``stub_action`` speaks mock.patch's patcher protocol (``patchings``, ``decorate_callable``,
``decorate_class``, ``attribute_name``/``new``), re-entering one stub object gives the one handle, and
``call_bodies`` is a tuple (pysoa/test/stub_service.py, 1.4.9). A module of this shape used to fail at
import ("'stub_action' object has no attribute 'decorate_callable'"), taking all its tests with it.
"""

from __future__ import annotations

import random
import unittest
import unittest.mock

import pytest
from parameterized import parameterized
from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.server.errors import ActionError
from pysoa.test.compatibility import mock as compat_mock

from rpctest import stub_action

pytest_plugins = ["pytester"]

USER = {"user": {"id": 1, "name": "Ann"}}

# ``compat_mock`` is the mock pysoa.test suites use: the ``mock`` backport wherever it is installed (as in
# the pysoa session), else unittest.mock; the environments without the backport run these tests too.


def test_compat_mock_is_the_backport_where_installed():
    try:
        import mock as backport
    except ImportError:
        backport = unittest.mock
    assert compat_mock is backport


def _get(n: int = 1) -> dict:
    return Client({}).call_action("users", "get_user", {"id": n}).body


# parameterized.expand, as pysoa's own tests stack it ------------------------------------------------


class TestExpandOverStub:
    @parameterized.expand([(1,), (2,)])
    @stub_action("users", "get_user", body=USER)
    def test_expanded(self, n, stub_get_user):
        assert _get(n) == USER
        assert stub_get_user.call_bodies == ({"id": n},)


@parameterized.expand([("four", 4), ("five", 5)])
@compat_mock.patch("random.randint")
@stub_action("users", "get_user", body=USER)
def test_expand_function_with_compat_patch_above_stub(name, value, stub_get_user, mock_randint):
    mock_randint.return_value = value
    assert random.randint(0, 1) == value
    assert _get(value) == USER
    stub_get_user.assert_called_once_with({"id": value})


@parameterized.expand([(3,)])
@stub_action("users", "get_user", body=USER)
@unittest.mock.patch("random.randint", return_value=9)
def test_expand_function_with_stub_above_unittest_patch(n, mock_randint, stub_get_user):
    assert random.randint(0, 1) == 9
    assert _get(n) == USER
    assert stub_get_user.call_body == {"id": n}


class TestExpandUnittest(unittest.TestCase):
    @parameterized.expand([(1,), (2,)])
    @stub_action("users", "get_user", side_effect=ActionError(errors=[Error(code="NOT_FOUND", message="no")]))
    def test_expanded_errors(self, n, stub_get_user):
        with self.assertRaises(Client.CallActionError):
            _get(n)
        self.assertEqual(stub_get_user.call_bodies, ({"id": n},))


# pysoa.test's mock (the backport where installed) and unittest.mock, in any order -------------------------------------------------


@compat_mock.patch("random.randint", return_value=4)
@stub_action("users", "get_user", body=USER)
def test_compat_patch_above_stub(stub_get_user, mock_randint):
    assert random.randint(0, 1) == 4
    assert _get() == USER and stub_get_user.called


@stub_action("users", "get_user", body=USER)
@compat_mock.patch("random.randint", return_value=4)
def test_stub_above_compat_patch(mock_randint, stub_get_user):
    assert random.randint(0, 1) == 4
    assert _get() == USER and stub_get_user.called


# (the two mock modules do not mix on one function when one of theirs is the bottom decorator: each
# one's wrapper drops the other's arguments; stubs take on the bottom wrapper's sentinel)
@stub_action("users", "list_users", body={"users": []})
@compat_mock.patch("random.random", return_value=0.5)
@stub_action("users", "get_user", body=USER)
@compat_mock.patch("random.randint", return_value=4)
def test_mixed_stack_of_stubs_and_patches(mock_randint, stub_get_user, mock_random, stub_list_users):
    assert (random.randint(0, 1), random.random()) == (4, 0.5)
    assert _get() == USER
    assert Client({}).call_action("users", "list_users", {}).body == {"users": []}
    assert (stub_get_user.call_count, stub_list_users.call_count) == (1, 1)


@compat_mock.patch("random.randint", return_value=4)
@stub_action("users", "get_user", body=USER)
class TestClassLevelCompatPatchAndStub:
    def test_method(self, stub_get_user, mock_randint):
        assert random.randint(0, 1) == 4
        assert _get() == USER and stub_get_user.call_count == 1


@stub_action("users", "get_user", body=USER)
class TestClassStubOverPatchedUnittestMethods(unittest.TestCase):
    @compat_mock.patch("random.randint", return_value=4)
    @stub_action("users", "list_users", body={"users": []})
    def test_method(self, stub_list_users, mock_randint, stub_get_user):
        self.assertEqual(random.randint(0, 1), 4)
        self.assertEqual(_get(), USER)
        Client({}).call_action("users", "list_users", {})
        self.assertEqual((stub_get_user.call_count, stub_list_users.call_count), (1, 1))


# re-entering, call_bodies --------------------------------------------------------------------------


def test_nested_with_of_one_stub_object_is_one_handle():
    stub = stub_action("users", "get_user", body=USER)
    with stub as first:
        with stub as second:
            assert first is second
            _get(1)
        _get(2)  # still stubbed after the inner block
    assert first.call_bodies == ({"id": 1}, {"id": 2})


GET_USER = stub_action("users", "get_user", body=USER)


@GET_USER
def test_decorated_test_entering_its_stub_again(stub_get_user):
    with GET_USER as again:
        _get(5)
    assert again is stub_get_user
    assert stub_get_user.call_bodies == ({"id": 5},)


# strict mode never fails what pysoa passes only because of how the stub was entered -------------------

STRICT_SUITE = """
import pytest
from pysoa.client.client import Client
from rpctest import stub_action

USER = {"user": {"id": 1}}


@stub_action("users", "get_user", body=USER)
class TestMostTestsCallIt:
    def test_calls_it(self, stub_get_user):
        Client({}).call_action("users", "get_user", {"id": 1})

    def test_does_not(self, stub_get_user):
        assert stub_get_user.call_count == 0


STUB = stub_action("users", "get_user", body=USER)


def test_nested_entry_of_one_stub():
    with STUB:
        with STUB:
            Client({}).call_action("users", "get_user", {"id": 1})


@stub_action("users", "get_user", body=USER)
def test_function_stub_never_called_still_fails(stub_get_user):
    pass
"""


def test_strict_mode_and_the_ways_a_stub_is_entered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_strict=STRICT_SUITE)
    result = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_function_stub_never_called_still_fails*"])


# pysoa's signature: body, errors and side_effect positionally; its registry switches -------------------


def test_body_errors_and_side_effect_positionally_as_in_pysoa():
    with stub_action("users", "get_user", USER):
        assert _get() == USER
    errors = [Error(code="INVALID", field="id", message="bad")]
    with stub_action("users", "get_user", None, errors):
        response = Client({}).call_action("users", "get_user", {"id": 1}, raise_action_errors=False)
    assert [(e.code, e.field) for e in response.errors] == [("INVALID", "id")]
    with stub_action("users", "get_user", None, None, lambda body: {"echo": body}):
        assert _get(4) == {"echo": {"id": 4}}


def test_pysoas_schema_registry_switches_are_accepted():
    """pysoa.test registers stubbed bodies in global registries unless told not to; rpctest keeps no
    such registry (each handle has its calls), so the switches are taken and change nothing."""
    stub = stub_action("users", "get_user", USER, register_request_schema_contract=False,
                       register_response_schema_contract=False)
    with stub as handle:
        assert _get() == USER
    assert handle.call_bodies == ({"id": 1},)


@stub_action("users", "get_user", body=USER)
class TestPysoaDocumentedExample:
    """pysoa's stub_action docstring: a class stub, a method stub configured through its handle."""

    @stub_action("settings", "get_user_setting")
    def test_complex_user_helper(self, stub_get_user_setting, stub_get_user):
        stub_get_user_setting.side_effect = (
            {"value": "first"},
            ActionError(errors=[Error(code="NO_SUCH_SETTING", message="The setting does not exist")]),
        )
        client = Client({})
        assert client.call_action("settings", "get_user_setting", {"setting_id": 1}).body == {"value": "first"}
        with pytest.raises(Client.CallActionError) as raised:
            client.call_action("settings", "get_user_setting", {"setting_id": 2})
        assert [e.code for e in raised.value.actions[0].errors] == ["NO_SUCH_SETTING"]
        assert stub_get_user_setting.call_bodies == ({"setting_id": 1}, {"setting_id": 2})
        assert _get(1234) == USER
        stub_get_user.assert_called_once_with({"id": 1234})

    def test_context_manager_inside(self, stub_get_user):
        with stub_action("payroll", "get_salary") as stub_get_salary:
            stub_get_salary.return_value = {"salary": 75950}
            assert Client({}).call_action("payroll", "get_salary", {"user_id": 1}).body == {"salary": 75950}
        assert stub_get_salary.call_body == {"user_id": 1}
        # the class's stub goes uncalled in this test, as in pysoa's own example: strict mode lets it
