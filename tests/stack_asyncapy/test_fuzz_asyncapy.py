"""The fuzz engine on AsyncAPY's semantics: a packet no handler matches is closed silently, by design."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rpctest import stub_action
from rpctest.contracts.format import OperationSpec, ProviderContract
from rpctest.fuzz.engine import Target, fuzz

# AsyncAPY's filters match regexes on str(value), so "7" passes an integer's pattern: a wrong_type
# defect can be accepted by the stack itself. Defects judged by the Python predicate come with the
# Fields contract exporter; until then these runs use a fixed seed.
# two keys, so a packet with one key left out is still longer than AsyncAPY's 5-byte minimum (an
# emptier one is ERR_REQUEST_MALFORMED before any routing: the silent-close oracle does not cover it yet)
PING = OperationSpec(
    "ping",
    request={"type": "object", "properties": {"action": {"const": "ping"}, "id": {"type": "integer"}},
             "required": ["action", "id"], "additionalProperties": False},
    response={"type": "object", "properties": {"status": {"const": "success"}}, "required": ["status"]},
)


def _target(server: Any) -> tuple[Target, Any]:
    from rpctest.stacks import get_adapter

    client = get_adapter("asyncapy").wire.client(server.address, timeout=2.0)
    contract = ProviderContract("asyncapy", "pinger", {"ping": PING})
    return Target(stack="asyncapy", contract=contract, send=lambda call: client.call(call, timeout=2.0)), client


def test_defects_and_the_unknown_probe_get_asyncapys_silent_close(asyncapy_stub_server: Any, tmp_path: Path) -> None:
    with stub_action("pinger", "ping", stack="asyncapy", match={"action": "^ping$", "id": "^-?[0-9]+$"}, body={"status": "success"}) as stub:
        target, client = _target(asyncapy_stub_server)
        try:
            report = fuzz(target, max_examples=15, replay_dir=tmp_path, seed=0)  # see the note on str(value) regexes
        finally:
            client.close()
    assert report.ok, report.render()
    assert [r.operation for r in report.results] == ["ping", "rpctest_no_such_operation"]
    assert stub.call_count >= 1  # the valid packets reached the handler


def test_a_handler_that_answers_a_defective_packet_is_caught(asyncapy_stub_server: Any, tmp_path: Path) -> None:
    # a stub with no patterns matches every packet: the defective ones get an answer, not a close
    with stub_action("pinger", "ping", stack="asyncapy", match=lambda packet: True, body={"status": "success"}):
        target, client = _target(asyncapy_stub_server)
        try:
            report = fuzz(target, max_examples=30, replay_dir=tmp_path, seed=0)
        finally:
            client.close()
    assert not report.ok
    failing = {r.operation: r.failure.check for r in report.results if r.failure is not None}
    assert "ping" in failing
