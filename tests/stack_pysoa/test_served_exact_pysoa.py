"""``rpctest serve`` answers a recorded PySOA action only to the very request recorded (issue 16,
item 2.6): pysoa's own ``Client`` calling ``add {"a": 1, "b": 1}`` gets the stub server's near-miss
caller error naming the recorded ``add {"a": 1}``, never that request's recorded reply."""

from __future__ import annotations

import uuid

from rpctest import redis_backend
from rpctest.contracts import format as fmt
from rpctest.contracts.serve import router_from_contracts
from rpctest.model import RpcError
from rpctest.stacks.pysoa import adapter
from stack_pysoa import redis_wire_helpers as helpers


def test_serve_answers_pysoas_client_only_for_the_recorded_request() -> None:
    service = f"exact{uuid.uuid4().hex[:10]}"
    contract = fmt.ConsumerContract("web", "pysoa", service, [
        fmt.RecordedInteraction("add", {"a": 1}, errors=[RpcError("MISSING", "b is required", field="b", kind="caller_error")]),
        fmt.RecordedInteraction("add", {"a": 1, "b": 2}, body={"sum": 3}),
    ])
    target = redis_backend.fake()
    with adapter.wire.stub_server(router_from_contracts([contract], "pysoa"), redis=target, services=[service]) as served:
        with helpers.pysoa_redis_client(target, service) as client:
            recorded_error = client.call_action(service, "add", {"a": 1}, raise_action_errors=False)
            recorded_body = client.call_action(service, "add", {"a": 1, "b": 2}, raise_action_errors=False)
            other = client.call_action(service, "add", {"a": 1, "b": 1}, raise_action_errors=False)
    assert [(e.code, e.field) for e in recorded_error.errors] == [("MISSING", "b")]
    assert recorded_body.body == {"sum": 3}
    (error,) = other.errors
    assert (error.code, error.is_caller_error) == ("INVALID", True)
    assert "b is 1, the recorded request has 2" in error.message
    assert any("recorded request {'a': 1, 'b': 2}" in line for line in served.diagnostics)
