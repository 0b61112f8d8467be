"""Test helpers for the pykern.api wire half: a raw WebSocket client, the vector service twice
(as stubs and as real pykern APIs), an in-process real pykern server, and a vector replayer.

The raw client exists because tornado's client hides the frames: the vectors pin the server's close
frame (``8800``) as well as every message, and the framing vectors send bytes no real client would.
The real server is pykern's private ``_Server`` on the test's own loop (the public ``server.start``
calls ``asyncio.run`` and cannot run inside one); a smoke test in test_wire_client.py pins that
private use.

Timing: the vector service's ``slow`` and ``ticks`` sleep ``TIME_SCALE`` times what their arguments
say, in both twins, so replays keep their order and their meaning but run fast.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import hashlib
import itertools
import struct
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable

from vectors import blob_bytes

from rpctest.model import Reply, RpcError
from rpctest.stubs.api import stub_action
from rpctest.stubs.router import StubRouter

TIME_SCALE = 0.25
#: the token of the vectors' peer (TokenAuth)
VECTOR_TOKEN = "s3cret-token"
#: how long a replay listens for a message that must not come: loopback delivers in milliseconds, but
#: a loaded CI machine (two xdist workers, servers on threads) has been seen to take over 100 ms
NO_REPLY_WAIT = 0.5
_WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's sample key, as the vectors' raw client used
_MASK = bytes.fromhex("37fa213d")  # the vectors' fixed mask key
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def from_decoded(value: Any) -> Any:
    """A vector's ``decoded`` view as Python values (``{"$bin": hex}`` -> bytes)."""
    if isinstance(value, dict):
        if set(value) == {"$bin"}:
            return bytes.fromhex(value["$bin"])
        return {key: from_decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_decoded(item) for item in value]
    return value


def host_port(address: str) -> tuple[str, int]:
    netloc = address.split("//", 1)[1].split("/", 1)[0]
    host, port = netloc.rsplit(":", 1)
    return host, int(port)


# -- a raw WebSocket client ------------------------------------------------------------------------------


@dataclass
class Frame:
    opcode: int
    payload: bytes
    raw: bytes


class RawWs:
    """A byte-level WebSocket client: masked frames out, raw frames in, EOF visible."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.eof = False

    @classmethod
    async def connect(cls, host: str, port: int, path: str = "/api") -> "RawWs":
        reader, writer = await asyncio.open_connection(host, port)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {_WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        writer.write(request.encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        expected = base64.b64encode(hashlib.sha1((_WS_KEY + _GUID).encode()).digest()).decode()
        if not head.startswith(b"HTTP/1.1 101") or expected.encode() not in head:
            writer.close()
            await writer.wait_closed()
            raise AssertionError(f"WebSocket handshake refused: {head!r}")
        return cls(reader, writer)

    async def send(self, payload: bytes, opcode: int = 2) -> None:
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(byte ^ _MASK[i % 4] for i, byte in enumerate(payload))
        self.writer.write(header + _MASK + masked)
        await self.writer.drain()

    async def recv(self, timeout: float) -> Frame | None:
        """The next frame, or None if none starts within ``timeout`` (AssertionError at EOF)."""
        try:
            first = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        except asyncio.TimeoutError:
            return None
        except asyncio.IncompleteReadError as exc:
            self.eof = True
            raise AssertionError(f"the server closed the connection (received {exc.partial!r})") from None
        length = first[1] & 0x7F
        extra = b""
        if length == 126:
            extra = await self.reader.readexactly(2)
            length = struct.unpack("!H", extra)[0]
        elif length == 127:
            extra = await self.reader.readexactly(8)
            length = struct.unpack("!Q", extra)[0]
        payload = await self.reader.readexactly(length)
        return Frame(first[0] & 0x0F, payload, first + extra + payload)

    async def expect_eof(self, timeout: float = 2.0) -> bool:
        """True once the server has closed TCP (anything still unread is discarded)."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), timeout):
                pass
        except asyncio.TimeoutError:
            return False
        self.eof = True
        return True

    async def answer_close(self) -> None:
        """Answer a server's close frame with ours, as the vectors' client did."""
        await self.send(b"", opcode=8)

    async def close(self) -> None:
        """A clean close: our close frame, the server's answer, EOF; then release the socket."""
        try:
            if not self.eof and not self.writer.is_closing():
                with contextlib.suppress(ConnectionError):
                    await self.send(b"", opcode=8)
                    await self.expect_eof()
        finally:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()


# -- the vector service as stubs -----------------------------------------------------------------------


def types_result() -> dict[str, Any]:
    """What the vector service's ``types`` API returns (before packing)."""
    return {
        "dt": datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc),
        "t": (1, 2),
        "b": b"\x00\x01",
        "f": 1.5,
        "big": 2**40,
        "neg": -3,
        "n": None,
        "u": "\u00e9",
    }


def vector_router(service: str = "api") -> StubRouter:
    """A fresh router whose pykern stubs behave like the vectors' ``demo`` service.

    Fresh per connection-scenario, because echo's counter stands for pykern's per-connection
    session (the vectors each ran against a fresh server).
    """
    router = StubRouter(intercept=False)
    counter = itertools.count(1)

    def stub(action: str, **kwargs: Any) -> None:
        stub_action(service, action, stack="pykern", router=router, **kwargs).start()

    stub("echo", side_effect=lambda args: {**args, "counter": next(counter)})
    stub("boom", side_effect=ValueError("kaboom"))
    stub("forbid", errors=[RpcError("APIForbidden", "")])
    stub("credit", errors=[RpcError("NotEnoughCredit", "balance=3")])
    stub("none", body=None)
    stub("unserializable", side_effect=lambda args: {"x": object()})
    stub("types", side_effect=lambda args: types_result())
    stub("badproto", errors=[RpcError("APIProtocolError", "error=nope")])
    stub(
        "slow",
        side_effect=lambda args: Reply(body={"slept": args["seconds"]}, meta={"delay": args["seconds"] * TIME_SCALE}),
    )
    stub(
        "ticks",
        items=[],
        side_effect=lambda args: Reply(
            items=[{"i": i} for i in range(args["n"])], meta={"interval": args.get("interval", 0.05) * TIME_SCALE}
        ),
    )
    stub("sub_returns", items=[], side_effect=lambda args: 42)
    return router


# -- the vector service as real pykern APIs, and pykern's server in-process --------------------------


def real_api_classes(token: str | None = VECTOR_TOKEN, *, ticks_sent: list[int] | None = None) -> list[type]:
    """The vectors' ``demo`` service as pykern API classes (plus TokenAuth when ``token``).

    ``ticks_sent`` collects every tick ``ticks`` puts, so a test can see the server stop.
    """
    import pykern.api.auth_api
    import pykern.api.util
    import pykern.quest
    import pykern.util
    from pykern.pkcollections import PKDict

    class NotEnoughCredit(pykern.util.APIError):
        pass

    class DemoAPI(pykern.quest.API):
        async def api_echo(self, api_args):
            count = self.session.get("counter", 0) + 1
            self.session["counter"] = count
            result = PKDict(api_args)
            result["counter"] = count
            return result

        async def api_boom(self, api_args):
            raise ValueError("kaboom")

        async def api_forbid(self, api_args):
            raise pykern.api.util.APIForbidden()

        async def api_credit(self, api_args):
            raise NotEnoughCredit("balance={}", 3)

        async def api_none(self, api_args):
            return None

        async def api_unserializable(self, api_args):
            return PKDict(x=object())

        async def api_types(self, api_args):
            return PKDict(types_result())

        async def api_badproto(self, api_args):
            raise pykern.api.util.APIProtocolError("nope")

        async def api_slow(self, api_args):
            await asyncio.sleep(api_args.seconds * TIME_SCALE)
            return PKDict(slept=api_args.seconds)

        @pykern.api.util.subscription
        async def api_ticks(self, api_args):
            interval = api_args.get("interval", 0.05) * TIME_SCALE
            for i in range(api_args.n):
                if self.is_quest_end():
                    return None
                self.subscription.result_put(PKDict(i=i))
                if ticks_sent is not None:
                    ticks_sent.append(i)
                await asyncio.sleep(interval)
            return None

        @pykern.api.util.subscription
        async def api_sub_returns(self, api_args):
            return 42

    classes: list[type] = [DemoAPI]
    if token is not None:

        class TokenAuth(pykern.api.auth_api.AuthAPI):
            def token(self):
                return token

        classes.append(TokenAuth)
    return classes


class _Loop:
    """The three methods of pkasyncio.Loop that pykern's ``_Server`` calls."""

    def __init__(self) -> None:
        self.http: Any = None
        self.port = 0

    def http_server(self, config: Any) -> None:
        import tornado.httpserver
        import tornado.netutil
        import tornado.web

        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self.http = tornado.httpserver.HTTPServer(tornado.web.Application(config.uri_map, log_function=config.log_function))
        self.http.add_sockets(sockets)

    def http_log(self, *args: Any, **kwargs: Any) -> None:
        pass

    def remote_peer(self, request: Any) -> str:
        return str(request.remote_ip)


@dataclass
class RealServer:
    address: str
    host: str
    port: int


@contextlib.asynccontextmanager
async def real_pykern_server(api_classes: Iterable[type] | None = None, *, path: str = "/api") -> AsyncIterator[RealServer]:
    """pykern's real server on the running loop; on exit every connection is closed and awaited."""
    import pykern.api.server
    from pykern.pkcollections import PKDict

    loop = _Loop()
    server = pykern.api.server._Server(loop, list(api_classes or real_api_classes()), [], PKDict(api_uri=path))
    handlers: list[tuple[Any, asyncio.Future]] = []
    opened = server.handle_open

    def handle_open(handler: Any) -> Any:
        done = asyncio.get_running_loop().create_future()
        on_close = handler.on_close

        def closed() -> None:
            try:
                on_close()
            finally:
                if not done.done():
                    done.set_result(None)

        handler.on_close = closed
        handlers.append((handler, done))
        return opened(handler)

    server.handle_open = handle_open
    try:
        yield RealServer(f"ws://127.0.0.1:{loop.port}{path}", "127.0.0.1", loop.port)
    finally:
        loop.http.stop()
        protocols = []
        for handler, done in handlers:
            protocols.append(handler.ws_connection)
            if handler.ws_connection is not None:
                handler.close()
        waits = [done for _, done in handlers]
        if waits:
            await asyncio.wait(waits, timeout=1.0)
            for protocol, (_, done) in zip(protocols, handlers):
                if protocol is not None and not done.done():
                    protocol._abort()
            await asyncio.wait(waits, timeout=1.0)
        await loop.http.close_all_connections()


# -- replaying a vector ------------------------------------------------------------------------------------


async def replay(vector: dict, host: str, port: int) -> list[str]:
    """Play ``vector``'s exchange against host:port; AssertionError at the first difference.

    Returns a log of what was checked (for failure messages). ``no_reply`` listens
    :data:`NO_REPLY_WAIT` at most (the services are scaled by :data:`TIME_SCALE`).
    """
    connections: dict[str, RawWs] = {}
    log: list[str] = []
    try:
        for index, event in enumerate(vector["exchange"]):
            op = event["op"]
            name = event.get("conn", "A")
            where = f"{vector['id']} event {index} ({op})"
            if op == "connect":
                connections[name] = await RawWs.connect(host, port, event.get("path", "/api"))
            elif op == "send":
                await connections[name].send(blob_bytes(event["data"]), event.get("ws_opcode", 2))
            elif op == "recv":
                frame = await connections[name].recv(5.0)
                expected = blob_bytes(event["data"])
                assert frame is not None, f"{where}: nothing arrived; expected {expected.hex()}"
                assert frame.opcode == 2, f"{where}: opcode {frame.opcode}, payload {frame.payload!r}"
                assert frame.payload.hex() == expected.hex(), (
                    f"{where}: payload differs\n got      {frame.payload.hex()}\n expected {expected.hex()}"
                )
            elif op == "recv_close_frame":
                frame = await connections[name].recv(5.0)
                assert frame is not None, f"{where}: no close frame arrived"
                assert frame.raw.hex() == blob_bytes(event["data"]).hex(), f"{where}: got frame {frame.raw.hex()}"
                await connections[name].answer_close()
            elif op == "server_close":
                assert await connections[name].expect_eof(), f"{where}: the server did not close the connection"
            elif op == "no_reply":
                frame = await connections[name].recv(min(event.get("waited_s", NO_REPLY_WAIT), NO_REPLY_WAIT))
                assert frame is None, f"{where}: expected nothing, got {frame.raw.hex() if frame else ''}"
            elif op == "pause":
                await asyncio.sleep(event["seconds"] * TIME_SCALE)
            else:
                raise AssertionError(f"{where}: the replayer does not know op {op!r}")
            log.append(where)
    finally:
        for connection in connections.values():
            await connection.close()
    return log
