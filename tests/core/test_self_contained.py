"""The repository stands alone: nothing in it cites, or reads, notes and files that do not ship with it.

A fresh clone must be understandable and testable with nothing beside it. The design notes and the
research notes the project started from live outside the repository (``../shared``), so a docstring,
comment, docs page or message that says "see DESIGN.md" or "research §2.5" points a reader, or a
user reading a report, at nothing: it must state the fact itself (the stack guides' "Wire facts"
sections and ``docs/architecture.md`` hold them). Likewise the golden vectors ship in
``tests/golden``; only the test that compares them with their capture directory names it.

The only things code may read from ``../shared`` are the optional real peers no package index
carries (``../shared/wheels``, ``../shared/peers``), whose tests skip without them.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(REPO).as_posix()

#: references to notes and files outside the repository, in any tracked text file
OUTSIDE = re.compile(r"DESIGN\.md|research §|research section|research/|shared/research|shared/vectors", re.IGNORECASE)
#: path -> the references it may make: the sync test compares tests/golden with the capture directory
ALLOWED = {"tests/core/test_golden_vectors.py": {"shared/vectors"}}
#: never scanned: the golden vectors (their README may say where they were captured) and this file
SKIPPED_DIRS = (".git/", ".nox/", ".venv", "tests/golden/", "site/", "build/", "dist/")

#: a path built with a "shared" component: "shared", '../shared/...', "shared/x"
SHARED_PATH = re.compile(r"""["'](?:\.\./)*shared(?:/[^"']*)?["']""")
#: what code may read there: the optional real peers
PEERS = re.compile(r"\bwheels\b|\bpeers\b")
CODE_DIRS = ("rpctest/", "scripts/", "examples/")


def repository_files() -> list[str]:
    """Every file git tracks or would track (untracked but not ignored), as repository paths.

    Outside a git checkout (an unpacked source archive), every file below the repository.
    """
    try:
        listed = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "--cached", "--others", "--exclude-standard"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        listed = [p.relative_to(REPO).as_posix() for p in REPO.rglob("*") if p.is_file()]
    return sorted(
        {path for path in listed if path != THIS and not path.startswith(SKIPPED_DIRS) and (REPO / path).is_file()}
    )


def text_lines(path: str) -> list[str]:
    """The lines of a text file; none for a binary one (a NUL byte, or not UTF-8)."""
    data = (REPO / path).read_bytes()
    if b"\0" in data:
        return []
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return []


def outside_references(path: str, lines: list[str]) -> list[str]:
    """``path:line: text`` for every line citing notes or files outside the repository."""
    allowed = ALLOWED.get(path, set())
    return [
        f"{path}:{number}: {line.strip()}"
        for number, line in enumerate(lines, 1)
        if any(match.group(0).lower() not in allowed for match in OUTSIDE.finditer(line))
    ]


def shared_reads(path: str, lines: list[str]) -> list[str]:
    """``path:line: text`` for every line of code building a path into ``shared`` that is not a peer's."""
    return [
        f"{path}:{number}: {line.strip()}"
        for number, line in enumerate(lines, 1)
        if SHARED_PATH.search(line) and not PEERS.search(line)
    ]


def test_no_file_cites_notes_or_files_outside_the_repository() -> None:
    found = [hit for path in repository_files() for hit in outside_references(path, text_lines(path))]
    assert not found, (
        f"{len(found)} line(s) cite notes or files that do not ship with the repository; state the fact "
        "itself (or point to docs/architecture.md or a stack guide's 'Wire facts'):\n" + "\n".join(found)
    )


def test_code_reads_nothing_in_shared_but_the_optional_peers() -> None:
    code = [path for path in repository_files() if path.startswith(CODE_DIRS) and path.endswith(".py")]
    assert "rpctest/model.py" in code  # the listing really covers the package
    found = [hit for path in code for hit in shared_reads(path, text_lines(path))]
    assert not found, "code builds a path into ../shared other than the optional peers:\n" + "\n".join(found)


def test_the_scanners_catch_what_they_are_for() -> None:
    lines = [
        'Exit codes (DESIGN.md, "Configuration and CLI"): 0 pass',
        "    # -- the body (research §2.5)",
        "from the Research section 4 table",
        "as measured (shared/research/kyoukai.md)",
        "in ``shared/vectors/pysoa``",
        "a shared Redis for tests, shared by every connection",
    ]
    assert [hit.split(":")[1] for hit in outside_references("x.md", lines)] == ["1", "2", "3", "4", "5"]
    assert outside_references("tests/core/test_golden_vectors.py", ['CAPTURE = REPO.parent / "shared" / "vectors"  # shared/vectors']) == []
    assert outside_references("tests/core/test_golden_vectors.py", ["see DESIGN.md"]) != []
    code = [
        'VECTORS = ROOT.parent / "shared" / "vectors"',
        "DIR = '../shared/research'",
        'WHEELS = ROOT.parent / "shared" / "wheels"',
        'PEER = Path("../shared/peers/pycom_py311.py")',
        "# state shared by every call",
    ]
    assert [hit.split(":")[1] for hit in shared_reads("rpctest/x.py", code)] == ["1", "2"]
