"""A stateful AsyncAPY provider for the provider-state tests: balances by account, and the state
handler that puts an account in place (``--provider stack_asyncapy.aap_ledger:build_ledger``,
``--states stack_asyncapy.aap_ledger``). The example calculator has no data to set up."""

from __future__ import annotations

from typing import Any, Iterator

import rpctest

BALANCES: dict[str, int] = {}


def build_ledger(*, timeout: int = 2) -> Any:
    """The ledger: ``{"action": "balance", "account": NAME}`` answers the account's balance."""
    from asyncapy import Packet
    from asyncapy.filters import Filters

    from rpctest.stacks.asyncapy import handler_schema, isolated_server

    server = isolated_server(timeout=timeout)
    server.service_name = "ledger"

    @server.add_handler(Filters.Fields(action="balance$", account=None))
    @handler_schema({"type": "object", "properties": {"status": {"const": "ok"}, "balance": {"type": "integer"}},
                     "required": ["status", "balance"], "additionalProperties": False}, errors=["NO_SUCH_ACCOUNT"])
    async def balance(client: Any, packet: Any) -> None:
        """One account's balance."""
        account = packet["account"]
        if account not in BALANCES:
            answer = {"status": "failure", "error": "NO_SUCH_ACCOUNT"}
        else:
            answer = {"status": "ok", "balance": BALANCES[account]}
        await client.send(Packet(answer, encoding=client.encoding))

    return server


@rpctest.provider_state("account exists")
def account_exists(account: str, balance: int) -> Iterator[None]:
    BALANCES[account] = balance
    yield
    BALANCES.clear()
