"""After the ZeroJSON install: a stub answers on a real ZeroMQ socket."""

from rpctest import stub_action


def test_stub_answers_over_zeromq(zerojson_stub_server):
    with stub_action("com.example.shop", "price", stack="zerojson", body={"price": 3}) as price:
        reply = zerojson_stub_server.call("price", {"sku": "apple"}, interface="com.example.shop")
    assert reply.body == {"price": 3}
    price.assert_called_once_with({"sku": "apple"})
