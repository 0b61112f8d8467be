"""``contracts diff`` through Kyoukai's export: two versions of a small app whose routes move (method,
path, success status), whose declared statuses grow and whose JSON schemas change, each change
classified as the table (tests/diff_cases.py) says, at its pointer inside the request envelope."""

from __future__ import annotations

from typing import Any

from diff_cases import classified, expect

from rpctest.contracts.export import export
from rpctest.stacks.kyoukai import require_kyoukai, route_schema

ORDER = {"type": "object", "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1, "maximum": 100}},
         "required": ["sku", "quantity"], "additionalProperties": False}
TOTALS = {"type": "object", "properties": {"count": {"type": "integer"}, "total": {"type": "integer"}}, "required": ["count", "total"]}


def _app(version: int, **options: Any) -> Any:
    app = require_kyoukai().Kyoukai("diffshop", **options)
    order = {**ORDER, "properties": {**ORDER["properties"], "quantity": {"type": "integer", "minimum": 1, "maximum": 100 if version == 1 else 50}}}

    @app.route("/orders", methods=("POST",))
    @route_schema(request=order, response={"type": "object"}, status=201 if version == 1 else 202)
    async def create_order(ctx):
        """Order something."""

    @app.route("/items/<int:item_id>", methods=("GET",) if version == 1 else ("POST",))
    @route_schema(response={"type": "object"})
    async def get_item(ctx, item_id):
        """One item."""

    @app.route("/users" if version == 1 else "/people", methods=("GET",))
    @route_schema(response={"type": "array"})
    async def list_users(ctx):
        """The users."""

    @app.route("/totals", methods=("GET",))
    @route_schema(response=TOTALS if version == 1 else {**TOTALS, "required": ["count"]}, errors=(404,) if version == 1 else (404, 409))
    async def totals(ctx):
        """The totals."""

    return app


def make_v1(**options: Any) -> Any:
    return _app(1, **options)


def make_v2(**options: Any) -> Any:
    return _app(2, **options)


def test_each_change_of_the_exported_routes_is_classified_as_the_table_says() -> None:
    old, new = export("kyoukai", provider=make_v1), export("kyoukai", provider=make_v2)
    assert classified(old, new) == {
        expect("request maximum lowered", "POST /orders", "/request/body/quantity"),
        expect("route success status changed", "POST /orders"),
        expect("route method changed", "GET /items/<int:item_id>"),
        expect("route path changed", "GET /users"),
        expect("response field made optional", "GET /totals", "/response/total"),
        expect("error code added", "GET /totals", "/errors/409"),
    }
