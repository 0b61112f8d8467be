"""The ``com.example.shop`` ZeroJSON interface, declared with rpctest's mirror of PyCOM's model.

Required arguments are the parameters without defaults, optional ones those with defaults; the
annotations give rpctest the types PyCOM's introspection cannot say (``Constraints`` adds bounds),
and ``check_argument`` makes the service itself answer code 4 for a wrong value, as a PyCOM service
does. ``receipt`` refuses an unknown order id with code 4 on purpose: the export finds the
``raise BadRequest`` and lists the code, so the fuzzer accepts it for a well-formed request.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from rpctest.schema.from_types import Constraints
from rpctest.stacks.zerojson.errors import BadRequest
from rpctest.stacks.zerojson.service import Service, check_argument, interface, method

PRICES = {"apple": 3, "pear": 4}


def _positive_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 1000


class Orders:
    """The shop's state: placed orders by id (shared by every caller)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.placed: dict[int, dict] = {}
        self.ids = itertools.count(1)


ORDERS = Orders()


@interface("com.example.shop")
class Shop(Service):
    """A small shop: prices, orders and receipts."""

    introspection_data = {"com.example.shop.version": "1"}

    @method
    @check_argument("sku", str, validator=PRICES.__contains__)
    def price(self, request, sku: Literal["apple", "pear"]) -> int:
        """The unit price of ``sku``."""
        return PRICES[sku]

    @method(results=("order_id", "total"))
    @check_argument("sku", str, validator=PRICES.__contains__)
    @check_argument("quantity", int, validator=_positive_count)
    def order(self, request, sku: Literal["apple", "pear"], quantity: Annotated[int, Constraints(minimum=1, maximum=1000)] = 1):
        """Place an order; returns its id and total."""
        order_id = next(ORDERS.ids)
        ORDERS.placed[order_id] = {"sku": sku, "quantity": quantity}
        return order_id, PRICES[sku] * quantity

    @method(results=("lines", "receipt"), attachments=(None, "receipt"))
    @check_argument("order_id", int, validator=lambda value: not isinstance(value, bool))
    def receipt(self, request, order_id: int):
        """The receipt of an order as a text attachment, and its line count."""
        order = ORDERS.placed.get(order_id)
        if order is None:
            raise BadRequest(f"no order {order_id}")
        text = f"{order['quantity']} x {order['sku']}\n".encode()
        return 1, text


def provider_state(operation: str, request: dict) -> None:
    """Live verification's setup hook: the orders a recorded request refers to exist."""
    ORDERS.reset()
    if operation == "receipt" and isinstance(request, dict) and isinstance(request.get("order_id"), int):
        ORDERS.placed[request["order_id"]] = {"sku": "apple", "quantity": 2}
