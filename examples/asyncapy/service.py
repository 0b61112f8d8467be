"""An AsyncAPY calculator (the provider): handlers routed by ``Filters.Fields``, as AsyncAPY routes.

Needs AsyncAPY, which is not on PyPI (docs/stacks/asyncapy.md says how to install it); rpctest
exports its contract from the ``Fields`` filters and the ``handler_schema`` declarations below.
"""

from __future__ import annotations

from typing import Any

from rpctest.stacks.asyncapy import handler_schema, isolated_server

INTEGER = r"-?\d+$"
OK = {"status": {"const": "ok"}}
SUM = {"type": "object", "properties": {**OK, "sum": {"type": "integer"}}, "required": ["status", "sum"], "additionalProperties": False}
QUOTIENT = {
    "type": "object",
    "properties": {**OK, "quotient": {"type": "integer"}, "remainder": {"type": "integer"}},
    "required": ["status", "quotient", "remainder"],
    "additionalProperties": False,
}
ECHO = {"type": "object", "properties": {**OK, "echo": {}}, "required": ["status", "echo"], "additionalProperties": False}


def build_server(*, timeout: int = 2) -> Any:
    """The calculator: a new server each time (AsyncAPY keeps handlers per class otherwise)."""
    from asyncapy import Packet
    from asyncapy.filters import Filters

    server = isolated_server(timeout=timeout)
    server.service_name = "calc"

    def reply(client: Any, packet: dict) -> Any:
        return client.send(Packet(packet, encoding=client.encoding))

    @server.add_handler(Filters.Fields(action="add$", a=INTEGER, b=INTEGER))
    @handler_schema(SUM)
    async def add(client: Any, packet: Any) -> None:
        """Add two integers (numbers or their text: AsyncAPY matches str(value))."""
        await reply(client, {"status": "ok", "sum": int(packet["a"]) + int(packet["b"])})

    @server.add_handler(Filters.Fields(action="divide$", a=INTEGER, b=INTEGER))
    @handler_schema(QUOTIENT, errors=["DIVISION_BY_ZERO"])
    async def divide(client: Any, packet: Any) -> None:
        """Integer division; b = 0 gets a failure packet."""
        a, b = int(packet["a"]), int(packet["b"])
        if b == 0:
            await reply(client, {"status": "failure", "error": "DIVISION_BY_ZERO"})
            return
        await reply(client, {"status": "ok", "quotient": a // b, "remainder": a % b})

    @server.add_handler(Filters.Fields(action="echo$", text=None))
    @handler_schema(ECHO)
    async def echo(client: Any, packet: Any) -> None:
        """Send the text back."""
        await reply(client, {"status": "ok", "echo": packet["text"]})

    return server
