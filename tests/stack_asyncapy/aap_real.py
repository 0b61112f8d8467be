"""The vectors' demo service (their ``services`` entry) as a *real* AsyncAPY server, for
the host-half tests; they run where AsyncAPY is installed (it is not on PyPI) and skip elsewhere,
saying how to install it.

Nothing here is AsyncAPY's code: it is a user's server written against AsyncAPY's public API
(``Server.add_handler``, ``Filters``, ``Packet``, ``APIKeyFactory``), as the vectors describe it.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from stack_asyncapy.aap_helpers import VECTOR_KEY
from rpctest.stacks import get_adapter

#: why the host-half tests cannot run here (None: AsyncAPY and trio are importable)
UNAVAILABLE = get_adapter("asyncapy").host.unavailable_reason()
#: RPCTEST_REQUIRE_ASYNCAPY=1 (CI, where the real AsyncAPY wheel is at hand) turns the skips into failures
REQUIRED = os.environ.get("RPCTEST_REQUIRE_ASYNCAPY") == "1"
#: where to get AsyncAPY besides its git repository: the wheel next to the repository, when present
WHEEL_HINT = (
    "or point RPCTEST_ASYNCAPY at an AsyncAPY checkout or wheel "
    "(e.g. ../shared/wheels/asyncapy-0.5.0-py3-none-any.whl) and run: python3 scripts/test.py -s asyncapy"
)
if UNAVAILABLE is not None and REQUIRED:
    needs_asyncapy = pytest.mark.usefixtures("require_asyncapy")
else:
    needs_asyncapy = pytest.mark.skipif(UNAVAILABLE is not None, reason=f"needs AsyncAPY: {UNAVAILABLE} {WHEEL_HINT}")


def build_demo_server(*, timeout: int = 2, session_limit: int = 0, **options: Any) -> Any:
    """The demo server of the vectors (services.demo.handlers), handlers and sessions of its own."""
    import trio
    from asyncapy import Packet
    from asyncapy.filters import Filters
    from asyncapy.util import APIKeyFactory

    from rpctest.stacks.asyncapy import handler_schema, isolated_server

    server = isolated_server(timeout=timeout, session_limit=session_limit, **options)
    server.service_name = "demo"  # what rpctest names its calls and contracts (default: "asyncapy")

    @server.add_handler(group=-1)
    async def audit(client, packet):
        if packet.dict_payload.get("action") == "stop":
            await client.send(Packet({"stopped": True}, encoding=client.encoding))
            await packet.stop_propagation()

    @server.add_handler(Filters.Fields(action="echo$", text=None))
    @handler_schema({"type": "object", "properties": {"status": {"const": "ok"}, "echo": {}}, "required": ["status", "echo"],
                     "additionalProperties": False})
    async def echo(client, packet):
        """Echo the text back."""
        await client.send(Packet({"status": "ok", "echo": packet["text"]}, encoding=client.encoding))

    @server.add_handler(Filters.Fields(action="add$", a=r"-?\d+$", b=r"-?\d+$"))
    async def add(client, packet):
        await client.send(Packet({"status": "ok", "sum": int(packet["a"]) + int(packet["b"])}, encoding=client.encoding))

    @server.add_handler(Filters.Fields(action="boom$"))
    async def boom(client, packet):
        raise RuntimeError("boom")

    @server.add_handler(Filters.Fields(action="slow$", seconds=r"\d+(\.\d+)?$"))
    async def slow(client, packet):
        seconds = float(packet["seconds"])
        await trio.sleep(seconds)
        await client.send(Packet({"status": "ok", "slept": seconds}, encoding=client.encoding))

    @server.add_handler(Filters.Fields(action="multi$"))
    async def multi_a(client, packet):
        await client.send(Packet({"part": 1}, encoding=client.encoding))

    @server.add_handler(Filters.Fields(action="multi$"), group=1)
    async def multi_b(client, packet):
        await client.send(Packet({"part": 2}, encoding=client.encoding))

    keys = APIKeyFactory()
    keys.update(VECTOR_KEY, {"user": "alice"})  # update() stores any key: the vectors' fixed one

    @server.add_handler(Filters.Fields(action="secret$", api_key=None), Filters.APIFactory(keys, "api_key"))
    async def secret(client, packet):
        await client.send(Packet({"status": "ok", "user": "alice"}, encoding=client.encoding))

    return server
