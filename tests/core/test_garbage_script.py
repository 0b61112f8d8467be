"""benchmarks/garbage_frames.py, small: AsyncAPY's stub server needs no stack library, so the script's
whole path (a stub server as rpctest serve starts it, seeded frames, liveness checks, the figures)
runs here in every environment."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "garbage_frames.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("garbage_frames", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_sends_seeded_frames_and_prints_the_figures(script, capsys: pytest.CaptureFixture[str]) -> None:
    code = script.main(["--stack", "asyncapy", "--frames", "150", "--check-every", "50", "--seed", "15"])
    out = capsys.readouterr().out
    assert code == 0, out
    line = out.splitlines()[0].split()
    assert line[:8] == ["asyncapy", "150", "frames", "sent", "0", "crash(es)", "0", "hang(s)"], out
    assert "seed 15, 150 frames per stack, a liveness check every 50" in out


def test_the_json_line_carries_the_same_figures(script, capsys: pytest.CaptureFixture[str]) -> None:
    assert script.main(["--json", "--stack", "asyncapy", "--frames", "60", "--check-every", "30"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (result["stack"], result["sent"], result["crashes"], result["hangs"], result["checks"]) == ("asyncapy", 60, 0, 0, 3)
    assert result["internal_error_count"] == 0 and result["findings"] == []


def test_bad_arguments_are_refused(script, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        script.main(["--frames", "0"])
    assert exited.value.code == 2 and "--frames" in capsys.readouterr().err
