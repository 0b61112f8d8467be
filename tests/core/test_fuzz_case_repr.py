"""How Hypothesis shows a fuzz case in a failure's notes: the operation, mode and request, not the
compiled response schema and codes beside them."""

from __future__ import annotations

from hypothesis.vendor.pretty import pretty

from rpctest.fuzz.checks import NEGATIVE, POSITIVE, Case
from rpctest.schema.validate import compile_schema
from rpctest.strategies.defects import Defect


def test_a_case_shows_what_was_sent() -> None:
    case = Case("users.add", {"name": "Ann", "age": 3}, POSITIVE, response_schema=compile_schema({"type": "object"}),
                allowed_codes=frozenset({"TAKEN"}))
    shown = pretty(case)
    assert shown == 'Case(\'users.add\', positive, body={"age": 3, "name": "Ann"})'


def test_a_negative_case_shows_its_defect() -> None:
    defect = Defect(path=("age",), kind="wrong_type", description="a string where an integer is required")
    shown = pretty(Case("users.add", {"age": "x"}, NEGATIVE, defect=defect))
    assert shown.startswith("Case('users.add', negative, body={\"age\": \"x\"}, defect=")
    assert str(defect) in shown
