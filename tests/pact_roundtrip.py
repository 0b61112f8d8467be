"""Export -> import -> live verify: a consumer contract exported as a Pact V4 file must verify against
the real provider exactly as the recorded file does, passing and failing alike.

Shared by each stack's Pact test (``tests/stack_*/test_pact_*.py``), which runs in that stack's session
with its real library: the example provider's reply is what both files are held to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from rpctest.cli import main

__all__ = ["assert_live_verdicts_alike"]


def _verdict(consumer: Path, provider_contract: Path, stack: str, target: list[str], out: Path,
             reset: Callable[[], object]) -> tuple[int, list[tuple[Any, ...]]]:
    reset()  # each verification starts from the provider's initial data
    code = main(["contracts", "verify", str(consumer), str(provider_contract), "--live", "--stack", stack, *target,
                 "--format", "json", "-o", str(out)])
    report = json.loads(out.read_text())
    findings = sorted(
        (f["check"], f.get("severity"), f.get("operation"), f.get("pointer"), f.get("expected"), f.get("actual"))
        for f in report["findings"]
    )
    return code, findings


def _planted(consumer: Path, directory: Path) -> Path:
    """The consumer contract with one mismatch planted: a success body that relies on a key the
    provider never sends."""
    data = json.loads(consumer.read_text())
    item = next(i for i in data["interactions"] if isinstance(i["response"].get("body"), dict))
    item["response"]["body"]["planted_key"] = 1
    path = directory / consumer.name
    path.write_text(json.dumps(data))
    return path


def assert_live_verdicts_alike(stack: str, consumer: Path, provider_contract: Path, target: list[str], tmp_path: Path,
                               reset: Callable[[], object] = lambda: None) -> None:
    """Live verification of ``consumer`` and of its Pact export give the same exit code and findings,
    for the recorded contract (a pass) and for one with a planted mismatch (exit 1, naming the key)."""
    for case, source in (("recorded", consumer), ("planted", _planted(consumer, _dir(tmp_path / "planted")))):
        pacts = _dir(tmp_path / case / "pacts")
        assert main(["contracts", "export", "--format", "pact", "--consumers", str(source), "-o", str(pacts)]) == 0
        [pact] = pacts.glob("*.json")
        original = _verdict(source, provider_contract, stack, target, tmp_path / case / "original.json", reset)
        exported = _verdict(pact, provider_contract, stack, target, tmp_path / case / "pact.json", reset)
        assert exported == original, (case, original, exported)
        if case == "recorded":
            assert original[0] == 0, original
        else:
            assert original[0] == 1 and any("planted_key" in str(f) for f in original[1]), original


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
