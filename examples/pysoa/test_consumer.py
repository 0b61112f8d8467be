"""The consumer's tests: the ``users`` service is stubbed, the consumer code runs for real."""

from pysoa.client.client import Client

from examples.pysoa.consumer import directory, profile_line, register
from rpctest import stub_action

ANN = {"user": {"id": 1, "name": "Ann", "email": "ann@example.com", "tags": ["admin"]}}


@stub_action("users", "get_user", body=ANN)
def test_profile_line(stub_get_user):
    assert profile_line(Client({}), 1) == "#1: Ann <ann@example.com> [admin]"
    stub_get_user.assert_called_once_with({"id": 1})


@stub_action("users", "get_user", errors=[{"code": "NOT_FOUND", "field": "id", "message": "No such user"}])
def test_profile_line_for_a_missing_user(stub_get_user):
    assert profile_line(Client({}), 2) == "#2: (no such user)"


def test_register_reports_field_errors(rpc_stub):
    rpc_stub("users", "create_user", errors=[{"code": "INVALID", "field": "email", "message": "Not a valid e-mail"}])
    assert register(Client({}), "Bob", "bob@") == (None, ["email: INVALID"])


def test_register_returns_the_new_id(rpc_stub):
    stub = rpc_stub("users", "create_user", side_effect=lambda body: {"user": {"id": 7, **body, "tags": []}})
    assert register(Client({}), "Bob", "bob@example.com") == (7, [])
    assert stub.call_body == {"name": "Bob", "email": "bob@example.com"}


@stub_action("users", "list_users", body={"users": [ANN["user"]]})
def test_directory(stub_list_users):
    assert directory(Client({}), limit=3) == ["Ann"]
    assert stub_list_users.call_body == {"limit": 3}
