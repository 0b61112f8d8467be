"""``contracts diff`` through ZeroJSON's export: two versions of an interface whose signatures,
annotations and named results change, each change classified as the table (tests/diff_cases.py) says."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from diff_cases import classified, expect

from rpctest.contracts.export import export
from rpctest.schema.from_types import Constraints
from rpctest.stacks.zerojson.service import Request, Service, interface, method

Fruit = Literal["apple", "pear"]
Apple = Literal["apple"]
Up1000 = Annotated[int, Constraints(minimum=1, maximum=1000)]
Up100 = Annotated[int, Constraints(minimum=1, maximum=100)]


@interface("com.example.diffshop")
class ShopV1(Service):
    @method
    def order(self, request: Request, sku: str, quantity: int = 1) -> int:
        return 0

    @method
    def price(self, request: Request, sku: Fruit) -> int:
        return 0

    @method
    def bounded(self, request: Request, n: Up1000) -> int:
        return n

    @method(results=("lines", "total", "tax"))
    def receipt(self, request: Request, order_id: int) -> Any:
        return 1, 2, 0

    @method
    def legacy(self, request: Request) -> int:
        return 0


@interface("com.example.diffshop")
class ShopV2(Service):
    @method
    def order(self, request: Request, sku: str, quantity: int) -> int:
        return 0

    @method
    def price(self, request: Request, sku: Apple) -> int:
        return 0

    @method
    def bounded(self, request: Request, n: Up100) -> int:
        return n

    @method(results=("lines", "total"))  # two named results: still an object (one would be the bare value)
    def receipt(self, request: Request, order_id: int) -> Any:
        return 1, 2


def test_each_change_of_the_exported_interface_is_classified_as_the_table_says() -> None:
    old, new = export("zerojson", provider=ShopV1), export("zerojson", provider=ShopV2)
    assert classified(old, new) == {
        expect("request optional field made required", "order", "/request/quantity"),
        expect("request enum narrowed", "price", "/request/sku"),
        expect("request maximum lowered", "bounded", "/request/n"),
        expect("response field removed", "receipt", "/response/tax"),
        expect("operation removed", "legacy"),
    }
