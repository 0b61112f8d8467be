"""The consumer contracts of a contracts directory as one set: what keeps recording runs from
losing each other's work, and a killed run from leaving half of its own.

**The lock.** Two pytest runs can record into one directory at once (two CI jobs on a shared
checkout, ``pytest`` in two terminals). A merge-mode recording reads each file, adds its interactions
and writes it back: without a lock, both runs read the same file and the second write drops the first
run's interactions. So every recording holds an exclusive file lock on ``consumers/.rpctest.lock``
from its first read to its last write. The lock is the operating system's (``flock``/``LockFileEx``,
through the ``filelock`` package): it is released when its process ends, however it ends, so a
killed run never leaves the directory locked. The lock file itself stays, empty: removing it while
another process waits on it would let a third one lock a new file beside it.

**The commit.** A recording writes several files, and no file system renames several files at once.
So :func:`commit` first stages every file beside its target (``.NAME.RUN.stage``, flushed to disk),
then writes a journal (``consumers/.rpctest-commit``) naming them, then renames each into place and
removes the journal. A run killed while staging leaves the old set whole (and stray ``.stage`` files,
which the next recording removes). A run killed after the journal is written has decided its commit:
the next recording completes it before anything else (:func:`recover`), and until then
:func:`check_complete`, which ``load_many`` calls for every directory it reads, refuses the set with
the files that are new and those still old, so ``rpctest contracts verify`` and ``rpctest serve``
never use a set that mixes two runs. The files themselves are unchanged: a re-recording that changes
nothing still changes no byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from rpctest.contracts.format import ContractError, write_new_file, write_text_atomic

__all__ = ["LOCK_FILE", "LOCK_TIMEOUT", "JOURNAL", "recording_lock", "commit", "recover", "check_complete"]

#: the journal of a commit in progress (not ``*.json``: readers of contracts never take it for one)
JOURNAL = ".rpctest-commit"
STAGE_SUFFIX = ".stage"

#: in the consumers directory; ignored by everything that reads contracts (it is not ``*.json``)
LOCK_FILE = ".rpctest.lock"
#: how long a recording waits for another one to finish writing (seconds): far longer than any
#: write, short enough that a run whose peer hangs still ends with a message
LOCK_TIMEOUT = 120.0


@contextlib.contextmanager
def recording_lock(directory: Path, *, timeout: float = LOCK_TIMEOUT) -> Iterator[Path]:
    """Hold the recording lock of ``directory`` (created if need be); yields the lock file's path."""
    try:
        import filelock
    except ImportError:  # rpctest installed --no-deps and nothing else yet
        raise ContractError(
            None,
            "recording contracts needs the filelock package, one of rpctest's dependencies, which is not installed: "
            "pip install 'filelock>=3.12'. Nothing was written",
        ) from None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_FILE
    lock = filelock.FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise ContractError(
            path,
            f"another recording into {directory} has held this lock for {timeout:.0f} s; let it finish (or end it) "
            f"and record again. Nothing was written",
        ) from None
    try:
        yield path
    finally:
        lock.release()


def commit(directory: Path, writes: Mapping[Path, str], removals: Sequence[Path] = ()) -> list[Path]:
    """Write ``writes`` (path: text) and remove ``removals``, all in ``directory``, as one change: after
    a crash at any point, either the old set is whole, or the journal lets the next recording finish
    the new one. The caller holds the directory's :func:`recording_lock`."""
    run = secrets.token_hex(8)
    staged: dict[Path, Path] = {}
    try:
        for path, text in writes.items():
            stage = path.parent / f".{path.name}.{run}{STAGE_SUFFIX}"
            write_new_file(stage, text, like=path)
            staged[path] = stage
    except BaseException:
        for stage in staged.values():
            with contextlib.suppress(OSError):
                stage.unlink()
        raise
    journal = {
        "rpctest_commit": 1,
        "run": run,
        "files": [{"file": _relative(path, directory), "staged": _relative(stage, directory)} for path, stage in staged.items()],
        "remove": [_relative(path, directory) for path in removals],
    }
    _sync(directory)  # the staged files' names are durable before the journal that names them
    write_text_atomic(directory / JOURNAL, json.dumps(journal, indent=2) + "\n")
    _finish(directory, journal)
    return list(writes)


def recover(directory: Path) -> list[Path]:
    """Complete the commit an interrupted recording decided, and remove what a run killed while
    staging left; the files the completion put in place. The caller holds the recording lock."""
    completed: list[Path] = []
    journal = _read_journal(directory)
    if journal is not None:
        completed = [directory / entry["file"] for entry in journal["files"] if (directory / entry["staged"]).exists()]
        _finish(directory, journal)
    # staged by a run killed before its journal, or the journal's own temporary file
    for stray in (*directory.glob(f".*{STAGE_SUFFIX}"), *directory.glob(f".{JOURNAL}.*.tmp")):
        with contextlib.suppress(OSError):
            stray.unlink()
    return completed


def check_complete(directory: Path) -> None:
    """Raise a :class:`ContractError` when an interrupted recording left ``directory``'s set mixing
    two runs (some files renamed into place, others still waiting as ``.stage`` files)."""
    if not (directory / JOURNAL).exists():
        return
    journal = _read_journal(directory)
    if journal is None:
        return
    waiting = [entry["file"] for entry in journal["files"] if (directory / entry["staged"]).exists()]
    if not waiting:
        return  # every file is in place: only the journal's removal was cut short
    done = [entry["file"] for entry in journal["files"] if entry["file"] not in waiting]
    raise ContractError(
        directory,
        f"an interrupted recording (run {journal['run']}) left a set that mixes two runs: "
        + (f"{_names(done)} {'is' if len(done) == 1 else 'are'} from it, " if done else "")
        + f"{_names(waiting)} still from an earlier run (the new "
        + ("version waits beside it as a .stage file" if len(waiting) == 1 else "versions wait beside them as .stage files")
        + "); record again: the next recording completes "
        "the interrupted one before it writes. (A recording that is writing right now shows this for a moment.)",
    )


def _finish(directory: Path, journal: Mapping[str, Any]) -> None:
    """Rename every staged file of ``journal`` into place and remove what it removes (idempotent)."""
    for entry in journal["files"]:
        stage = directory / entry["staged"]
        if stage.exists():
            os.replace(stage, directory / entry["file"])
    for name in journal["remove"]:
        (directory / name).unlink(missing_ok=True)
    _sync(directory)
    (directory / JOURNAL).unlink(missing_ok=True)


def _read_journal(directory: Path) -> dict[str, Any] | None:
    path = directory / JOURNAL
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ContractError(path, f"the journal of a recording cannot be read ({exc}); delete it and record again") from None
    files, removals = data.get("files") if isinstance(data, dict) else None, data.get("remove") if isinstance(data, dict) else None
    names_ok = isinstance(data.get("run") if isinstance(data, dict) else None, str) and isinstance(files, list) and all(
        isinstance(e, dict) and all(_plain_name(e.get(key)) for key in ("file", "staged")) for e in files
    ) and isinstance(removals, list) and all(_plain_name(name) for name in removals)
    if not names_ok:
        raise ContractError(path, "is not the journal of an rpctest recording; delete it and record again")
    journal: dict[str, Any] = data
    return journal


def _plain_name(name: Any) -> bool:
    """A file name in the directory itself: a journal never names a file elsewhere."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and os.sep not in name


def _relative(path: Path, directory: Path) -> str:
    if path.parent != directory:
        raise ValueError(f"{path} is not in {directory}")
    return path.name


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def _sync(directory: Path) -> None:
    """Flush ``directory``'s entries (renames, new names) to disk, where the platform can."""
    with contextlib.suppress(OSError, AttributeError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
