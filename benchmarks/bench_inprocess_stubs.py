"""In-process stubs of pykern.api and Kyoukai against a plain ``unittest.mock`` patch of the same
client method, on the same consumer code (issue 21, item 1).

Run in the stack's environment: ``.nox/pykern/bin/python benchmarks/bench_inprocess_stubs.py --stack pykern``
or ``.nox/kyoukai/bin/python benchmarks/bench_inprocess_stubs.py --stack kyoukai`` [--calls N]
[--rounds N] [--json]. Both sides run in interleaved rounds; the figure is the ratio of medians of
CPU time per call. Nothing asserts a time. Goal: <= 1.0x.

* pykern: ``examples.pykern.consumer.pay`` through a real ``pykern.api.client.Client``. Baseline:
  ``mock.patch.object(Client, "call_api", AsyncMock(return_value=...))``, what a pykern user writes
  without rpctest. rpctest: ``stub_action("wallet", "transfer", stack="pykern", body=...)``, which also
  copies request and reply, records the neutral call and keeps the connection's session.
* Kyoukai: ``examples.kyoukai.consumer.ShopClient.price`` on a real ``httpx.Client``. rpctest:
  ``stub_action("shop", "GET /items/<sku>", stack="kyoukai", ...)``, which answers under httpx
  (respx at the transport), so each call still pays for httpx building and reading a real request
  and response. Baseline (the goal's): ``mock.patch.object(httpx.HTTPTransport, "handle_request")``
  answering a new ``httpx.Response``, the same interception point. Second figure, no goal:
  ``mock.patch.object(httpx.Client, "get", return_value=...)``, which skips httpx entirely.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import Figure, interleaved, median_ratio, per_call, report, stack_logs_elsewhere  # noqa: E402

WALLET_REPLY = {"account": "ann", "balance": 70}
ITEM_REPLY = {"sku": "apple", "price": 3}


def _pykern_round(calls: int, patched: Callable[[], Any]) -> float:
    from pykern.api.client import Client
    from pykern.pkcollections import PKDict

    from examples.pykern.consumer import pay

    async def run() -> float:
        client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=8123, api_uri="/api"))
        with patched():
            await client.connect()
            await pay(client, "ann", 30)
            started = time.thread_time()
            for _ in range(calls):
                await pay(client, "ann", 30)
            spent = (time.thread_time() - started) / calls
            client.destroy()
        return spent

    return asyncio.run(run())


def pykern_figures(calls: int, rounds: int) -> list[Figure]:
    from pykern.api.client import Client

    from rpctest import stub_action

    def plain() -> Any:  # call_api as a mock; connect and destroy too, as no server exists
        return mock.patch.multiple(Client, call_api=mock.AsyncMock(return_value=WALLET_REPLY),
                                   connect=mock.AsyncMock(), destroy=mock.MagicMock())

    def ours() -> Any:
        return stub_action("wallet", "transfer", stack="pykern", body=WALLET_REPLY)

    samples = interleaved({"mock.patch": lambda: _pykern_round(calls, plain),
                           "rpctest": lambda: _pykern_round(calls, ours)}, rounds)
    ratio = median_ratio(samples["rpctest"], samples["mock.patch"])
    return [Figure("pykern in-process stub per call / mock.patch of Client.call_api", statistics.median(samples["rpctest"]) * 1e6,
                   "us/call", ratio, "<= 1.0")]


def kyoukai_figures(calls: int, rounds: int) -> list[Figure]:
    import httpx

    from examples.kyoukai.consumer import ShopClient
    from rpctest import stub_action

    base = "http://shop.invalid"

    def round_(patched: Callable[[], Any]) -> float:
        shop = ShopClient(base)
        try:
            with patched():
                return per_call(calls, lambda: shop.price("apple"))
        finally:
            shop.close()

    def at_transport() -> Any:  # the point where rpctest's stubs answer: httpx's transport
        return mock.patch.object(httpx.HTTPTransport, "handle_request",
                                 side_effect=lambda request: httpx.Response(200, json=ITEM_REPLY, request=request))

    def at_get() -> Any:  # the consumer's own call: httpx is skipped altogether
        response = httpx.Response(200, json=ITEM_REPLY, request=httpx.Request("GET", base + "/items/apple"))
        return mock.patch.object(httpx.Client, "get", return_value=response)

    def ours() -> Any:
        return stub_action("shop", "GET /items/<string(maxlength=16):sku>", stack="kyoukai", body=ITEM_REPLY)

    samples = interleaved({"transport": lambda: round_(at_transport), "get": lambda: round_(at_get),
                           "rpctest": lambda: round_(ours)}, rounds)
    median = statistics.median(samples["rpctest"]) * 1e6
    return [
        Figure("Kyoukai in-process stub per call / mock.patch of HTTPTransport.handle_request", median, "us/call",
               median_ratio(samples["rpctest"], samples["transport"]), "<= 1.0"),
        Figure("Kyoukai in-process stub per call / mock.patch of httpx.Client.get", median, "us/call",
               median_ratio(samples["rpctest"], samples["get"]), note="the patch skips httpx; the stub answers under it"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=("pykern", "kyoukai"), required=True)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="also one JSON line per figure (run_all.py)")
    args = parser.parse_args()
    make = pykern_figures if args.stack == "pykern" else kyoukai_figures
    print(f"{args.stack} in-process stubs ({args.calls} calls x {args.rounds} interleaved rounds, medians of CPU time)")
    with stack_logs_elsewhere([args.stack], "bench-stubs"):
        figures = make(args.calls, args.rounds)
    report(figures, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
