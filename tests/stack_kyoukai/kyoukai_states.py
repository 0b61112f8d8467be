"""Provider state handlers for the example shop (``--states stack_kyoukai.kyoukai_states``)."""

from __future__ import annotations

from typing import Iterator

import rpctest
from examples.kyoukai.service import ORDERS


@rpctest.provider_state("orders placed")
def orders_placed(orders: list[list]) -> Iterator[None]:
    """The orders the consumer lists, placed in order (``[[sku, quantity], ...]``); none afterwards."""
    ORDERS.reset()
    for sku, quantity in orders:
        ORDERS.add(sku, quantity)
    yield
    ORDERS.reset()


@rpctest.provider_state("no orders")
def no_orders() -> None:
    ORDERS.reset()
