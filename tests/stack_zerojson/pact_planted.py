"""The example shop with one planted contract break, for ``pact verifier`` to find: ``order``
answers its total as text."""

from __future__ import annotations

from typing import Any

from examples.zerojson.service import ORDERS, PRICES, Shop, _positive_count
from rpctest.stacks.zerojson.service import check_argument, interface, method


@interface("com.example.shop")
class PlantedShop(Shop):
    @method(results=("order_id", "total"))
    @check_argument("sku", str, validator=PRICES.__contains__)
    @check_argument("quantity", int, validator=_positive_count)
    def order(self, request: Any, sku: str, quantity: int = 1) -> tuple[int, str]:
        order_id = next(ORDERS.ids)
        ORDERS.placed[order_id] = {"sku": sku, "quantity": quantity}
        return order_id, str(PRICES[sku] * quantity)
