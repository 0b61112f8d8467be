"""The stack libraries' logs during a command: to a log file of the run, not to the terminal.

A buggy PySOA service fuzzed from the command line printed 1,656 lines of server tracebacks next to a
10-line report, and a passing pykern run 3,210 lines of pykern's own logging: the report drowned.
While a command runs, :func:`captured` takes what the stack libraries and rpctest's in-process
servers log (each stack names its loggers at the edge, :meth:`HostHalf.capture_logs`; rpctest's
servers log on ``rpctest.serve``) and writes it to ``.rpctest/logs/<command>-<time>-<pid>.log``,
created only when something is logged. The lines logged while one case ran are that case's
(:meth:`StackLogs.mark`, :meth:`StackLogs.lines_since`): a fuzz failure's report shows their first
lines and points at the file. ``verbose`` (``-v``) also shows every line live on standard error.

The pytest plugin needs none of this: pytest already captures log records and standard error per
test and shows them with the failing test only. Library code asks :func:`current`, which is inert
(nothing captured, no file) unless a command activated a capture.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, TextIO

__all__ = ["StackLogs", "captured", "current", "SERVER_LOGGERS", "DEFAULT_DIR"]

#: where the log files of CLI runs go when the state directory cannot be told (a broken configuration)
DEFAULT_DIR = Path(".rpctest") / "logs"
#: rpctest's own in-process servers log a contained failure (with its traceback) here
SERVER_LOGGERS = ("rpctest.serve",)
_KEPT = 5000  # lines kept in memory for the reports of cases (the file keeps all)

Undo = Callable[[], None]


class StackLogs:
    """Collects log lines into a file (opened on the first line) and a bounded memory of recent lines."""

    def __init__(self, path: Path | None = None, *, verbose: bool = False, echo: TextIO | None = None) -> None:
        self.path = path
        self.verbose = verbose
        self.echo = echo
        self.count = 0
        self._recent: collections.deque[str] = collections.deque(maxlen=_KEPT)
        self._lock = threading.Lock()
        self._file: TextIO | None = None
        self.handler = _Handler(self)
        self._undo: list[Undo] = []
        self._stacks: set[str] = set()
        self.active = path is not None

    def take(self, stack: str) -> None:
        """Capture ``stack``'s logs too, from now until :meth:`close` (a command that learns its stack
        late: from the configuration, from a replay file). Nothing for an inert capture."""
        if not self.active or stack in self._stacks:
            return
        from rpctest.exceptions import RpctestError
        from rpctest.stacks import get_adapter

        try:
            adapter = get_adapter(stack)
        except RpctestError:
            return  # an unknown stack is reported by the command itself
        self._stacks.add(stack)
        self._undo.append(adapter.host.capture_logs(self))

    def take_servers(self) -> None:
        """Capture what rpctest's in-process servers log (a contained failure's traceback)."""
        if self.active:
            self._undo.append(take_loggers(SERVER_LOGGERS, self.handler))

    def write_line(self, line: str) -> None:
        """One line of a stack's output (a log record is split into its lines by the handler)."""
        with self._lock:
            self.count += 1
            self._recent.append(line)
            if self.path is not None:
                if self._file is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._file = open(self.path, "a", encoding="utf-8", errors="backslashreplace")
                self._file.write(line + "\n")
            if self.verbose and self.echo is not None:
                try:
                    self.echo.write(line + "\n")
                    self.echo.flush()
                except (OSError, ValueError):
                    pass

    def write_text(self, text: str) -> int:
        """Text a library prints through a stream of its own (pykern's pkdebug): each line kept."""
        for line in text.splitlines():
            if line.strip():
                self.write_line(line)
        return len(text)

    def mark(self) -> int:
        """A position in the log: :meth:`lines_since` it gives what was logged after it."""
        return self.count

    def lines_since(self, mark: int) -> list[str]:
        """The lines logged since ``mark`` (those still kept in memory)."""
        with self._lock:
            new = self.count - mark
            if new <= 0:
                return []
            recent = list(self._recent)
        return recent[-min(new, len(recent)):]

    def close(self) -> None:
        """Undo every capture and close the file."""
        while self._undo:
            self._undo.pop()()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def summary(self) -> str | None:
        """Where the captured lines are, for the end of a command (None when nothing was logged)."""
        if not self.count or self.path is None:
            return None
        return f"rpctest: the stack's own logs ({self.count} line(s)) are in {self.path}; -v shows them live"


class _Handler(logging.Handler):
    def __init__(self, logs: StackLogs) -> None:
        super().__init__(logging.DEBUG)
        self.logs = logs
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a record that cannot be formatted must not break the run
            text = f"{record.levelname} {record.name}: {record.msg!r}"
        for line in text.splitlines():
            self.logs.write_line(line)


def take_loggers(names: Iterable[str], handler: logging.Handler) -> Undo:
    """Send the records of the loggers ``names`` (and their children) to ``handler`` only: they no
    longer reach the root logger or Python's last-resort handler, which prints them on stderr."""
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate, logger.level))
        logger.addHandler(handler)
        logger.propagate = False
        if logger.level == logging.NOTSET or logger.level > logging.DEBUG:
            logger.setLevel(logging.DEBUG if handler.level <= logging.DEBUG else handler.level)

    def undo() -> None:
        for logger, propagate, level in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
            logger.setLevel(level)

    return undo


_inert = StackLogs(None)
_current: StackLogs = _inert


def current() -> StackLogs:
    """The capture of the running command (an inert one outside commands: nothing is kept)."""
    return _current


def _logs_dir() -> Path:
    """``logs/`` in rpctest's state directory (beside the runs kept for ``rpctest report``; its
    ``RPCTEST_STATE_DIR`` moves both)."""
    from rpctest.exceptions import RpctestError
    from rpctest.report.state import state_dir

    try:
        directory = state_dir() / "logs"
    except RpctestError:  # a broken [tool.rpctest] table is the command's to report
        return DEFAULT_DIR
    try:  # said as the user would type it, where it is under the working directory
        return directory.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return directory


def log_path(command: str, directory: Path = DEFAULT_DIR) -> Path:
    """The log file of one run of ``command``: its time and process id keep parallel runs apart."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in command).strip("-") or "rpctest"
    path = directory / f"{name}-{stamp}-{os.getpid()}.log"
    number = 1
    while path.exists():  # two runs in one process and second (in-process calls of main)
        number += 1
        path = directory / f"{name}-{stamp}-{os.getpid()}-{number}.log"
    return path


@contextlib.contextmanager
def captured(stacks: Iterable[str], command: str, *, verbose: bool = False, servers: bool = True,
             directory: Path | None = None, echo: TextIO | None = None) -> Iterator[StackLogs]:
    """While the block runs, the logs of ``stacks`` (and, with ``servers``, of rpctest's in-process
    servers) go to the run's log file, and with ``verbose`` also to ``echo`` (default standard
    error); :func:`current` is this capture, so code that learns its stack later can :meth:`take` it."""
    global _current
    logs = StackLogs(log_path(command, directory if directory is not None else _logs_dir()), verbose=verbose, echo=echo if echo is not None else sys.stderr)
    if servers:
        logs.take_servers()
    for stack in stacks:
        logs.take(stack)
    previous, _current = _current, logs
    try:
        yield logs
    finally:
        _current = previous
        logs.close()
