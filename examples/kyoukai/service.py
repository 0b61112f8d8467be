"""The example Kyoukai app: a small shop (items and orders), and a legacy app that trips Kyoukai's bug.

``make_app()`` builds the shop. Kyoukai 2.2.1.post1 (the published wheel) answers every error whose
status its handler keeps (a plain 404, 405, ``abort(4xx)``) with a canned ``HTTP/1.0 500`` page (its
``handle_httpexception`` returns nothing when the status is unchanged). An app is only correct on it
with a workaround of its own, so the shop's app class re-builds the error page Kyoukai dropped
(:class:`ShopKyoukai`): rpctest's fuzzer then finds nothing wrong with it. ``make_legacy_app()`` is
the same kind of route on the plain ``Kyoukai`` class: the fuzzer reports the canned 500s it
answers, which the demo shows as the expected finding.

Both are factories: Kyoukai binds the event loop it is built on, so rpctest builds the app on the
loop that serves it (``rpctest fuzz --provider examples.kyoukai.service:make_app``).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from typing import Any

from rpctest.stacks.kyoukai import require_kyoukai, route_schema

PRICES = {"apple": 3, "pear": 4}

ITEM = {
    "type": "object",
    "properties": {"sku": {"type": "string"}, "price": {"type": "integer", "minimum": 0}},
    "required": ["sku", "price"],
    "additionalProperties": False,
}
NEW_ORDER = {
    "type": "object",
    "properties": {"sku": {"enum": sorted(PRICES)}, "quantity": {"type": "integer", "minimum": 1, "maximum": 100}},
    "required": ["sku", "quantity"],
    "additionalProperties": False,
}
ORDER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "sku": {"type": "string"},
        "quantity": {"type": "integer"},
        "total": {"type": "integer"},
    },
    "required": ["id", "sku", "quantity", "total"],
    "additionalProperties": False,
}
ORDER_LIST = {"type": "object", "properties": {"orders": {"type": "array", "items": ORDER}}, "required": ["orders"], "additionalProperties": False}
LIMIT_QUERY = {
    "type": "object",
    "properties": {"limit": {"type": "string", "pattern": "^[0-9]{1,3}$"}},
    "additionalProperties": False,
}


class OrderBook:
    """The shop's orders (in memory; ``reset()`` between tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.orders: list[dict[str, Any]] = []
            self._ids = itertools.count(1)

    def add(self, sku: str, quantity: int) -> dict[str, Any]:
        with self._lock:
            order = {"id": next(self._ids), "sku": sku, "quantity": quantity, "total": PRICES[sku] * quantity}
            self.orders.append(order)
            return order


ORDERS = OrderBook()


def _json(data: Any, status: int = 200) -> Any:
    from werkzeug.wrappers import Response

    return Response(json.dumps(data), status=status, content_type="application/json")


def _problems(order: Any) -> str | None:
    """What is wrong with a new order (None: nothing). The shop checks what NEW_ORDER says."""
    if not isinstance(order, dict):
        return "the order is a JSON object"
    if set(order) - {"sku", "quantity"}:
        return f"unknown fields {sorted(set(order) - {'sku', 'quantity'})}"
    if order.get("sku") not in PRICES:
        return f"sku must be one of {sorted(PRICES)}"
    quantity = order.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 100:
        return "quantity is an integer from 1 to 100"
    return None


def shop_class() -> type:
    """Kyoukai with the shop's workaround for 2.2.1.post1's error pages (see the module docstring)."""
    kyoukai = require_kyoukai()

    class ShopKyoukai(kyoukai.Kyoukai):  # type: ignore[misc, name-defined]
        async def handle_httpexception(self, ctx: Any, exception: Any, environ: Any = None) -> Any:
            response = await super().handle_httpexception(ctx, exception, environ)
            if response is None:  # 2.2.1.post1 loses the page when the status is kept: build it again
                response = exception.get_response(environ if environ is not None else ctx.environ)
            return response

    return ShopKyoukai


def make_app(**options: Any) -> Any:
    """The shop: ``GET /items/<sku>``, ``POST /orders``, ``GET /orders?limit=N``."""
    from werkzeug.exceptions import abort

    app = shop_class()("shop", **options)

    @app.route("/items/<string(maxlength=16):sku>", methods=("GET",))
    @route_schema(response=ITEM, errors=(404,))
    async def get_item(ctx, sku):
        """One item and its price."""
        if sku not in PRICES:
            abort(404)
        return _json({"sku": sku, "price": PRICES[sku]})

    @app.route("/orders", methods=("POST",))
    @route_schema(request=NEW_ORDER, response=ORDER, invalid=(400, 422), status=201)
    async def create_order(ctx):
        """Order a quantity of one item."""
        raw = ctx.request.get_data(cache=True)
        try:
            order = json.loads(raw) if raw else None
        except ValueError:
            abort(400)
        problem = _problems(order)
        if problem:
            return _json({"error": problem}, 422)
        return _json(ORDERS.add(order["sku"], order["quantity"]), 201)

    @app.route("/orders", methods=("GET",))
    @route_schema(response=ORDER_LIST, query=LIMIT_QUERY, invalid=(400,))
    async def list_orders(ctx):
        """The latest orders (``limit``, default 10)."""
        args = ctx.request.args
        if set(args) - {"limit"} or len(args.getlist("limit")) > 1 or not re.fullmatch("[0-9]{1,3}", args.get("limit", "10")):
            abort(400)
        limit = int(args.get("limit", "10"))
        return _json({"orders": ORDERS.orders[-limit:] if limit else []})

    return app


def make_legacy_app(**options: Any) -> Any:
    """A route as Kyoukai's docs write it, on the plain Kyoukai class: ``abort(404)`` for an unknown
    item. On 2.2.1.post1 that 404 (like any unknown path or wrong method) is a canned 500."""
    from werkzeug.exceptions import abort

    kyoukai = require_kyoukai()
    app = kyoukai.Kyoukai("legacy", **options)

    @app.route("/legacy/items/<string(maxlength=16):sku>", methods=("GET",))
    @route_schema(response=ITEM, errors=(404,))
    async def legacy_item(ctx, sku):
        """One item, the Kyoukai way (abort for an unknown one)."""
        if sku not in PRICES:
            abort(404)
        return _json({"sku": sku, "price": PRICES[sku]})

    return app
