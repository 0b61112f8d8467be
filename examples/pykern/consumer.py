"""Code that calls the ``wallet`` service through pykern's own client: what the consumer tests cover."""

from __future__ import annotations

import pykern.util
from pykern.api.client import Client


async def pay(client: Client, account: str, amount: int) -> str:
    """One line for the user: the new balance, or why the payment was refused."""
    try:
        result = await client.call_api("transfer", {"account": account, "amount": amount, "currency": "EUR"})
    except pykern.util.APIError as exc:
        reason = str(exc)
        if reason.startswith("NotEnoughCredit: "):
            return f"{account}: not enough credit ({reason.split('balance=', 1)[-1]} left)"
        return f"{account}: refused ({reason})"
    return f"{account}: paid {amount}, {result['balance']} left"


async def countdown(client: Client, n: int) -> list[int]:
    """The tick numbers the ``ticks`` subscription streams."""
    got = []
    with await client.subscribe_api("ticks", {"n": n}) as ticks:
        while (tick := await ticks.result_get()) is not None:
            got.append(tick["i"])
    return got
