"""``contracts diff`` through AsyncAPY's export: two versions of a real AsyncAPY server whose
``Filters.Fields``, reply schemas and declared errors change, each change classified as the table
(tests/diff_cases.py) says. Needs the real AsyncAPY (../shared/wheels); RPCTEST_REQUIRE_ASYNCAPY=1
makes its absence a failure."""

from __future__ import annotations

from typing import Any

from diff_cases import classified, expect

from rpctest.contracts.export import export
from stack_asyncapy.aap_real import needs_asyncapy

pytestmark = needs_asyncapy


def _server(version: int) -> Any:
    from asyncapy.filters import Filters

    from rpctest.stacks.asyncapy import handler_schema, isolated_server

    server = isolated_server(timeout=2)
    server.service_name = "diffcalc"
    add_fields = {"action": "add$", "a": r"-?\d+$", "b": r"-?\d+$"} if version == 1 else {"action": "add$", "a": r"-?\d+$", "b": r"-?\d+$", "c": None}
    echo_reply = {"type": "object", "properties": {"status": {"const": "ok"}, "echo": {}},
                  "required": ["status", "echo"] if version == 1 else ["status"]}

    @server.add_handler(Filters.Fields(**add_fields))
    async def add(client, packet):  # noqa: ANN001
        pass

    @server.add_handler(Filters.Fields(action="neg$", n=r"-?\d+$" if version == 1 else r"\d+$"))
    async def neg(client, packet):  # noqa: ANN001
        pass

    @server.add_handler(Filters.Fields(action="echo$", text=None))
    @handler_schema(echo_reply)
    async def echo(client, packet):  # noqa: ANN001
        pass

    if version == 1:  # the last handler: removing it moves no other one's position
        @server.add_handler(Filters.Fields(action="slow$"))
        async def slow(client, packet):  # noqa: ANN001
            pass

    return server


def test_each_change_of_the_exported_handlers_is_classified_as_the_table_says() -> None:
    old = export("asyncapy", provider=_server(1))
    new = export("asyncapy", provider=_server(2), schemas={"echo": {"errors": ["NOT_ENOUGH"]}})
    assert classified(old, new) == {
        expect("request field added as required", "add", "/request/c"),
        expect("request pattern changed", "neg", "/request/n"),
        expect("response field made optional", "echo", "/response/echo"),
        expect("error code added", "echo", "/errors/NOT_ENOUGH"),
        expect("operation removed", "slow"),
    }
