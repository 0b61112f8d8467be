"""Byte-level exchanges with a Kyoukai app: over a real socket, or over rpctest's memory connection.

An exchange is a list of events in the golden vectors' vocabulary (``send``, ``pause``), and its
result is every byte the server wrote plus how the connection ended, so that a socket and the
local transport can be compared byte for byte, and both against the vectors.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from rpctest.stacks.kyoukai.transport import Endpoint, MemoryConnection, parse_responses

Event = tuple  # ("send", bytes) | ("pause", seconds)


@dataclass
class Result:
    received: bytes
    closed: bool

    def responses(self, methods: Iterable[str] = ()) -> list[dict[str, Any]]:
        return parse_responses(self.received, methods)


async def socket_exchange(port: int, events: Sequence[Event], *, quiet: float = 0.3, limit: float = 5.0) -> Result:
    """Connect to 127.0.0.1:``port``, play ``events``, then read until the server closes or has
    been quiet for ``quiet`` seconds (at most ``limit`` seconds in all)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    received = bytearray()
    closed = False
    try:
        for op, value in events:
            if op == "send":
                writer.write(value)
                await writer.drain()
            elif op == "pause":
                await asyncio.sleep(value)
            else:  # pragma: no cover - a typo in a test
                raise ValueError(op)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), quiet)
            except asyncio.TimeoutError:
                break
            if not chunk:
                closed = True
                break
            received += chunk
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass
    return Result(bytes(received), closed)


async def memory_exchange(endpoint: Endpoint, events: Sequence[Event], *, timeout: float = 5.0) -> Result:
    """The same as :func:`socket_exchange` over an in-memory connection to the app's real protocol."""
    connection = MemoryConnection(endpoint)
    try:
        for op, value in events:
            if op == "send":
                await connection.send(value, timeout=timeout)
            elif op == "pause":
                await connection.settle(timeout)
            else:  # pragma: no cover
                raise ValueError(op)
        await connection.settle(timeout)
        return Result(connection.received, connection.closed)
    finally:
        await connection.aclose()


def request(method: str, target: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b"", *, host: str = "127.0.0.1") -> bytes:
    """Hand-made HTTP/1.1 request bytes (Title-Case names, as httpx, urllib and curl send them)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body and not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
