"""After the Kyoukai install: Kyoukai 2.2.1.post1 imports with rpctest's shim, and a stub answers httpx."""

import httpx

from rpctest import stub_action
from rpctest.stacks.kyoukai.host import require_kyoukai


@stub_action("shop", "GET /items/<sku>", stack="kyoukai", body={"sku": "apple", "price": 3})
def test_stub_answers_httpx(stub_item):
    assert require_kyoukai().app.__version__ == "2.2.1.post1"
    with httpx.Client(base_url="http://shop.example") as client:
        assert client.get("/items/apple").json() == {"sku": "apple", "price": 3}
    assert stub_item.call_body == {"path": {"sku": "apple"}}
