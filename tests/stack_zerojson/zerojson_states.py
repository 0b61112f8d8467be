"""Provider state handlers for the example shop (``--states stack_zerojson.zerojson_states``)."""

from __future__ import annotations

from typing import Iterator

import rpctest
from examples.zerojson.service import ORDERS


@rpctest.provider_state("order exists")
def order_exists(order_id: int, sku: str, quantity: int) -> Iterator[None]:
    """The order whose receipt the consumer fetches has been placed; no orders afterwards."""
    ORDERS.placed[order_id] = {"sku": sku, "quantity": quantity}
    yield
    ORDERS.reset()
