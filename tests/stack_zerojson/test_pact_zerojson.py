"""The example consumer contract exported as a Pact V4 file verifies live against the real zerojson
provider exactly as the recorded file does: a pass, and a planted mismatch found alike (docs/pact.md)."""

from __future__ import annotations

from pathlib import Path

from pact_roundtrip import assert_live_verdicts_alike

from examples.zerojson.service import ORDERS

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def test_the_pact_export_verifies_live_as_the_recording_does(tmp_path: Path) -> None:
    assert_live_verdicts_alike(
        "zerojson", CONTRACTS / "consumers/rpctest-examples--zerojson--com.example.shop.json", CONTRACTS / "providers/zerojson--com.example.shop.json",
        ["--provider", "examples.zerojson.service:Shop", "--setup", "examples.zerojson.service:provider_state"], tmp_path, reset=ORDERS.reset,
    )
