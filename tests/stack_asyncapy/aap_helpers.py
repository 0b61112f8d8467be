"""Test helpers for the AsyncAPY wire half: the vectors' demo service as stubs, a raw-socket vector
replayer, a naive frame view (the vectors' ``asyncaproto`` decoding) and a scripted TCP server.

Timing: the vectors were recorded against a server with a 2 s timeout (3 s for ``session_limit``).
Replays scale every duration (server timeout, chunking pauses, ``pause`` events, the ``slow``
handler's sleep) by :data:`TIME_SCALE`, so they keep their order and meaning but run fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import struct
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable

from rpctest.model import Reply
from rpctest.stacks.asyncapy import ziproto
from rpctest.stubs.api import stub_action
from rpctest.stubs.router import StubRouter
from vectors import blob_bytes, load

TIME_SCALE = 0.5
FAMILIES = ("calls", "dispatch_errors", "framing")
#: "immediate" in the vectors is < 0.5 s at full scale (loopback answers take milliseconds)
IMMEDIATE = 0.5 * TIME_SCALE  # (timing_class scales it with the replay)
#: how much later than the deadline a reply may come under load
LATE = 0.5
#: the issued key of the vectors' APIFactory
VECTOR_KEY = "k3y-alice-0001"


def all_vectors() -> list[dict]:
    return [vector for family in FAMILIES for vector in load("asyncaproto", family)["vectors"]]


def scaled_timeout(vector: dict, scale: float = TIME_SCALE) -> float:
    return vector.get("peer_config", {}).get("timeout_s", 2) * scale


# -- the vectors' demo service, as stubs ---------------------------------------------------------------


def _boom(packet: dict) -> Any:
    raise RuntimeError("boom")


def _slow(packet: dict) -> Reply:
    seconds = float(packet["seconds"])
    return Reply(body={"status": "ok", "slept": seconds}, meta={"delay": seconds * TIME_SCALE})


def _has_issued_key(packet: dict) -> bool:
    """Fields(action="secret$", api_key=None) and APIFactory(factory, "api_key"), as one predicate."""
    return set(packet) == {"action", "api_key"} and re.match("secret$", str(packet["action"])) is not None and packet["api_key"] == VECTOR_KEY


def vector_router(service: str = "demo") -> StubRouter:
    """A private router with one stub per handler of the vectors' demo server (services.demo.handlers).

    ``multi_a`` and ``multi_b`` (groups 0 and 1) become one stub answering both packets; ``audit``
    (group -1, no filter, replies nothing but to ``stop``, which no vector sends) has no stub.
    """
    router = StubRouter(intercept=False)
    stubs = [
        ("echo", {"match": {"action": "echo$", "text": None}, "side_effect": lambda p: {"status": "ok", "echo": p["text"]}}),
        ("add", {"match": {"action": "add$", "a": r"-?\d+$", "b": r"-?\d+$"},
                 "side_effect": lambda p: {"status": "ok", "sum": int(p["a"]) + int(p["b"])}}),
        ("boom", {"match": {"action": "boom$"}, "side_effect": _boom}),
        ("slow", {"match": {"action": "slow$", "seconds": r"\d+(\.\d+)?$"}, "side_effect": _slow}),
        ("multi", {"match": {"action": "multi$"}, "items": [{"part": 1}, {"part": 2}]}),
        ("secret", {"match": _has_issued_key, "body": {"status": "ok", "user": "alice"}}),
    ]
    for action, options in stubs:
        stub_action(service, action, stack="asyncapy", router=router, **options).start()
    return router


# -- the vectors' naive frame view ---------------------------------------------------------------------


def naive_view(data: bytes, header_size: int = 4, byteorder: str = "big") -> dict[str, Any]:
    """The vectors' ``asyncaproto`` decoding of a sent frame: header fields parsed naively, the payload
    read as JSON for encoding 0 and as ZiProto otherwise (``payload_note`` when that fails, or when the
    value is not strict JSON, as a ``bin`` is not)."""
    length = int.from_bytes(data[:header_size], byteorder)
    body = data[header_size:]
    view: dict[str, Any] = {
        "length_header": length,
        "bytes_after_header": len(body),
        "version": body[0],
        "encoding": body[1],
    }
    payload = body[2:]
    try:
        value = json.loads(payload) if body[1] == 0 else ziproto.decode(payload)
    except (ValueError, ziproto.ZiProtoError) as exc:
        view["payload_note"] = type(exc).__name__
        return view
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        view["payload_note"] = "not representable as strict JSON"
    else:
        view["payload"] = value
    return view


# -- a raw-socket replayer ------------------------------------------------------------------------------


@dataclass
class RawConn:
    """One client connection: writes on demand, a background reader keeping every byte and the end."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    opened: float
    data: bytearray = field(default_factory=bytearray)
    consumed: int = 0
    end: str | None = None  # "closed" | "reset"
    ended_at: float | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> "RawConn":
        loop = asyncio.get_running_loop()
        opened = loop.time()
        reader, writer = await asyncio.open_connection(host, port)
        conn = cls(reader, writer, opened)
        conn.task = asyncio.ensure_future(conn._read())
        return conn

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    chunk = await self.reader.read(65536)
                except ConnectionResetError:
                    self.end = "reset"
                    return
                if not chunk:
                    self.end = "closed"
                    return
                self.data += chunk
                self.changed.set()
        finally:
            self.ended_at = loop.time()
            self.changed.set()

    async def send(self, data: bytes, chunk_size: int | None = None, pause: float = 0.0) -> None:
        pieces = [data] if not chunk_size else [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
        for index, piece in enumerate(pieces):
            if index and pause:
                await asyncio.sleep(pause)
            self.writer.write(piece)
            await self.writer.drain()

    def shut_wr(self) -> None:
        self.writer.write_eof()

    async def take(self, size: int, timeout: float) -> bytes:
        """The next ``size`` bytes (fewer if the connection ends or the time runs out)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.data) - self.consumed < size and self.end is None:
            self.changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self.changed.wait()
        piece = bytes(self.data[self.consumed : self.consumed + size])
        self.consumed += len(piece)
        return piece

    async def wait_end(self, timeout: float) -> float | None:
        """Seconds from connect to the end of the connection, or None if it did not end in time."""
        if self.task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await asyncio.shield(self.task)
        return None if self.ended_at is None else self.ended_at - self.opened

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


def timing_class(elapsed: float, timeout: float, scale: float = TIME_SCALE) -> str:
    """The vectors' ``timing`` of a close ``elapsed`` seconds after connect, against the scaled deadline."""
    if elapsed >= timeout - 0.02:
        return "at_server_timeout"
    if elapsed < 0.5 * scale:
        return "immediate"
    return "before_deadline"


async def replay(vector: dict, host: str, port: int, *, scale: float = TIME_SCALE) -> list[str]:
    """Play ``vector``'s exchange against host:port; AssertionError at the first difference.

    ``recv`` compares the next bytes exactly; ``server_close`` requires the close (not a reset), no
    byte beyond the recorded ones, and the recorded timing class against the scaled deadline
    (``scale=1`` for a real AsyncAPY server, whose timeout is whole seconds).
    """
    timeout = scaled_timeout(vector, scale)
    conns: dict[str, RawConn] = {}
    log: list[str] = []
    try:
        for index, event in enumerate(vector["exchange"]):
            op = event["op"]
            name = event.get("conn", "A")
            where = f"{vector['id']} event {index} ({op} on {name})"
            if op == "connect":
                conns[name] = await RawConn.open(host, port)
            elif op == "send":
                chunking = event.get("chunking") or {}
                await conns[name].send(blob_bytes(event["data"]), chunking.get("chunk_size"), chunking.get("pause_s", 0) * scale)
            elif op == "shut_wr":
                conns[name].shut_wr()
            elif op == "pause":
                await asyncio.sleep(event["seconds"] * scale)
            elif op == "recv":
                expected = blob_bytes(event["data"])
                got = await conns[name].take(len(expected), timeout + LATE + 1)
                assert got.hex() == expected.hex(), f"{where}: received bytes differ\n got      {got.hex()}\n expected {expected.hex()}"
            elif op == "server_close":
                conn = conns[name]
                elapsed = await conn.wait_end(timeout + LATE + 1)
                assert elapsed is not None, f"{where}: the server did not close the connection"
                assert conn.end == "closed", f"{where}: the connection ended by {conn.end}, not a close"
                extra = bytes(conn.data[conn.consumed :])
                assert not extra, f"{where}: unexpected bytes before the close: {extra.hex()}"
                got_class = timing_class(elapsed, timeout, scale)
                assert got_class == event["timing"], f"{where}: closed after {elapsed:.3f} s ({got_class}), recorded {event['timing']} (deadline {timeout:g} s)"
                if event["timing"] == "at_server_timeout":
                    assert elapsed <= timeout + LATE, f"{where}: closed {elapsed:.3f} s after connect, deadline {timeout:g} s"
            else:
                raise AssertionError(f"{where}: the replayer does not know op {op!r}")
            log.append(where)
    finally:
        for conn in conns.values():
            await conn.close()
    return log


# -- a scripted server -----------------------------------------------------------------------------------


Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def scripted_server(script: Script) -> AsyncIterator[tuple[str, int]]:
    """A TCP server on 127.0.0.1 (a free port) running ``script`` per connection, then closing it."""
    tasks: set[asyncio.Task] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await script(reader, writer)
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield "127.0.0.1", server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await server.wait_closed()


def reset(writer: asyncio.StreamWriter) -> None:
    """Make the close of ``writer`` a TCP reset (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
