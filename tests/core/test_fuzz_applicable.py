"""The shared fuzz engine on a names-only request schema (issue 16, item 3.4), with no stack library."""

from __future__ import annotations

from typing import Any

import pytest

from rpctest.contracts.format import OperationSpec, ProviderContract
from rpctest.fuzz.applicable import names_only
from rpctest.fuzz.engine import Target, fuzz_operation
from rpctest.model import Call, ErrorKind, Reply, RpcError


@pytest.mark.parametrize(("schema", "expected"), [
    ({}, True),
    (True, True),
    ({"type": "object", "properties": {"a": {}, "b": {"description": "b"}}, "required": ["a"], "additionalProperties": True}, True),
    ({"type": ["object", "null"], "properties": {"a": {}}, "required": []}, True),
    ({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}, False),
    ({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "string"}}, False),
    ({"type": "string"}, False),
    ({"type": "object", "properties": {"a": {}}, "minProperties": 1}, False),
])
def test_names_only(schema: Any, expected: bool) -> None:
    assert names_only(schema) is expected


def _service(call: Call) -> Reply:
    """A service whose argument check no contract shows: ``n`` must be an int (code 4 otherwise)."""
    body = call.body if isinstance(call.body, dict) else {}
    if "n" not in body:
        return Reply(errors=[RpcError(4, "Argument 'n' is required", kind=ErrorKind.CALLER_ERROR)])
    if not isinstance(body["n"], int):
        return Reply(errors=[RpcError(4, "Invalid type for argument 'n'", kind=ErrorKind.CALLER_ERROR)])
    return Reply(body=2 * body["n"])


def _target(request: Any) -> Target:
    contract = ProviderContract("zerojson", "com.example.names", {"double": OperationSpec("double", request=request)})
    return Target("zerojson", contract, _service)


def test_a_names_only_operation_skips_the_check_that_needs_valid_input() -> None:
    result = fuzz_operation(_target({"type": "object", "properties": {"n": {}}, "required": ["n"]}), "double", max_examples=40)
    assert result.ok, result.failure and result.failure.render()
    assert result.note.startswith("skipped valid_input_is_not_rejected: the request schema gives names only")


def test_a_typed_operation_keeps_every_check() -> None:
    """The same service under a schema that says ``n`` is a string: its refusal is a finding."""
    result = fuzz_operation(_target({"type": "object", "properties": {"n": {"type": "string"}}, "required": ["n"]}), "double",
                            mode="positive", max_examples=40)
    assert not result.ok and result.failure is not None and result.failure.check == "valid_input_is_not_rejected"
    assert result.note == ""
