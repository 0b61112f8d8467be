"""The consumer's tests: the ``wallet`` service is stubbed; pykern's real Client needs no server."""

import pytest
from pykern.api.client import Client
from pykern.pkcollections import PKDict

from examples.pykern.consumer import countdown, pay
from rpctest import stub_action

WALLET = PKDict(tcp_ip="127.0.0.1", tcp_port=8123, api_uri="/api")


@pytest.mark.asyncio
@stub_action("wallet", "transfer", stack="pykern", body={"account": "ann", "balance": 70})
async def test_pay(stub_transfer):
    async with Client(WALLET) as client:
        assert await pay(client, "ann", 30) == "ann: paid 30, 70 left"
    stub_transfer.assert_called_once_with({"account": "ann", "amount": 30, "currency": "EUR"})


@pytest.mark.asyncio
@stub_action("wallet", "transfer", stack="pykern", errors={"code": "NotEnoughCredit", "message": "balance=3"})
async def test_pay_without_credit(stub_transfer):
    async with Client(WALLET) as client:
        assert await pay(client, "bob", 30) == "bob: not enough credit (3 left)"


@pytest.mark.asyncio
@stub_action("wallet", "ticks", stack="pykern", items=[{"i": 0}, {"i": 1}, {"i": 2}])
async def test_countdown(stub_ticks):
    async with Client(WALLET) as client:
        assert await countdown(client, 3) == [0, 1, 2]
    assert stub_ticks.call_body == {"n": 3}
