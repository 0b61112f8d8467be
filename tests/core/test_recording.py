"""Recording consumer contracts from stubs, through real pytest runs (serial and pytest-xdist)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rpctest.contracts import format as fmt

TESTS_DIR = str(Path(__file__).resolve().parent.parent)

CONFTEST = """
import toystack

toystack.register()  # at import: the test module's decorators need the stack
"""

CONSUMER_TESTS = """
import datetime, decimal
import pytest
from rpctest import stub_action, RpcError
from rpctest.model import CallFailed
from toystack import toy_call

@stub_action("users", "get", stack="toy", body={"id": 1, "seen": datetime.date(2024, 5, 1)})
def test_get(stub):
    assert toy_call("users", "get", {"id": 1})["id"] == 1

@stub_action("users", "get", stack="toy", body={"id": 1, "seen": datetime.date(2024, 5, 1)})
def test_get_again(stub):
    toy_call("users", "get", {"id": 1})

@pytest.mark.parametrize("n", range(6))
def test_many(n):
    with stub_action("orders", "list", stack="toy", body={"total": decimal.Decimal("1.50"), "n": n}):
        toy_call("orders", "list", {"page": n})

def test_error():
    with stub_action("users", "get", stack="toy", errors=[{"code": "BAD", "field": "id", "message": "no"}]):
        with pytest.raises(CallFailed):
            toy_call("users", "get", {"id": -1})
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", TESTS_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_consumer=CONSUMER_TESTS)
    return pytester


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "rpctest", "-p", "no:cacheprovider", "--rpctest-record", "--rpctest-consumer", "web",
        "--rpctest-contracts-dir", "out", *args,
    )


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.json"))}


def test_records_one_deduplicated_file_per_provider(project: pytest.Pytester) -> None:
    result = _run(project)
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines(["rpctest: recorded 8 interaction(s) into 2 consumer contract(s) under out"])
    files = _files(project.path / "out")
    assert sorted(files) == ["consumers/web--toy--orders.json", "consumers/web--toy--users.json"]
    users = fmt.load(project.path / "out/consumers/web--toy--users.json")
    assert isinstance(users, fmt.ConsumerContract) and users.consumer == "web"
    assert len(users.interactions) == 2  # test_get and test_get_again said the same thing: one interaction
    (ok,) = [i for i in users.interactions if i.ok]
    (error,) = [i for i in users.interactions if not i.ok]
    assert ok.request == {"id": 1}
    assert ok.body["seen"].isoformat() == "2024-05-01" and type(ok.body["seen"]).__name__ == "date"
    assert ok.tests == ["test_consumer.py::test_get", "test_consumer.py::test_get_again"]
    assert [(e.code, e.field, e.message, e.kind.value) for e in error.errors] == [("BAD", "id", "no", "caller_error")]
    raw = json.loads(files["consumers/web--toy--users.json"])
    bodies = [i["response"]["body"] for i in raw["interactions"] if "body" in i["response"]]
    assert bodies == [{"id": 1, "seen": {"$date": "2024-05-01"}}]


def test_xdist_workers_recordings_are_merged_with_nothing_lost(project: pytest.Pytester) -> None:
    serial = _run(project)
    serial.assert_outcomes(passed=9)
    expected = _files(project.path / "out")
    for path in (project.path / "out").rglob("*.json"):
        path.unlink()
    parallel = _run(project, "-n", "2")
    parallel.assert_outcomes(passed=9)
    assert _files(project.path / "out") == expected  # byte for byte, whatever worker ran what


def test_a_failing_run_overwrites_nothing(project: pytest.Pytester) -> None:
    _run(project).assert_outcomes(passed=9)
    before = _files(project.path / "out")
    project.makepyfile(test_broken="def test_broken():\n    assert False\n")
    result = _run(project)
    result.assert_outcomes(passed=9, failed=1)
    result.stdout.fnmatch_lines(["rpctest: the run did not pass*existing contracts were left untouched"])
    assert _files(project.path / "out") == before


def test_replace_mode_drops_what_the_run_no_longer_does_merge_mode_keeps_it(project: pytest.Pytester) -> None:
    _run(project).assert_outcomes(passed=9)
    project.makepyfile(test_consumer=CONSUMER_TESTS.replace('{"page": n}', '{"page": n + 100}'))
    _run(project, "-k", "many").assert_outcomes(passed=6, deselected=3)
    orders = fmt.load(project.path / "out/consumers/web--toy--orders.json")
    assert sorted(i.request["page"] for i in orders.interactions) == list(range(100, 106))
    project.makepyfile(test_consumer=CONSUMER_TESTS)
    _run(project, "-k", "many", "-o", "rpctest_record_mode=merge").assert_outcomes(passed=6, deselected=3)
    orders = fmt.load(project.path / "out/consumers/web--toy--orders.json")
    assert sorted(i.request["page"] for i in orders.interactions) == [*range(6), *range(100, 106)]


def test_merge_mode_with_a_corrupt_existing_file_names_it_and_keeps_it(project: pytest.Pytester) -> None:
    target = project.path / "out/consumers/web--toy--users.json"
    target.parent.mkdir(parents=True)
    target.write_text('{"rpctest_contract": 1, "kind": "consum')
    result = _run(project, "-o", "rpctest_record_mode=merge")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["rpctest: contracts not written: *web--toy--users.json: not valid JSON*"])
    assert target.read_text() == '{"rpctest_contract": 1, "kind": "consum'
    assert not (project.path / "out/consumers/web--toy--orders.json").exists()


def test_recording_is_off_by_default(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", "--rpctest-contracts-dir", "out")
    result.assert_outcomes(passed=9)
    assert not (project.path / "out").exists()
    assert "recorded" not in result.stdout.str()


def test_ini_option_turns_recording_on(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nrpctest_record = true\nrpctest_contracts_dir = ini-out\nrpctest_consumer = inic\n")
    result = project.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=9)
    assert (project.path / "ini-out/consumers/inic--toy--users.json").is_file()


def test_bad_record_mode_is_a_usage_error(project: pytest.Pytester) -> None:
    result = _run(project, "-o", "rpctest_record_mode=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*record_mode*'sometimes' is not one of replace, merge*"])


# -- names (issue 15, items 7 and 8) ---------------------------------------------------------------

COLLIDING = ["users/v1", "users_v1", "users v1", "users:v1"]

NAMED_TESTS = """
import pytest
from rpctest import stub_action
from toystack import toy_call

@pytest.mark.parametrize("service", SERVICES)
def test_call(service):
    with stub_action(service, "get", stack="toy", body={"service": service}):
        assert toy_call(service, "get", {"id": 1}) == {"service": service}
"""


def named(project: pytest.Pytester, *services: str) -> None:
    source = "SERVICES = [" + ", ".join(ascii(s) for s in services) + "]\n" + NAMED_TESTS
    project.makepyfile(test_consumer=source)


def test_names_that_share_a_safe_spelling_get_a_file_each(project: pytest.Pytester) -> None:
    named(project, *COLLIDING)
    result = _run(project)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["rpctest: recorded 4 interaction(s) into 4 consumer contract(s) under out"])
    files = _files(project.path / "out")
    assert len(files) == 4
    by_service = {}
    for name in files:
        contract = fmt.load(project.path / "out" / name)
        [item] = contract.interactions
        assert item.body == {"service": contract.service}  # the real name is inside the file
        by_service[contract.service] = name
    assert sorted(by_service) == sorted(COLLIDING)
    assert by_service["users_v1"] == "consumers/web--toy--users_v1.json"  # a plain name keeps today's file
    for service in ("users/v1", "users v1", "users:v1"):
        assert by_service[service].startswith("consumers/web--toy--users_v1~")


def test_a_long_name_gets_a_short_file_name(project: pytest.Pytester) -> None:
    long_name = "orders." + "x" * 300
    named(project, "users", long_name)
    result = _run(project)
    result.assert_outcomes(passed=2)
    files = _files(project.path / "out")
    assert len(files) == 2
    (long_file,) = [name for name in files if name != "consumers/web--toy--users.json"]
    assert len(Path(long_file).name.encode()) <= 255 - 32  # room for the staging suffix too
    assert fmt.load(project.path / "out" / long_file).service == long_name


@pytest.mark.parametrize(
    "services, body, words",
    [
        (["users", "users\udc80"], "{'service': service}", ["service name 'users\\udc80'", "lone surrogate"]),
        (["orders", "users"], "{'name': 'Ann\\ud800'}", ["web--toy--", "lone surrogate", "/interactions/0/response/body/name"]),
    ],
    ids=["in a name", "in a body"],
)
def test_a_name_or_value_no_file_can_hold_writes_nothing_and_says_which(
    project: pytest.Pytester, services: list[str], body: str, words: list[str]
) -> None:
    named(project, *services)
    source = (project.path / "test_consumer.py").read_text()
    project.makepyfile(test_consumer=source.replace("body={\"service\": service}", f"body={body}").replace(
        "== {\"service\": service}", f"== {body}"))
    before = _files(project.path / "out") if (project.path / "out").exists() else {}
    result = _run(project)
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    line = "\n".join(l for l in result.stdout.lines if l.startswith("rpctest: contracts not written"))
    for word in words:
        assert word in line, (word, result.stdout.str()[-3000:])
    assert "Nothing was written" in line
    assert "UnicodeEncodeError" not in result.stdout.str() + result.stderr.str()
    assert not (project.path / "out").exists() or _files(project.path / "out") == before


def test_names_are_checked_before_anything_is_written(tmp_path: Path) -> None:
    import toystack
    from rpctest.contracts.recorder import Recorder
    from rpctest.model import Call, Interaction, Reply
    from rpctest.stubs.router import StubRouter

    recorder = Recorder("web", router=StubRouter())
    for service in ("aaa", "zzz\ud800"):
        recorder.hear(Interaction(Call("toy", service, "get", {"id": 1}), Reply(body={"ok": True}), source="stub"))
    with pytest.raises(fmt.ContractError) as info:
        recorder.write(tmp_path / "out")
    assert "service name 'zzz\\ud800'" in str(info.value) and "Nothing was written" in str(info.value)
    assert not (tmp_path / "out").exists()
    toystack.unregister()


def test_two_names_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    """They would share one file where the contracts are checked out on macOS or Windows."""
    from rpctest.contracts.recorder import Recorder
    from rpctest.model import Call, Interaction, Reply
    from rpctest.stubs.router import StubRouter

    recorder = Recorder("web", router=StubRouter())
    for service in ("Users", "users"):
        recorder.hear(Interaction(Call("toy", service, "get", None), Reply(body=1), source="stub"))
    with pytest.raises(fmt.ContractError) as info:
        recorder.write(tmp_path / "out")
    assert "'Users' and 'users'" in str(info.value) and "differ only in case" in str(info.value)
    assert not (tmp_path / "out").exists()


def _legacy_file(project: pytest.Pytester, service: str, pages: list[int]) -> Path:
    """A file an older rpctest wrote for ``service`` under its lossy name (``users/v1`` as ``users_v1``)."""
    path = project.path / "out/consumers/web--toy--users_v1.json"
    items = [fmt.RecordedInteraction("get", {"page": n}, {"service": service}) for n in pages]
    return fmt.write(fmt.ConsumerContract("web", "toy", service, items), path)


def test_a_file_an_older_rpctest_named_lossily_moves_to_its_own_name(project: pytest.Pytester) -> None:
    legacy = _legacy_file(project, "users/v1", [7])
    named(project, "users/v1")
    _run(project, "-o", "rpctest_record_mode=merge").assert_outcomes(passed=1)
    [name] = _files(project.path / "out")
    assert name.startswith("consumers/web--toy--users_v1~")
    contract = fmt.load(project.path / "out" / name)
    assert contract.service == "users/v1"
    assert sorted(map(str, (i.request for i in contract.interactions))) == ["{'id': 1}", "{'page': 7}"]  # merged, not lost
    assert not legacy.exists()


def test_a_file_holding_another_services_contract_is_not_overwritten(project: pytest.Pytester) -> None:
    legacy = _legacy_file(project, "users/v1", [7])
    before = legacy.read_text()
    named(project, "users_v1")
    result = _run(project)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["rpctest: contracts not written: *web--toy--users_v1.json: holds the contract of toy:'users/v1'*"])
    assert "web--toy--users_v1~" in result.stdout.str()  # where that contract belongs now
    assert legacy.read_text() == before
    assert sorted(_files(project.path / "out")) == ["consumers/web--toy--users_v1.json"]


# -- two recording runs at once (issue 15, item 5) ---------------------------------------------------

CONCURRENT_CONFTEST = CONFTEST + """
import time
import rpctest.contracts.format as fmt
import rpctest.contracts.recorder as recorder

_load = fmt.load


def slow_load(*args, **kwargs):
    # widen the read-modify-write window of a merge to a second, so that two runs that reach it
    # together are sure to overlap: without a lock each then writes what it read plus its own
    contract = _load(*args, **kwargs)
    time.sleep(1.0)
    return contract


fmt.load = recorder.load = slow_load
"""

CONCURRENT_TESTS = """
import os, time
from pathlib import Path

import pytest
from rpctest import stub_action
from toystack import toy_call

RUN = os.environ["RPCTEST_TEST_RUN"]


@pytest.mark.parametrize("n", range(200))
def test_order(n):
    with stub_action("orders", "list", stack="toy", body={"n": n}):
        toy_call("orders", "list", {"run": RUN, "n": n})


def test_zz_wait_for_the_other_run():
    # both runs end their sessions together, so that their recordings meet
    Path(f"ready-{RUN}").touch()
    other = Path("ready-" + ("b" if RUN == "a" else "a"))
    deadline = time.monotonic() + 120
    while not other.exists():
        assert time.monotonic() < deadline, "the other run never arrived"
        time.sleep(0.01)
"""


def test_two_runs_merging_into_one_directory_at_once_lose_nothing(project: pytest.Pytester) -> None:
    import subprocess
    import sys

    project.makeconftest(CONCURRENT_CONFTEST)
    project.makepyfile(test_consumer="from rpctest import stub_action\nfrom toystack import toy_call\n\n"
                       "def test_seed():\n    with stub_action('orders', 'list', stack='toy', body=0):\n"
                       "        toy_call('orders', 'list', {'run': 'seed'})\n")
    _run(project, "-o", "rpctest_record_mode=merge").assert_outcomes(passed=1)  # the file both runs merge into
    project.makepyfile(test_consumer=CONCURRENT_TESTS)
    argv = [sys.executable, "-m", "pytest", "-p", "rpctest", "-p", "no:cacheprovider", "--rpctest-record",
            "--rpctest-consumer", "web", "--rpctest-contracts-dir", "out", "-o", "rpctest_record_mode=merge"]
    runs = {
        name: subprocess.Popen(argv, cwd=project.path, env={**os.environ, "RPCTEST_TEST_RUN": name},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name in ("a", "b")
    }
    outputs = {name: run.communicate(timeout=300)[0] for name, run in runs.items()}
    for name, run in runs.items():
        assert run.returncode == 0, outputs[name][-3000:]
        assert "201 passed" in outputs[name]
        assert "rpctest: recorded 200 interaction(s) into 1 consumer contract(s) under out" in outputs[name]
    orders = fmt.load(project.path / "out/consumers/web--toy--orders.json")
    runs_seen = sorted(i.request["run"] for i in orders.interactions)
    assert runs_seen == ["a"] * 200 + ["b"] * 200 + ["seed"]


def test_a_run_that_cannot_get_the_lock_says_who_holds_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    from rpctest.contracts.fileset import LOCK_FILE, recording_lock

    directory = tmp_path / "consumers"
    directory.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import filelock, time; l = filelock.FileLock({str(directory / LOCK_FILE)!r}); l.acquire(); "
         "print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(fmt.ContractError) as info:
            with recording_lock(directory, timeout=0.2):
                pass  # pragma: no cover - never reached
        assert info.value.path == directory / LOCK_FILE
        assert "another recording" in info.value.problem and "Nothing was written" in info.value.problem
    finally:
        holder.kill()
        holder.communicate()
    with recording_lock(directory, timeout=5):  # released with its process, however it ended
        pass


def test_without_filelock_recording_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from rpctest.contracts.fileset import recording_lock

    monkeypatch.setitem(sys.modules, "filelock", None)
    with pytest.raises(fmt.ContractError, match="pip install 'filelock>=3.12'"):
        with recording_lock(tmp_path):
            pass  # pragma: no cover - never reached


# -- a run killed while it writes (issue 15, item 6) ---------------------------------------------------

KILL_BETWEEN_RENAMES = CONFTEST + """
import os, signal
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    # the run is killed (SIGKILL: nothing runs after it) just before its second contract file is
    # renamed into place, as a CI job cancelled at the wrong moment would be
    real_replace = os.replace
    renamed = []

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith(".json"):
            renamed.append(dst)
            if len(renamed) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst, *args, **kwargs)

    os.replace = replace
"""


def test_a_run_killed_between_two_renames_is_reported_then_completed(project: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    from rpctest.cli import main

    _run(project).assert_outcomes(passed=9)
    out = project.path / "out"
    old = _files(out)
    project.makepyfile(test_consumer=CONSUMER_TESTS.replace('"id": 1}', '"id": 2}').replace('{"page": n}', '{"page": n + 100}'))
    conftest = project.path / "conftest.py"
    conftest.write_text(KILL_BETWEEN_RENAMES)
    killed = _run(project)
    assert killed.ret == -9
    mixed = _files(out)
    assert len(mixed) == 2 and mixed != old  # one file of the new run is in place...
    assert set(mixed.items()) & set(old.items())  # ...and one of the old run

    # verify and serve refuse the mixed set, say which files are which and what to do
    for argv in (["contracts", "verify", str(out)], ["serve", "--stack", "toy", str(out)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "interrupted recording" in err and "mixes two runs" in err, err
        assert "web--toy--orders.json" in err and "web--toy--users.json" in err
        assert "record again" in err

    # the next recording run completes the interrupted one first, then records
    conftest.write_text(CONFTEST)
    completing = _run(project, "-k", "many", "-o", "rpctest_record_mode=merge")
    completing.assert_outcomes(passed=6, deselected=3)
    completing.stdout.fnmatch_lines(["rpctest: completed an interrupted recording first (1 file(s) of a run that was killed while writing)"])
    users = fmt.load(out / "consumers/web--toy--users.json")
    assert {str(i.request) for i in users.interactions} == {"{'id': 2}", "{'id': -1}"}  # the killed run's file
    assert main(["contracts", "verify", str(out)]) == 1  # no provider contracts: findings, but a usable set
    assert sorted(p.name for p in (out / "consumers").iterdir()) == [".rpctest.lock", "web--toy--orders.json", "web--toy--users.json"]


def test_an_unreadable_file_at_a_legacy_spelling_does_not_block_another_contract(tmp_path: Path) -> None:
    """``users_v1``'s own file is ``users/v1``'s old spelling: corrupt, it is ``users_v1``'s concern
    (named when that contract is merged), not a reason to refuse ``users/v1``."""
    from rpctest.contracts.recorder import Recorder
    from rpctest.model import Call, Interaction, Reply
    from rpctest.stubs.router import StubRouter

    corrupt = tmp_path / "out/consumers/web--toy--users_v1.json"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_text('{"rpctest_contract": 1, "kind": ')
    recorder = Recorder("web", router=StubRouter())
    recorder.hear(Interaction(Call("toy", "users/v1", "get", None), Reply(body=1), source="stub"))
    [written] = recorder.write(tmp_path / "out", mode="merge")
    assert written.name.startswith("web--toy--users_v1~") and fmt.load(written).service == "users/v1"
    assert corrupt.read_text() == '{"rpctest_contract": 1, "kind": '
