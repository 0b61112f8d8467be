"""The consumer's tests: the ``shop`` service is stubbed (at httpx's transport; a stub server for urllib)."""

from examples.kyoukai.consumer import ShopClient, latest_order_count
from rpctest import stub_action

SHOP = "http://shop.example"


@stub_action("shop", "GET /items/<string(maxlength=16):sku>", stack="kyoukai", body={"sku": "apple", "price": 3})
def test_price(stub_item):
    client = ShopClient(SHOP)
    try:
        assert client.price("apple") == 3
    finally:
        client.close()
    assert stub_item.call_body == {"path": {"sku": "apple"}}


@stub_action("shop", "GET /items/<string(maxlength=16):sku>", stack="kyoukai", errors=404)
def test_price_of_unknown_item(stub_item):
    client = ShopClient(SHOP)
    try:
        assert client.price("kiwi") is None
    finally:
        client.close()


@stub_action("shop", "POST /orders", stack="kyoukai", status=201, body={"id": 7, "sku": "pear", "quantity": 2, "total": 8})
def test_order(stub_order):
    client = ShopClient(SHOP)
    try:
        assert client.order("pear", 2) == "order 7: 2 x pear = 8"
    finally:
        client.close()
    stub_order.assert_called_once_with({"body": {"sku": "pear", "quantity": 2}})


@stub_action("shop", "POST /orders", stack="kyoukai", errors={"code": 422, "message": "quantity is an integer from 1 to 100"})
def test_order_rejected(stub_order):
    client = ShopClient(SHOP)
    try:
        assert client.order("pear", 0) == "rejected: quantity is an integer from 1 to 100"
    finally:
        client.close()


def test_latest_orders_over_http(kyoukai_stub_server):
    orders = [{"id": 1, "sku": "apple", "quantity": 1, "total": 3}]
    with stub_action("shop", "GET /orders", stack="kyoukai", body={"orders": orders}) as stub_list:
        assert latest_order_count(kyoukai_stub_server.address, limit=5) == 1
    assert stub_list.call_body == {"query": {"limit": "5"}}
