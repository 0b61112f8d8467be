"""The provider's tests: the real ``users`` server in-process, through the local transport and Redis."""

import pytest

from examples.pysoa.consumer import profile_line, register
from examples.pysoa.service import UserServer
from rpctest import raises_field_errors, raises_not_found


@pytest.fixture(params=["local", "redis"])
def users(request, pysoa_service):
    return pysoa_service(UserServer, transport=request.param)


def test_consumer_against_the_real_service(users):
    assert profile_line(users.client, 1) == "#1: Ann <ann@example.com> [admin]"
    assert profile_line(users.client, 99) == "#99: (no such user)"
    assert register(users.client, "Bob", "bob@example.com") == (2, [])
    assert register(users.client, "Bob", "bob@example.com") == (None, ["name: DUPLICATE"])


def test_validation_errors_name_the_field(users):
    with raises_field_errors({"email": "INVALID", "name": "MISSING"}, only=True):
        users.client.call_action("users", "create_user", {"email": "nope"})


def test_unknown_action_is_not_found(users):
    with raises_not_found():
        users.client.call_action("users", "delete_everything")


def test_neutral_call(users):
    reply = users.call("list_users", {"limit": 1})
    assert reply.ok and reply.body["users"][0]["name"] == "Ann"
    reply = users.call("get_user", {"id": "x"})
    assert [(e.code, e.field, e.kind.value) for e in reply.errors] == [("INVALID", "id", "caller_error")]
