"""The ``wallet`` pykern.api service: an echo, a validating transfer API and a subscription.

pykern declares no schemas, so the request and result shapes are written as TypedDicts on the
methods' annotations (plain Python: the service imports nothing from rpctest). rpctest reads them
for contracts and fuzzing; the service still checks its own input, and says what is wrong with
the caller-error class ``InvalidRequest``.

Run it for real with ``python -m examples.pykern.service`` (port 8123, or ``WALLET_PORT``; path /api).
"""

from __future__ import annotations

import asyncio
from typing import Literal, TypedDict, get_type_hints

import pykern.quest
import pykern.util
from pykern.api.util import subscription


class InvalidRequest(pykern.util.APIError):
    """The api_args break the API's declared shape (a caller error)."""


class NotEnoughCredit(pykern.util.APIError):
    """The account's balance does not cover the transfer (a caller error)."""


class TransferArgs(TypedDict):
    account: str
    amount: int
    currency: Literal["EUR", "USD"]


class TransferResult(TypedDict):
    account: str
    balance: int


class TicksArgs(TypedDict):
    n: int


class Tick(TypedDict):
    i: int


class Accounts:
    """The service's state: balances by account (shared by every connection)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.balances = {"ann": 100, "bob": 0}


ACCOUNTS = Accounts()


def _check(api_args: object, shape: type) -> dict:
    """The service's own validation: keys, types and constant sets, from the TypedDict."""
    if not isinstance(api_args, dict):
        raise InvalidRequest("api_args={}: not a map", type(api_args).__name__)
    hints = get_type_hints(shape)
    for key in api_args:
        if key not in hints:
            raise InvalidRequest("field={}: unknown field", key)
    for key, hint in hints.items():
        if key not in api_args:
            raise InvalidRequest("field={}: missing", key)
        value = api_args[key]
        allowed = getattr(hint, "__args__", None)
        if allowed is not None and getattr(hint, "__origin__", None) is Literal:
            if value not in allowed:
                raise InvalidRequest("field={}: not one of {}", key, list(allowed))
        elif not isinstance(value, hint) or isinstance(value, bool):
            raise InvalidRequest("field={}: not a {}", key, hint.__name__)
    return dict(api_args)


class WalletAPI(pykern.quest.API):
    """``wallet``: echo, transfer, ticks."""

    async def api_echo(self, api_args: dict) -> dict:
        """Echo the arguments with a per-connection counter."""
        if not isinstance(api_args, dict):
            raise InvalidRequest("api_args={}: not a map", type(api_args).__name__)
        self.session.counter = self.session.get("counter", 0) + 1
        return {**api_args, "counter": self.session.counter}

    async def api_transfer(self, api_args: TransferArgs) -> TransferResult:
        """Move ``amount`` out of ``account``; the balance may not go below zero."""
        request = _check(api_args, TransferArgs)
        if request["account"] not in ACCOUNTS.balances:
            raise InvalidRequest("field=account: no such account {}", request["account"])
        balance = ACCOUNTS.balances[request["account"]]
        if request["amount"] < 0 or request["amount"] > balance:
            raise NotEnoughCredit("balance={}", balance)
        ACCOUNTS.balances[request["account"]] = balance - request["amount"]
        return {"account": request["account"], "balance": balance - request["amount"]}

    @subscription
    async def api_ticks(self, api_args: TicksArgs) -> Tick:
        """``n`` ticks, then the end of the stream (at most 20)."""
        request = _check(api_args, TicksArgs)
        if not 0 <= request["n"] <= 20:
            raise InvalidRequest("field=n: {} is not within 0..20", request["n"])
        for i in range(request["n"]):
            if self.is_quest_end():
                break
            self.subscription.result_put({"i": i})
            await asyncio.sleep(0)


if __name__ == "__main__":  # pragma: no cover - a real server, for trying rpctest's CLI against
    import os

    from pykern.api import server
    from pykern.pkcollections import PKDict

    port = int(os.environ.get("WALLET_PORT", "8123"))
    server.start((WalletAPI,), (), PKDict(tcp_ip="127.0.0.1", tcp_port=port, api_uri="/api"))
