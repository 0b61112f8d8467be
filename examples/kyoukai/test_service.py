"""The provider's tests: the real shop app on Kyoukai 2.2.1.post1, over TCP and without a socket."""

import pytest

from examples.kyoukai.service import make_app, make_legacy_app


@pytest.mark.parametrize("transport", ["http", "local"])
def test_order_and_list(kyoukai_service, transport):
    shop = kyoukai_service(make_app, transport=transport)
    created = shop.client.post("/orders", json={"sku": "apple", "quantity": 2})
    assert created.status_code == 201
    assert created.json() == {"id": 1, "sku": "apple", "quantity": 2, "total": 6}
    listed = shop.client.get("/orders", params={"limit": "5"})
    assert listed.json() == {"orders": [created.json()]}


def test_bad_order_is_422(kyoukai_service):
    shop = kyoukai_service(make_app)
    response = shop.client.post("/orders", json={"sku": "apple", "quantity": 0})
    assert response.status_code == 422
    assert "quantity" in response.json()["error"]


def test_unknown_item_is_404_with_the_workaround(kyoukai_service):
    shop = kyoukai_service(make_app)
    assert shop.client.get("/items/kiwi").status_code == 404
    assert shop.client.delete("/orders").status_code == 405


def test_legacy_app_answers_the_canned_500(kyoukai_service):
    """Kyoukai 2.2.1.post1's bug, on the plain Kyoukai class: the 404 becomes an HTTP/1.0 500."""
    legacy = kyoukai_service(make_legacy_app)
    reply = legacy.call("GET /legacy/items/kiwi")
    assert reply.errors[0].code == 500
    assert reply.errors[0].details["critical_page"] is True
    assert reply.meta["http_version"] == "HTTP/1.0"
