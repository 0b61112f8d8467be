"""Every fuzz run has a seed: it is chosen when none is given, reported, stored in replay files,
and the same seed draws the same cases again (for the same source tree: Hypothesis also draws
literals it mines from the code it runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rpctest.contracts import format as fmt
from rpctest.model import Call, Reply, RpcError

from toystack import toy  # noqa: F401  (a fixture)

REQUEST = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["name"],
}


def _run(seed: int | None, replay_dir: Path | None = None, fail: bool = False) -> tuple[Any, list[Any]]:
    from hypothesis import settings

    from rpctest.fuzz.engine import Target, fuzz

    sent: list[Any] = []

    def send(call: Call) -> Reply:
        sent.append(json.dumps(call.body, sort_keys=True, default=repr))
        if fail and isinstance(call.body, dict) and call.body.get("age", 0) > 3:
            return Reply(errors=[RpcError("BOOM", "age is too high", kind="server_error")])
        return Reply(body={})

    contract = fmt.ProviderContract("toy", "users", {"add": fmt.OperationSpec("add", request=REQUEST, response={}, errors=["BAD"])})
    report = fuzz(Target("toy", contract, send), mode="positive", max_examples=30, unknown_operation=False, seed=seed,
                  replay_dir=replay_dir, settings=settings(settings.default, database=None, derandomize=False))
    return report, sent


def test_the_same_seed_draws_the_same_cases_and_another_seed_others(toy: Any) -> None:
    _run(0)  # in one process, only once every module a run imports is loaded (Hypothesis mines their literals)
    first, cases = _run(1234)
    again, same = _run(1234)
    _, other = _run(4321)
    assert len(cases) >= 10
    assert same == cases
    assert other != cases
    assert first.seed == again.seed == 1234
    assert [r.seed for r in first.results] == [1234]


def test_a_run_without_a_seed_chooses_one_and_says_how_to_rerun_it(toy: Any) -> None:
    _run(0)
    report, cases = _run(None)
    assert isinstance(report.seed, int)
    again, same = _run(report.seed)
    assert same == cases
    assert f"seed {report.seed} (rerun with --seed {report.seed})" in report.render("text")
    other, _ = _run(None)
    assert other.seed != report.seed  # chosen afresh each run


def test_a_failure_carries_the_seed_into_its_report_and_replay_file(toy: Any, tmp_path: Path) -> None:
    report, _ = _run(99, replay_dir=tmp_path, fail=True)
    [result] = report.results
    assert result.failure is not None
    assert "seed:            99 (the same run again: --seed 99" in result.failure.render()
    assert result.failure.replay_file is not None
    assert json.loads(result.failure.replay_file.read_text())["seed"] == 99


def test_derandomize_keeps_hypothesis_own_seed(toy: Any) -> None:
    from hypothesis import settings

    from rpctest.fuzz.engine import choose_seed

    assert choose_seed(settings(derandomize=True)) is None
    assert choose_seed(settings(derandomize=True), 5) == 5
    assert isinstance(choose_seed(settings(derandomize=False)), int)  # (Hypothesis' ci profile derandomizes)




def test_the_cli_prints_the_seed_first_and_reproduces_a_run(tmp_path: Path) -> None:
    """Run for run, in fresh processes as a user reruns it: the same seed, the same cases."""
    import subprocess
    import sys

    import toystack

    def run(*extra: str) -> tuple[str, list[str]]:
        argv = ["fuzz", "--stack", "toy", "--address", "toy://x", "--max-examples", "20", "--mode", "positive",
                "--replay-dir", str(tmp_path), *extra]
        done = subprocess.run([sys.executable, str(Path(toystack.__file__).parent / "toy_cli.py"), json.dumps(REQUEST), *argv],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stderr, json.loads(done.stdout.splitlines()[-1])

    err, first = run()
    seed = int(err.split("seed: ", 1)[1].split()[0])
    assert f"seed: {seed} — rerun with --seed {seed}" in err
    assert len(first) >= 10
    err_again, again = run("--seed", str(seed))
    assert f"seed: {seed} — rerun with --seed {seed}" in err_again
    assert again == first
    _, other = run("--seed", str(seed + 1))
    assert other != first


FUZZ_TESTS = """
import pytest
import toystack
from rpctest.fuzz import fuzz_tests
from rpctest.model import Reply, RpcError

toystack.register()


@pytest.fixture
def toy_target():
    def send(call):
        if call.operation != "add":
            return Reply(errors=[RpcError("NOPE", "no such operation", kind="not_found")])
        if isinstance(call.body, dict) and isinstance(call.body.get("age"), int) and call.body["age"] > 3:
            return Reply(errors=[RpcError("BOOM", "age is too high", kind="server_error")])
        return Reply(body={})
    return send


pytestmark = pytest.mark.rpc_fuzz(max_examples=30, mode="positive")
test_fuzz = fuzz_tests("toy", contract=CONTRACT, target_fixture="toy_target", unknown_operation=False)
"""


def test_a_failing_fuzz_item_names_its_seed_and_hypothesis_seed_reruns_it(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import toystack

    contract = tmp_path / "toy.json"
    fmt.write(fmt.ProviderContract("toy", "users", {"add": fmt.OperationSpec("add", request=REQUEST, response={}, errors=["BAD"])}), contract)
    monkeypatch.setenv("PYTHONPATH", str(Path(toystack.__file__).parent))
    pytester.makepyfile(FUZZ_TESTS.replace("CONTRACT", repr(str(contract))))
    # under CI=true Hypothesis loads its ci profile, which derandomizes: the report says so instead of a seed
    monkeypatch.setenv("CI", "true")
    derandomized = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider")
    derandomized.assert_outcomes(failed=1)
    assert "seed:            none: derandomized (Hypothesis' derandomize setting" in derandomized.stdout.str()
    monkeypatch.delenv("CI")
    first = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider")
    first.assert_outcomes(failed=1)
    text = first.stdout.str()
    seed = int(text.split("seed:", 1)[1].split()[0])
    assert f"(the same run again: --seed {seed}, or --hypothesis-seed={seed} under pytest)" in text
    again = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", f"--hypothesis-seed={seed}")
    again.assert_outcomes(failed=1)
    assert f"seed:            {seed} " in again.stdout.str()


@pytest.mark.parametrize("option", ["--junit", "--json", "-o"])
def test_a_report_path_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path, option: str) -> None:
    """``--junit DIR`` used to fail after the whole run, at the write, and the run's findings were
    never shown; the paths are checked first (exit 2, nothing sent), so no run is lost to a typo."""
    import subprocess
    import sys

    import toystack

    argv = ["fuzz", "--stack", "toy", "--address", "toy://x", "--max-examples", "5", "--mode", "positive", option, str(tmp_path)]
    done = subprocess.run([sys.executable, str(Path(toystack.__file__).parent / "toy_cli.py"), json.dumps(REQUEST), *argv],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"rpctest: error: cannot write {tmp_path}: it is a directory" in done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []  # no case was sent
