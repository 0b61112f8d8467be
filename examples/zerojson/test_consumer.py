"""The consumer's tests: ``com.example.shop`` stubbed on a real ZeroMQ socket."""

from examples.zerojson.consumer import checkout
from rpctest import stub_action

SHOP = "com.example.shop"


def test_checkout(zerojson_stub_server):
    with stub_action(SHOP, "order", stack="zerojson", body={"order_id": 7, "total": 6}) as order, \
            stub_action(SHOP, "receipt", stack="zerojson", body={"lines": 1}, attachment=b"2 x apple\n"):
        assert checkout(zerojson_stub_server.address, "apple", 2) == "order 7: 6 due; receipt '2 x apple'"
    order.assert_called_once_with({"sku": "apple", "quantity": 2})


def test_checkout_refused(zerojson_stub_server):
    with stub_action(SHOP, "order", stack="zerojson", errors={"code": 4, "message": "Validation failed for argument 'sku'"}):
        assert checkout(zerojson_stub_server.address, "kiwi", 1) == "refused (4: Validation failed for argument 'sku')"
