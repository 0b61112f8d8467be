"""``contracts diff`` through ZeroJSON's export: two versions of an interface whose signatures,
annotations and named results change, each change classified as the table (tests/diff_cases.py) says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from diff_cases import classified, expect

from rpctest.cli import main
from rpctest.contracts import format as fmt
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


def test_new_is_the_export_of_a_running_service(zerojson_service: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--address``: NEW is what the running service's introspection says (no types, but names, required
    arguments and named results), and OLD's service name is the one asked for."""
    old = fmt.write(export("zerojson", provider=ShopV1), tmp_path / "zerojson--com.example.diffshop.json")
    server = zerojson_service(ShopV2)
    code = main(["contracts", "diff", str(old), "--address", server.address, "--stack", "zerojson", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    breaking = {(f["check"], f["operation"], f.get("pointer")) for f in report["findings"] if f["breaking"]}
    assert ("request_field_required", "order", "/request/quantity") in breaking
    assert ("operation_removed", "legacy", None) in breaking
    assert ("response_field_removed", "receipt", "/response/tax") in breaking
