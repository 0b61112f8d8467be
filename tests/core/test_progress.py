"""Progress of long commands: a live line on a terminal, a plain line now and then in a CI log,
nothing with ``-q``, and nothing at all outside the command line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import toystack
from rpctest import progress
from rpctest.progress import Progress

TOY_CLI = Path(toystack.__file__).parent / "toy_cli.py"
SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
FUZZ = ["fuzz", "--stack", "toy", "--address", "toy://x", "--max-examples", "20", "--mode", "positive", "--seed", "3"]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_log_a_plain_line_comes_only_once_the_interval_has_passed() -> None:
    clock, out = Clock(), io.StringIO()
    shown = Progress(out, interval=10, clock=clock)
    assert shown.mode == "lines"
    with shown.task("fuzz", "users.get_user (all)", total=100) as task:
        task.advance()
        clock.now += 4
        task.advance()
        assert out.getvalue() == ""  # a short run prints nothing extra
        clock.now += 7
        task.advance(failed=True)
        clock.now += 1
        task.advance()
    assert out.getvalue() == "rpctest fuzz: users.get_user (all) — 3/100 case(s), 1 failing, 11.0 s\n"


def test_on_a_terminal_one_line_is_redrawn_and_erased_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    clock, out = Clock(), Terminal()
    shown = Progress(out, clock=clock)
    assert shown.mode == "live"
    with shown.task("fuzz --framing", "zerojson tcp://127.0.0.1:5555", total=35, budget=120) as task:
        for _ in range(3):
            clock.now += 1
            task.advance()
        task.set_note("the endpoint is slow")
    text = out.getvalue()
    assert text.startswith("\rrpctest fuzz --framing: zerojson tcp://127.0.0.1:5555 — 0/35 case(s), 0 failing, 0.0 s, budget 120 s left\x1b[K")
    assert "\r" + "rpctest fuzz --framing: zerojson tcp://127.0.0.1:5555 — 3/35 case(s), 0 failing, 3.0 s, budget 117 s left, the endpoint is slow\x1b[K" in text
    assert "\n" not in text and text.endswith("\r\x1b[K")  # erased: the report follows on a clean line
    monkeypatch.setenv("COLUMNS", "40")
    narrow = Terminal()
    with Progress(narrow, clock=clock).task("fuzz", "users.get_user (all)", total=100):
        pass
    drawn = narrow.getvalue().split("\x1b[K")[0].lstrip("\r")
    assert len(drawn) == 39 and drawn.endswith("…") and drawn.startswith("rpctest fuzz: users.get_user")  # never wraps


def test_quiet_and_outside_a_command_nothing_is_written() -> None:
    out = Terminal()
    with Progress(out, mode="off").task("fuzz", "x") as task:
        task.advance()
    assert out.getvalue() == ""
    assert progress.current().mode == "off"  # library calls and pytest runs report to nobody
    with pytest.raises(ValueError, match="auto, live, lines or off"):
        Progress(out, mode="loud")


def _toy_fuzz(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOY_CLI), json.dumps(SCHEMA), *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_the_fuzz_command_writes_progress_lines_to_a_ci_log_and_none_when_quiet(tmp_path: Path) -> None:
    env = {"RPCTEST_PROGRESS_INTERVAL": "0", "TOY_DELAY": "0.01"}
    run = _toy_fuzz(*FUZZ, "--replay-dir", str(tmp_path), env=env)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("rpctest fuzz: users.add (positive) — ")]
    assert len(lines) >= 10, run.stderr
    assert lines[-1].startswith("rpctest fuzz: users.add (positive) — 20/20 case(s), 0 failing, "), lines[-1]
    quiet = _toy_fuzz("-q", *FUZZ, "--replay-dir", str(tmp_path), env=env)
    assert quiet.returncode == 0
    assert quiet.stderr.splitlines() == ["rpctest fuzz: seed: 3 — rerun with --seed 3"]


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal needs a POSIX system")
def test_on_a_real_terminal_the_fuzz_command_draws_a_live_line(tmp_path: Path) -> None:
    """The command under a pseudo-terminal, as a user runs it: the line is redrawn with carriage
    returns, then erased before the report."""
    import pty
    import select

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, str(TOY_CLI), json.dumps(SCHEMA), *FUZZ, "--replay-dir", str(tmp_path)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, text=False,
                                env={**os.environ, "TOY_DELAY": "0.03", "TERM": "xterm"})
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=60)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0, seen
    text = seen.decode()
    assert text.count("\rrpctest fuzz: users.add (positive) — ") >= 3, text
    assert "20/20 case(s), 0 failing" in text or "/20 case(s), 0 failing" in text
    assert "\r\x1b[K" in text  # erased before the report
    assert b"rpctest fuzz passed" in out


def test_framing_runs_and_live_verification_report_each_case() -> None:
    """The shared runners report to the active progress, whichever stack's cases they run."""
    from rpctest.contracts import format as fmt
    from rpctest.contracts.live import verify_live
    from rpctest.fuzz.framing import FramingCase, FramingOutcome, run_framing
    from rpctest.model import ErrorKind, Reply

    out = io.StringIO()
    with progress.activated(Progress(out, interval=0)):
        cases = [FramingCase(f"case-{i}", "a case", b"x", "error", kind=ErrorKind.CALLER_ERROR) for i in range(3)]
        report = run_framing(cases, lambda case, timeout: FramingOutcome.reply(4, "bad", ErrorKind.CALLER_ERROR) if case.name != "case-1" else FramingOutcome.reply(1, "boom", ErrorKind.SERVER_ERROR),
                             stack="toy", target="toy://x", budget=60)
        consumer = fmt.ConsumerContract("web", "toy", "users", [fmt.RecordedInteraction("get", {"id": i}, body={"id": i}) for i in range(2)])
        with toystack_registered():
            verify_live([consumer], lambda call: Reply(body={"id": 1}))
    lines = out.getvalue().splitlines()
    assert len(report.failures) == 1
    assert [line.split(", ", 1)[0] for line in lines if line.startswith("rpctest fuzz --framing")][-1] == \
        "rpctest fuzz --framing: toy toy://x — 3/3 case(s)"
    assert any(line.startswith("rpctest fuzz --framing: toy toy://x — 3/3 case(s), 1 failing, ") and "budget" in line for line in lines), lines
    assert any(line.startswith("rpctest contracts verify --live: toy:users — 2/2 case(s), 0 failing") for line in lines), lines


def toystack_registered() -> object:
    import contextlib

    @contextlib.contextmanager
    def registered() -> object:
        toystack.register()
        try:
            yield
        finally:
            toystack.unregister()

    return registered()


def test_the_stack_logs_of_a_run_go_to_a_file_of_their_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """rpctest.stacklogs: records of the captured loggers reach the file (not the root logger), the lines
    of one case are told apart by a mark, and every capture is undone afterwards."""
    import logging

    from rpctest import stacklogs

    seen: list[str] = []

    class Root(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    root = Root()
    logging.getLogger().addHandler(root)
    try:
        paths = []
        for _ in range(2):  # two runs in one second get two files
            with stacklogs.captured([], "fuzz", directory=tmp_path) as logs:
                assert stacklogs.current() is logs
                logging.getLogger("rpctest.serve").warning("before")
                mark = logs.mark()
                logging.getLogger("rpctest.serve.thread").error("boom\nline two")
                assert logs.lines_since(mark)[0].endswith("ERROR rpctest.serve.thread: boom") and logs.lines_since(mark)[1] == "line two"
                paths.append(logs.path)
            assert logs.summary() == f"rpctest: the stack's own logs (3 line(s)) are in {logs.path}; -v shows them live"
        assert paths[0] != paths[1] and all(p is not None and p.read_text().count("\n") == 3 for p in paths)
        assert seen == []  # not on the root logger, so not on stderr
        logging.getLogger("rpctest.serve").warning("after")
        assert seen == ["after"] and stacklogs.current().path is None  # undone
        assert not logging.getLogger("rpctest.serve").handlers
    finally:
        logging.getLogger().removeHandler(root)


def test_a_task_whose_case_hangs_still_shows_time_passing_and_leaves_no_thread() -> None:
    import threading
    import time

    out = io.StringIO()
    with Progress(out, interval=0.2).task("contracts verify --live", "pykern:wallet", total=3):
        time.sleep(0.9)  # one reply that takes long: no case completes
    lines = out.getvalue().splitlines()
    assert len(lines) >= 2 and all(line.startswith("rpctest contracts verify --live: pykern:wallet — 0/3 case(s), 0 failing, ") for line in lines), lines
    assert not [t for t in threading.enumerate() if t.name == "rpctest-progress"]


def test_a_runs_stack_logs_go_to_the_state_directory_said_relative_to_where_the_user_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside the runs kept for ``rpctest report``: ``RPCTEST_STATE_DIR`` moves both, and a path under
    the working directory is shown as the user would type it."""
    import logging

    from rpctest import stacklogs

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RPCTEST_STATE_DIR", str(tmp_path / "state"))
    with stacklogs.captured([], "fuzz") as logs:
        logging.getLogger("rpctest.serve").warning("kept")
    assert logs.path.parent == Path("state") / "logs"
    assert "kept" in (tmp_path / logs.path).read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with stacklogs.captured([], "fuzz") as logs:
        logging.getLogger("rpctest.serve").warning("kept")
    assert logs.path.parent == tmp_path / "state" / "logs"
