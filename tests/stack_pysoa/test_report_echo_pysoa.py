"""Issue 20: ``rpctest fuzz --junit`` wrote XML that did not parse (``not well-formed (invalid
token)``) for a service that echoes its input into an error message, since fuzzing sends control
characters on purpose. Here against a real PySOA server (stack_pysoa/echosvc.py), in every format."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from rpctest.cli import main


def test_fuzz_reports_of_an_echoing_service_parse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit, report_json, github = tmp_path / "fuzz.xml", tmp_path / "fuzz.json", tmp_path / "fuzz.github"
    code = main(["fuzz", "--stack", "pysoa", "--provider", "stack_pysoa.echosvc:EchoServer", "--operation", "store",
                 "--mode", "positive", "--max-examples", "300", "--seed", "3", "--replay-dir", str(tmp_path / "r"),
                 "--junit", str(junit), "--json", str(report_json), "--format", "github", "-o", str(github)])
    assert code == 1, capsys.readouterr()
    [failure] = json.loads(report_json.read_text(encoding="utf-8"))["results"][0:1]
    message = failure["failure"]["message"]
    assert "cannot store the name" in message and any(ord(ch) < 0x20 and ch not in "\t\n\r" for ch in message), message
    suite = ET.fromstring(junit.read_bytes())  # did not parse before
    [element] = suite.iter("failure")
    assert "cannot store the name" in (element.get("message") or "") and "cannot store the name" in (element.text or "")
    lines = github.read_text(encoding="utf-8").split("\n")
    assert lines[0].startswith("::error title=rpctest valid_input_is_not_rejected::") and lines[-1] == ""
    assert all(line.startswith("::") for line in lines[:-2]) and lines[-2].startswith("rpctest fuzz FAILED")


def test_the_codes_a_real_service_answered_are_kept_for_rpctest_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """What ``rpctest report --html`` puts in the fuzz and live columns: the codes the real PySOA
    service answered, stored by ``fuzz`` and ``contracts verify --live``."""
    from rpctest.report.state import load

    monkeypatch.setenv("RPCTEST_STATE_DIR", str(tmp_path))
    root = Path(__file__).resolve().parents[2]
    assert main(["fuzz", "--stack", "pysoa", "--provider", "stack_pysoa.echosvc:EchoServer", "--mode", "positive",
                 "--max-examples", "300", "--seed", "3", "--replay-dir", str(tmp_path / "r")]) == 1
    fuzz = load("fuzz")
    assert fuzz is not None and fuzz["observed"]["pysoa:echo.store"] == ["INVALID"]
    assert main(["contracts", "verify", str(root / "contracts"), "--live", "--provider", "examples.pysoa.service:UserServer",
                 "--setup", "examples.pysoa.service:provider_state"]) == 0, capsys.readouterr()
    verify = load("verify")
    assert verify is not None and "NOT_FOUND" in verify["observed"]["pysoa:users.get_user"]
    assert verify["observed"]["pysoa:users.list_users"] == []
