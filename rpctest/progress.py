"""Progress of long commands: a live line on a terminal, a plain line now and then in CI logs.

A fuzz run, a framing run, ``verify --live``, an export from an address and a stub server starting
can each take from seconds to minutes; a CI user watching a silent log cannot tell a slow run from a
hung one. The code doing the work reports to the active :class:`Progress` (:func:`current`) without
knowing where it goes: the CLI activates one for its run (:func:`activated`), anything else (pytest,
the Python API) gets the silent default, so a library call never writes to a terminal it does not own.

What a line says: the command, what it works on, the cases so far (of how many, when known), the
failing ones, the time spent and, under a budget, the time left. On a terminal the line is redrawn in
place (at most ten times a second) and erased when the task ends; when standard error is not a
terminal (a CI log), a plain line is written only once ``interval`` seconds have passed since the last
one (``RPCTEST_PROGRESS_INTERVAL``, default 10), so short runs print nothing extra; ``--quiet``
writes nothing. Only the standard library: ``rpctest --version`` stays fast.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from typing import Callable, Iterator, TextIO

__all__ = ["Progress", "Task", "current", "activated", "DEFAULT_INTERVAL"]

#: seconds between two plain progress lines when standard error is not a terminal
DEFAULT_INTERVAL = 10.0
_REDRAW = 0.1  # seconds between two redraws of the live line


class Task:
    """One piece of work of a command (an operation fuzzed, a framing run, a live verification)."""

    def __init__(self, progress: "Progress", command: str, subject: str, total: int | None, budget: float | None) -> None:
        self.progress = progress
        self.command = command
        self.subject = subject
        self.total = total
        self.budget = budget
        self.cases = 0
        self.failing = 0
        self.note = ""
        self.started = progress.clock()
        self.ticker: _Ticker | None = None

    def advance(self, cases: int = 1, *, failed: bool = False) -> None:
        """``cases`` more done (``failed``: one of them failed)."""
        self.cases += cases
        if failed:
            self.failing += 1
        self.progress.update(self)

    def failed(self) -> None:
        """The task found a failure (counted once, however many cases it took to shrink it)."""
        self.failing += 1
        self.progress.update(self)

    def set_note(self, note: str) -> None:
        """A word on what the task is doing now (``shrinking a failure``)."""
        self.note = note
        self.progress.update(self, force=True)

    def done(self) -> None:
        """The task ended: its ticker stops and its live line is erased (the command's report follows)."""
        if self.ticker is not None:
            self.ticker.stop()
            self.ticker = None
        self.progress.erase()

    def line(self) -> str:
        """The progress line of this task, as it stands."""
        elapsed = self.progress.clock() - self.started
        parts: list[str] = []
        # Hypothesis' shrinking runs more cases than max_examples: then the count alone
        counted = f"{self.cases}" + (f"/{self.total}" if self.total is not None and self.cases <= self.total else "")
        if self.cases or self.total is not None:
            parts.append(f"{counted} case(s), {self.failing} failing")
        parts.append(f"{elapsed:.1f} s")
        if self.budget is not None:
            parts.append(f"budget {max(self.budget - elapsed, 0.0):.0f} s left")
        if self.note:
            parts.append(self.note)
        return f"rpctest {self.command}: {self.subject} — " + ", ".join(parts)


class Progress:
    """Where progress goes: ``live`` (a redrawn terminal line), ``lines`` (a plain line at most every
    ``interval`` seconds) or ``off``; ``auto`` picks live or lines by whether ``stream`` is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, mode: str = "auto", interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if mode not in ("auto", "live", "lines", "off"):
            raise ValueError(f"progress mode must be auto, live, lines or off, not {mode!r}")
        self.stream = stream
        if mode == "auto":
            mode = "live" if stream is not None and _is_terminal(stream) else "lines"
        self.mode = "off" if stream is None else mode
        self.interval = _interval() if interval is None else interval
        self.clock = clock
        self._lock = threading.Lock()
        self._last = clock()  # the last line written (lines) or drawn (live)
        self._drawn = False

    def start(self, command: str, subject: str, *, total: int | None = None, budget: float | None = None) -> Task:
        """A task shown from now until its :meth:`Task.done`. While it runs, a ticker thread keeps
        its line current even when no case completes (one reply that takes the whole timeout, a
        server that is slow to start): a hang shows as time passing, not as silence."""
        task = Task(self, command, subject, total, budget)
        self.update(task, force=self.mode == "live")
        if self.mode != "off":
            task.ticker = _Ticker(lambda: self.update(task), min(self.interval, 1.0) if self.mode == "lines" else 1.0)
        return task

    @contextlib.contextmanager
    def task(self, command: str, subject: str, *, total: int | None = None, budget: float | None = None) -> Iterator[Task]:
        """A task shown while the block runs; its live line is erased when it ends."""
        task = self.start(command, subject, total=total, budget=budget)
        try:
            yield task
        finally:
            task.done()

    def update(self, task: Task, *, force: bool = False) -> None:
        if self.mode == "off" or self.stream is None:
            return
        now = self.clock()
        with self._lock:
            if self.mode == "live":
                if not force and now - self._last < _REDRAW:
                    return
                width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
                text = task.line()
                self._write("\r" + (text if len(text) <= width else text[: width - 1] + "…") + "\x1b[K")
                self._drawn = True
            else:
                if now - self._last < self.interval:
                    return
                self._write(task.line() + "\n")
            self._last = now

    def erase(self) -> None:
        with self._lock:
            if self._drawn and self.stream is not None:
                self._write("\r\x1b[K")
                self._drawn = False

    def _write(self, text: str) -> None:
        assert self.stream is not None
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not end the run
            self.mode = "off"


class _Ticker:
    """A daemon thread calling ``tick`` every ``period`` seconds until :meth:`stop` (which joins it)."""

    def __init__(self, tick: Callable[[], None], period: float) -> None:
        self._stopped = threading.Event()
        self._tick = tick
        self._period = max(period, 0.05)
        self._thread = threading.Thread(target=self._run, name="rpctest-progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._period):
            self._tick()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def _interval() -> float:
    text = os.environ.get("RPCTEST_PROGRESS_INTERVAL", "")
    try:
        value = float(text) if text else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL
    return max(value, 0.0)


_silent = Progress(None, mode="off")
_current: Progress = _silent


def current() -> Progress:
    """The progress the running command reports to (silent unless a command activated one)."""
    return _current


@contextlib.contextmanager
def activated(progress: Progress) -> Iterator[Progress]:
    """Make ``progress`` the one :func:`current` returns while the block runs."""
    global _current
    previous, _current = _current, progress
    try:
        yield progress
    finally:
        _current = previous
