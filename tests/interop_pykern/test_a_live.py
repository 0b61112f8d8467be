"""Direction A, contracts: ``rpctest contracts verify --live --address`` and ``contracts export
--address`` against pykern's real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from rpctest.cli import main


def _verify(capsys: pytest.CaptureFixture[str], address: str, *paths: Path) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["contracts", "verify", *map(str, paths), "--live", "--stack", "pykern", "--address", address, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def _consumer(path: Path, service: str, interactions: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"rpctest_contract": 1, "kind": "consumer", "consumer": "interop", "stack": "pykern",
                                "service": service, "interactions": interactions}))
    return path


def test_the_recorded_contract_holds_against_the_real_server(
    recorded: Path, shop_contract: Path, shop: Any, capsys: pytest.CaptureFixture[str], tally: Callable[..., None]
) -> None:
    """The recording of stubs that answer as ShopAPI does: no finding, the subscription SUBSCRIBEd
    (the provider contract says it is one)."""
    code, report = _verify(capsys, shop.address, recorded, shop_contract)
    interactions = len(json.loads(recorded.read_text())["interactions"])
    tally("A verify --live --address (interactions)", interactions, len(report["findings"]))
    assert code == 0, report
    assert report["findings"] == []


def test_the_recording_alone_replays_its_subscription_as_one(recorded: Path, shop: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _code, report = _verify(capsys, shop.address, recorded)  # exit 1 anyway: no provider contract to check against
    assert [f for f in report["findings"] if f["check"].startswith("live_")] == []


def test_live_verify_finds_a_provider_that_breaks_the_recorded_answers(
    buggy_shop: Any, buggy_contract: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tally: Callable[..., None]
) -> None:
    """Two planted breaks: a string result that comes back as a number, and an error class the
    consumer handles where the provider crashes (APICallError)."""
    consumer = _consumer(tmp_path / "c.json", "buggy_shop", [
        {"operation": "label", "request": {"a": -1, "b": 0}, "response": {"body": "-1+0"}},
        {"operation": "divide", "request": {"a": 1, "b": 0}, "response": {"errors": [{"code": "BadArgs", "message": "b=0"}]}},
        {"operation": "label", "request": {"a": 1, "b": 2}, "response": {"body": "1+2"}},
    ])
    code, report = _verify(capsys, buggy_shop.address, consumer, buggy_contract)
    found = sorted((f["operation"], f["check"]) for f in report["findings"])
    tally("A verify --live --address (planted breaks found)", 2, 2 - len(found))
    assert code == 1
    assert found == [("divide", "live_error_codes"), ("label", "live_shape")], report


def test_an_exact_echo_of_a_mixed_array_has_the_recorded_shape(
    shop: Any, shop_contract: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"x": 1, "y": [1, "a"]}
    consumer = _consumer(tmp_path / "c.json", "shop", [{"operation": "echo", "request": body, "response": {"body": body}}])
    code, report = _verify(capsys, shop.address, consumer, shop_contract)
    assert code == 0, report


def test_a_running_pykern_service_cannot_be_exported(shop: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """pykern.api has no introspection: the documented usage error (exit 2), naming the way out."""
    capsys.readouterr()
    code = main(["contracts", "export", "--stack", "pykern", "--address", shop.address])
    err = capsys.readouterr().err
    assert code == 2
    assert "pykern.api has no introspection" in err and shop.address in err and "--provider MODULE:OBJECT" in err
