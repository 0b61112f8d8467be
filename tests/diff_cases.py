"""The table of schema changes and the classification ``rpctest contracts diff`` must give each.

Shared by the neutral test (tests/core/test_contract_diff.py), which runs every row on contracts made
of plain JSON Schema, and by each stack's test, which writes two versions of a small service, exports
both and checks the rows that stack can express.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from rpctest.contracts.diff import diff
from rpctest.contracts.format import ProviderContract

B, NB = True, False

REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 50},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "score": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        "role": {"enum": ["admin", "user"]},
        "code": {"type": "string", "pattern": "^[A-Z]+$"},
    },
    "required": ["name"],
    "additionalProperties": False,
}
RESPONSE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "name": {"type": "string"},
        "nick": {"type": "string"},
        "status": {"enum": ["active", "gone"]},
        "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}},
    },
    "required": ["id", "name"],
}
OPERATION: dict[str, Any] = {"request": REQUEST, "response": RESPONSE, "errors": ["DUPLICATE"]}


@dataclass
class Row:
    """One change: how NEW differs from OLD, and the (rule, breaking, pointer) set diff must report."""

    id: str
    change: Callable[[dict[str, Any]], None]
    expected: set[tuple[str, str, bool, str]]
    before: Callable[[dict[str, Any]], None] | None = None
    routed: bool = False
    tags: set[str] = field(default_factory=set)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(ops: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = ops
        for part in parents:
            node = node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return apply


def _all(*steps: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(ops: dict[str, Any]) -> None:
        for step in steps:
            step(ops)

    return apply


_DELETE = object()
R, S = "op/request/properties", "op/response/properties"


def _append(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(ops: dict[str, Any]) -> None:
        node = ops
        for part in path.split("/"):
            node = node[part]
        node.append(value)

    return apply


def _remove(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(ops: dict[str, Any]) -> None:
        node = ops
        for part in path.split("/"):
            node = node[part]
        node.remove(value)

    return apply


def _rename(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def apply(ops: dict[str, Any]) -> None:
        ops[new] = ops.pop(old)

    return apply


ROUTE = {"method": "GET", "path": "/users/<int:id>", "endpoint": "users.get", "params": {"id": {"converter": "int", "options": {}}}}

ROWS: list[Row] = [
    Row("no change", lambda ops: None, set()),
    Row("description only", _set("op/description", "now documented"), set()),
    # -- request: fields
    Row("request field added as required", _all(_set(f"{R}/team", {"type": "string"}), _append("op/request/required", "team")),
        {("request_field_required", "op", B, "/request/team")}),
    Row("request field added optional", _set(f"{R}/team", {"type": "string"}), {("request_field_added", "op", NB, "/request/team")}),
    Row("request optional field made required", _append("op/request/required", "age"), {("request_field_required", "op", B, "/request/age")}),
    Row("request required field made optional", _set("op/request/required", []), {("request_field_optional", "op", NB, "/request/name")}),
    Row("request field removed, unknown fields refused", _set(f"{R}/score", _DELETE), {("request_field_removed", "op", B, "/request/score")}),
    Row("request field removed, unknown fields allowed", _set(f"{R}/score", _DELETE),
        {("request_field_removed", "op", NB, "/request/score")}, before=_set("op/request/additionalProperties", True)),
    Row("request closed to unknown fields", _set("op/request/additionalProperties", False), {("request_closed", "op", B, "/request")},
        before=_set("op/request/additionalProperties", True)),
    Row("request opened to unknown fields", _set("op/request/additionalProperties", True), {("request_opened", "op", NB, "/request")}),
    # -- request: narrowed / widened
    Row("request type narrowed number->integer", _set(f"{R}/score/type", "integer"), {("request_type_narrowed", "op", B, "/request/score")}),
    Row("request type widened integer->number", _set(f"{R}/age/type", "number"), {("request_type_widened", "op", NB, "/request/age")}),
    Row("request type changed string->integer", _all(_set(f"{R}/code", {"type": "integer"})),
        {("request_type_changed", "op", B, "/request/code"), ("request_pattern_widened", "op", NB, "/request/code")}),
    Row("request maximum lowered", _set(f"{R}/age/maximum", 100), {("request_range_narrowed", "op", B, "/request/age")}),
    Row("request minimum raised", _set(f"{R}/age/minimum", 18), {("request_range_narrowed", "op", B, "/request/age")}),
    Row("request maximum raised", _set(f"{R}/age/maximum", 200), {("request_range_widened", "op", NB, "/request/age")}),
    Row("request range added", _set(f"{R}/score/exclusiveMaximum", 1), {("request_range_narrowed", "op", B, "/request/score")}),
    Row("request maxLength lowered", _set(f"{R}/name/maxLength", 20), {("request_length_narrowed", "op", B, "/request/name")}),
    Row("request minLength raised", _set(f"{R}/name/minLength", 3), {("request_length_narrowed", "op", B, "/request/name")}),
    Row("request maxLength removed", _set(f"{R}/name/maxLength", _DELETE), {("request_length_widened", "op", NB, "/request/name")}),
    Row("request maxItems lowered", _set(f"{R}/tags/maxItems", 2), {("request_length_narrowed", "op", B, "/request/tags")}),
    Row("request array item narrowed", _set(f"{R}/tags/items/maxLength", 10), {("request_length_narrowed", "op", B, "/request/tags/*")}),
    Row("request pattern added", _set(f"{R}/name/pattern", "^[a-z]+$"), {("request_pattern_narrowed", "op", B, "/request/name")}),
    Row("request pattern changed", _set(f"{R}/code/pattern", "^[A-Z]{2}$"), {("request_pattern_changed", "op", B, "/request/code")}),
    Row("request pattern removed", _set(f"{R}/code/pattern", _DELETE), {("request_pattern_widened", "op", NB, "/request/code")}),
    Row("request format added", _set(f"{R}/name/format", "email"), {("request_pattern_narrowed", "op", B, "/request/name")}),
    Row("request enum narrowed", _set(f"{R}/role/enum", ["user"]), {("request_enum_narrowed", "op", B, "/request/role")}),
    Row("request enum widened", _set(f"{R}/role/enum", ["admin", "user", "guest"]), {("request_enum_widened", "op", NB, "/request/role")}),
    Row("request enum replaced", _set(f"{R}/role/enum", ["admin", "guest"]), {("request_enum_changed", "op", B, "/request/role")}),
    Row("request uniqueItems added", _set(f"{R}/tags/uniqueItems", True), {("request_schema_changed", "op", B, "/request/tags")}),
    Row("request tuple items changed", _set(f"{R}/pair/prefixItems", [{"type": "string"}]), {("request_schema_changed", "op", B, "/request/pair")},
        before=_set(f"{R}/pair", {"type": "array", "prefixItems": [{"type": "integer"}]})),
    Row("field annotations only", _all(_set(f"{R}/name/description", "the name"), _set(f"{R}/name/x-rpctest-native", "UnicodeString"),
                                       _set(f"{S}/id/title", "Id")), set()),
    # -- response
    Row("response field removed", _set(f"{S}/nick", _DELETE), {("response_field_removed", "op", B, "/response/nick")}),
    Row("response required field removed", _all(_set(f"{S}/name", _DELETE), _set("op/response/required", ["id"])),
        {("response_field_removed", "op", B, "/response/name")}),
    Row("response field made optional", _set("op/response/required", ["id"]), {("response_field_optional", "op", B, "/response/name")}),
    Row("response field added", _set(f"{S}/email", {"type": "string"}), {("response_field_added", "op", NB, "/response/email")}),
    Row("response field made required", _append("op/response/required", "nick"), {("response_field_required", "op", NB, "/response/nick")}),
    Row("response type widened integer->number", _set(f"{S}/id/type", "number"), {("response_type_widened", "op", B, "/response/id")}),
    Row("response type narrowed number->integer", _set(f"{S}/id/type", "integer"), {("response_type_narrowed", "op", NB, "/response/id")},
        before=_set(f"{S}/id/type", "number")),
    Row("response range widened", _set(f"{S}/id/minimum", _DELETE), {("response_range_widened", "op", B, "/response/id")}),
    Row("response enum widened", _set(f"{S}/status/enum", ["active", "gone", "banned"]), {("response_enum_widened", "op", B, "/response/status")}),
    Row("response enum narrowed", _set(f"{S}/status/enum", ["active"]), {("response_enum_narrowed", "op", NB, "/response/status")}),
    Row("response array item field removed", _all(_set(f"{S}/items/items/properties/sku", _DELETE), _set(f"{S}/items/items/required", [])),
        {("response_field_removed", "op", B, "/response/items/*/sku")}),
    # -- errors, kind, operations, routes
    Row("error code added", _append("op/errors", "QUOTA"), {("error_code_added", "op", B, "/errors/QUOTA")}),
    Row("error code removed", _remove("op/errors", "DUPLICATE"), {("error_code_removed", "op", NB, "/errors/DUPLICATE")}),
    Row("call became a subscription", _set("op/kind", "subscription"), {("kind_changed", "op", B, "")}),
    Row("operation removed", _set("op", _DELETE), {("operation_removed", "op", B, "")}),
    Row("operation added", _set("other", {"request": {}, "response": {}, "errors": []}), {("operation_added", "other", NB, "")}),
    Row("operation renamed", _rename("op", "op2"), {("operation_renamed", "op", B, "")}),
    Row("route method changed", _set("op/route/method", "POST"), {("route_method_changed", "op", B, "/route/method")}, routed=True),
    Row("route path changed", _set("op/route/path", "/people/<int:id>"), {("route_path_changed", "op", B, "/route/path")}, routed=True),
    Row("route success status changed", _set("op/route/status", 201), {("route_status_changed", "op", B, "/route/status")}, routed=True),
    Row("route endpoint renamed", _set("op/route/endpoint", "people.get"), {("route_endpoint_changed", "op", NB, "/route/endpoint")}, routed=True),
    Row("HTTP operation moved to a new method", _all(_set("op/route/method", "POST"), _rename("op", "POST /users/<int:id>")),
        {("route_method_changed", "op", B, "/route/method")}, routed=True),
]


def versions(row: Row) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OLD and NEW operations of a row (``{"op": ...}`` and what the row makes of it)."""
    base = copy.deepcopy(OPERATION)
    if row.routed:
        base["route"] = copy.deepcopy(ROUTE)
    old = {"op": base}
    if row.before is not None:
        row.before(old)
    new = copy.deepcopy(old)
    row.change(new)
    return old, new


def contract(operations: dict[str, Any], stack: str = "neutral", service: str = "svc") -> ProviderContract:
    return ProviderContract.from_dict({"stack": stack, "service": service, "operations": copy.deepcopy(operations)})


def classified(old: ProviderContract, new: ProviderContract) -> set[tuple[str, str, bool, str]]:
    """(rule, operation, breaking, pointer) of every change ``diff`` reports."""
    return {(f.change.rule, f.change.operation, f.change.breaking, f.change.pointer) for f in diff(old, new).findings}


def expect(row_id: str, operation: str, pointer: str | None = None) -> tuple[str, str, bool, str]:
    """The table's classification of ``row_id``, for ``operation`` of a stack's export (at ``pointer``
    there, when the stack's request or response wraps the fields, as Kyoukai's ``/request/body``)."""
    row = next(r for r in ROWS if r.id == row_id)
    (rule, _, breaking, at) = next(iter(row.expected))
    return (rule, operation, breaking, at if pointer is None else pointer)
