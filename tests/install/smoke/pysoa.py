"""After the PySOA install: a stub answers pysoa's own Client (and pysoa's plan plugin is blocked)."""

from pysoa.client.client import Client

from rpctest import stub_action


@stub_action("users", "get_user", body={"user": {"id": 1, "name": "Ann"}})
def test_stub_answers_pysoas_client(stub_get_user):
    response = Client({}).call_action("users", "get_user", body={"id": 1})
    assert response.body["user"]["name"] == "Ann"
    stub_get_user.assert_called_once_with({"id": 1})
