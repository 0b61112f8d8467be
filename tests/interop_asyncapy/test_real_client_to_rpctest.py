"""Direction B: a consumer's tests stub the shop and the gateway (rpctest's AsyncAPY stub server),
run with ``pytest --rpctest-record``; ``rpctest serve`` answers from the recorded contract in another
process; AsyncAPY's own client sends each packet to it and to the real server hosting
:mod:`aap_services`, and must get the same packets and the same close. The recorded contract is then
verified live against the real server (``rpctest contracts verify --live --address``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from interop_asyncapy import aap_services
from interop_asyncapy.aap_peer import ask, needs_asyncapy, rpctest_serve, tally
from interop_helpers import record_consumer
from rpctest.cli import main

pytestmark = needs_asyncapy

#: the consumer's tests: each stub answers what the real service answers (aap_services)
CONSUMER_TESTS = '''
from rpctest import stub_action
from interop_asyncapy.aap_peer import ask

SHOP = [
    ("ping", {"action": "ping$"}, {"action": "ping"}, dict(body={"status": "ok", "pong": True})),
    ("get_item", {"action": "get$", "id": r"\\d+$"}, {"action": "get", "id": 4},
     dict(body={"status": "ok", "item": {"id": 4, "name": "pear"}})),
    ("find_items", {"action": "get$", "id": "[a-z]+$"}, {"action": "get", "id": "pl"},
     dict(body={"status": "ok", "names": ["pear", "plum"]})),
    ("add", {"action": "add$", "a": r"-?\\d+$", "b": r"-?\\d+$"}, {"action": "add", "a": "-2", "b": 7},
     dict(body={"status": "ok", "sum": 5})),
    ("unmatched", {"action": "get$", "id": "42x$"}, {"action": "get", "id": "42x"}, dict(errors=["CLOSED_WITHOUT_REPLY"])),
]
MULTI = [
    ("stream", {"action": "stream$", "count": "[2-5]$"}, {"action": "stream", "count": 3},
     dict(items=[{"part": 0}, {"part": 1}, {"part": 2}])),
    ("notify", {"action": "notify$", "to": "[a-z]+$"}, {"action": "notify", "to": "bob"},
     dict(items=[{"notified": "bob"}, {"logged": True}])),
]
GATEWAY = [
    ("lookup", {"action": "lookup$", "key": "[a-z]+$"}, {"action": "lookup", "key": "abc"}, dict(body={"status": "ok", "value": "ABC"})),
    ("refuse", {"action": "lookup$", "key": "[A-Z]+$"}, {"action": "lookup", "key": "ABC"}, dict(errors=["INVALID_FIELDS"])),
]


def _expected(answer):
    if "body" in answer:
        return [answer["body"]]
    if "items" in answer:
        return list(answer["items"])
    return [{"status": "failure", "error": code} for code in answer["errors"] if code != "CLOSED_WITHOUT_REPLY"]


def _run(service, cases, server):
    for operation, match, packet, answer in cases:
        with stub_action(service, operation, stack="asyncapy", match=match, **answer):
            assert ask(server.address, packet).packets == _expected(answer)


def test_shop(asyncapy_stub_server):
    _run("shop", SHOP, asyncapy_stub_server)


def test_shop_streams(asyncapy_stub_server):
    _run("shop", MULTI, asyncapy_stub_server)


def test_gateway(asyncapy_stub_server):
    _run("gateway", GATEWAY, asyncapy_stub_server)
'''

SINGLE = [
    ("build_shop", {"action": "ping"}),
    ("build_shop", {"action": "get", "id": 4}),
    ("build_shop", {"action": "get", "id": "pl"}),
    ("build_shop", {"action": "add", "a": "-2", "b": 7}),
    ("build_shop", {"action": "get", "id": "42x"}),
    ("build_shop", {}),  # refused as malformed by both, before any stub or handler
    ("build_gateway", {"action": "lookup", "key": "abc"}),
    ("build_gateway", {"action": "lookup", "key": "ABC"}),
]
MULTI = [
    ("build_shop", {"action": "stream", "count": 3}),
    ("build_shop", {"action": "notify", "to": "bob"}),
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The consumer's contract directory, recorded by a pytest run of CONSUMER_TESTS in a child process."""
    return record_consumer(tmp_path_factory.mktemp("consumer"), CONSUMER_TESTS)


@pytest.fixture(scope="module")
def real() -> Any:
    from rpctest.stacks.asyncapy import serve

    shop, gateway = serve(aap_services.build_shop()), serve(aap_services.build_gateway())
    yield {"build_shop": shop, "build_gateway": gateway}
    shop.stop()
    gateway.stop()


def _compare(cases: list[tuple[str, Any]], served: str, real: dict[str, Any]) -> list[Any]:
    differed = []
    for factory, packet in cases:
        want, got = ask(real[factory].address, packet).packets, ask(served, packet).packets
        if want != got:
            differed.append((packet, want, got))
    return differed


def test_asyncapys_client_gets_from_rpctest_serve_what_the_real_server_answers(recorded: Path, real: dict[str, Any]) -> None:
    with rpctest_serve(recorded, "asyncapy") as served:
        differed = _compare(SINGLE, served, real)
    tally("asyncapy", "B (AsyncAPY's client: rpctest serve vs real server, single replies)", len(SINGLE), len(differed))
    assert not differed, differed


def test_multi_frame_replies_keep_every_frame_through_the_recording(recorded: Path, real: dict[str, Any]) -> None:
    with rpctest_serve(recorded, "asyncapy") as served:
        differed = _compare(MULTI, served, real)
    tally("asyncapy", "B (AsyncAPY's client: rpctest serve vs real server, multi-frame replies)", len(MULTI), len(differed))
    assert not differed, differed


def _verify_live(recorded: Path, real: dict[str, Any], operations: set[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``rpctest contracts verify DIR --live --address`` against the real shop, over the recorded shop
    interactions of ``operations`` and the shop's provider contract (AsyncAPY cannot be introspected)."""
    import json

    chosen = recorded.parent / f"verify-{'-'.join(sorted(operations))}"
    chosen.mkdir(exist_ok=True)
    for path in recorded.rglob("*.json"):
        data = json.loads(path.read_text())
        if data.get("service") == "shop":
            data["interactions"] = [item for item in data["interactions"] if item["operation"] in operations]
            (chosen / path.name).write_text(json.dumps(data))
    provider = chosen / "provider-shop.json"
    assert main(["contracts", "export", "--stack", "asyncapy", "--provider", "interop_asyncapy.aap_services:build_shop", "-o", str(provider)]) == 0
    capsys.readouterr()
    code = main(["contracts", "verify", str(chosen), "--live", "--stack", "asyncapy", "--address", real["build_shop"].address, "--service", "shop"])
    output = capsys.readouterr()
    return code, output.out + output.err


def test_the_recorded_contract_verifies_live_against_the_real_server(recorded: Path, real: dict[str, Any],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _verify_live(recorded, real, {"ping", "get_item", "find_items", "add"}, capsys)
    found = re.search(r"in (\d+) interaction", output)
    tally("asyncapy", "A (verify --live --address, single replies)", int(found.group(1)) if found else 0, 0 if code == 0 else 1)
    assert code == 0, output


def test_recorded_multi_frame_replies_verify_live_against_the_real_server(recorded: Path, real: dict[str, Any],
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _verify_live(recorded, real, {"stream", "notify"}, capsys)
    assert code == 0, output
