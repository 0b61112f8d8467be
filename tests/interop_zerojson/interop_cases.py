"""The calls the differential suite makes against ``pycom_services``, with the answer the real
PyCOM gives each (checked against it in direction A before the stubs of direction B may use it).

An answer is ("ok", result, reply attachment) or ("error", code, message), as ``pycom_peer`` reduces them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

CALC = "org.rpctest.interop.calc"
NOTES = "org.rpctest.interop.notes"
FILES = "org.rpctest.interop.files"


class Case(NamedTuple):
    interface: str
    method: str
    args: Any
    answer: tuple[Any, ...]
    attachment: bytes | None = None

    @property
    def id(self) -> str:
        return f"{self.interface.rsplit('.', 1)[1]}.{self.method}({self.args!r})"


def _type_error(method: str, argument: str, got: str) -> str:
    return f"Invalid type for argument '{argument}' of '{CALC}.{method}', expected '<class 'int'>', got '<class '{got}'>'"


#: the calls recorded as stubs (direction B) and compared between the clients (direction A)
CASES: list[Case] = [
    Case(CALC, "add", {"a": 1, "b": 2}, ("ok", 3, None)),
    Case(CALC, "add", {"a": -5, "b": 5}, ("ok", 0, None)),
    Case(CALC, "add", {"a": "1", "b": 2}, ("error", 4, _type_error("add", "a", "str"))),
    Case(CALC, "add", {"a": 1}, ("error", 4, f"Argument 'b' is required for {CALC}.add")),
    Case(CALC, "divmod", {"a": 7, "b": 2}, ("ok", {"quotient": 3, "remainder": 1}, None)),
    Case(CALC, "divmod", {"a": 7, "b": 0}, ("error", 4, "b must not be 0")),
    Case(CALC, "scale", {"x": 1.5}, ("ok", 3.0, None)),
    Case(CALC, "scale", {"x": 2, "factor": 10}, ("ok", 20, None)),
    Case(CALC, "refuse", {"reason": "denied"}, ("error", 5, "not for you")),
    Case(CALC, "refuse", {"reason": "bad"}, ("error", 4, "bad reason")),
    Case(CALC, "refuse", {"reason": "other"}, ("error", 42, "refused: other")),
    Case(NOTES, "echo", {"value": {"nested": [1, "two", None, True, 2.5], "u": "\u041f\u00e9"}},
         ("ok", {"nested": [1, "two", None, True, 2.5], "u": "\u041f\u00e9"}, None)),
    Case(NOTES, "describe", {"value": [1, 2], "label": "pair"}, ("ok", {"type": "list", "label": "pair"}, None)),
    Case(NOTES, "describe", {"value": None}, ("ok", {"type": "NoneType", "label": None}, None)),
    Case(NOTES, "anything", [1, 2, 3], ("ok", {"args": [1, 2, 3]}, None)),
    Case(NOTES, "anything", None, ("ok", {"args": None}, None)),
    Case(FILES, "upload", {}, ("ok", {"size": 5}, None), attachment=b"\x00\x01abc"),
    Case(FILES, "upload", {}, ("ok", {"size": 0}, None), attachment=b""),
    Case(FILES, "download", {"size": 3}, ("ok", {"size": 3}, b"xxx")),
    Case(FILES, "download", {"size": 0}, ("ok", {"size": 0}, b"")),
]

#: calls no stub answers (direction A only): PyCOM's own refusals of the request itself
PROTOCOL_CASES: list[Case] = [
    Case(CALC, "nope", {"a": 1}, ("error", 2, f"Method 'nope' not found in interface {CALC}")),
    Case("org.rpctest.interop.nowhere", "add", {"a": 1, "b": 2}, ("error", 4, "Unsupported interface: org.rpctest.interop.nowhere")),
    Case(CALC, "add", [1, 2], ("error", 4, f"Expected dictionary as argument for {CALC}.add")),
    Case(CALC, "add", None, ("error", 4, f"Argument 'a' is required for {CALC}.add")),
    Case(FILES, "download", {"size": 65}, ("error", 4, f"Validation failed for argument 'size' of '{FILES}.download'")),
]
