"""A pykern subscription stub is recorded as a subscription (issue 16, item 2.2): the contract holds
its items, ``rpctest serve`` answers pykern's own client's ``subscribe_api`` with every item (and
``call_api`` with pykern's APIKindError, as the real server does), and live verification without a
provider contract subscribes to it on the real server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pykern.util
import pytest
from pykern.api.client import Client
from pykern.pkcollections import PKDict

from examples.pykern.consumer import countdown
from examples.pykern.service import WalletAPI
from rpctest import stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.live import open_sender, verify_live
from rpctest.contracts.recorder import Recorder
from rpctest.contracts.serve import router_from_contracts
from rpctest.stacks.pykern import close_client
from rpctest.stacks.pykern.stub_server import serve_stubs

NOWHERE = PKDict(tcp_ip="127.0.0.1", tcp_port=9, api_uri="/api")


def record_countdown() -> fmt.ConsumerContract:
    """What ``pytest --rpctest-record`` writes for the example consumer's ``countdown`` (its
    ``ticks`` subscription stubbed with ``items=``), read back from the file text."""
    recorder = Recorder("web").start()
    try:
        with stub_action("wallet", "ticks", stack="pykern", items=[{"i": 0}, {"i": 1}, {"i": 2}]):

            async def use() -> list[int]:
                async with Client(NOWHERE) as client:
                    return await countdown(client, 3)

            assert asyncio.run(use()) == [0, 1, 2]
    finally:
        recorder.stop()
    [contract] = recorder.contracts()
    return fmt.parse(json.loads(fmt.dump(contract)))


def test_a_subscription_stub_is_recorded_with_its_items() -> None:
    [item] = record_countdown().interactions
    assert item.to_dict()["response"] == {"items": [{"i": 0}, {"i": 1}, {"i": 2}]}
    assert item.is_stream


def with_client(address: str, work: Any) -> Any:
    """``await work(client)`` with pykern's own client connected to ``address``."""
    port = int(address.rsplit(":", 1)[1].split("/")[0])

    async def use() -> Any:
        client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=port, api_uri="/api"))
        try:
            await client.connect()
            return await work(client)
        finally:
            await close_client(client)

    return asyncio.run(use())


async def error_text(awaitable: Any) -> str:
    """The text of the APIError pykern's client raises (every error reply is one)."""
    try:
        await awaitable
    except pykern.util.APIError as exc:
        return str(exc)
    return "no error"


def _ticks_and_call(address: str) -> tuple[list[int], str]:
    """What pykern's own client gets at ``address``: ``countdown``'s ticks, and ``call_api("ticks")``."""

    async def work(client: Client) -> tuple[list[int], str]:
        return await countdown(client, 3), await error_text(client.call_api("ticks", {"n": 3}))

    return with_client(address, work)


def test_serve_answers_pykerns_client_as_the_real_server_answers_a_subscription(pykern_service: Any) -> None:
    with serve_stubs(router_from_contracts([record_countdown()], "pykern"), service="wallet") as server:
        served = _ticks_and_call(server.address)
    real = _ticks_and_call(pykern_service(WalletAPI).address)
    assert served == real == ([0, 1, 2], "APIKindError: error=call_api on subscription api=ticks")


def test_live_verify_subscribes_to_a_recorded_subscription_without_a_provider_contract(pykern_service: Any) -> None:
    wallet = pykern_service(WalletAPI)
    with open_sender("pykern", address=wallet.address, service="wallet") as send:
        report = verify_live([record_countdown()], send)
    assert report.interactions == 1
    assert report.findings == [], [(f.check, f.expected, f.actual) for f in report.findings]


def test_the_cli_serves_and_live_verifies_a_recorded_subscription(pykern_service: Any, tmp_path: Any, capsys: Any) -> None:
    """``rpctest serve --stack pykern FILE`` in another process answers pykern's client's
    ``subscribe_api``; ``rpctest contracts verify FILE --live --address`` with no provider contract
    subscribes on the real server (on main it called it, and reported the real server's APIKindError)."""
    from dogfood import serving_contract

    from rpctest.cli import main

    path = fmt.write(record_countdown(), tmp_path / "web--pykern--wallet.json")
    with serving_contract("pykern", path) as address:
        assert with_client(address, lambda client: countdown(client, 3)) == [0, 1, 2]
    wallet = pykern_service(WalletAPI)
    code = main(["contracts", "verify", str(path), "--live", "--stack", "pykern", "--address", wallet.address, "--service", "wallet"])
    out = capsys.readouterr().out
    # without a provider contract the schema half has nothing to check against (its one finding);
    # the live half subscribed and found the real server's stream as recorded
    assert "[unknown_service]" in out and "1 finding(s) in 1 interaction(s)" in out, out
    assert "[live_" not in out, out
