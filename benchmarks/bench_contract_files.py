"""Many small contract files: ``rpctest contracts verify`` and ``rpctest serve`` at 500 and 5,000 files.

Run: ``.venv/bin/python benchmarks/bench_contract_files.py [--files 500 5000] [--rounds N] [--stack S]``.
Needs no stack library: ``serve`` runs the AsyncAPY stub server, whose wire half is rpctest's own.
Half the files are provider contracts (three operations each, with schemas that differ service to
service, so no cache can share them), half are consumer contracts of those providers (three
interactions each). For each size it prints the median over interleaved rounds of

* ``verify``: ``rpctest contracts verify DIR`` in a fresh process, start to exit;
* ``serve``: ``rpctest serve --stack S DIR`` in a fresh process, start to the printed address;

the time per file net of the start-up (the same command on a tree of two files), and the ratio of the
per-file time at the largest size to the smallest (1.0: the cost grows linearly with the number of
files). Goal (issue 15): both within 3 s for 5,000 files.
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def provider(stack: str, n: int) -> dict[str, Any]:
    user = {
        "type": "object",
        "properties": {"id": {"type": "integer", "minimum": 1}, "name": {"type": "string", "maxLength": 20 + n}},
        "required": ["id", "name"],
        "additionalProperties": False,
    }
    return {
        "rpctest_contract": 1,
        "kind": "provider",
        "stack": stack,
        "service": f"svc{n}",
        "operations": {
            "get": {"request": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}, "response": user, "errors": ["NOT_FOUND"]},
            "list": {"request": {"type": "object", "properties": {"limit": {"type": "integer", "maximum": 100 + n}}}, "response": {"type": "object", "properties": {"users": {"type": "array", "items": user}}}, "errors": []},
            "delete": {"request": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}, "response": {"type": "null"}, "errors": ["NOT_FOUND", "DENIED"]},
        },
    }


def consumer(stack: str, n: int) -> dict[str, Any]:
    user = {"id": n + 1, "name": f"user{n}"}
    return {
        "rpctest_contract": 1,
        "kind": "consumer",
        "consumer": f"app{n}",
        "stack": stack,
        "service": f"svc{n}",
        "interactions": [
            {"operation": "get", "request": {"id": n + 1}, "response": {"body": user}, "source": "stub", "tests": [f"tests/test_app.py::test_get_{n}"]},
            {"operation": "get", "request": {"id": -n}, "response": {"errors": [{"code": "NOT_FOUND", "field": "id"}]}, "source": "stub"},
            {"operation": "list", "request": {"limit": 2}, "response": {"body": {"users": [user, user]}}, "source": "stub"},
        ],
    }


def make_tree(root: Path, files: int, stack: str) -> Path:
    for kind in ("providers", "consumers"):
        (root / kind).mkdir(parents=True)
    for n in range(files // 2):
        (root / "providers" / f"{stack}--svc{n}.json").write_text(json.dumps(provider(stack, n), indent=2, sort_keys=True))
        (root / "consumers" / f"app{n}--{stack}--svc{n}.json").write_text(json.dumps(consumer(stack, n), indent=2, sort_keys=True))
    return root


def rpctest(*args: str) -> list[str]:
    return [sys.executable, "-m", "rpctest", *args]


def time_verify(tree: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(rpctest("contracts", "verify", str(tree)), capture_output=True, text=True, cwd=tree)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return elapsed


def time_serve(tree: Path, stack: str) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        rpctest("serve", "--stack", stack, str(tree)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tree,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        elapsed = time.perf_counter() - started
        assert "stub provider at" in line, line + (process.stderr.read()[-2000:] if process.stderr and process.poll() is not None else "")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[500, 5000], help="contract files per tree (default 500 5000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stack", default="asyncapy", help="the stack of the contracts, and whose stub server serve runs")
    args = parser.parse_args()
    env_path = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = env_path  # the checkout's rpctest in the child processes

    rows = []
    with tempfile.TemporaryDirectory(prefix="rpctest-bench-") as tmp:
        for files in [2, *args.files]:  # 2 files (one pair): the start-up cost, taken off the per-file times
            tree = make_tree(Path(tmp) / str(files), files, args.stack)
            verify_times, serve_times = [], []
            for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
                verify_times.append(time_verify(tree))
                serve_times.append(time_serve(tree, args.stack))
            rows.append((files, statistics.median(verify_times), statistics.median(serve_times)))

    (_, verify_base, serve_base), rows = rows[0], rows[1:]
    print(f"{args.rounds} interleaved rounds, median; {args.stack} contracts, half providers and half consumers (3 interactions each)")
    print(f"  start-up (a tree of 2 files): verify {verify_base:.2f} s, serve {serve_base:.2f} s; per-file times are net of it")
    print(f"  {'files':>6}  {'verify':>8}  {'per file':>9}  {'serve':>8}  {'per file':>9}")
    per_file = []
    for files, verify_s, serve_s in rows:
        per_file.append(((verify_s - verify_base) / files, (serve_s - serve_base) / files))
        print(f"  {files:>6}  {verify_s:7.2f}s  {per_file[-1][0] * 1e3:7.3f}ms  {serve_s:7.2f}s  {per_file[-1][1] * 1e3:7.3f}ms")
    if len(rows) > 1:
        (v_small, s_small), (v_large, s_large) = per_file[0], per_file[-1]
        print(
            f"  per-file ratio {rows[-1][0]} / {rows[0][0]} files: verify {v_large / v_small:.2f}, serve {s_large / s_small:.2f}"
            f"   (1.00: the cost grows linearly with the files)"
        )
    print("  goal (issue 15): verify and serve each within 3 s at 5000 files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
