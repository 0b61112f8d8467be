"""The consumer contracts of a contracts directory as one set: what keeps recording runs from
losing each other's work.

Two pytest runs can record into one directory at once (two CI jobs on a shared checkout, ``pytest``
in two terminals). A merge-mode recording reads each file, adds its interactions and writes it back:
without a lock, both runs read the same file and the second write drops the first run's
interactions. So every recording holds an exclusive file lock on ``consumers/.rpctest.lock`` from
its first read to its last write. The lock is the operating system's (``flock``/``LockFileEx``,
through the ``filelock`` package): it is released when its process ends, however it ends, so a
killed run never leaves the directory locked. The lock file itself stays, empty: removing it while
another process waits on it would let a third one lock a new file beside it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from rpctest.contracts.format import ContractError

__all__ = ["LOCK_FILE", "LOCK_TIMEOUT", "recording_lock"]

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
            "pip install 'filelock>=3.12'; nothing was written",
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
