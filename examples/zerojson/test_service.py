"""The provider's tests: the real interface on a ROUTER socket, PyCOM's codes, fuzz items."""

import pytest

from examples.zerojson.consumer import ShopError, call, checkout
from examples.zerojson.service import Shop
from rpctest.fuzz import fuzz_tests


@pytest.fixture(params=["inproc", "tcp"])
def shop(request, zerojson_service):
    address = "inproc://shop-{}".format(id(request)) if request.param == "inproc" else None
    return zerojson_service(Shop, address=address)


def test_consumer_against_the_real_service(zerojson_service):
    shop = zerojson_service(Shop)  # tcp://127.0.0.1:<free port>
    assert checkout(shop.address, "apple", 2) == "order 1: 6 due; receipt '2 x apple'"
    assert checkout(shop.address, "kiwi", 1).startswith("refused (4: Validation failed for argument 'sku'")
    with pytest.raises(ShopError) as raised:
        call(shop.address, "order", {"quantity": 1})
    assert raised.value.code == 4  # the missing required argument


def test_pycom_codes_in_neutral_terms(shop):
    assert shop.call("price", {"sku": "pear"}).body == 4
    bad = shop.call("order", {"sku": "apple", "quantity": "two"})
    assert [(e.code, e.kind.value) for e in bad.errors] == [(4, "caller_error")]
    assert [(e.code, e.kind.value) for e in shop.call("refund", {}).errors] == [(2, "not_found")]


# every method of the interface, fuzzed from its declarations: one test item per method
test_fuzz = pytest.mark.rpc_fuzz(max_examples=40)(fuzz_tests("zerojson", provider=Shop))
