"""The provider's tests: the real ``wallet`` API in-process, through pykern's own client and without a socket."""

import asyncio

import pytest
from pykern.api.client import Client
from pykern.pkcollections import PKDict

from examples.pykern.consumer import countdown, pay
from examples.pykern.service import WalletAPI
from rpctest.fuzz import fuzz_tests
from rpctest.stacks.pykern import close_client, serve_async


@pytest.mark.asyncio
async def test_consumer_against_the_real_service():
    """On the test's own event loop: pykern's real server and real client, in milliseconds."""
    async with serve_async(WalletAPI) as wallet:
        client = wallet.client
        assert await pay(client, "ann", 30) == "ann: paid 30, 70 left"
        assert await pay(client, "ann", 300) == "ann: not enough credit (70 left)"
        assert await pay(client, "eve", 1) == "eve: refused (InvalidRequest: field=account: no such account eve)"
        assert await countdown(client, 3) == [0, 1, 2]


@pytest.mark.parametrize("transport", ["websocket", "local"])
def test_errors_in_neutral_terms(pykern_service, transport):
    wallet = pykern_service(WalletAPI, transport=transport)
    reply = wallet.call("transfer", {"account": "ann", "amount": "x", "currency": "EUR"})
    assert [(e.code, e.kind.value) for e in reply.errors] == [("InvalidRequest", "caller_error")]
    assert [e.kind.value for e in wallet.call("withdraw_everything", {}).errors] == ["not_found"]


def test_a_session_lasts_as_long_as_the_connection(pykern_service):
    wallet = pykern_service(WalletAPI)

    async def two_clients():
        port = int(wallet.address.rsplit(":", 1)[1].split("/")[0])
        first, second = (Client(PKDict(tcp_ip="127.0.0.1", tcp_port=port, api_uri="/api")) for _ in range(2))
        try:
            await first.connect()
            await second.connect()
            counts = [(await first.call_api("echo", {}))["counter"] for _ in range(2)]
            return counts + [(await second.call_api("echo", {}))["counter"]]
        finally:
            await close_client(first)
            await close_client(second)

    assert asyncio.run_coroutine_threadsafe(two_clients(), wallet.loop).result(5) == [1, 2, 1]


# every API of the service, fuzzed from its annotations: one test item per API
test_fuzz = pytest.mark.rpc_fuzz(max_examples=40)(fuzz_tests("pykern", provider=WalletAPI))
