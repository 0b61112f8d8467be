"""pykern.api benchmarks: server start-to-first-reply against pykern's unit_util.Setup, and per-call
round trip against a bare WebSocket echo on the same machine.

Run: ``.venv-pykern/bin/python benchmarks/bench_pykern.py [--starts N] [--setups N] [--calls N]``
(any environment with pykern.api installed light; see docs/stacks/pykern.md). Prints figures and
ratios measured in this one run; nothing asserts a time. Goals (issue #5): rpctest's start at
least 40 times faster than ``Setup``; per-call overhead shown against the raw transport.

* start-to-first-reply: from nothing to the first ``call_api`` result. rpctest: ``serve_async``
  (the real server on the running loop) plus a real ``pykern.api.client.Client``. pykern:
  ``async with unit_util.Setup(api_classes=...)``, which forks the server and sleeps 2 s.
* round trip: ``call_api("echo", ...)`` through rpctest's hosted server and pykern's own client,
  against a bare tornado WebSocket server echoing msgpack frames to a bare tornado client: the
  transport's floor, with no pykern dispatch at all.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


async def rpctest_start(starts: int) -> list[float]:
    from examples.pykern.service import WalletAPI
    from rpctest.stacks.pykern import serve_async

    samples = []
    for _ in range(starts):
        started = time.perf_counter()
        async with serve_async(WalletAPI) as wallet:
            assert (await wallet.client.call_api("echo", {"x": 1}))["x"] == 1
            samples.append((time.perf_counter() - started) * 1000)
    return samples


async def setup_start(setups: int) -> list[float]:
    from pykern.api import unit_util

    from examples.pykern.service import WalletAPI

    samples = []
    for _ in range(setups):
        started = time.perf_counter()
        async with unit_util.Setup(api_classes=(WalletAPI,)) as client:
            assert (await client.call_api("echo", {"x": 1}))["x"] == 1
            samples.append((time.perf_counter() - started) * 1000)
    return samples


async def rpctest_round_trip(calls: int) -> float:
    from examples.pykern.service import WalletAPI
    from rpctest.stacks.pykern import serve_async

    async with serve_async(WalletAPI) as wallet:
        client = wallet.client
        for _ in range(50):
            await client.call_api("echo", {"x": 1})
        started = time.perf_counter()
        for _ in range(calls):
            await client.call_api("echo", {"x": 1})
        return (time.perf_counter() - started) / calls * 1e6


async def bare_round_trip(calls: int) -> float:
    """A tornado WebSocket echo of msgpack frames: the transport alone."""
    import msgpack
    import tornado.httpserver
    import tornado.netutil
    import tornado.web
    import tornado.websocket

    class Echo(tornado.websocket.WebSocketHandler):
        def on_message(self, message: bytes) -> None:
            self.write_message(msgpack.packb(msgpack.unpackb(message)), binary=True)

    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(tornado.web.Application([("/api", Echo)]))
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    connection = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{port}/api")
    frame = msgpack.packb({"api_name": "echo", "api_args": {"x": 1}, "call_id": 1, "msg_kind": 777501})
    try:
        for _ in range(50):
            await connection.write_message(frame, binary=True)
            await connection.read_message()
        started = time.perf_counter()
        for _ in range(calls):
            await connection.write_message(frame, binary=True)
            await connection.read_message()
        return (time.perf_counter() - started) / calls * 1e6
    finally:
        connection.close()
        server.stop()
        await server.close_all_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--setups", type=int, default=2, help="pykern Setup runs (about 2 s each)")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    from timing import stack_logs_elsewhere

    with stack_logs_elsewhere(["pykern"], "bench-pykern"):
        ours = asyncio.run(rpctest_start(args.starts))
        theirs = asyncio.run(setup_start(args.setups))
        rt_ours = asyncio.run(rpctest_round_trip(args.calls))
        rt_bare = asyncio.run(bare_round_trip(args.calls))
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(f"start to first reply   rpctest serve_async  median {ours_median:8.1f} ms  (max {max(ours):.1f}, n={len(ours)})")
    print(f"                       pykern unit_util.Setup median {theirs_median:7.1f} ms  (n={len(theirs)})")
    print(f"                       ratio Setup / rpctest  {theirs_median / ours_median:8.1f}x   (goal >= 40x)")
    print(f"round trip per call    rpctest hosted, pykern Client  {rt_ours:7.1f} us")
    print(f"                       bare tornado WebSocket echo    {rt_bare:7.1f} us")
    print(f"                       ratio rpctest / bare   {rt_ours / rt_bare:8.2f}x   (pykern's dispatch, quest and session included)")


if __name__ == "__main__":
    main()
