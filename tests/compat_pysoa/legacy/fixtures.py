import pytest

from pysoa.test.plugins.pytest.fixtures import action_stubber, service_client  # noqa: F401

from accountsvc import AccountServer


@pytest.fixture(scope="module")
def server_class():
    return AccountServer


@pytest.fixture(scope="module")
def server_settings():
    return {}


def test_service_client_fills_in_the_service(service_client):
    assert service_client.call_action("get_account", {"id": 1}).body == {"name": "Ann"}
    assert service_client.call_action("get_account", {"id": 2}, service_name="accounts").body == {"name": "Bob"}


def test_action_stubber(action_stubber):
    from pysoa.client.client import Client

    stub = action_stubber("billing", "charge", {"charged": True})
    assert Client({}).call_action("billing", "charge", {"amount": 1}).body == {"charged": True}
    assert stub.call_body == {"amount": 1}
