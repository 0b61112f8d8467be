"""The benchmarks' one timing helper: interleaved rounds, medians, ratios in the same run, figures.

On a machine other work loads, an absolute time says little; a ratio against a baseline measured in
the same rounds, interleaved so that a burst of load hits both sides, says what rpctest costs.
Every benchmark measures its sides with :func:`interleaved`, reports each comparison as a
:class:`Figure` and prints them with :func:`report`, which with ``--json`` also prints one JSON line
per figure (``benchmarks/run_all.py`` collects those into one table). Nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

__all__ = ["stack_logs_elsewhere", "warm_up_hypothesis", "Figure", "JSON_PREFIX", "interleaved", "median_ratio", "report", "starts", "per_call", "per_call_wall", "start_figure"]

#: the marker of a figure's JSON line in a benchmark's output (``run_all.py`` reads those lines)
JSON_PREFIX = "RPCTEST-FIGURE "


@dataclass
class Figure:
    """One line of the table: what was measured, its median, and the ratio the goal is about.

    ``ratio`` is rpctest's median over the baseline's (None when a figure has no baseline, as a start
    time); ``goal`` is a comparison, ``"<= 1.0"`` or ``">= 2"``, applied to the ratio when there is
    one and to ``median`` otherwise; ``note`` says what the figure could not include, and why.
    """

    name: str
    median: float
    unit: str
    ratio: float | None = None
    goal: str = ""
    worst: float | None = None
    note: str = ""

    def met(self) -> bool | None:
        """Whether the goal is met (None when the figure has no goal)."""
        if not self.goal:
            return None
        op, _, bound = self.goal.partition(" ")
        value = self.ratio if self.ratio is not None else self.median
        return value <= float(bound) if op == "<=" else value >= float(bound)


def interleaved(sides: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run every side once per round, the order rotating from round to round, and return each
    side's samples: what a side returns is its sample (seconds per call, cases per second...)."""
    names = list(sides)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(sides[name]())
    return samples


def median_ratio(ours: Iterable[float], baseline: Iterable[float]) -> float:
    """rpctest's median over the baseline's median."""
    return statistics.median(ours) / statistics.median(baseline)


def per_call(calls: int, one: Callable[[], Any]) -> float:
    """CPU seconds of this thread per call of ``one`` over ``calls`` calls (after one warm-up call).

    CPU time, not wall time: on a machine shared with other work, wall time also counts the time
    the thread waited for a core, which says nothing about either side. For code that waits on
    sockets (round trips), use :func:`per_call_wall`.
    """
    one()
    started = time.thread_time()
    for _ in range(calls):
        one()
    return (time.thread_time() - started) / calls


def per_call_wall(calls: int, one: Callable[[], Any]) -> float:
    """Wall seconds per call of ``one`` over ``calls`` calls (after one warm-up call)."""
    one()
    started = time.perf_counter()
    for _ in range(calls):
        one()
    return (time.perf_counter() - started) / calls


def starts(count: int, start: Callable[[], Callable[[], None]]) -> list[float]:
    """Milliseconds from nothing to a first reply, ``count`` times: ``start`` starts a server, gets
    its first reply and returns the function that stops it (not timed)."""
    start()()  # warm-up, not counted: the first start also imports the stack
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        stop = start()
        samples.append((time.perf_counter() - began) * 1000)
        stop()
    return samples


def start_figure(name: str, samples: list[float], goal: str = "<= 50") -> Figure:
    """A start-time figure: median and worst of ``samples`` (ms), the goal on the median."""
    return Figure(name, statistics.median(samples), "ms", goal=goal, worst=max(samples))


def report(figures: Iterable[Figure], *, as_json: bool = False) -> None:
    """Print the figures, one line each; with ``as_json`` also one JSON line each for ``run_all``."""
    for figure in figures:
        ratio = "" if figure.ratio is None else f"  ratio {figure.ratio:6.2f}"
        worst = "" if figure.worst is None else f"  worst {figure.worst:8.1f}"
        met = figure.met()
        goal = "" if met is None else f"  goal {figure.goal} ({'met' if met else 'NOT met'})"
        note = f"  [{figure.note}]" if figure.note else ""
        print(f"  {figure.name:<58} {figure.median:10.1f} {figure.unit:<7}{worst}{ratio}{goal}{note}")
        if as_json:
            print(JSON_PREFIX + json.dumps(asdict(figure)))


@contextlib.contextmanager
def stack_logs_elsewhere(stacks: Iterable[str], name: str) -> Iterator[None]:
    """The stack libraries' logs go to a temporary file while a benchmark runs, as under rpctest's
    commands: pykern's pkdebug writes lines on every call, AsyncAPY logs every connection, and
    writing them to a terminal would be part of what is timed."""
    from rpctest import stacklogs

    with tempfile.TemporaryDirectory(prefix=f"{name}-") as directory, \
            stacklogs.captured(list(stacks), name, directory=Path(directory)):
        yield


#: the modules of rpctest's and Schemathesis' fuzzing of a Kyoukai app (those their first run would
#: import), which :func:`warm_up_hypothesis` imports
FUZZING_MODULES = ("rpctest.fuzz.engine", "rpctest.strategies.valid", "rpctest.strategies.invalid", "rpctest.fuzz.checks",
                   "rpctest.stacklogs", "rpctest.stacks.kyoukai.wire", "rpctest.stacks.kyoukai.plain_http",
                   "schemathesis.generation.modes", "schemathesis.specs.openapi._hypothesis", "schemathesis.transport.requests")


def warm_up_hypothesis(modules: Iterable[str] = FUZZING_MODULES) -> None:
    """Hypothesis' one-time work in a process, done once before either tool is timed: ``modules``
    (each tool's own) are imported, then a trivial property runs. Hypothesis' first draws in a
    process set up its engine and mine the literals of every module outside site-packages and the
    standard library, incrementally as modules appear; rpctest run from a source checkout is such
    a module tree (from a wheel it is not, as Schemathesis installed from one is not), so whichever
    tool ran first in a one-run process paid for it (about 40 ms of a 50-example run). The same
    trivial run for both tools, and nothing either tool is given or measured changes."""
    import importlib

    from hypothesis import given, settings
    from hypothesis import strategies as st

    for module in modules:
        importlib.import_module(module)

    @settings(max_examples=5, database=None, deadline=None)
    @given(st.integers())
    def trivial(value: int) -> None:
        pass

    trivial()
