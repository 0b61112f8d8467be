"""The example consumer contract exported as a Pact V4 file verifies live against the real pykern
provider exactly as the recorded file does: a pass, and a planted mismatch found alike (docs/pact.md)."""

from __future__ import annotations

from pathlib import Path

from pact_roundtrip import assert_live_verdicts_alike

from examples.pykern.service import ACCOUNTS

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def test_the_pact_export_verifies_live_as_the_recording_does(tmp_path: Path) -> None:
    assert_live_verdicts_alike(
        "pykern", CONTRACTS / "consumers/rpctest-examples--pykern--wallet.json", CONTRACTS / "providers/pykern--wallet.json",
        ["--provider", "examples.pykern.service:WalletAPI"], tmp_path, reset=ACCOUNTS.reset,
    )
