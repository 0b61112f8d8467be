"""An AsyncAPY stub with ``items=`` (several reply packets) is recorded as a multi-frame reply (issue
16, item 2.2): the contract holds every packet, ``rpctest serve`` sends one frame per packet to a
client speaking AsyncAProto over a raw socket, and live verification against the real AsyncAPY
server compares them frame by frame. ``serve`` also answers a recorded packet only to that very
packet (item 2.6)."""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

import pytest

from rpctest import stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.live import verify_live
from rpctest.contracts.recorder import Recorder
from rpctest.contracts.serve import router_from_contracts
from rpctest.stacks.asyncapy.stub_server import serve_stubs
from rpctest.stubs.router import StubRouter
from stack_asyncapy.aap_real import build_demo_server, needs_asyncapy

MULTI = [{"part": 1}, {"part": 2}]


def exchange(address: str, packet: dict[str, Any], timeout: float = 5.0) -> list[dict[str, Any]]:
    """Send one JSON packet as AsyncAProto V2 frames it (4-byte big-endian length, version 22,
    encoding 0) on a raw socket; the packets of every frame received until the server closes."""
    host, port = address.split("://", 1)[1].split("?")[0].rsplit(":", 1)
    payload = json.dumps(packet).encode()
    received = bytearray()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(struct.pack(">I", len(payload) + 2) + bytes([22, 0]) + payload)
        while chunk := sock.recv(65536):
            received += chunk
    packets = []
    while received:
        (length,) = struct.unpack(">I", received[:4])
        assert received[4:6] == bytes([22, 0]), bytes(received[:8])
        packets.append(json.loads(received[6 : 4 + length]))
        del received[: 4 + length]
    return packets


def record_multi() -> fmt.ConsumerContract:
    """A consumer's test: its stub of the demo's ``multi`` answers two packets over the stub server."""
    router = StubRouter(intercept=False)
    recorder = Recorder("web", router=router).start()
    try:
        stub_action("demo", "multi", stack="asyncapy", router=router, items=MULTI, match={"action": "multi$"}).start()
        with serve_stubs(router, service="demo", timeout=5) as server:
            assert exchange(server.address, {"action": "multi"}) == MULTI
    finally:
        recorder.stop()
    [contract] = recorder.contracts()
    return fmt.parse(json.loads(fmt.dump(contract)))


def test_a_multi_frame_stub_is_recorded_with_every_packet() -> None:
    [item] = record_multi().interactions
    assert item.to_dict()["response"] == {"items": MULTI}


def test_serve_sends_every_recorded_frame() -> None:
    with serve_stubs(router_from_contracts([record_multi()], "asyncapy"), timeout=5) as server:
        assert exchange(server.address, {"action": "multi"}) == MULTI
        assert server.diagnostics == []


def test_serve_answers_a_recorded_packet_only_to_that_very_packet() -> None:
    contract = fmt.ConsumerContract("web", "asyncapy", "demo", [
        fmt.RecordedInteraction("add", {"action": "add", "a": 1, "b": 2}, body={"status": "ok", "sum": 3}),
    ])
    with serve_stubs(router_from_contracts([contract], "asyncapy"), timeout=5) as server:
        assert exchange(server.address, {"action": "add", "a": 1, "b": 2}) == [{"status": "ok", "sum": 3}]
        assert exchange(server.address, {"action": "add", "a": "1", "b": "2"}) == []  # AsyncAPY's close: no handler
        assert exchange(server.address, {"action": "add", "a": 1, "b": 2, "c": 0}) == []
        diagnostics = "\n".join(server.diagnostics)
    assert "Nearest stub: stub_action('demo', 'add', stack='asyncapy', recorded request" in diagnostics
    assert "'c'=0, which is not in the recorded request" in diagnostics
    assert "a is '1', the recorded request has 1" in diagnostics


@needs_asyncapy
def test_live_verify_compares_every_frame_of_the_real_server() -> None:
    from rpctest.stacks.asyncapy import serve

    contract = record_multi()
    with serve(build_demo_server()) as demo, serve_stubs(router_from_contracts([contract], "asyncapy"), timeout=5) as served:
        assert exchange(served.address, {"action": "multi"}) == exchange(demo.address, {"action": "multi"}) == MULTI
        report = verify_live([contract], demo.send_call, exact=True)
        assert report.interactions == 1 and report.findings == [], [(f.check, f.expected, f.actual) for f in report.findings]
        wrong = fmt.ConsumerContract("web", "asyncapy", "demo", [
            fmt.RecordedInteraction("multi", {"action": "multi"}, items=[{"part": 1}, {"part": "two"}]),
        ])
        findings = verify_live([wrong], demo.send_call).findings
    assert [(f.check, f.pointer) for f in findings] == [("live_shape", "/interactions/0/response/items/1/part")]


def test_the_cli_serves_every_recorded_frame(tmp_path: Any) -> None:
    """``rpctest serve --stack asyncapy FILE`` in another process: both recorded frames, then the close
    (on main: ``packet 0 is a list, not a map``, and no frame at all)."""
    from dogfood import serving_contract

    path = fmt.write(record_multi(), tmp_path / "web--asyncapy--demo.json")
    with serving_contract("asyncapy", path) as address:
        assert exchange(address, {"action": "multi"}) == MULTI
