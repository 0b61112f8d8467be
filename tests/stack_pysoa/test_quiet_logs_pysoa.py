"""Quiet by default: a buggy PySOA service fuzzed from the command line printed 1,656 lines of server
tracebacks next to its report. The tracebacks go to the run's log file; a failure's report shows the
first lines logged for its minimal request and points at the file; ``-v`` shows them live."""

from __future__ import annotations

from pathlib import Path

from cli_runs import ROOT, rpctest

FUZZ = ["fuzz", "--stack", "pysoa", "--provider", "stack_pysoa.buggysvc:BuggyServer", "--operation", "divide",
        "--operation", "greet", "--max-examples", "60", "--seed", "7"]


def test_a_buggy_service_fuzzed_prints_a_short_report_and_keeps_its_tracebacks_in_a_log_file(tmp_path: Path) -> None:
    run = rpctest(*FUZZ, "--replay-dir", str(tmp_path / "replays"), cwd=tmp_path)
    assert run.code == 1, run.err
    assert len(run.err_lines) <= 3, run.err  # the seed and where the logs are; was 1,656 lines of tracebacks
    assert "Traceback" not in run.err
    [log] = (tmp_path / ".rpctest" / "logs").glob("fuzz-*.log")
    assert f"the stack's own logs" in run.err and str(log.relative_to(tmp_path)) in run.err
    assert "ZeroDivisionError: division by zero" in log.read_text()
    # each failure's report: the first lines of what the server logged for its minimal request
    assert run.out.count("logged:") == 2, run.out
    assert f"all of the run's logs: {log.relative_to(tmp_path)}" in run.out
    divide = run.out.split("FAILED pysoa:buggy.divide", 1)[1].split("FAILED", 1)[0]
    assert "| " in divide and "ERROR pysoa.server: division by zero" in divide and "Traceback (most recent call last)" in divide
    assert len(run.out.splitlines()) < 60, run.out


def test_verbose_shows_the_servers_logs_live(tmp_path: Path) -> None:
    run = rpctest("-v", *FUZZ, "--replay-dir", str(tmp_path / "replays"), cwd=tmp_path)
    assert run.code == 1
    assert "ZeroDivisionError: division by zero" in run.err and "Traceback (most recent call last)" in run.err
    assert "the stack's own logs" not in run.err  # shown, so no pointer


def test_quiet_prints_the_report_only(tmp_path: Path) -> None:
    run = rpctest("-q", *FUZZ, "--replay-dir", str(tmp_path / "replays"), cwd=tmp_path)
    assert run.code == 1
    assert [line for line in run.err_lines if not line.startswith("rpctest fuzz: seed: 7")] == [], run.err


def test_verify_live_prints_no_server_logs(tmp_path: Path) -> None:
    """The stack comes from [tool.rpctest.services] (no --stack): its logs are captured all the same."""
    (tmp_path / "pyproject.toml").write_text('[tool.rpctest.services.users]\nstack = "pysoa"\nprovider = "examples.pysoa.service:UserServer"\n')
    run = rpctest("contracts", "verify", str(ROOT / "contracts"), "--live", "--provider", "examples.pysoa.service:UserServer", cwd=tmp_path)
    assert "Traceback" not in run.err and "pysoa" not in run.err.replace(str(tmp_path), ""), run.err
    assert "replayed 5 interaction(s) of 1 consumer contract(s) against the live provider pysoa:users" in run.out, run.out
