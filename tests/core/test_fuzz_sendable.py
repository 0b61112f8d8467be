"""The fuzzer sends only what the stack's client can send (issue 16 item 2.1): where a null body
does not reach the service as null (``null_body_sendable`` False: PySOA's client sends ``{}``,
pykern's server closes the connection on a nil ``api_args``), no case has one, not even a valid
case of an operation whose request schema accepts anything."""

from __future__ import annotations

from typing import Any

import pytest

from rpctest.contracts.format import OperationSpec, ProviderContract
from rpctest.fuzz.engine import Target, fuzz_operation
from rpctest.model import Call, Reply
from toystack import ToyAdapter, toy  # noqa: F401 - toy is a fixture


def _sent(schema: Any) -> list[Any]:
    contract = ProviderContract("toy", "svc", {"op": OperationSpec("op", request=schema, response={})})
    sent: list[Any] = []

    def send(call: Call) -> Reply:
        sent.append(call.body)
        return Reply(body={})

    result = fuzz_operation(Target("toy", contract, send), "op", mode="positive", max_examples=100)
    assert result.ok, result.failure.render() if result.failure else ""
    return sent


@pytest.mark.parametrize("schema", [{}, {"type": ["object", "null"]}], ids=["no schema", "nullable"])
def test_no_null_body_where_the_stack_cannot_send_one(toy: ToyAdapter, schema: Any) -> None:
    toy.null_body_sendable = False
    sent = _sent(schema)
    assert sent and None not in sent


def test_a_stack_that_sends_null_gets_null_bodies_too(toy: ToyAdapter) -> None:
    toy.null_body_sendable = True
    assert None in _sent({})
