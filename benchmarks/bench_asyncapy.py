"""AsyncAPY benchmark: a round trip through rpctest's client and stub server against a bare asyncio
length-prefixed JSON echo that also opens one connection per request, as AsyncAProto does.

Run: ``python benchmarks/bench_asyncapy.py [--requests N] [--rounds N]`` (any environment with
rpctest; AsyncAPY is not needed). Prints figures and the ratio measured in this one run; nothing
asserts a time. Goal (issue #7): rpctest / bare <= 1.5.

* bare: ``asyncio.start_server`` reading the 4-byte length and the frame, ``json.loads`` and
  ``json.dumps`` of the packet, one frame back, close; the client opens a connection, writes the
  frame, reads to EOF and decodes it. The floor of the protocol in Python, with no checks at all.
* rpctest: :class:`~rpctest.stacks.asyncapy.client.AsyncAPYClient` ``call()`` (framing checks, a
  deadline on every request, the neutral reply) against
  :class:`~rpctest.stacks.asyncapy.stub_server.AsyncAPYStubServer` answering from a ``stub_action``
  that echoes (stub matching on AsyncAPY's Fields rule, session accounting, the server's timeout).
* with AsyncAPY installed, also the real server (hosted by rpctest, under trio on its own thread)
  through the same client, for scale.

Both sides run server and client on one event loop, on 127.0.0.1, request after request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PACKET = {"action": "echo", "text": "hello", "n": 42}


async def _bare_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    size = int.from_bytes(await reader.readexactly(4), "big")
    frame = await reader.readexactly(size)
    reply = json.dumps({"status": "ok", "echo": json.loads(frame[2:])}).encode()
    writer.write((len(reply) + 2).to_bytes(4, "big") + b"\x16\x00" + reply)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def _bare_call(port: int, packet: dict) -> dict:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps(packet).encode()
    writer.write((len(body) + 2).to_bytes(4, "big") + b"\x16\x00" + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    return json.loads(data[6:])


async def bare(requests: int) -> float:
    server = await asyncio.start_server(_bare_handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await _bare_call(port, PACKET)  # warm up
        started = time.perf_counter()
        for _ in range(requests):
            assert (await _bare_call(port, PACKET))["echo"]["n"] == 42
        return (time.perf_counter() - started) / requests * 1e6
    finally:
        server.close()
        await server.wait_closed()


async def rpctest_stub(requests: int) -> float:
    from rpctest.model import Call
    from rpctest.stacks.asyncapy.client import AsyncAPYClient
    from rpctest.stacks.asyncapy.stub_server import AsyncAPYStubServer
    from rpctest.stubs.api import stub_action
    from rpctest.stubs.router import StubRouter

    router = StubRouter(intercept=False)
    stub_action("bench", "echo", stack="asyncapy", router=router, match={"action": "echo$", "text": None, "n": None},
                side_effect=lambda packet: {"status": "ok", "echo": packet}).start()
    server = await AsyncAPYStubServer.start_async(router, timeout=5)
    try:
        client = AsyncAPYClient(server.host, server.port, timeout=5, service="bench")
        call = Call("asyncapy", "bench", "echo", PACKET)
        await client.call(call)
        started = time.perf_counter()
        for _ in range(requests):
            assert (await client.call(call)).body["echo"]["n"] == 42
        return (time.perf_counter() - started) / requests * 1e6
    finally:
        await server.astop()


def real_asyncapy(requests: int) -> float | None:
    from rpctest.stacks import get_adapter

    if get_adapter("asyncapy").host.unavailable_reason() is not None:
        return None
    from asyncapy import Packet
    from asyncapy.filters import Filters

    from rpctest.model import Call
    from rpctest.stacks.asyncapy import isolated_server, serve
    from rpctest.stacks.asyncapy.client import AsyncAPYSyncClient

    server = isolated_server(timeout=5)

    @server.add_handler(Filters.Fields(action="echo$", text=None, n=None))
    async def echo(client, packet):
        await client.send(Packet({"status": "ok", "echo": packet.dict_payload}, encoding=client.encoding))

    with serve(server) as hosted, AsyncAPYSyncClient.from_address(hosted.address, timeout=5) as client:
        call = Call("asyncapy", "bench", "echo", PACKET)
        client.call(call)
        started = time.perf_counter()
        for _ in range(requests):
            assert client.call(call).body["echo"]["n"] == 42
        return (time.perf_counter() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="round trips per measurement (default 500)")
    parser.add_argument("--rounds", type=int, default=5, help="measurements of each, interleaved (default 5)")
    args = parser.parse_args()
    bare_us, rpctest_us = [], []
    for _ in range(args.rounds):  # interleaved, so a noisy moment hits both
        bare_us.append(asyncio.run(bare(args.requests)))
        rpctest_us.append(asyncio.run(rpctest_stub(args.requests)))
    b, r = statistics.median(bare_us), statistics.median(rpctest_us)
    print(f"AsyncAProto round trip, one connection per request, {args.requests} requests x {args.rounds} rounds (median per request)")
    print(f"  bare asyncio length-prefixed JSON echo      {b:8.1f} us")
    print(f"  rpctest AsyncAPYClient -> stub server       {r:8.1f} us")
    print(f"  ratio rpctest / bare                        {r / b:8.2f}   (goal <= 1.5)")
    real = real_asyncapy(args.requests)
    if real is None:
        print("  real AsyncAPY server                        (not installed: it is not on PyPI; see docs/stacks/asyncapy.md)")
    else:
        print(f"  rpctest client -> real AsyncAPY (trio)      {real:8.1f} us   ({real / b:.2f} x bare)")


if __name__ == "__main__":
    main()
