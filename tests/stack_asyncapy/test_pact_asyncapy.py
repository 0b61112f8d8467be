"""The example consumer contract exported as a Pact V4 file verifies live against the real AsyncAPY
provider exactly as the recorded file does: a pass, and a planted mismatch found alike (docs/pact.md)."""

from __future__ import annotations

from pathlib import Path

from pact_roundtrip import assert_live_verdicts_alike
from stack_asyncapy.aap_real import needs_asyncapy

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


@needs_asyncapy
def test_the_pact_export_verifies_live_as_the_recording_does(tmp_path: Path) -> None:
    assert_live_verdicts_alike(
        "asyncapy", CONTRACTS / "consumers/rpctest-examples--asyncapy--calc.json", CONTRACTS / "providers/asyncapy--calc.json",
        ["--provider", "examples.asyncapy.service:build_server"], tmp_path,
    )
