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
# emptier one is ERR_REQUEST_MALFORMED before any routing: test_the_oracle_routes_a_packet_... covers it)
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


def _routed_contract() -> ProviderContract:
    """get_item and find_items share a group and the action (AsyncAPY offers a packet to the first whose
    Fields pass); refuse, last in the group and without Fields, is the fallback."""
    from rpctest.stacks.asyncapy.schema import fields_schema

    item = {"type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"]}
    return ProviderContract("asyncapy", "shop", {
        "ping": OperationSpec("ping", request=fields_schema({"action": "ping$"}), response=item, route={"group": 0, "position": 0}),
        "get_item": OperationSpec("get_item", request=fields_schema({"action": "get$", "id": r"\d+$"}), response=item,
                                  route={"group": 0, "position": 1}),
        "find_items": OperationSpec("find_items", request=fields_schema({"action": "get$", "id": "[a-z]+$"}), response=item,
                                    route={"group": 0, "position": 2}),
        "refuse": OperationSpec("refuse", request={"type": "object"}, response={"type": "object"}, errors=["INVALID_FIELDS"],
                                route={"group": 0, "position": 3}),
    })


def _taken_by(packet: Any) -> str:
    import re

    if set(packet) == {"action"} and re.match("ping$", str(packet["action"])):
        return "ping"
    if set(packet) == {"action", "id"} and re.match("get$", str(packet["action"])):
        if re.match(r"\d+$", str(packet["id"])):
            return "get_item"
        if re.match("[a-z]+$", str(packet["id"])):
            return "find_items"
    return "refuse"


def test_the_oracle_routes_a_packet_as_asyncapy_dispatches_it(asyncapy_stub_server: Any, tmp_path: Path) -> None:
    # issue 16 items 3.1 and 3.2: ping's one-defect packet {} gets ERR_REQUEST_MALFORMED before any
    # handler (under 5 bytes); a get that get_item refuses is find_items' (same group), and anything
    # else the fallback's failure packet: none of it is a finding
    ok = {"status": "ok"}
    with stub_action("shop", "ping", stack="asyncapy", match=lambda p: _taken_by(p) == "ping", body=ok), \
            stub_action("shop", "get_item", stack="asyncapy", match=lambda p: _taken_by(p) == "get_item", body=ok), \
            stub_action("shop", "find_items", stack="asyncapy", match=lambda p: _taken_by(p) == "find_items", body=ok), \
            stub_action("shop", "refuse", stack="asyncapy", match=lambda p: _taken_by(p) == "refuse", errors=["INVALID_FIELDS"]) as refuse:
        from rpctest.stacks import get_adapter

        client = get_adapter("asyncapy").wire.client(asyncapy_stub_server.address, timeout=2.0)
        target = Target(stack="asyncapy", contract=_routed_contract(), send=lambda call: client.call(call, timeout=2.0))
        try:
            report = fuzz(target, max_examples=40, replay_dir=tmp_path, seed=0)
        finally:
            client.close()
    assert report.ok, report.render()
    assert refuse.call_count >= 1  # defects and the unknown probe reached the fallback


def test_a_packet_no_handler_takes_is_still_owed_the_silent_close(asyncapy_stub_server: Any, tmp_path: Path) -> None:
    # the same routing without the fallback: a defect no other handler takes must be closed silently,
    # so a stub that answers it is still caught
    contract = _routed_contract()
    del contract.operations["refuse"]
    ok = {"status": "ok"}
    with stub_action("shop", "get_item", stack="asyncapy", match=lambda p: _taken_by(p) in ("get_item", "refuse"), body=ok):
        from rpctest.stacks import get_adapter

        client = get_adapter("asyncapy").wire.client(asyncapy_stub_server.address, timeout=2.0)
        target = Target(stack="asyncapy", contract=contract, send=lambda call: client.call(call, timeout=2.0))
        try:
            report = fuzz(target, operations=["get_item"], max_examples=40, replay_dir=tmp_path, seed=0, unknown_operation=False)
        finally:
            client.close()
    assert not report.ok
    assert "CLOSED_WITHOUT_REPLY" in report.results[0].failure.message, report.render()


def test_replaying_a_finding_of_an_address_run_uses_the_contract_it_was_given(asyncapy_stub_server: Any, tmp_path: Path,
                                                                              capsys: Any) -> None:
    # found by the differential suite: AsyncAPY cannot be introspected, so `rpctest replay FILE` of a
    # `fuzz --address --contract` run exited 2 trying to export the contract from the address
    import json

    from rpctest.cli import main

    contract = tmp_path / "pinger.json"
    contract.write_text(json.dumps(ProviderContract("asyncapy", "pinger", {"ping": PING}).to_dict()))
    with stub_action("pinger", "ping", stack="asyncapy", match={"action": "^ping$", "id": "^-?[0-9]+$"}, body={"status": "failure!"}):
        code = main(["fuzz", "--stack", "asyncapy", "--address", asyncapy_stub_server.address, "--contract", str(contract),
                     "--operation", "ping", "--mode", "positive", "--max-examples", "5", "--replay-dir", str(tmp_path / "replays")])
        assert code == 1, capsys.readouterr().out
        (replay,) = (tmp_path / "replays").glob("*.json")
        capsys.readouterr()
        assert main(["replay", str(replay)]) == 1, capsys.readouterr()
        assert "STILL FAILING" in capsys.readouterr().out


def test_verify_holds_a_reply_from_two_groups_to_both_handlers_schemas() -> None:
    # AsyncAPY offers a packet to every group: a stub answering notify with a packet from each of the
    # two handlers that take it is what the server sends, not a body that breaks notify's own schema
    from rpctest.contracts.format import ConsumerContract, RecordedInteraction
    from rpctest.contracts.verify import verify
    from rpctest.stacks.asyncapy.schema import fields_schema

    def notice(key: str) -> dict[str, Any]:
        return {"type": "object", "properties": {key: {}}, "required": [key], "additionalProperties": False}

    packet = fields_schema({"action": "notify$", "to": "[a-z]+$"})
    provider = ProviderContract("asyncapy", "shop", {
        "notify": OperationSpec("notify", request=packet, response=notice("notified"), route={"group": 0, "position": 0}),
        "notify_log": OperationSpec("notify_log", request=packet, response=notice("logged"), route={"group": 1, "position": 1}),
    })
    both = RecordedInteraction("notify", request={"action": "notify", "to": "bob"}, body=[{"notified": "bob"}, {"logged": True}])
    wrong = RecordedInteraction("notify", request={"action": "notify", "to": "bob"}, body=[{"notified": "bob"}, {"other": 1}])
    report = verify([provider, ConsumerContract("web", "asyncapy", "shop", [both, wrong])])
    assert [(f.check, f.interaction) for f in report.errors] == [("response_schema", 1)], report.render()
