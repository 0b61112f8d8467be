"""AsyncAPY's framing cases: against rpctest's stub server (which answers as AsyncAPY does: runs
everywhere) and against the real AsyncAPY in a child process, where the CPU spin and the time
budget are measured (runs where AsyncAPY is installed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rpctest.cli import main
from rpctest.exceptions import ConfigError
from rpctest.stacks.asyncapy import serve_stubs
from rpctest.stacks.asyncapy.client import AsyncAPYSyncClient
from rpctest.stacks.asyncapy.framing import _cpu, _spin, framing_cases, fuzz_framing, held_to_a_timeout
from rpctest.stacks.asyncapy.process import ServerProcess
from rpctest.stacks.asyncapy.wire import Framing
from rpctest.stubs.api import stub_action
from rpctest.stubs.router import StubRouter
from stack_asyncapy.aap_helpers import all_vectors
from stack_asyncapy.aap_real import needs_asyncapy

PACKET = {"action": "add", "a": 1, "b": 2}
CALC = "examples.asyncapy.service:build_server"
SILENT = {"json-flag-ziproto-payload", "ziproto-bin-value", "json-array", "invalid-utf8", "json-nested-1000",
          "json-nested-in-a-field", "json-integer-of-5000-digits", "json-long-string"}
HELD = {"json-null", "length-too-big", "length-too-small", "wrong-byte-order", "two-frames-in-one-send", "oversize-in-one-send",
        "split-inside-payload", "tls-client-hello", "half-close-inside-frame"}
ANSWERED = {"split-after-header", "byte-by-byte", "oversize-after-header"}
#: a golden vector id as a case's source names it
VECTOR_ID = re.compile(r"aap\.(?:frame|call|err)\.[a-z0-9-]+")
#: what each kind of expectation looks like in a vector's outcome
OUTCOME_KINDS = {"error": "framework_error", "close": "silent_close", "answer": "reply"}


def _calc_router() -> StubRouter:
    router = StubRouter(intercept=False)
    stub_action("calc", "add", stack="asyncapy", router=router, match={"action": "add$", "a": r"-?\d+$", "b": r"-?\d+$"},
                side_effect=lambda p: {"status": "ok", "sum": int(p["a"]) + int(p["b"])}).start()
    return router


def _check_asyncapys_answers(report) -> None:
    by_name = {r.case.name: r for r in report.results}
    assert report.ok, report.render()
    assert {r.case.name for r in report.weaknesses} == SILENT | HELD | {"ziproto-map16"}, report.render()
    for name in SILENT:
        assert by_name[name].outcome.kind == "close"
    for name in HELD:
        assert by_name[name].outcome.code == "ERR_TIMED_OUT", by_name[name].outcome
    for name in ANSWERED:
        assert by_name[name].outcome.is_success_reply and '"sum": 3' in by_name[name].outcome.message
    assert all(r.reproducer.startswith("from rpctest.stacks.asyncapy.client import") for r in report.results)


def test_the_cases_are_built_for_the_servers_framing() -> None:
    little = framing_cases(Framing(header_size=2, byteorder="little"), PACKET, server_timeout=1)
    valid = next(c for c in little if c.name == "byte-by-byte").frames
    assert valid[:2] == (len(valid) - 2).to_bytes(2, "little") and valid[2:4] == bytes([22, 0])
    wrong = next(c for c in little if c.name == "wrong-byte-order").frames
    assert int.from_bytes(wrong[:2], "big") == len(wrong) - 2
    unknown = framing_cases(Framing(), PACKET, server_timeout=None)
    assert next(c for c in unknown if c.name == "length-too-big").expect == "no_reply"  # without the server's timeout


def test_every_case_says_where_its_expectation_comes_from_and_cited_vectors_agree() -> None:
    vectors = {vector["id"]: vector for vector in all_vectors()}
    cited = set()
    for case in framing_cases(Framing(), PACKET, server_timeout=2):
        ids = VECTOR_ID.findall(case.source)
        assert ids or case.source.startswith("observed of AsyncAPY 0.5.0: "), (case.name, case.source)
        for vector_id in ids:
            outcome = vectors[vector_id]["outcome"]
            assert outcome["kind"] == OUTCOME_KINDS[case.expect], (case.name, vector_id)
            if case.expect == "error":
                assert outcome["error"] in case.codes, (case.name, vector_id)
            cited.add(vector_id)
    recorded_framing = {vector_id for vector_id in vectors if vector_id.startswith("aap.frame.")}
    # every framing vector but the padded empty object (the falsy-payload case cites json-false) is a case
    assert recorded_framing - cited == {"aap.frame.json-empty-object-padded"}


def test_the_stub_server_answers_every_case_as_asyncapy_does() -> None:
    with serve_stubs(_calc_router(), timeout=1) as server:
        report = fuzz_framing(server.address, PACKET, timeout=1.0, server_timeout=1)
    _check_asyncapys_answers(report)
    assert not any(r.observations for r in report.results)  # no process to watch: nothing observed


def test_a_time_budget_ends_the_run_and_fails_it() -> None:
    with serve_stubs(_calc_router(), timeout=1) as server:
        report = fuzz_framing(server.address, PACKET, timeout=1.0, server_timeout=1, budget=0.5)
    assert not report.ok and "time budget of 0.5 s" in report.aborted
    # the case under way finishes (it has its own deadline); no further case starts
    assert report.skipped and len(report.results) + len(report.skipped) == len(framing_cases(Framing(), PACKET))


def test_a_server_that_cannot_start_in_a_child_says_why() -> None:
    with pytest.raises(ConfigError, match="did not start in a child process: rpctest: .*(No module named 'no_such_module'|needs AsyncAPY)"):
        ServerProcess("no_such_module:server").start()
    with pytest.raises(ConfigError, match="'module:object'"):
        ServerProcess("no colon")


@needs_asyncapy
def test_the_real_server_in_a_child_process_busy_loops_on_a_half_close_inside_a_frame() -> None:
    with ServerProcess(CALC, server_timeout=1) as process:
        report = fuzz_framing(process.address, PACKET, timeout=1.0, server_timeout=1, process=process, budget=120)
        assert process.sessions() == (0, 0)
    assert process.process.poll() is not None  # stopped
    _check_asyncapys_answers(report)
    spun = report.result("half-close-inside-frame")
    assert spun.observations and "a busy loop" in spun.observations[0], spun.observations
    quiet = [r.case.name for r in report.results if r.observations]
    assert quiet == ["half-close-inside-frame"], quiet  # the other held connections wait without spinning
    # a reproducer sends the same bytes again, by itself
    with ServerProcess(CALC, server_timeout=1) as process:
        case = next(r for r in report.results if r.case.name == "json-array")
        line = case.reproducer.replace(report.target, process.address)
        out = subprocess.run([sys.executable, "-c", line], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "nothing, then the server closed the connection" in out


def test_a_busy_loop_is_runnable_time_not_cpu_time() -> None:
    """On a loaded machine a spinning server gets only its share of a core: it is still a busy loop,
    because it is runnable (on a CPU or queued for one) the whole time. A waiting server is neither."""
    assert _spin((1.0, 2.0), (1.3, 2.65), 1.0) == (
        "the server process used 0.30 s of CPU and waited 0.65 s more for one in the 1.00 s this connection lasted: a busy loop"
    )
    assert _spin((1.0, 2.0), (1.02, 2.01), 1.0) is None  # woke up to read, then waited for input
    assert _spin((1.0, None), (1.9, None), 1.0) is not None  # no run-queue times: CPU time alone decides
    assert _spin((1.0, 2.0), (1.3, 2.65), 0.4) is None  # too short a connection to tell


def test_only_a_connection_held_until_a_timeout_can_show_a_busy_loop() -> None:
    """A server runnable for the whole of a 1 MB packet it reads, decodes and then closes on was
    working, not spinning: on a loaded machine that alone outlasted the busy-loop threshold and the
    json-long-string case was reported as a busy loop."""
    from types import SimpleNamespace

    from rpctest.stacks.asyncapy.wire import Frame

    def frame(packet: object) -> Frame:
        return Frame(length=0, version=22, encoding=0, payload=b"", packet=packet)

    timed_out = frame({"status": "failure", "error": "ERR_TIMED_OUT"})
    assert held_to_a_timeout(SimpleNamespace(end="closed", frames=[timed_out]))  # the server's own timeout
    assert held_to_a_timeout(SimpleNamespace(end="timeout", frames=[]))  # still open when our wait ended
    assert not held_to_a_timeout(SimpleNamespace(end="closed", frames=[]))  # a silent close after reading
    assert not held_to_a_timeout(SimpleNamespace(end="closed", frames=[frame({"status": "failure", "error": "ERR_REQUEST_MALFORMED"})]))
    assert not held_to_a_timeout(SimpleNamespace(end="closed", frames=[frame({"status": "ok", "sum": 3})]))


def test_the_bytewise_case_leaves_most_of_a_known_server_timeout_to_spare() -> None:
    """Sent one byte per write, a frame must not race the server's timeout: at 20 ms a byte, a 40-byte
    frame took 0.8 s of a 1 s timeout, and on a loaded machine the server timed out first."""
    for timeout in (1, 2, 60):
        case = next(c for c in framing_cases(Framing(), PACKET, server_timeout=timeout) if c.name == "byte-by-byte")
        frame_bytes = case.frames if isinstance(case.frames, bytes) else b"".join(case.frames)
        assert len(frame_bytes) * case.options["pause"] <= timeout / 4
        assert 0 < case.options["pause"] <= 0.02


@needs_asyncapy
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs os.sched_setaffinity (Linux) to share one core")
def test_the_busy_loop_is_seen_when_the_server_gets_a_third_of_a_core() -> None:
    """The spin is found under load: two CPU-bound competitors share the server's core with it."""
    core = {min(os.sched_getaffinity(0))}
    competitors = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for competitor in competitors:
            os.sched_setaffinity(competitor.pid, core)
        with ServerProcess(CALC, server_timeout=1) as process:
            for task in os.listdir(f"/proc/{process.pid}/task"):
                os.sched_setaffinity(int(task), core)
            client = AsyncAPYSyncClient.from_address(process.address, timeout=5)
            case = next(c for c in framing_cases(client.framing, PACKET, server_timeout=1) if c.name == "half-close-inside-frame")
            before = _cpu(process)
            result = client.send_raw(case.frames, timeout=2.5, **case.options)
            after = _cpu(process)
    finally:
        for competitor in competitors:
            competitor.kill()
            competitor.wait()
    assert before is not None and after is not None and before[1] is not None and after[1] is not None
    assert after[0] - before[0] < 0.5 * result.elapsed  # CPU time alone would miss it: a share of a core
    spin = _spin(before, after, result.elapsed)
    assert spin is not None and "a busy loop" in spin, (before, after, result.elapsed)


@needs_asyncapy
def test_the_cli_runs_the_framing_cases_against_a_child_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fuzz", "--stack", "asyncapy", "--provider", CALC, "--max-examples", "5", "--framing",
                 "--replay-dir", str(tmp_path), "--json", str(tmp_path / "report.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "observed: the server process used" in out and "rpctest fuzz framing passed" in out


# -- rpctest fuzz --framing against rpctest serve (issue 15) --------------------------------------------------

CONSUMER = "contracts/consumers/rpctest-examples--asyncapy--calc.json"
PROVIDER = "contracts/providers/asyncapy--calc.json"


def test_the_cli_framing_run_against_rpctest_serve_probes_with_a_recorded_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rpctest serve answers the recorded requests only, and AsyncAPY answers any other packet with a
    silent close: a probe made up from the schema is never answered, so the run aborted before sending
    a case. --probe takes a request it answers (here: from the consumer contract it serves)."""
    from framing_cli import framing_against_serve

    _code, report = framing_against_serve("asyncapy", CONSUMER, PROVIDER, tmp_path, "--probe", CONSUMER)
    assert report["aborted"] is None and not report["skipped"], capsys.readouterr().out
    assert report["ok"] and report["cases"] == len(framing_cases(Framing(), PACKET)), capsys.readouterr().out
    assert all(result["alive"] for result in report["results"])


def test_without_a_probe_it_answers_the_abort_says_how_to_give_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from framing_cli import framing_against_serve

    code, report = framing_against_serve("asyncapy", CONSUMER, PROVIDER, tmp_path)
    assert code == 1 and report["cases"] == 0 and "--probe" in report["aborted"], report["aborted"]
    assert "--probe" in capsys.readouterr().out
