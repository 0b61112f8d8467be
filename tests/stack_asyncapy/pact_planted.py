"""The example calculator's ``add`` and ``divide`` with one planted contract break, for ``pact
verifier`` to find: ``add`` answers its sum as text."""

from __future__ import annotations

from typing import Any

from examples.asyncapy.service import INTEGER
from rpctest.stacks.asyncapy import isolated_server


def build_planted_server(*, timeout: int = 2) -> Any:
    from asyncapy import Packet
    from asyncapy.filters import Filters

    server = isolated_server(timeout=timeout)
    server.service_name = "calc"

    @server.add_handler(Filters.Fields(action="add$", a=INTEGER, b=INTEGER))
    async def add(client: Any, packet: Any) -> None:
        total = int(packet["a"]) + int(packet["b"])
        await client.send(Packet({"status": "ok", "sum": str(total)}, encoding=client.encoding))

    @server.add_handler(Filters.Fields(action="divide$", a=INTEGER, b=INTEGER))
    async def divide(client: Any, packet: Any) -> None:
        a, b = int(packet["a"]), int(packet["b"])
        answer = {"status": "failure", "error": "DIVISION_BY_ZERO"} if b == 0 else {"status": "ok", "quotient": a // b, "remainder": a % b}
        await client.send(Packet(answer, encoding=client.encoding))

    return server
