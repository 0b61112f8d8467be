"""A recording's files as one set (rpctest.contracts.fileset): staged, journaled, renamed; a crash at
any point leaves the old set whole or a journal that completes the new one, and readers refuse a set
that mixes two runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from rpctest.contracts import fileset
from rpctest.contracts import format as fmt
from rpctest.contracts.fileset import JOURNAL, check_complete, commit, recover


def contents(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(directory.iterdir())}


@pytest.fixture
def old_set(tmp_path: Path) -> Path:
    (tmp_path / "a.json").write_text("old a")
    (tmp_path / "b.json").write_text("old b")
    return tmp_path


def test_a_commit_writes_every_file_and_leaves_nothing_else(old_set: Path) -> None:
    written = commit(old_set, {old_set / "a.json": "new a", old_set / "c.json": "new c"}, [old_set / "b.json"])
    assert written == [old_set / "a.json", old_set / "c.json"]
    assert contents(old_set) == {"a.json": "new a", "c.json": "new c"}


def test_a_failure_while_staging_writes_nothing(old_set: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Disk full, a quota, an I/O error on the second file: the first one's staged copy goes too."""
    real = fileset.write_new_file
    calls: list[Path] = []

    def fail_second(path: Path, text: str, *, like: Path) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, text, like=like)

    monkeypatch.setattr(fileset, "write_new_file", fail_second)
    with pytest.raises(OSError, match="No space left"):
        commit(old_set, {old_set / "a.json": "new a", old_set / "b.json": "new b"})
    assert contents(old_set) == {"a.json": "old a", "b.json": "old b"}


def interrupted(directory: Path, monkeypatch: pytest.MonkeyPatch, renames: int) -> None:
    """A commit of new a and b that stops (as if killed) after ``renames`` renames into place."""
    done: list[Any] = []
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        if str(dst).endswith(".json"):
            if len(done) == renames:
                raise KeyboardInterrupt  # stands for the kill: nothing after it runs
            done.append(dst)
        real(src, dst)

    monkeypatch.setattr(fileset.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        commit(directory, {directory / "a.json": "new a", directory / "b.json": "new b"})
    monkeypatch.undo()


def test_an_interrupted_commit_is_refused_by_readers_then_completed(old_set: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    interrupted(old_set, monkeypatch, renames=1)
    assert (old_set / "a.json").read_text() == "new a" and (old_set / "b.json").read_text() == "old b"
    with pytest.raises(fmt.ContractError) as info:
        check_complete(old_set)
    assert info.value.path == old_set
    assert "a.json is from it, b.json still from an earlier run" in info.value.problem
    assert recover(old_set) == [old_set / "b.json"]
    check_complete(old_set)
    assert contents(old_set) == {"a.json": "new a", "b.json": "new b"}
    assert recover(old_set) == []  # nothing left to do


def test_a_commit_killed_before_its_journal_leaves_the_old_set_whole(old_set: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = fileset.write_text_atomic

    def killed(path: Path, text: str) -> Path:
        if path.name == JOURNAL:
            raise KeyboardInterrupt
        return real(path, text)  # pragma: no cover - only the journal goes through here

    monkeypatch.setattr(fileset, "write_text_atomic", killed)
    with pytest.raises(KeyboardInterrupt):
        commit(old_set, {old_set / "a.json": "new a"})
    monkeypatch.undo()
    check_complete(old_set)  # nothing is mixed
    (old_set / f".{JOURNAL}.0123abcd.tmp").write_text("a journal cut short")
    assert recover(old_set) == []
    assert contents(old_set) == {"a.json": "old a", "b.json": "old b"}  # and the staged copy is gone


def test_a_commit_killed_after_its_last_rename_is_a_complete_set(old_set: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_unlink = Path.unlink

    def keep_journal(self: Path, missing_ok: bool = False) -> None:
        if self.name == JOURNAL:
            raise KeyboardInterrupt
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", keep_journal)
    with pytest.raises(KeyboardInterrupt):
        commit(old_set, {old_set / "a.json": "new a", old_set / "b.json": "new b"})
    monkeypatch.undo()
    assert (old_set / JOURNAL).exists()
    check_complete(old_set)
    assert recover(old_set) == []
    assert contents(old_set) == {"a.json": "new a", "b.json": "new b"}


@pytest.mark.parametrize(
    "journal",
    ["{not json", json.dumps({"run": "x", "files": [{"file": "../elsewhere.json", "staged": ".x.stage"}], "remove": []}),
     json.dumps({"run": "x", "files": [], "remove": ["/etc/passwd"]}), json.dumps([])],
)
def test_a_journal_that_is_not_rpctests_is_named_and_never_followed(tmp_path: Path, journal: str) -> None:
    (tmp_path / JOURNAL).write_text(journal)
    (tmp_path / ".x.stage").write_text("staged")
    for action in (check_complete, recover):
        with pytest.raises(fmt.ContractError) as info:
            action(tmp_path)
        assert info.value.path == tmp_path / JOURNAL
        assert "delete it and record again" in info.value.problem
    assert not (tmp_path.parent / "elsewhere.json").exists()


def test_load_many_checks_the_set_of_a_single_file_too(old_set: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    interrupted(old_set, monkeypatch, renames=1)
    for target in (old_set, old_set / "a.json"):
        with pytest.raises(fmt.ContractError, match="mixes two runs"):
            fmt.load_many([target])
