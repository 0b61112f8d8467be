"""``rpctest report --html`` (issue 20 item 6): the coverage matrix of a contracts directory and the
last stored runs, as one self-contained HTML file, read back with a real HTML parser."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rpctest import cli
from rpctest.contracts.live import verify_live
from rpctest.contracts import format as fmt
from rpctest.fuzz.engine import FuzzReport, OperationResult
from rpctest.model import Call, ErrorKind, Reply, RpcError
from rpctest.report.escape import printable
from rpctest.report.state import load, store
from report_html_helpers import (
    HOSTILE_CODE,
    HOSTILE_CONSUMER,
    HOSTILE_MESSAGE,
    HOSTILE_OPERATION,
    HOSTILE_TEST,
    hostile_project,
    matrix,
    read_page,
    run_table,
)
from toystack import ToyAdapter, toy  # noqa: F401 - toy is a fixture

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"


def _report(out: Path, state: Path, *paths: Path) -> str:
    assert cli.main(["report", "--html", str(out), "--state-dir", str(state), *map(str, paths)]) == 0
    return out.read_text(encoding="utf-8")


def _live_run_of_the_pysoa_users(state: Path) -> None:
    """A live verification of the repository's PySOA consumer contract against a provider (a stand-in
    sender: the stored run, not the stack, is under test here) that answers NOT_FOUND to everything."""
    contracts = fmt.load_many([CONTRACTS])

    def send(call: Call) -> Reply:
        return Reply(errors=[RpcError("NOT_FOUND", "no such user", kind=ErrorKind.CALLER_ERROR)])

    report = verify_live(contracts, send, stack="pysoa", service="users")
    store(report.run_report(), state)


def test_the_repositorys_own_contracts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _live_run_of_the_pysoa_users(state)
    fuzz = FuzzReport("pysoa", "users", [OperationResult("get_user", "all", examples=9, codes=["NOT_FOUND", "INVALID"]),
                                         OperationResult("create_user", "all", examples=9, codes=["SERVER_ERROR"])])
    store(fuzz.run_report(), state)
    html = _report(tmp_path / "report.html", state, CONTRACTS)
    page = read_page(tmp_path / "report.html")
    users = matrix(page, "pysoa:users")
    get_not_found = users[("get_user", "NOT_FOUND")]
    assert get_not_found["provider declares"].css == "ok"
    assert get_not_found["consumers stub"].text == "rpctest-examples" and get_not_found["consumers stub"].css == "ok"
    assert "examples/pysoa/test_consumer.py::test_profile_line" in get_not_found["consumers (tests)"].text
    assert (get_not_found["fuzzer produced"].text, get_not_found["fuzzer produced"].css) == ("seen", "ok")
    assert (get_not_found["live verification saw"].text, get_not_found["live verification saw"].css) == ("seen", "ok")
    # INVALID is PySOA's own code (the stack answers it for any operation), produced by the fuzzer only
    invalid = users[("get_user", "INVALID")]
    assert invalid["provider declares"].css == "own" and invalid["consumers stub"].text == "—"
    assert invalid["live verification saw"].text == "not seen"
    # the provider declares DUPLICATE; no consumer stubs it: a gap
    duplicate = users[("create_user", "DUPLICATE")]
    assert (duplicate["consumers stub"].css, duplicate["fuzzer produced"].text) == ("gap", "not seen")
    # an operation the fuzz run did not cover says so, not "not seen"
    assert users[("list_users", "NOT_FOUND")]["fuzzer produced"].css == "unknown"
    # other services: no run of either kind covers them
    shop = matrix(page, "kyoukai:shop")
    assert all(row["fuzzer produced"].css == "unknown" and row["live verification saw"].css == "unknown"
               for key, row in shop.items() if key[1] != "no error codes known")
    assert {key[0] for key in shop} == set(json.loads((CONTRACTS / "providers/kyoukai--shop.json").read_text())["operations"])
    # the last runs: verify and fuzz stored, framing and diff not
    assert {"rpctest contracts verify", "rpctest fuzz", "rpctest fuzz --framing", "rpctest contracts diff"} <= set(page.titles)
    assert "No stored run: run rpctest fuzz --framing" in " ".join("".join(page.text).split())
    assert "No stored run: run rpctest contracts diff OLD NEW" in " ".join("".join(page.text).split())
    verify_findings = run_table(page, "rpctest contracts verify")
    assert {row[1].text for row in verify_findings} >= {"live_unexpected_error"}
    # self-contained: nothing to fetch, nothing to run
    assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
    assert not re.search(r"\s(src|href)=", html) and "url(" not in html and "@import" not in html


def test_hostile_names_are_shown_never_run(tmp_path: Path) -> None:
    contracts = hostile_project(tmp_path)
    html = _report(tmp_path / "report.html", tmp_path / "state", contracts)
    page = read_page(tmp_path / "report.html")
    assert not {"script", "img", "iframe", "b"} & set(page.tags), "markup from a contract or a run became markup"
    assert "\x00" not in html and "\x01" not in html
    rows = matrix(page, "toy:evil<svc>")
    hostile = rows[(HOSTILE_OPERATION, HOSTILE_CODE)]
    assert hostile["consumers stub"].text == " ".join(HOSTILE_CONSUMER.split())
    assert printable(HOSTILE_TEST) in hostile["consumers (tests)"].text
    assert hostile["provider declares"].css == "ok" and hostile["fuzzer produced"].css == "ok"
    # a code the fuzzer got that the provider does not declare: a contradiction
    assert rows[(HOSTILE_OPERATION, "<BOOM>")]["fuzzer produced"].css == "bad"
    # a consumer calls an operation the provider does not have
    assert rows[("<b>undeclared</b>", "no error codes known")]["operation"].css == "bad"
    [finding] = run_table(page, "rpctest fuzz")
    assert finding[1].text == "<check>" and finding[3].text == " ".join(printable(HOSTILE_MESSAGE).split())


def test_no_runs_stored_says_so_for_each_command(tmp_path: Path) -> None:
    _report(tmp_path / "report.html", tmp_path / "empty", CONTRACTS)
    text = " ".join("".join(read_page(tmp_path / "report.html").text).split())
    assert text.count("No stored run") == 4


def test_verify_fuzz_and_diff_store_their_last_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RPCTEST_STATE_DIR", str(tmp_path))
    assert cli.main(["contracts", "verify", str(CONTRACTS)]) == 0
    capsys.readouterr()
    provider = CONTRACTS / "providers/pysoa--users.json"
    assert cli.main(["contracts", "diff", str(provider), str(provider), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### :white_check_mark: rpctest contracts diff passed")
    verify, diff = load("verify"), load("diff")
    assert verify is not None and verify["command"] == "verify" and verify["ok"] is True and verify["stored_at"]
    assert diff is not None and diff["command"] == "diff"
    assert load("fuzz") is None


def test_a_stored_run_that_is_not_one_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "last").mkdir()
    (tmp_path / "last" / "fuzz.json").write_text("{not json", encoding="utf-8")
    code = cli.main(["report", "--html", str(tmp_path / "r.html"), "--state-dir", str(tmp_path), str(CONTRACTS)])
    err = capsys.readouterr().err
    assert code == 2 and "fuzz.json: not JSON" in err and "run the command again to replace it" in err
    assert not (tmp_path / "r.html").exists()


def test_report_needs_html(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report"]) == 2
    assert "--html" in capsys.readouterr().err


def test_keeping_a_run_never_costs_the_verdict(tmp_path: Path) -> None:
    """A diff needs no configuration: a broken [tool.rpctest] table, or a state directory that cannot
    be written, costs a warning, not the diff's exit status (a real process in a project of its own)."""
    provider = str(CONTRACTS / "providers/pysoa--users.json")
    (tmp_path / "pyproject.toml").write_text("[tool.rpctest]\ncontracts_dir = 5\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "RPCTEST_STATE_DIR"}
    command = [sys.executable, "-m", "rpctest", "contracts", "diff", provider, provider]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "could not keep this run for rpctest report" in done.stderr, done
    assert "contracts_dir" in done.stderr and not (tmp_path / ".rpctest").exists()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the state directory would be", encoding="utf-8")
    done = subprocess.run(command, cwd=tmp_path, env={**env, "RPCTEST_STATE_DIR": str(blocked)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done
    assert f"could not keep this run for rpctest report in {blocked / 'last' / 'diff.json'}" in done.stderr


@pytest.mark.parametrize("where", ["a directory", "under a file"])
def test_an_output_path_that_cannot_be_a_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """``--html DIR`` (or a path under a regular file) is the user's mistake: exit 2 naming the path and
    what to give instead, not an internal error with a traceback; and nothing already there is lost."""
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    out = tmp_path if where == "a directory" else tmp_path / "keep.txt" / "r.html"
    code = cli.main(["report", "--html", str(out), "--state-dir", str(tmp_path / "state"), str(CONTRACTS)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    assert f"rpctest: error: cannot write {out}" in err
    assert "give the path of a file" in err
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
