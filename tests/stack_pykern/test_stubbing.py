"""stub_action for code that holds a real ``pykern.api.client.Client``: no socket, pykern's own errors."""

from __future__ import annotations

from typing import Any

import pykern.util
import pytest
from pykern.api.client import Client
from pykern.api.util import APIDisconnected
from pykern.pkcollections import PKDict

from rpctest import stub_action
from rpctest.exceptions import StubUsageError, UnmatchedCall
from rpctest.model import ErrorKind
from rpctest.stacks.pykern import close_client, serve

# nothing listens here: a call that reached the network would fail to connect
NOWHERE = PKDict(tcp_ip="127.0.0.1", tcp_port=9, api_uri="/api")


async def balance_line(client: Client, account: str) -> str:
    """Code under test: what a consumer of the wallet does with the replies."""
    try:
        result = await client.call_api("transfer", {"account": account, "amount": 0, "currency": "EUR"})
    except pykern.util.APIError as exc:
        return f"{account}: refused ({exc})"
    return f"{account}: {result['balance']}"


@pytest.mark.asyncio
@stub_action("wallet", "transfer", stack="pykern", body={"account": "ann", "balance": 70})
async def test_a_stubbed_call_needs_no_server(stub: Any) -> None:
    async with Client(NOWHERE) as client:
        assert await balance_line(client, "ann") == "ann: 70"
    stub.assert_called_once_with({"account": "ann", "amount": 0, "currency": "EUR"})
    assert stub.call_body == {"account": "ann", "amount": 0, "currency": "EUR"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("errors", "text"),
    [
        ("NotEnoughCredit", "NotEnoughCredit: "),
        ({"code": "NotEnoughCredit", "message": "balance=3"}, "NotEnoughCredit: balance=3"),
        ({"code": "APIForbidden"}, "APIForbidden: "),
        ({"code": "APIError", "message": "missing reply"}, "missing reply"),
    ],
)
async def test_stubbed_errors_raise_what_the_real_client_raises(errors: Any, text: str) -> None:
    with stub_action("wallet", "transfer", stack="pykern", errors=errors):
        async with Client(NOWHERE) as client:
            with pytest.raises(pykern.util.APIError) as raised:
                await client.call_api("transfer", {})
    assert type(raised.value) is pykern.util.APIError  # the generic class, as pykern's client raises
    assert str(raised.value) == text


@pytest.mark.asyncio
async def test_side_effects_get_the_args_and_may_raise_server_classes() -> None:
    from pykern.api.util import APINotFound

    def effect(args: dict) -> dict:
        if args["account"] == "zed":
            raise APINotFound("transfer")
        return {"account": args["account"], "balance": 1}

    with stub_action("wallet", "transfer", stack="pykern", side_effect=effect) as stub:
        async with Client(NOWHERE) as client:
            assert await balance_line(client, "bob") == "bob: 1"
            assert await balance_line(client, "zed") == "zed: refused (APINotFound: api_name=transfer)"
    assert [c["account"] for c in stub.call_bodies] == ["bob", "zed"]
    assert stub.call_count == 2


@pytest.mark.asyncio
async def test_a_body_of_none_is_pykerns_missing_reply() -> None:
    with stub_action("wallet", "echo", stack="pykern"):
        async with Client(NOWHERE) as client:
            with pytest.raises(pykern.util.APIError, match="^missing reply$"):
                await client.call_api("echo", {})


@pytest.mark.asyncio
async def test_subscription_stubs_stream_items_then_end() -> None:
    with stub_action("wallet", "ticks", stack="pykern", items=[{"i": 0}, {"i": 1}]) as stub:
        async with Client(NOWHERE) as client:
            got = []
            with await client.subscribe_api("ticks", {"n": 2}) as sub:
                while (item := await sub.result_get()) is not None:
                    got.append(item)
            assert got == [{"i": 0}, {"i": 1}]
            with pytest.raises(pykern.util.APIError, match="APIKindError: error=call_api on subscription api=ticks"):
                await client.call_api("ticks", {"n": 2})
    assert stub.call_count == 2


@pytest.mark.asyncio
async def test_subscribing_to_a_plain_stub_is_a_kind_error() -> None:
    with stub_action("wallet", "echo", stack="pykern", body={}):
        async with Client(NOWHERE) as client:
            sub = await client.subscribe_api("echo", {})
            with pytest.raises(pykern.util.APIError, match="cannot subscribe non-subscription api=echo"):
                await sub.result_get()


@pytest.mark.asyncio
@pytest.mark.rpctest(strict=False)  # the unmatched calls are the point here
async def test_an_unmatched_call_names_the_nearest_stub() -> None:
    with stub_action("wallet", "transfer", stack="pykern", body={}, match={"account": "ann"}):
        async with Client(NOWHERE) as client:
            with pytest.raises(UnmatchedCall) as raised:
                await client.call_api("transfer", {"account": "bob"})
            with pytest.raises(UnmatchedCall, match="wallet.transfer"):
                await client.call_api("transfre", {})
    assert "account" in str(raised.value) and "Nearest stub" in str(raised.value)


@pytest.mark.asyncio
@pytest.mark.rpctest(strict=False)  # the stub is never reached: the client is destroyed first
async def test_a_destroyed_stubbed_client_raises_disconnected() -> None:
    with stub_action("wallet", "echo", stack="pykern", body={}):
        client = await Client(NOWHERE).connect()
        client.destroy()
        with pytest.raises(APIDisconnected):
            await client.call_api("echo", {})


def test_a_client_connected_for_real_gets_stubs_only_for_stubbed_apis() -> None:
    """Connected before the stubs started: stubbed APIs from stubs, the rest from its real server."""
    import asyncio

    from examples.pykern.service import WalletAPI

    with serve(WalletAPI) as wallet:
        port = int(wallet.address.rsplit(":", 1)[1].split("/")[0])

        async def scenario() -> tuple[Any, Any]:
            client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=port, api_uri="/api"))
            try:
                await client.connect()
                with stub_action("wallet", "transfer", stack="pykern", body={"stubbed": True}):
                    return await client.call_api("echo", {"x": 1}), await client.call_api("transfer", {})
            finally:
                await close_client(client)

        echoed, transferred = asyncio.run_coroutine_threadsafe(scenario(), wallet.loop).result(5)
    assert echoed == {"x": 1, "counter": 1}  # the real server's session counter
    assert transferred == {"stubbed": True}


def test_stub_usage_errors_say_what_pykern_accepts() -> None:
    with pytest.raises(StubUsageError, match="APIError class names"):
        stub_action("wallet", "echo", stack="pykern", errors=[7])
    with pytest.raises(StubUsageError, match="no field"):
        stub_action("wallet", "echo", stack="pykern", errors=[{"code": "InvalidRequest", "field": "x"}])
    with pytest.raises(StubUsageError, match="msgpack"):
        stub_action("wallet", "echo", stack="pykern", body={1, 2})
    with pytest.raises(StubUsageError, match="unknown option"):
        stub_action("wallet", "echo", stack="pykern", attachment=b"x")


def test_errors_classify_by_the_documented_rule() -> None:
    from rpctest.stacks import get_adapter

    adapter = get_adapter("pykern")
    assert adapter.classify("APINotFound") is ErrorKind.NOT_FOUND
    assert adapter.classify("APIForbidden") is ErrorKind.UNAUTHORIZED
    assert adapter.classify("APICallError") is ErrorKind.SERVER_ERROR
    assert adapter.classify("NotEnoughCredit") is ErrorKind.CALLER_ERROR  # raised on purpose
    assert adapter.classify("NotEnoughCredit", caller_error=False) is ErrorKind.SERVER_ERROR
    assert adapter.normalize_error(pykern.util.APIError("APIKindError: error=x")).code == "APIKindError"


@pytest.mark.asyncio
async def test_a_client_pointed_at_the_stub_server_goes_over_the_wire(pykern_stub_server: Any) -> None:
    """Same stubs, same router: a Client of the stub server's address is not short-circuited."""
    address = pykern_stub_server.address
    port = int(address.rsplit(":", 1)[1].split("/")[0])
    with stub_action("wallet", "echo", stack="pykern", body={"over": "wire"}) as stub:
        client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=port, api_uri="/api"))
        try:
            await client.connect()
            assert client._connection is not None  # a real WebSocket
            assert await client.call_api("echo", {"n": 1}) == {"over": "wire"}
        finally:
            await close_client(client)
        assert pykern_stub_server.service == "wallet"  # the one stubbed pykern service
    assert stub.call_body == {"n": 1}


@pytest.mark.asyncio
async def test_close_client_returns_with_the_socket_closed(pykern_stub_server: Any) -> None:
    """tornado's ``close()`` drops the connection's protocol at once, so a wait that looked the stream up
    after ``destroy()`` found nothing and returned while the close handshake was still going: the socket
    then reached the garbage collector during a later test (the pykern session's rare ResourceWarning)."""
    port = int(pykern_stub_server.address.rsplit(":", 1)[1].split("/")[0])
    with stub_action("wallet", "echo", stack="pykern", body={}):
        client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=port, api_uri="/api"))
        await client.connect()
        assert await client.call_api("echo", {}) == {}
        stream = client._connection.protocol.stream
        await close_client(client)
        assert stream.closed()


@pytest.mark.asyncio
async def test_delay_and_interval_slow_the_answers_in_process() -> None:
    import asyncio
    import time

    with stub_action("wallet", "echo", stack="pykern", body={}, delay=0.3):
        async with Client(NOWHERE) as client:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.call_api("echo", {}), 0.05)
    with stub_action("wallet", "ticks", stack="pykern", items=[1, 2, 3], interval=0.05):
        async with Client(NOWHERE) as client:
            started = time.perf_counter()
            assert [x async for x in _drain(await client.subscribe_api("ticks", {}))] == [1, 2, 3]
            assert time.perf_counter() - started >= 0.1


async def _drain(sub: Any) -> Any:
    while (item := await sub.result_get()) is not None:
        yield item
