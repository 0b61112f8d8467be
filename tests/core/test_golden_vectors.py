"""The golden vectors ship in ``tests/golden`` and stay the bytes that were captured.

The stacks' codec, client and stub-server tests all load their expectations from ``tests/golden``
(through ``tests/vectors.py``), so a fresh clone tests wire compatibility with nothing beside it.
The vectors were captured outside the repository, into ``../shared/vectors``; where that capture
directory sits beside the repository, the copy here must be the same files with the same bytes, or
a recapture was not copied in (or a vector was edited by hand). No stack library is needed here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import vectors  # tests/vectors.py, on sys.path via the pytest pythonpath setting

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
#: where the vectors were captured; only this test reads it, and it skips when it is absent
CAPTURE = REPO.parent / "shared" / "vectors"

#: every stack has at least these families, named as the stacks' tests load them
FAMILIES = {
    "pysoa": {"calls", "errors", "expiry_framing"},
    "pykern": {"calls", "errors", "subscriptions", "framing"},
    "zerojson": {"calls", "errors", "auth", "sessions", "introspect_attachments", "framing"},
    "kyoukai": {"calls", "errors", "framing", "routes"},
    "asyncaproto": {"calls", "dispatch_errors", "framing"},
}


def json_files(root: Path) -> dict[str, bytes]:
    """``<stack>/<family>.json`` -> bytes for every vector file under ``root``."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.glob("*/*.json"))}


def differences(ours: Path, theirs: Path) -> list[str]:
    """How the vector files under ``ours`` differ from those under ``theirs``, one line each."""
    mine, other = json_files(ours), json_files(theirs)
    lines = [f"{name}: only in {theirs}" for name in sorted(other.keys() - mine.keys())]
    lines += [f"{name}: only in {ours}" for name in sorted(mine.keys() - other.keys())]
    lines += [
        f"{name}: bytes differ ({len(mine[name])} here, {len(other[name])} there)"
        for name in sorted(mine.keys() & other.keys())
        if mine[name] != other[name]
    ]
    return lines


def test_the_repository_copy_is_the_capture() -> None:
    if not CAPTURE.is_dir():
        pytest.skip(f"no capture directory at {CAPTURE}: nothing to compare tests/golden with (a fresh clone)")
    found = differences(GOLDEN, CAPTURE)
    assert not found, "tests/golden differs from the captured vectors; copy the capture in:\n" + "\n".join(found)


def test_differences_names_missing_extra_and_changed_files(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for root, files in ((ours, {"a/same": b"1", "a/changed": b"22", "a/extra": b"x"}),
                        (theirs, {"a/same": b"1", "a/changed": b"2", "b/missing": b"y"})):
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / f"{name}.json").write_bytes(data)
    (theirs / "README.md").write_text("not a vector file")
    assert differences(ours, theirs) == [
        f"b/missing.json: only in {theirs}",
        f"a/extra.json: only in {ours}",
        "a/changed.json: bytes differ (2 here, 1 there)",
    ]
    assert differences(theirs, theirs) == []


def test_the_vectors_load_from_the_repository_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(vectors.ENV_VAR, raising=False)
    assert vectors.vectors_dir() == GOLDEN == vectors.DEFAULT_DIR
    on_disk = {stack: {p.stem for p in (GOLDEN / stack).glob("*.json")} for stack in FAMILIES}
    assert on_disk == FAMILIES
    for stack, families in FAMILIES.items():
        for family in families:
            data = vectors.load(stack, family)  # checks format, stack and family
            assert data["vectors"] and data["peer"], f"{stack}/{family}"


def test_the_override_still_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pykern").mkdir()
    data = {"format": vectors.FORMAT, "stack": "pykern", "family": "calls", "peer": {}, "vectors": []}
    (tmp_path / "pykern" / "calls.json").write_text(json.dumps(data))
    monkeypatch.setenv(vectors.ENV_VAR, str(tmp_path))
    assert vectors.vectors_dir() == tmp_path and vectors.load("pykern", "calls")["vectors"] == []
    monkeypatch.setenv(vectors.ENV_VAR, os.fspath(tmp_path / "nowhere"))
    with pytest.raises(vectors.VectorsNotFound, match=f"nowhere.*\\${vectors.ENV_VAR}"):
        vectors.vectors_dir()


def test_the_golden_files_are_stored_untouched_by_git() -> None:
    attributes = (GOLDEN / ".gitattributes").read_text()
    assert "*.json -text" in attributes.splitlines(), "git could rewrite the vectors' line endings"
