import random

import pytest

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.server.errors import ActionError
from pysoa.test.assertions import (
    raises_call_action_error,
    raises_error_codes,
    raises_field_errors,
    raises_only_error_codes,
    raises_only_field_errors,
)
from pysoa.test.compatibility import mock
from pysoa.test.stub_service import StubClient, stub_action


def user_line(client, user_id):
    user = client.call_action("user", "get_user", {"id": user_id}).body["user"]
    return "#{id}: {username}".format(**user)


@stub_action("user", "get_user", body={"user": {"id": 1234, "username": "John"}})
class TestSomeCode:
    def test_simple_user_helper(self, stub_get_user):
        assert user_line(Client({}), 5678) == "#1234: John"
        assert stub_get_user.called
        assert stub_get_user.call_count == 1
        assert stub_get_user.call_body == {"id": 5678}
        stub_get_user.assert_called_once_with({"id": 5678})
        stub_get_user.assert_has_calls([mock.call({"id": 5678})])

    @stub_action("settings", "get_user_setting")
    def test_complex_user_helper(self, stub_get_user_setting, stub_get_user):
        stub_get_user_setting.side_effect = (
            {"value": "first"},
            ActionError(errors=[Error(code="NO_SUCH_SETTING", message="The setting does not exist")]),
        )
        client = Client({})
        assert client.call_action("settings", "get_user_setting", {"setting_id": 1}).body == {"value": "first"}
        with raises_only_error_codes("NO_SUCH_SETTING") as exc_info:
            client.call_action("settings", "get_user_setting", {"setting_id": 2})
        assert exc_info.soa_errors[0].message == "The setting does not exist"
        assert stub_get_user_setting.call_count == 2
        user_line(client, 1)
        stub_get_user.assert_called_once_with({"id": 1})

    def test_context_manager(self, stub_get_user):
        with stub_action("payroll", "get_salary") as stub_get_salary:
            stub_get_salary.return_value = {"salary": 75950}
            assert Client({}).call_action("payroll", "get_salary", {"user_id": 1234}).body == {"salary": 75950}
        assert stub_get_salary.call_body == {"user_id": 1234}
        user_line(Client({}), 1234)


@stub_action("user", "create_user", errors=[{"code": "INVALID", "field": "email", "message": "bad email"}])
def test_errors_as_dicts(stub_create_user):
    with raises_field_errors({"email": "INVALID"}) as exc_info:
        Client({}).call_action("user", "create_user", {"email": "nope"})
    assert exc_info.soa_errors[0].field == "email"
    with raises_only_field_errors({"email": ["INVALID"]}):
        Client({}).call_action("user", "create_user", {"email": "nope"})


def test_stub_with_positional_body_and_errors():
    with stub_action("user", "delete_user", None, [Error(code="DENIED", message="not yours")]):
        with raises_error_codes(["DENIED"]):
            Client({}).call_action("user", "delete_user", {"id": 1})


def test_raises_call_action_error_match():
    with stub_action("user", "delete_user", errors=[{"code": "DENIED", "message": "not yours"}]):
        with raises_call_action_error(match="DENIED") as exc_info:
            Client({}).call_action("user", "delete_user", {"id": 1})
    assert exc_info.soa_errors[0].code == "DENIED"


def test_failing_assertion_is_pytest_fail():
    with stub_action("user", "delete_user", errors=[{"code": "DENIED", "message": "not yours"}]):
        with pytest.raises(pytest.fail.Exception):
            with raises_error_codes("GONE"):
                Client({}).call_action("user", "delete_user", {"id": 1})


def test_stub_client():
    client = StubClient({"users": {"get_user": {"body": {"user": {"id": 1, "username": "Ann"}}}}})
    # (StubClient.stub_action on a service of the map replaces that service's stubs, in pysoa too)
    client.stub_action("admin", "delete_user", errors=[{"code": "DENIED", "message": "no"}])
    client.stub_action("audit", "log", body={"ok": True})
    assert client.call_action("users", "get_user", {"id": 1}).body == {"user": {"id": 1, "username": "Ann"}}
    assert client.call_action("audit", "log", {}).body == {"ok": True}
    with raises_only_error_codes("DENIED"):
        client.call_action("admin", "delete_user", {"id": 1})
    with raises_field_errors({"action": "UNKNOWN"}):
        client.call_action("users", "no_such_action", {})


@mock.patch("random.randint", return_value=4)
def test_patch_alone_still_a_mock(mock_randint):
    assert random.randint(1, 6) == 4
