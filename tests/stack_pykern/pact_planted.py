"""The example ``wallet`` API with one planted contract break, for ``pact verifier`` to find:
``transfer`` leaves the account out of its reply."""

from __future__ import annotations

from typing import Any

from examples.pykern.service import WalletAPI


class PlantedWalletAPI(WalletAPI):
    async def api_transfer(self, api_args: Any) -> Any:
        reply = dict(await super().api_transfer(api_args))
        del reply["account"]
        return reply
