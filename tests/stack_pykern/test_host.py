"""The host half against the real pykern.api server: in-loop, on a thread, over a socket and without one."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pykern.quest
import pykern.util
import pytest
from pykern.api.util import APIProtocolError, subscription

from examples.pykern.service import ACCOUNTS, WalletAPI
from rpctest.exceptions import ConfigError
from rpctest.model import ErrorKind
from rpctest.stacks.pykern import close_client, serve, serve_async
from rpctest.stacks.pykern.host import resolve_provider


class OddAPI(pykern.quest.API):
    """Every way pykern answers besides a plain result."""

    async def api_none(self, api_args: Any) -> None:
        return None

    async def api_boom(self, api_args: Any) -> Any:
        raise ValueError("kaboom")

    async def api_badproto(self, api_args: Any) -> Any:
        raise APIProtocolError("nope")

    async def api_unpackable(self, api_args: Any) -> Any:
        return {"x": object()}

    async def api_slow(self, api_args: Any) -> Any:
        await asyncio.sleep(api_args["seconds"])
        return {"slept": api_args["seconds"]}

    async def api_count(self, api_args: Any) -> Any:
        self.session.n = self.session.get("n", 0) + 1
        return {"n": self.session.n}

    @subscription
    async def api_forever(self, api_args: Any) -> None:
        while not self.is_quest_end():
            self.subscription.result_put({"tick": True})
            await asyncio.sleep(0.001)


@pytest.fixture(autouse=True)
def _accounts() -> Any:
    ACCOUNTS.reset()
    yield
    ACCOUNTS.reset()


@pytest.fixture(params=["websocket", "local"])
def odd(request: pytest.FixtureRequest) -> Any:
    service = serve(OddAPI, transport=request.param, timeout=2.0)
    yield service
    service.stop()


def test_provider_forms_and_service_names() -> None:
    assert resolve_provider(WalletAPI).service == "wallet"
    assert resolve_provider("examples.pykern.service:WalletAPI").api_classes == (WalletAPI,)
    assert resolve_provider([WalletAPI, OddAPI], service="bank").service == "bank"

    class Bundle:
        api_classes = (OddAPI,)
        service_name = "odd-things"

    assert resolve_provider(Bundle).service == "odd-things"
    with pytest.raises(ConfigError, match="pykern.quest.API subclass"):
        resolve_provider(object())
    with pytest.raises(ConfigError, match="must be pykern.quest.API subclasses"):
        resolve_provider([WalletAPI, dict])


def test_every_pykern_answer_in_neutral_terms(odd: Any) -> None:
    none = odd.call("none", {})
    assert [(e.code, e.message, e.kind) for e in none.errors] == [("APIError", "missing reply", ErrorKind.SERVER_ERROR)]
    boom = odd.call("boom", {})
    assert [(e.code, e.message, e.kind) for e in boom.errors] == [
        ("APICallError", "error=unhandled_exception=kaboom", ErrorKind.SERVER_ERROR)
    ]
    missing = odd.call("nope", {})
    assert [(e.code, e.message, e.kind) for e in missing.errors] == [("APINotFound", "api_name=nope", ErrorKind.NOT_FOUND)]
    kind = odd.call("forever", {}, kind="call")
    assert [(e.code, e.kind) for e in kind.errors] == [("APIKindError", ErrorKind.CALLER_ERROR)]
    assert odd.call("count", {}).body == {"n": 1}


def test_a_protocol_error_closes_the_connection_and_the_next_call_reconnects(odd: Any) -> None:
    assert odd.call("count", {}).body == {"n": 1}
    reply = odd.call("badproto", {})
    assert [(e.code, e.message) for e in reply.errors] == [("APIProtocolError", "error=nope")]
    # a new connection: a new pykern session, so the counter starts again
    assert odd.call("count", {}).body == {"n": 1}


def test_an_unpackable_result_is_a_transport_error_not_a_hang(odd: Any) -> None:
    reply = odd.call("unpackable", {}, timeout=0.5)
    assert [e.kind for e in reply.errors] == [ErrorKind.TRANSPORT]
    assert ("cannot pack" in reply.errors[0].message) or ("within 0.5s" in reply.errors[0].message)
    assert odd.call("count", {}).ok  # still usable


def test_slow_calls_time_out_and_the_service_stays_usable(odd: Any) -> None:
    reply = odd.call("slow", {"seconds": 5}, timeout=0.2)
    assert [(e.code, e.kind) for e in reply.errors] == [("TRANSPORT", ErrorKind.TRANSPORT)]
    assert "within 0.2s" in reply.errors[0].message
    assert odd.call("slow", {"seconds": 0}).body == {"slept": 0}


def test_an_endless_subscription_is_cut_at_the_timeout(odd: Any) -> None:
    reply = odd.call("forever", {}, timeout=0.3)
    assert reply.errors and reply.errors[0].kind is ErrorKind.TRANSPORT


@pytest.mark.parametrize("transport", ["websocket", "local"])
def test_the_wallet_example_through_the_whole_stack(transport: str) -> None:
    with serve(WalletAPI, transport=transport) as wallet:
        assert wallet.call("echo", {"a": 1}).body == {"a": 1, "counter": 1}
        assert wallet.call("echo", {"a": 1}).body == {"a": 1, "counter": 2}
        assert wallet.call("transfer", {"account": "ann", "amount": 30, "currency": "EUR"}).body == {"account": "ann", "balance": 70}
        refused = wallet.call("transfer", {"account": "ann", "amount": 500, "currency": "EUR"})
        assert [(e.code, e.message, e.kind) for e in refused.errors] == [("NotEnoughCredit", "balance=70", ErrorKind.CALLER_ERROR)]
        invalid = wallet.call("transfer", {"account": "ann", "amount": "x", "currency": "EUR"})
        assert [(e.code, e.kind) for e in invalid.errors] == [("InvalidRequest", ErrorKind.CALLER_ERROR)]
        ticks = wallet.call("ticks", {"n": 3})
        assert ticks.items == [{"i": 0}, {"i": 1}, {"i": 2}] and ticks.body == ticks.items


def test_stop_leaves_no_thread_and_is_idempotent() -> None:
    before = threading.active_count()
    service = serve(WalletAPI)
    names = {t.name for t in threading.enumerate()}
    assert "rpctest-pykern-wallet" in names  # (plus tornado's resolver thread in the loop's executor)
    assert service.call("echo", {}).ok
    service.stop()
    service.stop()
    assert threading.active_count() == before
    with pytest.raises(RuntimeError, match="stopped"):
        service.call("echo", {})


def test_a_token_is_required_when_given() -> None:
    from pykern.api.client import Client
    from pykern.pkcollections import PKDict

    with serve(WalletAPI, token="s3cret") as wallet:
        assert wallet.call("echo", {}).ok  # the service's own client authenticates with it

        async def attempt(token: str) -> str:
            port = int(wallet.address.rsplit(":", 1)[1].split("/")[0])
            client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=port, api_uri="/api"))
            try:
                await client.connect(PKDict(token=token))
                return "connected"
            except pykern.util.APIError as exc:
                return str(exc)
            finally:
                await close_client(client)

        future = asyncio.run_coroutine_threadsafe(attempt("wrong"), wallet.loop)
        assert future.result(5) == "APIForbidden: "
        assert asyncio.run_coroutine_threadsafe(attempt("s3cret"), wallet.loop).result(5) == "connected"


@pytest.mark.asyncio
async def test_in_the_tests_own_loop_with_the_real_client() -> None:
    loop = asyncio.get_running_loop()
    async with serve_async(WalletAPI) as wallet:
        assert wallet.loop is loop and wallet.address.startswith("ws://127.0.0.1:")
        assert await wallet.client.call_api("echo", {"x": 1}) == {"x": 1, "counter": 1}
        reply = await wallet.acall("transfer", {"account": "bob", "amount": 1, "currency": "USD"})
        assert [e.code for e in reply.errors] == ["NotEnoughCredit"]
        with pytest.raises(RuntimeError, match="await service.acall"):
            wallet.call("echo", {})
    assert wallet.client is None


@pytest.mark.asyncio
async def test_in_the_tests_own_loop_without_a_socket() -> None:
    async with serve_async(WalletAPI, transport="local") as wallet:
        assert wallet.address is None
        assert (await wallet.acall("ticks", {"n": 2})).items == [{"i": 0}, {"i": 1}]


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="transport"):
        serve(WalletAPI, transport="carrier-pigeon")
    with pytest.raises(ConfigError, match="path"):
        serve(WalletAPI, path="api")


@pytest.mark.asyncio
async def test_close_client_returns_once_the_socket_is_closed() -> None:
    """tornado's ``close()`` drops the connection's protocol at once, with the only way to its TCP
    stream: close_client must take the stream first, else it returns while the socket is still open
    and an ``asyncio.run`` ending then leaves it to the garbage collector (found by the pykern
    differential suite as a rare ResourceWarning)."""
    from pykern.api.client import Client
    from pykern.pkcollections import PKDict

    async with serve_async(WalletAPI) as wallet:
        port = int(wallet.address.rsplit(":", 1)[1].split("/")[0])
        client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=port, api_uri="/api"))
        await client.connect()
        stream = client._connection.protocol.stream
        await close_client(client)
        assert stream.closed()
