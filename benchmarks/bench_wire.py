"""Every stack's start times and wire round trips, through the stack-neutral adapter API (issue 21,
items 3 and 4).

Run in the stack's environment: ``.nox/<stack>/bin/python benchmarks/bench_wire.py --stack STACK``
[--starts N] [--calls N] [--rounds N] [--json]. Prints figures measured in this one run; nothing
asserts a time.

* **start** (item 4): from nothing to the first reply through rpctest's client, ``--starts`` times,
  median and worst: the stack's in-process server hosting the example provider
  (``adapter.host.serve``) and its stub server answering one stub (``adapter.wire.stub_server``).
  Goal: median <= 50 ms.
* **round trip** (item 3): one call after another through rpctest's client
  (``adapter.wire.client``), against rpctest's stub server and against the real server, each as a
  ratio to a bare echo of the same transport in the same interleaved rounds (Redis list push/pop,
  tornado WebSocket, ZeroMQ DEALER/ROUTER, HTTP/1.1 keep-alive, asyncio TCP with one connection per
  request as AsyncAProto has it). Goal: stub server <= 1.5x the bare echo; the real server's ratio
  is reported, not judged (its time is the stack's own dispatch).

Every side is timed in wall time: a round trip waits on sockets and on the other thread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import Figure, interleaved, median_ratio, per_call_wall, report, stack_logs_elsewhere, start_figure, starts  # noqa: E402


@dataclass
class Case:
    """What one stack's figures call: the example provider, one operation and body, the stub's reply."""

    stack: str
    service: str
    operation: str  # the stub's operation
    call: str  # the operation a client calls (Kyoukai: the concrete path of the stub's route)
    body: Any
    reply: Any
    provider: Callable[[], Any]
    transport: str
    serve_options: dict[str, Any] = field(default_factory=dict)
    stub_options: dict[str, Any] = field(default_factory=dict)
    #: the stub server's options when it runs beside the real server (a PySOA stub server and server
    #: of one service on one Redis would take each other's requests: the stub gets a Redis of its own)
    beside_real: Callable[[ExitStack], dict[str, Any]] | None = None
    #: a client of the bare echo's kind for the stub server too (where the figures show that the time
    #: goes to rpctest's client rather than its stub server): (stack, address) -> one call
    bare_client: Callable[[ExitStack, str], Callable[[], None]] | None = None


def _pysoa(redis: Any) -> Case:
    def provider() -> Any:
        from examples.pysoa.service import UserServer

        return UserServer

    def own_redis(stack: ExitStack) -> dict[str, Any]:
        from rpctest import redis_backend

        process = redis_backend.RedisServerProcess()
        target = process.start()
        stack.callback(process.stop)
        return {"redis": target, "services": ["users"]}

    return Case("pysoa", "users", "get_user", "get_user", {"id": 1}, {"user": {"id": 1, "name": "Ann"}}, provider,
                "Redis list push/pop", {"transport": "redis", "redis": redis}, {"redis": redis, "services": ["users"]},
                own_redis)


def _pykern() -> Case:
    def provider() -> Any:
        from examples.pykern.service import WalletAPI

        return WalletAPI

    return Case("pykern", "wallet", "echo", "echo", {"x": 1}, {"x": 1}, provider, "tornado WebSocket")


def _zerojson() -> Case:
    def provider() -> Any:
        from examples.zerojson.service import Shop

        return Shop

    return Case("zerojson", "com.example.shop", "price", "price", {"sku": "pear"}, 4, provider, "ZeroMQ DEALER/ROUTER")


def _kyoukai() -> Case:
    def provider() -> Any:
        from examples.kyoukai.service import make_app

        return make_app

    def http_client(stack: ExitStack, address: str) -> Callable[[], None]:
        import http.client
        import urllib.parse

        where = urllib.parse.urlsplit(address)
        connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=5)
        stack.callback(connection.close)

        def one() -> None:
            connection.request("GET", "/items/apple")
            json.loads(connection.getresponse().read())

        return one

    return Case("kyoukai", "shop", "GET /items/<string(maxlength=16):sku>", "GET /items/apple", None,
                {"sku": "apple", "price": 3}, provider, "HTTP/1.1 keep-alive", bare_client=http_client)


def _asyncapy() -> Case:
    def provider() -> Any:
        from examples.asyncapy.service import build_server

        return build_server

    return Case("asyncapy", "calc", "echo", "echo", {"action": "echo", "text": "hi"}, {"status": "ok", "text": "hi"},
                provider, "asyncio TCP, a connection per request")


# --------------------------------------------------------------------------------------------------
# the stack-neutral halves: a stub server with one stub, the hosted provider, rpctest's client


def stub_server(case: Case, options: dict[str, Any] | None = None) -> Any:
    from rpctest import stub_action
    from rpctest.stacks import get_adapter
    from rpctest.stubs.router import StubRouter

    router = StubRouter(intercept=False)
    stub_action(case.service, case.operation, stack=case.stack, router=router, body=case.reply).start()
    return get_adapter(case.stack).wire.stub_server(router, **(case.stub_options if options is None else options))


def hosted(case: Case) -> Any:
    from rpctest.stacks import get_adapter

    return get_adapter(case.stack).host.serve(case.provider(), **case.serve_options)


def neutral_call(case: Case) -> Any:
    from rpctest.model import Call

    return Call(case.stack, case.service, case.call, case.body)


def first_reply(case: Case, server: Any) -> None:
    """One call through rpctest's client; a failed reply stops the benchmark (it would time errors)."""
    from rpctest.stacks import get_adapter

    client = get_adapter(case.stack).wire.client(server.address)
    try:
        reply = _sync(client.call(neutral_call(case)))
    finally:
        _close(client)
    if not reply.ok:
        raise SystemExit(f"bench_wire: {case.stack} answered {reply.all_errors} to {case.call}: fix the case")


def _close(client: Any) -> None:
    """Close a sync or an async client."""
    _sync(client.close())


def _sync(value: Any) -> Any:
    """A sync client returns the value, an async one a coroutine: run it on a loop of its own."""
    if asyncio.iscoroutine(value):
        return _LOOP.run(value)
    return value


class _Loop:
    """One event loop on a thread of its own for the async clients' coroutines."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None

    def run(self, coroutine: Any) -> Any:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
            self.thread.start()
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def close(self) -> None:
        if self.loop is not None and self.thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


_LOOP = _Loop()


def start_figures(case: Case, count: int) -> list[Figure]:
    def start_with(make: Callable[[Case], Any]) -> Callable[[], Callable[[], None]]:
        def start() -> Callable[[], None]:
            server = make(case)
            first_reply(case, server)
            return server.stop  # type: ignore[no-any-return]

        return start

    return [
        start_figure(f"{case.stack} in-process server: start to first reply", starts(count, start_with(hosted))),
        start_figure(f"{case.stack} stub server: start to first reply", starts(count, start_with(stub_server))),
    ]


def _calls_through(client: Any, call: Any, calls: int) -> Callable[[], float]:
    """One round of ``calls`` calls through ``client``: wall seconds per call."""
    return lambda: per_call_wall(calls, lambda: _sync(client.call(call)))


def round_trip_figures(case: Case, calls: int, rounds: int) -> list[Figure]:
    from rpctest.stacks import get_adapter

    adapter = get_adapter(case.stack)
    with ExitStack() as stack:
        stub = stub_server(case, case.beside_real(stack) if case.beside_real else None)
        stack.callback(stub.stop)
        real = hosted(case)
        stack.callback(real.stop)
        bare = BARE[case.stack](stack)
        sides: dict[str, Callable[[], float]] = {"bare": lambda: per_call_wall(calls, bare)}
        for name, server in (("stub server", stub), ("real server", real)):
            client: Any = adapter.wire.client(server.address)
            stack.callback(_close, client)
            sides[name] = _calls_through(client, neutral_call(case), calls)
        if case.bare_client is not None:
            plain = case.bare_client(stack, stub.address)
            sides["bare client + stub server"] = lambda: per_call_wall(calls, plain)
        samples = interleaved(sides, rounds)
    bare_us = statistics.median(samples["bare"]) * 1e6
    extra = [] if case.bare_client is None else [
        Figure(f"{case.stack} bare client + stub server / bare echo",
               statistics.median(samples["bare client + stub server"]) * 1e6, "us/call",
               median_ratio(samples["bare client + stub server"], samples["bare"]), note="the stub server alone"),
    ]
    return [
        Figure(f"{case.stack} bare echo, {case.transport}", bare_us, "us/call"),
        *extra,
        Figure(f"{case.stack} rpctest client + stub server / bare echo", statistics.median(samples["stub server"]) * 1e6,
               "us/call", median_ratio(samples["stub server"], samples["bare"]), "<= 1.5"),
        Figure(f"{case.stack} rpctest client + real server / bare echo", statistics.median(samples["real server"]) * 1e6,
               "us/call", median_ratio(samples["real server"], samples["bare"]), note="the stack's own dispatch"),
    ]


# --------------------------------------------------------------------------------------------------
# bare echoes: the transport alone, one request and its reply, nothing checked


def _bare_redis(stack: ExitStack) -> Callable[[], None]:
    """LPUSH a msgpack request onto one list and BLPOP it on a thread that LPUSHes it back: a
    request and a reply over Redis lists, as PySOA's Redis gateway does, with nothing else."""
    import msgpack  # type: ignore[import-untyped, unused-ignore]
    import redis as redis_py

    url = stack.enter_context(_redis_url())
    client, server = redis_py.Redis.from_url(url), redis_py.Redis.from_url(url)
    stack.callback(client.close)
    stack.callback(server.close)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            got = server.blpop(["bench:requests"], timeout=1)
            if got is not None:
                server.lpush("bench:replies", msgpack.packb(msgpack.unpackb(got[1])))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    stack.callback(thread.join, 5)
    stack.callback(stop.set)
    frame = msgpack.packb({"actions": [{"action": "get_user", "body": {"id": 1}}], "context": {}, "control": {}})

    def one() -> None:
        client.lpush("bench:requests", frame)
        msgpack.unpackb(client.blpop(["bench:replies"], timeout=5)[1])

    return one


def _redis_url() -> Any:
    import contextlib

    from rpctest import redis_backend

    @contextlib.contextmanager
    def url() -> Any:
        real = redis_backend.real()
        if real is not None:
            yield real.url
            return
        process = redis_backend.RedisServerProcess()
        target = process.start()
        try:
            yield target.url
        finally:
            process.stop()

    return url()


def _bare_websocket(stack: ExitStack) -> Callable[[], None]:
    import msgpack  # type: ignore[import-untyped, unused-ignore]
    import tornado.httpserver
    import tornado.netutil
    import tornado.web
    import tornado.websocket

    class Echo(tornado.websocket.WebSocketHandler):  # type: ignore[misc, unused-ignore]
        def on_message(self, message: Any) -> None:
            self.write_message(msgpack.packb(msgpack.unpackb(message)), binary=True)

    async def open_() -> Any:
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(tornado.web.Application([("/api", Echo)]))
        server.add_sockets(sockets)
        connection = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{sockets[0].getsockname()[1]}/api")
        return server, connection

    server, connection = _LOOP.run(open_())

    async def close() -> None:
        connection.close()
        server.stop()
        await server.close_all_connections()

    stack.callback(lambda: _LOOP.run(close()))
    frame = msgpack.packb({"api_name": "echo", "api_args": {"x": 1}, "call_id": 1, "msg_kind": 777501})

    async def round_trip() -> None:
        await connection.write_message(frame, binary=True)
        msgpack.unpackb(await connection.read_message())

    return lambda: _LOOP.run(round_trip())


def _bare_zeromq(stack: ExitStack) -> Callable[[], None]:
    import zmq

    context = zmq.Context()
    stack.callback(context.term)
    router = context.socket(zmq.ROUTER)
    stack.callback(router.close, 0)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            if router.poll(100):
                identity, *frames = router.recv_multipart()
                router.send_multipart([identity, *[json.dumps(json.loads(f)).encode() for f in frames]])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    stack.callback(thread.join, 5)
    stack.callback(stop.set)
    dealer = context.socket(zmq.DEALER)
    stack.callback(dealer.close, 0)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    frame = json.dumps({"version": "1", "id": 1, "interface": "Shop", "method": "price", "args": {"sku": "pear"}}).encode()

    def one() -> None:
        dealer.send(frame)
        json.loads(dealer.recv())

    return one


def _asyncio_server(stack: ExitStack, handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]) -> int:
    """An asyncio server of ``handle`` on 127.0.0.1 on the benchmark's loop, closed with ``stack``; its port."""
    async def open_() -> Any:
        return await asyncio.start_server(handle, "127.0.0.1", 0)

    server = _LOOP.run(open_())

    async def close() -> None:
        server.close()
        await server.wait_closed()

    stack.callback(lambda: _LOOP.run(close()))
    return server.sockets[0].getsockname()[1]  # type: ignore[no-any-return]


def _bare_http(stack: ExitStack) -> Callable[[], None]:
    """An asyncio server answering each HTTP/1.1 request with a JSON body on a kept-alive
    connection, and an ``http.client`` connection asking."""
    import http.client

    body = json.dumps({"sku": "apple", "price": 3}).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                if not request:
                    break
                writer.write(head + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    port = _asyncio_server(stack, handle)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    stack.callback(connection.close)

    def one() -> None:
        connection.request("GET", "/items/apple")
        json.loads(connection.getresponse().read())

    return one


def _bare_tcp(stack: ExitStack) -> Callable[[], None]:
    """AsyncAProto's shape: a connection per request, a length-prefixed JSON frame each way."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        size = int.from_bytes(await reader.readexactly(4), "big")
        packet = json.loads((await reader.readexactly(size))[2:])
        reply = json.dumps({"status": "ok", "echo": packet}).encode()
        writer.write((len(reply) + 2).to_bytes(4, "big") + b"\x16\x00" + reply)
        await writer.drain()
        writer.close()

    port = _asyncio_server(stack, handle)
    frame = json.dumps({"action": "echo", "text": "hi"}).encode()
    frame = (len(frame) + 2).to_bytes(4, "big") + b"\x16\x00" + frame

    def one() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(frame)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        json.loads(data[6:])

    return one


BARE: dict[str, Callable[[ExitStack], Callable[[], None]]] = {
    "pysoa": _bare_redis, "pykern": _bare_websocket, "zerojson": _bare_zeromq, "kyoukai": _bare_http, "asyncapy": _bare_tcp,
}


def case_for(stack: str, stack_exit: ExitStack) -> Case:
    if stack == "pysoa":
        from rpctest import redis_backend

        real = redis_backend.real()
        if real is None:
            process = redis_backend.RedisServerProcess()
            real = process.start()
            stack_exit.callback(process.stop)
        return _pysoa(real)
    return {"pykern": _pykern, "zerojson": _zerojson, "kyoukai": _kyoukai, "asyncapy": _asyncapy}[stack]()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=sorted(BARE), required=True)
    parser.add_argument("--starts", type=int, default=50)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json", action="store_true", help="also one JSON line per figure (run_all.py)")
    args = parser.parse_args()
    with ExitStack() as stack:
        stack.callback(_LOOP.close)
        stack.enter_context(stack_logs_elsewhere([args.stack], "bench-wire"))
        case = case_for(args.stack, stack)
        if args.stack == "asyncapy" and not _installed("asyncapy"):
            raise SystemExit("bench_wire: AsyncAPY is not installed (it is not on PyPI; see docs/stacks/asyncapy.md)")
        print(f"{args.stack}: start ({args.starts} starts, median and worst) and round trips "
              f"({args.calls} calls x {args.rounds} interleaved rounds, medians)")
        figures = start_figures(case, args.starts) + round_trip_figures(case, args.calls, args.rounds)
        report(figures, as_json=args.json)
    return 0


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    sys.exit(main())
