"""The Quick start scripts' own logic: pip steps reported one line each, and the demo's closing summary."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture
def scripts(monkeypatch: pytest.MonkeyPatch) -> tuple:
    monkeypatch.syspath_prepend(str(SCRIPTS))
    bootstrap = importlib.import_module("_bootstrap")
    demo = importlib.import_module("demo")
    return bootstrap, demo


def test_pip_steps_print_a_line_each_and_keep_pips_output_in_a_log(scripts: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bootstrap, _ = scripts
    monkeypatch.setattr(bootstrap, "ROOT", tmp_path)
    (tmp_path / ".venv-x").mkdir()
    bootstrap._install(Path(sys.executable), ".venv-x", [["--no-index", "pip"]])  # already satisfied: exit 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "installing into .venv-x: 1 pip step(s), pip's output in .venv-x/pip.log"
    assert out[1].startswith("  [1/1] pip install --no-index pip done in ")
    assert "Requirement already satisfied" in (tmp_path / ".venv-x" / "pip.log").read_text()
    assert not any("Requirement already satisfied" in line for line in out)  # pip's noise stays in the log


def test_a_failing_pip_step_ends_the_run_with_the_end_of_its_log(scripts: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bootstrap, _ = scripts
    monkeypatch.setattr(bootstrap, "ROOT", tmp_path)
    (tmp_path / ".venv-x").mkdir()
    with pytest.raises(SystemExit) as caught:
        bootstrap._install(Path(sys.executable), ".venv-x", [["--no-index", "no-such-distribution-rpctest"], ["pip"]])
    message = str(caught.value)
    assert message.startswith("pip failed (exit 1); the end of .venv-x/pip.log:")
    assert "no-such-distribution-rpctest" in message
    out = capsys.readouterr().out
    assert "[1/2] pip install --no-index no-such-distribution-rpctest FAILED in " in out and "[2/2]" not in out


def test_the_demo_summary_names_each_stack_its_verdict_and_notes(scripts: tuple) -> None:
    _, demo = scripts
    lines = demo._summary(
        {
            "pysoa": {"ok": True, "notes": []},
            "zerojson": {"ok": False, "notes": []},
            "asyncapy": {"ok": True, "notes": ["4 test(s) skipped", "provider side not run: AsyncAPY is not installed"]},
        }
    )
    assert lines[0].split() == ["PySOA", "passed"]
    assert lines[1].split() == ["ZeroJSON", "FAILED"]
    assert lines[2].split()[:2] == ["pykern.api", "FAILED"] and "did not report" in lines[2]
    assert lines[3].endswith("passed (4 test(s) skipped; provider side not run: AsyncAPY is not installed)")


def test_the_demo_says_which_virtualenv_holds_which_stack(scripts: tuple) -> None:
    _, demo = scripts
    assert ".venv for PySOA and ZeroJSON; .venv-pykern for pykern.api and AsyncAPY; .venv-kyoukai for Kyoukai" in demo._overview().replace("\n", " ")
    hint = demo._activate_hint()
    assert any(line.startswith("  source .venv-kyoukai/bin/activate") and line.endswith("# Kyoukai") for line in hint)
