"""Issue 20: ``rpctest fuzz --junit`` wrote XML that did not parse ("not well-formed (invalid token)")
for a service that echoes its input into an error message; fuzzing sends control characters on purpose."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from rpctest.contracts.format import OperationSpec, ProviderContract
from rpctest.fuzz.engine import Target, fuzz_operation
from rpctest.fuzz.engine import FuzzReport
from rpctest.model import Call, ErrorKind, Reply, RpcError
from toystack import ToyAdapter, toy  # noqa: F401 - toy is a fixture

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"], "additionalProperties": False}


def _echoing_service(call: Call) -> Reply:
    """A buggy service: it fails on control characters and echoes the input into its error message."""
    text = call.body.get("text", "") if isinstance(call.body, dict) else ""
    if isinstance(text, str) and any(ord(ch) < 0x20 for ch in text):
        return Reply(errors=[RpcError("BOOM", f"cannot store {text!r} raw: {text}", kind=ErrorKind.SERVER_ERROR)])
    return Reply(body={})


def test_fuzz_junit_of_an_echoed_control_character_parses(toy: ToyAdapter) -> None:
    contract = ProviderContract("toy", "svc", {"put": OperationSpec("put", request=SCHEMA, response={})})
    result = fuzz_operation(Target("toy", contract, _echoing_service), "put", mode="positive", max_examples=200, seed=1)
    assert result.failure is not None, "the fuzzer should find the control character the service chokes on"
    assert any(ord(ch) < 0x20 and ch not in "\t\n\r" for ch in result.failure.message)
    report = FuzzReport("toy", "svc", [result])
    suite = ET.fromstring(report.render("junit").encode("utf-8"))
    [failure] = suite.iter("failure")
    assert "cannot store" in failure.get("message", "") and "cannot store" in (failure.text or "")
