"""Direction A: rpctest against the real AsyncAPY server (the unmodified 0.5.0 wheel), hosting the
services of :mod:`aap_services`: rpctest's wire client compared with AsyncAPY's own client on the same
server, ``rpctest fuzz --address`` (zero failures on the correct services, every planted bug found,
shrunk and replayable), ``rpctest contracts verify --live --address`` and the documented exit 2 of
``rpctest contracts export --address``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from interop_asyncapy import aap_services
from interop_asyncapy.aap_peer import Answer, ask, needs_asyncapy, tally
from rpctest.cli import main
from rpctest.model import Reply

pytestmark = needs_asyncapy

SERVICES = "interop_asyncapy.aap_services"

#: (server factory, packet): every kind of answer AsyncAPY gives, from each correct service
CASES = [
    ("build_shop", {"action": "ping"}),
    ("build_shop", {"action": "get", "id": 4}),
    ("build_shop", {"action": "get", "id": "pl"}),  # refused by get_item, taken by find_items (same group)
    ("build_shop", {"action": "add", "a": "-2", "b": 7}),
    ("build_shop", {"action": "stream", "count": 3}),  # three packets from one handler
    ("build_shop", {"action": "notify", "to": "bob"}),  # one packet from each of two groups
    ("build_shop", {}),  # under 5 bytes: ERR_REQUEST_MALFORMED before any handler
    ("build_shop", {"action": "get", "id": "42x"}),  # no handler: the silent close
    ("build_shop", {"action": "add", "a": 1}),
    ("build_gateway", {"action": "lookup", "key": "abc"}),
    ("build_gateway", {"action": "lookup", "key": "ABC"}),  # the fallback's failure packet
    ("build_gateway", {"anything": True}),
]


def _packets(reply: Reply) -> list[Any]:
    """rpctest's neutral reply as the packets AsyncAPY sent: data packets, then failure packets."""
    packets = list(reply.items) if reply.items else ([] if reply.body is None else [reply.body])
    failures = [{"status": "failure", "error": e.code} for e in reply.all_errors if e.code not in ("CLOSED_WITHOUT_REPLY", "SESSION_LEAKED")]
    return packets + failures


@pytest.fixture(scope="module")
def shop() -> Any:
    from rpctest.stacks.asyncapy import serve

    service = serve(aap_services.build_shop())
    yield service
    service.stop()


@pytest.fixture(scope="module")
def gateway() -> Any:
    from rpctest.stacks.asyncapy import serve

    service = serve(aap_services.build_gateway())
    yield service
    service.stop()


def test_rpctest_wire_client_gets_what_asyncapys_own_client_gets(shop: Any, gateway: Any) -> None:
    from rpctest.model import Call
    from rpctest.stacks import get_adapter

    hosts = {"build_shop": shop, "build_gateway": gateway}
    differed = []
    for factory, packet in CASES:
        address = hosts[factory].address
        real: Answer = ask(address, packet)
        client = get_adapter("asyncapy").wire.client(address, timeout=5.0)
        try:
            ours = client.call(Call("asyncapy", factory, "any", packet), timeout=5.0)
        finally:
            client.close()
        if _packets(ours) != real.packets or (real.silent and "CLOSED_WITHOUT_REPLY" not in [e.code for e in ours.all_errors]):
            differed.append((packet, real.packets, ours))
    tally("asyncapy", "A (wire client vs AsyncAPY's client, real server)", len(CASES), len(differed))
    assert not differed, differed


def _export(tmp_path: Path, factory: str) -> Path:
    out = tmp_path / f"{factory}.json"
    assert main(["contracts", "export", "--stack", "asyncapy", "--provider", f"{SERVICES}:{factory}", "-o", str(out)]) == 0
    return out


def _cases(output: str) -> int:
    found = re.search(r"(\d+) case\(s\) in", output)
    assert found, output
    return int(found.group(1))


@pytest.mark.parametrize("factory", ["build_shop", "build_gateway"])
def test_fuzz_address_finds_nothing_wrong_with_correct_services(factory: str, shop: Any, gateway: Any, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # issue 16, items 3.1 and 3.2: {} is refused as malformed, a packet one handler refuses is another's
    # (same group, or the fallback), and two groups answering one packet is one reply of two frames
    contract = _export(tmp_path, factory)
    address = {"build_shop": shop, "build_gateway": gateway}[factory].address
    capsys.readouterr()
    code = main(["fuzz", "--stack", "asyncapy", "--address", address, "--contract", str(contract), "--max-examples", "40",
                 "--seed", "3", "--replay-dir", str(tmp_path / "replays")])
    output = capsys.readouterr().out
    tally("asyncapy", f"A (fuzz --address, {factory})", _cases(output), 0 if code == 0 else output.count("FAILED "))
    assert code == 0, output


@pytest.mark.parametrize("factory", ["build_shop", "build_gateway"])
def test_fuzz_provider_in_process_agrees_with_the_wire(factory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(["fuzz", "--stack", "asyncapy", "--provider", f"{SERVICES}:{factory}", "--max-examples", "40", "--seed", "3",
                 "--replay-dir", str(tmp_path / "replays")])
    output = capsys.readouterr().out
    tally("asyncapy", f"A (fuzz --provider, {factory})", _cases(output), 0 if code == 0 else output.count("FAILED "))
    assert code == 0, output


def test_fuzz_address_finds_shrinks_and_replays_every_planted_bug(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rpctest.stacks.asyncapy import serve

    contract = _export(tmp_path, "build_buggy_shop")
    replays = tmp_path / "replays"
    with serve(aap_services.build_buggy_shop()) as buggy:
        capsys.readouterr()
        code = main(["fuzz", "--stack", "asyncapy", "--address", buggy.address, "--contract", str(contract), "--max-examples", "80",
                     "--seed", "1", "--replay-dir", str(replays)])
        output = capsys.readouterr().out
        assert code == 1, output
        files = {json.loads(path.read_text())["operation"]: path for path in replays.glob("*.json")}
        assert sorted(files) == ["divide", "double", "echo"], output
        minimal = {name: json.loads(path.read_text())["request"] for name, path in files.items()}
        # shrunk: the smallest request that shows each bug
        assert minimal["divide"]["b"] in (0, "0") and minimal["divide"]["a"] in (0, "0"), minimal
        assert 500 <= int(minimal["double"]["a"]) <= 1000, minimal  # the first sum that is sent as text
        assert minimal["echo"]["text"] in (None, False, 0, "", [], {}), minimal
        for path in files.values():
            capsys.readouterr()
            assert main(["replay", str(path)]) == 1
            assert "STILL FAILING" in capsys.readouterr().out
    tally("asyncapy", "A (fuzz --address, planted bugs)", 3, 0)


def test_export_from_an_address_keeps_its_documented_exit_2(shop: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "export", "--stack", "asyncapy", "--address", shop.address]) == 2
    err = capsys.readouterr().err
    assert "AsyncAPY has no introspection" in err and "--provider MODULE:SERVER" in err, err


@pytest.mark.parametrize("factory", ["make_shop", "make_shop_addr"])
def test_a_factory_taking_the_servers_host_and_port_is_given_them(factory: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # issue 16 item 2.5: build_server(host, ...) exited 3 with a TypeError
    out = tmp_path / "shop.json"
    code = main(["contracts", "export", "--stack", "asyncapy", "--provider", f"{SERVICES}:{factory}", "-o", str(out)])
    assert code == 0, capsys.readouterr()
    assert "stream" in json.loads(out.read_text())["operations"]
    code = main(["fuzz", "--stack", "asyncapy", "--provider", f"{SERVICES}:{factory}", "--operation", "add", "--max-examples", "5",
                 "--replay-dir", str(tmp_path / "replays")])
    assert code == 0, capsys.readouterr().out


def test_a_factory_with_a_parameter_nobody_can_supply_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contracts", "export", "--stack", "asyncapy", "--provider", f"{SERVICES}:make_shop_from_config", "-o", str(tmp_path / "x.json")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "config_path" in err and "internal error" not in err, err



def test_the_docs_commands_against_a_running_server_work_as_written(tmp_path: Path) -> None:
    # issue 16 item 4: docs/stacks/asyncapy.md's commands, run against the real peer as shown
    from interop_helpers import REPO, run_page_commands

    ran, wrong = run_page_commands(REPO / "docs/stacks/asyncapy.md", "### Against a running server", tmp_path, shown_port=8081)
    tally("asyncapy", "docs (commands against a running server)", ran, len(wrong))
    assert ran >= 4 and not wrong, wrong
