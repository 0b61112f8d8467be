"""The fuzz engine reuses an operation's case strategy across runs (Hypothesis validates a strategy
once per object), and never one built from something else: another schema, codes, mode, adapter or
registered format."""

from __future__ import annotations

import decimal
from typing import Any

import pytest

from rpctest.contracts import format as fmt
from rpctest.model import Reply

from toystack import toy  # noqa: F401  (a fixture)

REQUEST = {"type": "object", "properties": {"name": {"type": "string", "format": "sku"}}, "required": ["name"],
           "additionalProperties": False}


def _target(request: Any = REQUEST, errors: list[Any] | None = None, expected: Any = None) -> Any:
    from rpctest.fuzz.engine import Target

    spec = fmt.OperationSpec("add", request=request, response={}, errors=list(errors or []))
    contract = fmt.ProviderContract("toy", "users", {"add": spec})
    return Target("toy", contract, lambda call: Reply(body={}), expected_errors=expected or {})


def _strategy(target: Any, mode: str = "positive") -> Any:
    from rpctest.fuzz.engine import case_strategy

    return case_strategy(target, target.contract.operations["add"], mode)


def _names(target: Any) -> set[str]:
    from rpctest.fuzz.engine import fuzz

    sent: list[str] = []

    def send(call: Any) -> Reply:
        sent.append(call.body["name"])
        return Reply(body={})

    target.send = send
    fuzz(target, mode="positive", max_examples=20, unknown_operation=False, seed=3)
    return set(sent)


def test_a_run_reuses_the_strategy_of_an_earlier_run_of_the_same_operation(toy: Any) -> None:
    first = _strategy(_target())
    assert _strategy(_target()) is first  # another target, the same operation
    assert _strategy(_target(), "negative") is not first
    assert _strategy(_target(errors=["TAKEN"])) is not first
    assert _strategy(_target(expected={"add": ["GONE"]})) is not first


def test_a_schema_changed_in_place_gets_a_strategy_of_its_own(toy: Any) -> None:
    request: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": False}
    target = _target(request)
    before = _strategy(target)
    request["properties"]["n"] = {"type": "integer", "minimum": 1, "maximum": 1}
    after = _strategy(target)
    assert after is not before
    assert {case.body["n"] for case in _draws(after)} == {1}


def test_a_format_registered_later_is_used_by_the_next_run(toy: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from hypothesis import strategies as st

    from rpctest.strategies import register_format, valid

    monkeypatch.setattr(valid, "_REGISTERED_FORMATS", {})
    register_format("sku", st.just("SKU-1"))
    assert _names(_target()) == {"SKU-1"}
    register_format("sku", st.just("SKU-2"))
    assert _names(_target()) == {"SKU-2"}


def test_a_schema_holding_other_than_json_is_built_for_each_run(toy: Any) -> None:
    request = {"type": "object", "properties": {"n": {"type": "number", "maximum": decimal.Decimal("2.5")}}}
    assert _strategy(_target(request)) is not _strategy(_target(request))


def test_an_adapter_registered_anew_under_the_same_name_gets_its_own_strategies(toy: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import toystack

    first = _strategy(_target())
    toystack.register()  # a new adapter object for "toy"
    assert _strategy(_target()) is not first


def _draws(strategy: Any) -> list[Any]:
    from hypothesis import given, settings

    out: list[Any] = []

    @settings(max_examples=10, database=None)
    @given(strategy)
    def collect(case: Any) -> None:
        out.append(case)

    collect()
    return out
