"""stub_action against the real pysoa 1.4.9 Client: every call style, errors, side effects, job merging."""

from __future__ import annotations

import asyncio

import pytest
from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.types import ActionResponse
from pysoa.server.errors import ActionError, JobError

from examples.pysoa.service import STORE, UserServer
from rpctest import ErrorKind, RpcError, stub_action
from rpctest.exceptions import StubUsageError, UnmatchedCall

USER = {"user": {"id": 1, "name": "Ann", "email": "ann@example.com", "tags": []}}


@pytest.fixture
def client() -> Client:
    return Client({})


# decorator forms ------------------------------------------------------------------------------


@stub_action("users", "get_user", body=USER)
def test_decorator_passes_handle(stub_get_user, client):
    assert client.call_action("users", "get_user", {"id": 1}).body == USER
    assert stub_get_user.called
    assert stub_get_user.call_count == 1
    assert stub_get_user.call_body == {"id": 1}
    stub_get_user.assert_called_once_with({"id": 1})


@stub_action("users", "get_user", body=USER)
@stub_action("users", "list_users", body={"users": []})
def test_stacked_decorators_bottom_first(stub_list_users, stub_get_user, client):
    client.call_action("users", "list_users", {})
    client.call_action("users", "get_user", {"id": 2})
    assert stub_list_users.call_bodies == ({},)
    assert stub_get_user.call_bodies == ({"id": 2},)


@stub_action("users", "get_user", body=USER)
class TestClassDecorator:
    def test_one(self, stub_get_user, client):
        client.call_action("users", "get_user", {"id": 1})
        assert stub_get_user.call_count == 1

    def test_two_gets_a_fresh_handle(self, stub_get_user, client):
        assert stub_get_user.call_count == 0
        client.call_action("users", "get_user", {"id": 3})
        assert stub_get_user.call_body == {"id": 3}


class TestMethodDecorator:
    @stub_action("users", "get_user", body=USER)
    def test_method(self, stub_get_user, client):
        client.call_action("users", "get_user", {"id": 4})
        assert stub_get_user.call_body == {"id": 4}


@stub_action("users", "get_user", body=USER)
def test_async_function_is_decorated(stub_get_user):
    async def scenario():
        await asyncio.sleep(0)
        return Client({}).call_action("users", "get_user", {"id": 5}).body

    @stub_action("users", "list_users", body={"users": []})
    async def inner(stub_list_users):
        body = await scenario()
        Client({}).call_action("users", "list_users")
        return body, stub_list_users.call_count

    body, count = asyncio.run(inner())
    assert body == USER and count == 1
    assert stub_get_user.call_body == {"id": 5}


def test_decorator_without_handle_parameter_is_a_clear_error():
    with pytest.raises(StubUsageError, match="no parameter to receive the handle"):

        @stub_action("users", "get_user", body=USER)
        def test_nothing():
            pass


def test_context_manager_and_start_stop(client):
    with stub_action("users", "get_user", body=USER) as stub:
        client.call_action("users", "get_user", {"id": 1})
    assert stub.call_count == 1
    stubber = stub_action("users", "get_user", body={"user": None})
    handle = stubber.start()
    try:
        assert client.call_action("users", "get_user", {"id": 1}).body == {"user": None}
    finally:
        stubber.stop()
    assert handle.call_count == 1
    with pytest.raises(Client.ImproperlyConfigured):  # no stubs left: pysoa's own error for an unconfigured service
        client.call_action("users", "get_user", {"id": 1})


def test_newer_stub_shadows_older(client):
    with stub_action("users", "get_user", body={"v": 1}):
        with stub_action("users", "get_user", body={"v": 2}) as inner:
            assert client.call_action("users", "get_user").body == {"v": 2}
        assert client.call_action("users", "get_user").body == {"v": 1}
    assert inner.call_count == 1


def test_rpc_stub_fixture(rpc_stub, client):
    stub = rpc_stub("users", "get_user", body=USER)
    assert client.call_action("users", "get_user", {"id": 9}).body == USER
    assert stub.call_body == {"id": 9}


def test_returned_body_is_a_copy(client):
    with stub_action("users", "get_user", body=USER):
        first = client.call_action("users", "get_user").body
        first["user"]["name"] = "changed"
        assert client.call_action("users", "get_user").body == USER


# every client call style ------------------------------------------------------------------------


def test_call_actions(client):
    with stub_action("users", "get_user", body=USER) as stub:
        response = client.call_actions("users", [{"action": "get_user", "body": {"id": 1}}, {"action": "get_user"}])
    assert [a.body for a in response.actions] == [USER, USER]
    assert stub.call_bodies == ({"id": 1}, {})


def test_call_actions_parallel(client):
    with stub_action("users", "get_user", body=USER), stub_action("users", "list_users", body={"users": []}):
        responses = list(
            client.call_actions_parallel("users", [{"action": "list_users"}, {"action": "get_user", "body": {"id": 2}}])
        )
    assert [r.action for r in responses] == ["list_users", "get_user"]
    assert responses[1].body == USER


def test_call_jobs_parallel_across_services(client):
    with stub_action("users", "get_user", body=USER), stub_action("orders", "list", body={"orders": [1]}):
        jobs = client.call_jobs_parallel(
            [
                {"service_name": "orders", "actions": [{"action": "list"}]},
                {"service_name": "users", "actions": [{"action": "get_user", "body": {"id": 1}}]},
            ]
        )
    assert [j.actions[0].body for j in jobs] == [{"orders": [1]}, USER]


def test_future_variants(client):
    with stub_action("users", "get_user", body=USER) as stub:
        assert client.call_action_future("users", "get_user", {"id": 1}).result().body == USER
        assert client.call_actions_future("users", [{"action": "get_user"}]).result().actions[0].body == USER
        assert [r.body for r in client.call_actions_parallel_future("users", [{"action": "get_user"}]).result()] == [USER]
        jobs = client.call_jobs_parallel_future([{"service_name": "users", "actions": [{"action": "get_user"}]}]).result()
        assert jobs[0].actions[0].body == USER
    assert stub.call_count == 4


# errors -----------------------------------------------------------------------------------------


def _errors(exc_info: pytest.ExceptionInfo) -> list[tuple]:
    return [(e.code, e.field, e.is_caller_error) for a in exc_info.value.actions for e in a.errors]


def test_errors_as_codes_default_is_caller_error_from_code(client):
    with stub_action("users", "get_user", errors=["INVALID", "NOT_FOUND"]):
        with pytest.raises(Client.CallActionError) as exc_info:
            client.call_action("users", "get_user", {"id": 1})
    assert _errors(exc_info) == [("INVALID", None, True), ("NOT_FOUND", None, False)]


def test_errors_with_fields_and_settable_is_caller_error(client):
    errors = [
        {"code": "MISSING", "field": "id", "message": "Missing key: id"},
        {"code": "NOT_AUTHORIZED", "message": "no", "is_caller_error": True},
        Error(code="INVALID", message="bad", field="name", is_caller_error=False),
        RpcError("DUPLICATE", "taken", field="name"),
    ]
    with stub_action("users", "create_user", errors=errors):
        with pytest.raises(Client.CallActionError) as exc_info:
            client.call_action("users", "create_user", {})
    assert _errors(exc_info) == [
        ("MISSING", "id", True),
        ("NOT_AUTHORIZED", None, True),
        ("INVALID", "name", False),
        ("DUPLICATE", "name", False),
    ]
    assert exc_info.value.actions[0].errors[0].message == "Missing key: id"


def test_errors_returned_when_not_raising(client):
    with stub_action("users", "get_user", errors=["NOT_FOUND"]):
        response = client.call_action("users", "get_user", raise_action_errors=False)
    assert [e.code for e in response.errors] == ["NOT_FOUND"]


def test_body_and_errors_together(client):
    with stub_action("users", "get_user", body={"partial": True}, errors=["INVALID"]):
        response = client.call_action("users", "get_user", raise_action_errors=False)
    assert response.body == {"partial": True} and response.errors[0].code == "INVALID"


# side effects -----------------------------------------------------------------------------------


def test_side_effect_sequence_of_kinds(client):
    effects = [
        {"n": 1},
        ActionError(errors=[Error(code="BUSY", message="try later")]),
        RpcError("INVALID", "bad id", field="id"),
        lambda body: {"echo": body},
        KeyError("boom"),
    ]
    with stub_action("users", "get_user", side_effect=effects) as stub:
        assert client.call_action("users", "get_user", {"id": 1}).body == {"n": 1}
        with pytest.raises(Client.CallActionError) as busy:
            client.call_action("users", "get_user", {"id": 2})
        assert _errors(busy) == [("BUSY", None, True)]  # ActionError's own default, as a real server
        with pytest.raises(Client.CallActionError) as invalid:
            client.call_action("users", "get_user", {"id": 3})
        assert _errors(invalid) == [("INVALID", "id", True)]
        assert client.call_action("users", "get_user", {"id": 4}).body == {"echo": {"id": 4}}
        with pytest.raises(KeyError):  # a non-RPC exception reaches the caller, as with MagicMock
            client.call_action("users", "get_user", {"id": 5})
        with pytest.raises(StubUsageError, match="ran out after 5 call"):
            client.call_action("users", "get_user", {"id": 6})
    assert stub.call_count == 6


def test_side_effect_job_error_and_transport_error(client):
    with stub_action("users", "get_user", side_effect=JobError(errors=[Error(code="JOB_TIMEOUT", message="slow")])):
        with pytest.raises(Client.JobError) as exc_info:
            client.call_action("users", "get_user")
    assert [e.code for e in exc_info.value.errors] == ["JOB_TIMEOUT"]
    with stub_action("users", "get_user", side_effect=MessageReceiveTimeout("no reply")):
        with pytest.raises(MessageReceiveTimeout):
            client.call_action("users", "get_user")


def test_side_effect_native_action_response_and_handle_side_effect(client):
    with stub_action("users", "get_user", side_effect=lambda body: ActionResponse("get_user", body={"native": 1})):
        assert client.call_action("users", "get_user").body == {"native": 1}
    with stub_action("users", "get_user", body=USER) as stub:
        stub.side_effect = [{"a": 1}]
        assert client.call_action("users", "get_user").body == {"a": 1}
        stub.side_effect = None
        stub.return_value = {"b": 2}
        assert client.call_action("users", "get_user").body == {"b": 2}


# jobs mixing stubbed and real actions ------------------------------------------------------------


@pytest.fixture
def local_users(pysoa_service):
    STORE.reset()
    service = pysoa_service(UserServer, {})
    yield service
    STORE.reset()


def test_job_mixing_stubbed_and_real_actions_keeps_order(local_users):
    client = local_users.client
    with stub_action("users", "get_user", body={"stubbed": True}) as stub:
        response = client.call_actions(
            "users",
            [
                {"action": "list_users", "body": {"limit": 1}},
                {"action": "get_user", "body": {"id": 7}},
                {"action": "list_users", "body": {"limit": 5}},
            ],
        )
    assert [a.action for a in response.actions] == ["list_users", "get_user", "list_users"]
    assert response.actions[0].body["users"][0]["name"] == "Ann"
    assert response.actions[1].body == {"stubbed": True}
    assert stub.call_body == {"id": 7}


def test_stubbed_error_stops_the_job_before_later_real_actions(local_users):
    client = local_users.client
    create = {"action": "create_user", "body": {"name": "Bob", "email": "bob@example.com"}}
    with stub_action("users", "get_user", errors=["NOT_FOUND"]):
        response = client.call_actions(
            "users", [{"action": "get_user"}, create], raise_action_errors=False
        )
    assert [a.action for a in response.actions] == ["get_user"]
    assert [u["name"] for u in STORE.users.values()] == ["Ann"]  # create_user never reached the server


def test_continue_on_error_runs_everything(local_users):
    client = local_users.client
    create = {"action": "create_user", "body": {"name": "Bob", "email": "bob@example.com"}}
    with stub_action("users", "get_user", errors=["NOT_FOUND"]):
        response = client.call_actions(
            "users", [{"action": "get_user"}, create], raise_action_errors=False, continue_on_error=True
        )
    assert [a.action for a in response.actions] == ["get_user", "create_user"]
    assert response.actions[1].body["user"]["name"] == "Bob"


def test_real_error_truncates_later_stubbed_actions(local_users):
    client = local_users.client
    with stub_action("users", "list_users", body={"users": []}):
        response = client.call_actions(
            "users",
            [{"action": "get_user", "body": {"id": 0}}, {"action": "list_users"}],
            raise_action_errors=False,
        )
    assert [a.action for a in response.actions] == ["get_user"]
    assert [(e.code, e.field) for e in response.actions[0].errors] == [("INVALID", "id")]


@pytest.mark.rpctest(strict=False)  # the stub is deliberately not called
def test_unstubbed_action_of_configured_service_goes_to_real_server(local_users):
    with stub_action("users", "get_user", body=USER):
        response = local_users.client.call_action("users", "list_users", {"limit": 1})
    assert response.body["users"][0]["id"] == 1


# unmatched calls and bad use ---------------------------------------------------------------------


@pytest.mark.rpctest(strict=False)
def test_unmatched_call_names_nearest_stub(client):
    with stub_action("users", "get_user", body=USER), stub_action("orders", "list", body={}):
        with pytest.raises(UnmatchedCall) as exc_info:
            client.call_action("users", "get_users", {"id": 1})
    message = str(exc_info.value)
    assert "users.get_users" in message
    assert "Nearest stub: stub_action('users', 'get_user'" in message
    assert "action differs: called 'get_users', stubbed 'get_user'" in message


@pytest.mark.rpctest(strict=False)
def test_match_option_narrows_and_explains(client):
    with stub_action("users", "get_user", body=USER, match={"id": 1}) as stub:
        assert client.call_action("users", "get_user", {"id": 1}).body == USER
        with pytest.raises(UnmatchedCall, match=r"id is 2, stub matches 1"):
            client.call_action("users", "get_user", {"id": 2})
    assert stub.call_count == 1


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((1, "get_user"), {}, "service must be a non-empty str"),
        (("users", None), {}, "action must be a non-empty str"),
        (("users", "get_user"), {"body": ["not", "a", "dict"]}, "must be a dict"),
        (("users", "get_user"), {"errors": [object()]}, "cannot use <object"),
        (("users", "get_user"), {"errors": [{"message": "no code"}]}, "needs a 'code'"),
        (("users", "get_user"), {"errors": 3.5}, "errors= must be"),
        (("users", "get_user"), {"errors": [42]}, "PySOA error codes are strings"),
        (("users", "get_user"), {"side_effect": "oops"}, "side_effect must be"),
        (("users", "get_user"), {"status": 200}, "unknown option"),
        (("users", "get_user"), {"stack": "nope"}, "unknown stack 'nope'"),
    ],
)
def test_bad_use_is_a_clear_error(args, kwargs, message):
    with pytest.raises(Exception, match=message) as exc_info:
        stub_action(*args, **kwargs)
    from rpctest.exceptions import RpctestError

    assert isinstance(exc_info.value, RpctestError)


def test_handle_records_neutral_calls_with_context(client):
    with stub_action("users", "get_user", body=USER) as stub:
        client.call_action("users", "get_user", {"id": 1}, context={"auth": "t"}, switches=[3])
    (call,) = stub.calls
    assert (call.stack, call.service, call.operation) == ("pysoa", "users", "get_user")
    assert call.meta["context"] == {"auth": "t"} and call.meta["switches"] == [3]


def test_stub_errors_are_classified():
    stub = stub_action("users", "get_user", errors=["INVALID", "NOT_FOUND", "SERVER_ERROR", "NOT_AUTHORIZED"])
    assert [e.kind for e in stub.errors] == [
        ErrorKind.CALLER_ERROR,
        ErrorKind.NOT_FOUND,
        ErrorKind.SERVER_ERROR,
        ErrorKind.UNAUTHORIZED,
    ]
