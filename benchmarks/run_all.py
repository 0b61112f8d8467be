"""Every benchmark, each stack's part in that stack's environment, three runs interleaved, one table.

Run from the repository: ``python benchmarks/run_all.py [--runs 3] [--quick] [--only STACK ...]
[--markdown]``. Each part runs with the ``python`` of its nox session (``.nox/<session>/bin/python``),
created first with ``nox -s <session> --install-only`` where it is missing (a part whose environment cannot
be made is reported as not measured, with the reason). The parts run in turn, run after run, so load
on the machine falls on every part alike; each figure's value in the table is the median of its runs
(the worst start time is the worst of all runs). Nothing asserts a time: the table says, per figure,
whether its goal is met.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import JSON_PREFIX, Figure  # noqa: E402

#: (stack, nox session, script and arguments, arguments that make it quick)
PARTS: list[tuple[str, str, list[str], list[str]]] = [
    ("pysoa", "pysoa", ["bench_pysoa.py"], ["--rounds", "9"]),
    ("pykern", "pykern", ["bench_inprocess_stubs.py", "--stack", "pykern"], ["--rounds", "7"]),
    ("kyoukai", "kyoukai", ["bench_inprocess_stubs.py", "--stack", "kyoukai"], ["--rounds", "5", "--calls", "200"]),
    ("pysoa", "pysoa", ["bench_wire.py", "--stack", "pysoa"], ["--starts", "20", "--rounds", "5"]),
    ("pykern", "pykern", ["bench_wire.py", "--stack", "pykern"], ["--starts", "20", "--rounds", "5"]),
    ("zerojson", "zerojson", ["bench_wire.py", "--stack", "zerojson"], ["--starts", "20", "--rounds", "5"]),
    ("kyoukai", "kyoukai", ["bench_wire.py", "--stack", "kyoukai"], ["--starts", "20", "--rounds", "5"]),
    ("asyncapy", "asyncapy", ["bench_wire.py", "--stack", "asyncapy"], ["--starts", "20", "--rounds", "5"]),
    ("kyoukai", "bench-kyoukai", ["bench_kyoukai.py"], ["--examples", "50", "--rounds", "1"]),
    ("kyoukai", "bench-kyoukai", ["bench_first_bug.py"], ["--seeds", "5"]),
]


def _nox() -> tuple[list[str], dict[str, str]]:
    """How to run nox, and its environment: as ``python3 scripts/test.py`` does it (the bootstrap
    ``.venv``, which has nox, made when missing; the real AsyncAPY passed on where it lies), so the
    README's commands work on a machine with nothing but Python."""
    env = dict(os.environ)
    sys.path.insert(0, str(ROOT / "scripts"))
    from _bootstrap import ASYNCAPY, ensure_venv

    if ASYNCAPY:
        env.setdefault("RPCTEST_ASYNCAPY", ASYNCAPY)
    found = shutil.which("nox")
    return ([found] if found else [str(ensure_venv()), "-m", "nox"]), env


def environment(session: str) -> tuple[Path | None, str]:
    """The session's python, creating the environment when it is missing; (None, why) if it cannot."""
    python = ROOT / ".nox" / session / "bin" / "python"
    if python.exists():
        return python, ""
    nox, env = _nox()
    print(f"run_all: creating .nox/{session} (nox -s {session} --install-only)", flush=True)
    done = subprocess.run([*nox, "-s", session, "--install-only"], cwd=ROOT, capture_output=True, text=True, env=env)
    if done.returncode != 0 or not python.exists():
        return None, f"nox -s {session} failed: {(done.stdout + done.stderr).strip().splitlines()[-1:]}"
    return python, ""


def run_part(python: Path, script: list[str], quick: list[str]) -> tuple[list[Figure], str]:
    """One run of one part: its figures, or none and the last line it printed when it failed."""
    command = [str(python), str(ROOT / "benchmarks" / script[0]), *script[1:], *quick, "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    figures = [Figure(**json.loads(line[len(JSON_PREFIX):])) for line in done.stdout.splitlines() if line.startswith(JSON_PREFIX)]
    if done.returncode != 0 or not figures:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        return [], last[0]
    return figures, ""


def combine(runs: list[Figure]) -> Figure:
    """One figure from its runs: medians of the medians and of the ratios, the worst of the worsts."""
    first = runs[0]
    ratios = [f.ratio for f in runs if f.ratio is not None]
    worsts = [f.worst for f in runs if f.worst is not None]
    return Figure(first.name, statistics.median(f.median for f in runs), first.unit,
                  statistics.median(ratios) if ratios else None, first.goal, max(worsts) if worsts else None, first.note)


def table(figures: list[Figure], missing: list[str], *, markdown: bool) -> str:
    rows = []
    for f in figures:
        met = f.met()
        rows.append([
            f.name,
            f"{f.median:.1f} {f.unit}" + (f" (worst {f.worst:.1f})" if f.worst is not None else ""),
            "" if f.ratio is None else f"{f.ratio:.2f}x",
            f.goal or "-",
            "-" if met is None else ("met" if met else "NOT met"),
            f.note,
        ])
    header = ["figure", "median", "ratio", "goal", "met", "note"]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines += [f"| {m} | not measured | | | | |" for m in missing]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines += [f"{m}: not measured" for m in missing]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and starts per run")
    parser.add_argument("--only", nargs="*", default=None, help="stacks to run (default: all)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    parts = [p for p in PARTS if args.only is None or p[0] in args.only]
    pythons: dict[str, Path] = {}
    missing: list[str] = []
    for _, session, script, _ in parts:
        if session in pythons or any(m.startswith(session + ":") for m in missing):
            continue
        python, why = environment(session)
        if python is None:
            missing.append(f"{session}: {why}")
        else:
            pythons[session] = python
    collected: dict[str, list[Figure]] = {}
    failed: dict[str, str] = {}
    for run in range(1, args.runs + 1):
        for stack, session, script, quick in parts:
            if session not in pythons:
                continue
            label = " ".join(script)
            print(f"run_all: run {run}/{args.runs}: {label} in .nox/{session}", flush=True)
            figures, why = run_part(pythons[session], script, quick if args.quick else [])
            if why:
                failed[label] = why
            for figure in figures:
                collected.setdefault(figure.name, []).append(figure)
    combined = [combine(runs) for runs in collected.values()]
    missing += [f"{label}: {why}" for label, why in failed.items()]
    print()
    print(f"{datetime.date.today().isoformat()}, {platform.node() or 'this machine'}: {platform.python_implementation()} "
          f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.runs} interleaved run(s){' (quick)' if args.quick else ''}")
    print(table(combined, missing, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
