"""AsyncAPY services written for the differential suite (not the examples): what AsyncAPY users
write and rpctest's own examples do not: handlers of one group whose ``Fields`` overlap on a key
(one takes what another refuses), a fallback handler without ``Fields``, a handler per group
answering the same packet (a multi-frame reply), a handler that sends several packets, a one-key
packet (its one-defect form ``{}`` is under AsyncAPY's 5-byte minimum) and factories that take the
arguments AsyncAPY's ``Server`` takes.

``build_shop`` and ``build_gateway`` are correct; ``build_buggy_shop`` has planted bugs that the
fuzzer must find, shrink and replay. Each call builds a new server (AsyncAPY keeps handlers per class
otherwise: :func:`rpctest.stacks.asyncapy.isolated_server`).
"""

from __future__ import annotations

from typing import Any

from rpctest.stacks.asyncapy import handler_schema, isolated_server

DIGITS = r"\d+$"
INTEGER = r"-?\d+$"
WORD = r"[a-z]+$"
OK = {"status": {"const": "ok"}}
PONG = {"type": "object", "properties": {**OK, "pong": {"const": True}}, "required": ["status", "pong"], "additionalProperties": False}
ITEM = {
    "type": "object",
    "properties": {**OK, "item": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                                  "required": ["id", "name"]}},
    "required": ["status", "item"],
    "additionalProperties": False,
}
FOUND = {"type": "object", "properties": {**OK, "names": {"type": "array", "items": {"type": "string"}}}, "required": ["status", "names"]}
SUM = {"type": "object", "properties": {**OK, "sum": {"type": "integer"}}, "required": ["status", "sum"], "additionalProperties": False}
PART = {"type": "object", "properties": {"part": {"type": "integer"}}, "required": ["part"], "additionalProperties": False}
NOTICE = {"type": "object", "properties": {"notified": {"type": "string"}}, "required": ["notified"], "additionalProperties": False}
LOGGED = {"type": "object", "properties": {"logged": {"type": "boolean"}}, "required": ["logged"], "additionalProperties": False}
ECHO = {"type": "object", "properties": {**OK, "echo": {"type": "string"}}, "required": ["status", "echo"], "additionalProperties": False}
QUOTIENT = {"type": "object", "properties": {**OK, "quotient": {"type": "integer"}}, "required": ["status", "quotient"], "additionalProperties": False}
VALUE = {"type": "object", "properties": {**OK, "value": {"type": "string"}}, "required": ["status", "value"], "additionalProperties": False}
NAMES = ["apple", "pear", "plum"]


def _send(client: Any, packet: dict[str, Any]) -> Any:
    from asyncapy import Packet

    return client.send(Packet(packet, encoding=client.encoding))


def build_shop(*, timeout: int = 2) -> Any:
    """A correct shop: overlapping ``Fields`` in one group, a reply from two groups, a stream."""
    from asyncapy.filters import Filters

    server = isolated_server(timeout=timeout)
    server.service_name = "shop"

    @server.add_handler(Filters.Fields(action="ping$"))
    @handler_schema(PONG)
    async def ping(client: Any, packet: Any) -> None:
        """One key: a packet without it is ``{}``, which AsyncAPY refuses as malformed."""
        await _send(client, {"status": "ok", "pong": True})

    @server.add_handler(Filters.Fields(action="get$", id=DIGITS))
    @handler_schema(ITEM)
    async def get_item(client: Any, packet: Any) -> None:
        """An item by number."""
        number = int(packet["id"])
        await _send(client, {"status": "ok", "item": {"id": number, "name": NAMES[number % len(NAMES)]}})

    @server.add_handler(Filters.Fields(action="get$", id=WORD))
    @handler_schema(FOUND)
    async def find_items(client: Any, packet: Any) -> None:
        """The same action with a word for id: a packet get_item refuses, this handler of its group takes."""
        await _send(client, {"status": "ok", "names": [name for name in NAMES if name.startswith(packet["id"][:1])]})

    @server.add_handler(Filters.Fields(action="add$", a=INTEGER, b=INTEGER))
    @handler_schema(SUM)
    async def add(client: Any, packet: Any) -> None:
        await _send(client, {"status": "ok", "sum": int(packet["a"]) + int(packet["b"])})

    @server.add_handler(Filters.Fields(action="stream$", count=r"[2-5]$"))
    @handler_schema(PART, many=True)
    async def stream(client: Any, packet: Any) -> None:
        """Several packets from one handler, then the close."""
        for part in range(int(packet["count"])):
            await _send(client, {"part": part})

    @server.add_handler(Filters.Fields(action="notify$", to=WORD))
    @handler_schema(NOTICE)
    async def notify(client: Any, packet: Any) -> None:
        await _send(client, {"notified": packet["to"]})

    @server.add_handler(Filters.Fields(action="notify$", to=WORD), group=1)
    @handler_schema(LOGGED)
    async def notify_log(client: Any, packet: Any) -> None:
        """The same packet in group 1: a second frame of the reply."""
        await _send(client, {"logged": True})

    return server


def build_gateway(*, timeout: int = 2) -> Any:
    """A correct gateway: one handler, and a fallback without ``Fields`` that refuses everything else."""
    from asyncapy.filters import Filters

    server = isolated_server(timeout=timeout)
    server.service_name = "gateway"

    @server.add_handler(Filters.Fields(action="lookup$", key=WORD))
    @handler_schema(VALUE)
    async def lookup(client: Any, packet: Any) -> None:
        await _send(client, {"status": "ok", "value": packet["key"].upper()})

    @server.add_handler()
    @handler_schema({"type": "object"}, errors=["INVALID_FIELDS"])
    async def refuse(client: Any, packet: Any) -> None:
        """The fallback: every packet no handler before it took, refused with a failure packet."""
        await _send(client, {"status": "failure", "error": "INVALID_FIELDS"})

    return server


def build_buggy_shop(*, timeout: int = 2) -> Any:
    """Planted bugs: ``divide`` raises on b = 0 (AsyncAPY closes silently and leaks the session);
    ``echo`` drops its ``echo`` key for a falsy text; ``double`` answers 2 * a as text from 1000 up."""
    from asyncapy.filters import Filters

    server = isolated_server(timeout=timeout)
    server.service_name = "buggy"

    @server.add_handler(Filters.Fields(action="divide$", a=INTEGER, b=INTEGER))
    @handler_schema(QUOTIENT)
    async def divide(client: Any, packet: Any) -> None:
        await _send(client, {"status": "ok", "quotient": int(packet["a"]) // int(packet["b"])})

    @server.add_handler(Filters.Fields(action="echo$", text=None))
    @handler_schema(ECHO)
    async def echo(client: Any, packet: Any) -> None:
        text = packet["text"]
        await _send(client, {"status": "ok", "echo": str(text)} if text else {"status": "ok"})

    @server.add_handler(Filters.Fields(action="double$", a=INTEGER))
    @handler_schema(SUM)
    async def double(client: Any, packet: Any) -> None:
        total = 2 * int(packet["a"])
        await _send(client, {"status": "ok", "sum": total if total < 1000 else str(total)})

    return server


def make_shop(host: str, port: int = 1500, *, timeout: int = 2) -> Any:
    """A factory as AsyncAPY users write one, taking ``Server``'s own ``host`` and ``port``
    (``asyncapy.Server(addr, port, ...)``) to build and bind the server."""
    server = build_shop(timeout=timeout)
    server.addr, server.port = host, port
    return server


def make_shop_addr(addr: str, port: int) -> Any:
    """The same, with the parameter named as ``asyncapy.Server`` names it."""
    return make_shop(addr, port)


def make_shop_from_config(config_path: str) -> Any:
    """A factory rpctest cannot call: nothing says what ``config_path`` is."""
    raise AssertionError(f"never called: {config_path}")
