"""Quiet by default: pykern's pkdebug and tornado write to stderr on every request. A passing fuzz run
and ``verify --live`` (whose recorded NotEnoughCredit is an expected error that pykern logs with its
traceback) print none of it; it is in the run's log file, and ``-v`` shows it live."""

from __future__ import annotations

from pathlib import Path

from cli_runs import ROOT, rpctest

CONFIG = '[tool.rpctest.services.wallet]\nstack = "pykern"\nprovider = "examples.pykern.service:WalletAPI"\n'


def _pykern_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "pykern" in line or "websocket" in line or line.startswith((" ", "Traceback"))]


def test_a_passing_pykern_fuzz_prints_no_pykern_log_lines(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    run = rpctest("fuzz", "--provider", "examples.pykern.service:WalletAPI", "--max-examples", "30", "--replay-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert run.code == 0, run.out + run.err
    assert _pykern_lines(run.err) == [], run.err
    [log] = (tmp_path / ".rpctest" / "logs").glob("fuzz-*.log")
    assert "pykern/api/server.py" in log.read_text()  # pkdebug's lines, kept in the file


def test_verify_live_prints_no_traceback_for_an_expected_error_and_verbose_shows_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    argv = ["contracts", "verify", str(ROOT / "contracts"), "--live", "--provider", "examples.pykern.service:WalletAPI"]
    run = rpctest(*argv, cwd=tmp_path)
    assert run.code == 0, run.out + run.err
    assert _pykern_lines(run.err) == [] and "Traceback" not in run.err, run.err
    assert len(run.err_lines) == 1 and "the stack's own logs" in run.err, run.err
    assert "replayed 3 interaction(s) of 1 consumer contract(s) against the live provider pykern:wallet" in run.out
    verbose = rpctest("-v", *argv, cwd=tmp_path)
    assert verbose.code == 0
    assert "NotEnoughCredit: balance=0" in verbose.err and "pykern/api/server.py" in verbose.err
