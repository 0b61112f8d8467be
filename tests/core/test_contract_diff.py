"""``rpctest contracts diff``: the classification table, consumer-aware verdicts, git revisions, the CLI."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest
from diff_cases import OPERATION, ROWS, Row, classified, contract, versions

from rpctest.cli import main
from rpctest.contracts import format as fmt
from rpctest.contracts.diff import diff, load_provider
from rpctest.contracts.format import ConsumerContract, RecordedInteraction
from rpctest.exceptions import ConfigError


def test_the_table_has_at_least_30_changes() -> None:
    assert len([row for row in ROWS if row.expected]) >= 30


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_each_change_is_classified_by_its_rule(row: Row) -> None:
    old, new = versions(row)
    assert classified(contract(old), contract(new)) == row.expected


def test_breaking_changes_fail_and_others_pass() -> None:
    old, new = versions(next(r for r in ROWS if r.id == "request maximum lowered"))
    assert diff(contract(old), contract(new)).exit_code == 1
    old, new = versions(next(r for r in ROWS if r.id == "request maximum raised"))
    report = diff(contract(old), contract(new))
    assert report.exit_code == 0 and [f.severity for f in report.findings] == ["info"]


def test_two_different_services_are_refused() -> None:
    with pytest.raises(ConfigError, match="OLD is neutral:svc and NEW is neutral:other"):
        diff(contract({}), contract({}, service="other"))


# -- consumer-aware -----------------------------------------------------------------------------


def _consumer(*items: RecordedInteraction, name: str = "web") -> ConsumerContract:
    return ConsumerContract(name, "neutral", "svc", list(items), Path(f"contracts/consumers/{name}--neutral--svc.json"))


def _diff_with(change: str, *items: RecordedInteraction):
    old, new = versions(next(r for r in ROWS if r.id == change))
    return diff(contract(old), contract(new), [_consumer(*items)])


def test_a_breaking_change_no_consumer_uses_is_a_warning() -> None:
    # the consumer sends a short name: the lower maxLength still accepts it
    report = _diff_with("request maxLength lowered", RecordedInteraction("op", {"name": "ann"}, {"id": 1, "name": "ann"}, tests=["t.py::test_a"]))
    (finding,) = report.findings
    assert finding.severity == "warning" and report.exit_code == 0
    assert "no recorded consumer interaction relies on it" in finding.message


def test_a_breaking_change_a_consumer_relies_on_is_an_error_naming_it() -> None:
    report = _diff_with(
        "request maxLength lowered",
        RecordedInteraction("op", {"name": "ann"}, {"id": 1, "name": "ann"}, tests=["t.py::test_short"]),
        RecordedInteraction("op", {"name": "x" * 30}, {"id": 2, "name": "x"}, tests=["t.py::test_long"]),
    )
    (finding,) = report.findings
    assert finding.severity == "error" and report.exit_code == 1
    assert finding.consumer == "web" and finding.interaction == 1 and finding.tests == ["t.py::test_long"]
    text = report.render("text")
    assert "web interaction #1 (contracts/consumers/web--neutral--svc.json)" in text
    assert "recorded by: t.py::test_long" in text


@pytest.mark.parametrize(
    ("change", "sent", "body", "error"),
    [
        ("request field added as required", {"name": "a"}, {"id": 1, "name": "a"}, True),  # does not send team
        ("request field added as required", {"name": "a", "team": "x"}, {"id": 1, "name": "a"}, False),
        ("request field removed, unknown fields refused", {"name": "a", "score": 1.5}, {"id": 1, "name": "a"}, True),
        ("request field removed, unknown fields refused", {"name": "a"}, {"id": 1, "name": "a"}, False),
        ("request enum narrowed", {"name": "a", "role": "admin"}, {"id": 1, "name": "a"}, True),
        ("request enum narrowed", {"name": "a", "role": "user"}, {"id": 1, "name": "a"}, False),
        ("request array item narrowed", {"name": "a", "tags": ["x" * 11]}, {"id": 1, "name": "a"}, True),
        ("request maximum lowered", {"name": "a", "age": 120}, {"id": 1, "name": "a"}, True),
        # a value the OLD schema refused already (a consumer testing the rejection): the narrowing changes nothing for it
        ("request maximum lowered", {"name": "a", "age": -1}, {"id": 1, "name": "a"}, False),
        ("response field removed", {"name": "a"}, {"id": 1, "name": "a", "nick": "n"}, True),  # the stub gave nick
        ("response field removed", {"name": "a"}, {"id": 1, "name": "a"}, False),
        ("response array item field removed", {"name": "a"}, {"id": 1, "name": "a", "items": [{"sku": "s"}]}, True),
        ("response enum widened", {"name": "a"}, {"id": 1, "name": "a", "status": "gone"}, True),
        ("error code added", {"name": "a"}, {"id": 1, "name": "a"}, True),
        ("operation removed", {"name": "a"}, {"id": 1, "name": "a"}, True),
    ],
)
def test_whether_a_recorded_interaction_relies_on_a_change(change: str, sent: dict, body: dict, error: bool) -> None:
    report = _diff_with(change, RecordedInteraction("op", sent, body, tests=["t.py::test_it"]))
    breaking = [f for f in report.findings if f.change.breaking]
    assert [f.severity for f in breaking] == ["error" if error else "warning"]


def test_a_consumer_of_another_service_is_not_counted() -> None:
    old, new = versions(next(r for r in ROWS if r.id == "operation removed"))
    other = ConsumerContract("web", "neutral", "elsewhere", [RecordedInteraction("op", {}, {})])
    report = diff(contract(old), contract(new), [other])
    assert [f.severity for f in report.findings] == ["warning"] and report.interactions == 0


# -- OLD and NEW from files and git ---------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True, capture_output=True, timeout=30)


def test_old_read_from_a_git_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    (repo / "contracts/providers").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    target = repo / "contracts/providers/neutral--svc.json"
    fmt.write(contract({"op": OPERATION}), target)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "v1")
    changed = copy.deepcopy(OPERATION)
    changed["errors"] = ["DUPLICATE", "QUOTA"]
    fmt.write(contract({"op": changed}), target)  # the working tree: NEW
    monkeypatch.chdir(repo)
    assert load_provider("git:main:contracts/providers/neutral--svc.json").operations["op"].errors == ["DUPLICATE"]
    code = main(["contracts", "diff", "git:main:contracts/providers/neutral--svc.json", "contracts/providers/neutral--svc.json"])
    out = capsys.readouterr().out
    assert code == 1
    assert "ERROR [error_code_added] neutral:svc operation 'op' (git:main:contracts/providers/neutral--svc.json -> contracts/providers/neutral--svc.json)" in out
    assert main(["contracts", "diff", "git:main:contracts/providers/neutral--svc.json", "git:HEAD:contracts/providers/neutral--svc.json"]) == 0
    assert "0 breaking change(s), 0 warning(s), 0 other change(s)" in capsys.readouterr().out
    # an annotation goes on the file as the repository names it, not on the git:REF:PATH spelling
    assert main(["contracts", "diff", "git:main:contracts/providers/neutral--svc.json", "git:HEAD~0:contracts/providers/neutral--svc.json",
                 "--format", "github"]) == 0
    fmt.write(contract({"op": changed}), target)
    _git(repo, "commit", "-qam", "v2")
    assert main(["contracts", "diff", "git:HEAD~1:contracts/providers/neutral--svc.json", "git:HEAD:contracts/providers/neutral--svc.json",
                 "--format", "github"]) == 1
    assert "::error file=contracts/providers/neutral--svc.json,title=rpctest error_code_added::" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("git:nope:contracts/x.json", "cannot read git:nope:contracts/x.json: fatal: invalid object name 'nope'"),
        ("git:main:missing.json", "cannot read git:main:missing.json"),
        ("git:main", "a revision is written git:REF:PATH"),
    ],
)
def test_bad_git_revisions_are_usage_errors(spec: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "f").write_text("x")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "one")
    monkeypatch.chdir(tmp_path)
    assert main(["contracts", "diff", spec, spec]) == 2
    assert message in capsys.readouterr().err


def test_a_consumer_contract_as_old_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = fmt.write(_consumer(), tmp_path / "c.json")
    assert main(["contracts", "diff", str(path), str(path)]) == 2
    assert "is a consumer contract; diff compares provider contracts" in capsys.readouterr().err


def test_no_new_and_no_provider_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = fmt.write(contract({"op": OPERATION}), tmp_path / "p.json")
    assert main(["contracts", "diff", str(path)]) == 2
    assert "needs NEW, or --provider" in capsys.readouterr().err


# -- formats ---------------------------------------------------------------------------------------------


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    old, new = versions(next(r for r in ROWS if r.id == "request enum narrowed"))
    new["op"]["errors"].append("QUOTA")
    consumer = _consumer(RecordedInteraction("op", {"name": "a", "role": "admin"}, {"id": 1, "name": "a"}, tests=["t.py::test_admin"]))
    fmt.write(consumer, tmp_path / "consumers/web--neutral--svc.json")
    return fmt.write(contract(old), tmp_path / "old.json"), fmt.write(contract(new), tmp_path / "new.json"), tmp_path / "consumers"


@pytest.mark.parametrize("form", ["json", "junit", "github", "text"])
def test_every_format(form: str, two_files: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new, consumers = two_files
    out_file = tmp_path / f"report.{form}"
    code = main(["contracts", "diff", str(old), str(new), "--consumers", str(consumers), "--format", form, "-o", str(out_file)])
    assert code == 1
    assert "rpctest contracts diff FAILED: 2 breaking change(s)" in capsys.readouterr().err
    text = out_file.read_text()
    if form == "json":
        data = json.loads(text)
        assert data["ok"] is False and data["summary"]["breaking"] == 2 and data["summary"]["interactions"] == 1
        enum = next(f for f in data["findings"] if f["check"] == "request_enum_narrowed")
        assert enum["pointer"] == "/request/role" and enum["consumer"] == "web" and enum["tests"] == ["t.py::test_admin"]
    elif form == "junit":
        from xml.etree import ElementTree as ET

        suite = ET.fromstring(text)
        assert suite.get("name") == "rpctest.contracts.diff" and suite.get("tests") == "1" and suite.get("failures") == "1"
        assert suite.find("testcase").get("name") == "op"
    elif form == "github":
        assert f"::error file={new},title=rpctest request_enum_narrowed::" in text
    else:
        assert "    old:      [\"admin\", \"user\"]" in text and "    new:      [\"user\"]" in text
