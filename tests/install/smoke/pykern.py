"""After the pykern install: a stub answers pykern.api's own Client (no pytest-asyncio: asyncio.run)."""

import asyncio

from pykern.api.client import Client
from pykern.pkcollections import PKDict

from rpctest import stub_action


@stub_action("wallet", "transfer", stack="pykern", body={"account": "ann", "balance": 70})
def test_stub_answers_pykerns_client(stub_transfer):
    async def pay():
        async with Client(PKDict(tcp_ip="127.0.0.1", tcp_port=8123, api_uri="/api")) as client:
            return await client.call_api("transfer", {"account": "ann", "amount": 30})

    assert asyncio.run(pay())["balance"] == 70
    stub_transfer.assert_called_once_with({"account": "ann", "amount": 30})
