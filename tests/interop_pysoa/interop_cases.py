"""The calls the PySOA differential suite makes against ``ledger``; each answer is what PySOA's own
``Client`` gets from the real server (asserted in direction A before direction B's stubs use it)."""

from __future__ import annotations

from typing import Any, NamedTuple


class Case(NamedTuple):
    action: str
    body: Any
    answer: tuple[Any, ...]

    @property
    def id(self) -> str:
        return f"{self.action}({self.body!r})"


def _err(code: str, field: str | None, message: str, caller: bool = True) -> tuple[str, Any, tuple[Any, ...]]:
    return ("errors", [(code, field, message, caller)])  # type: ignore[return-value]


CASES: list[Case] = [
    Case("add", {"a": 1, "b": 2}, ("ok", {"sum": 3})),
    Case("add", {"a": 1}, _err("MISSING", "b", "Missing key: b")),
    Case("add", {"a": "1", "b": 2}, _err("INVALID", "a", "Not an integer")),
    Case("add", {"a": 1, "b": 2, "c": 3}, _err("UNKNOWN", None, "Extra keys present: c")),
    Case("register", {"name": "ann", "age": 30}, ("ok", {"id": 330, "name": "ann", "tags": [], "role": "reader"})),
    Case("register", {"name": "bo", "age": 7, "tags": ["x", "y"], "role": "writer"},
         ("ok", {"id": 207, "name": "bo", "tags": ["x", "y"], "role": "writer"})),
    Case("register", {"name": "root", "age": 1}, _err("DUPLICATE", "name", "That name is taken")),
    Case("register", {"name": "", "age": 1}, _err("INVALID", "name", "String must have a length of at least 1")),
    Case("register", {"name": "cy", "age": 1, "role": "admin"}, _err("UNKNOWN", "role", "Value is not one of: \"reader\", \"writer\"")),
    Case("lookup", {"query": {"key": "k"}}, ("ok", {"found": True, "value": "v"})),
    Case("lookup", {"query": {"key": "z", "exact": True}}, ("ok", {"found": False, "value": None})),
    Case("lookup", {"query": {"key": 5}}, _err("INVALID", "query.key", "Not a unicode string")),
    Case("ping", {}, ("ok", {"pong": True})),
    Case("ping", {"anything": [1, {"x": None}]}, ("ok", {"pong": True})),
    Case("refuse", {"reason": "no"}, _err("REFUSED", None, "refused: no")),
]

#: what no stub answers (direction A only): PySOA's own answer to an action the server lacks
PROTOCOL_CASES: list[Case] = [
    Case("nope", {}, _err("UNKNOWN", "action", "The action \"nope\" was not found on this server.")),
]
