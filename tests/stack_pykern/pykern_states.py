"""Provider state handlers for the example ``wallet`` (``--states stack_pykern.pykern_states``)."""

from __future__ import annotations

from typing import AsyncIterator

import rpctest
from examples.pykern.service import ACCOUNTS


@rpctest.provider_state("account has credit")
async def account_has_credit(account: str, balance: int) -> AsyncIterator[None]:
    """The account the consumer pays from exists with this balance; the usual two afterwards
    (async, as a handler sharing the provider's asyncio code would be)."""
    ACCOUNTS.balances[account] = balance
    yield
    ACCOUNTS.reset()
