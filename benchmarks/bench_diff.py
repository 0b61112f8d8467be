"""Breaking-change diff speed: two provider contracts of 1,000 operations, 1,000 consumer interactions.

Run: ``.venv/bin/python benchmarks/bench_diff.py [--operations N] [--interactions N] [--rounds N]``.
Needs no stack library. Both contracts and the consumer contract are written as files first; each
round then times, interleaved so machine noise hits both alike, what the CLI does: ``contracts diff
OLD NEW --consumers DIR`` (load both providers and the consumers, diff) and ``contracts verify`` of
the same consumers against NEW (load, verify). Prints the medians and their ratio. Goal (issue #18):
the diff under 1 s. Nothing here asserts a time; it asserts the diff found what was changed.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def operation(n: int) -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {"id": {"type": "integer", "minimum": 0}, "name": {"type": "string", "maxLength": 50}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["id", "name"],
        "additionalProperties": False,
    }
    return {
        "request": {
            "type": "object",
            "properties": {"id": {"type": "integer", "minimum": 1, "maximum": 10**6}, "name": {"type": "string", "minLength": 1, "maxLength": 50},
                           "mode": {"enum": ["fast", "safe"]}},
            "required": ["id"],
            "additionalProperties": False,
        },
        "response": {"type": "object", "properties": {"item": item, "count": {"type": "integer"}}, "required": ["item"]},
        "errors": [f"E{n % 7}"],
    }


def provider(operations: int, changed: bool) -> dict[str, Any]:
    """OLD, or NEW with a change in every 10th operation (each kind of change in turn)."""
    ops = {f"op{n:04d}": operation(n) for n in range(operations)}
    if changed:
        for n in range(0, operations, 10):
            op = ops[f"op{n:04d}"]
            kind = (n // 10) % 5
            if kind == 0:
                op["request"]["properties"]["name"]["maxLength"] = 20
            elif kind == 1:
                op["request"]["required"].append("mode")
            elif kind == 2:
                op["errors"].append("NEW_CODE")
            elif kind == 3:
                del op["response"]["properties"]["count"]
            else:
                op["response"]["properties"]["item"]["properties"]["id"]["type"] = "number"
    return {"rpctest_contract": 1, "kind": "provider", "stack": "bench", "service": "svc", "operations": ops}


def consumer(operations: int, count: int) -> dict[str, Any]:
    items = []
    for n in range(count):
        name = f"op{(n * 7) % operations:04d}"
        items.append({
            "operation": name,
            "request": {"id": n + 1, "name": "x" * (n % 40 + 1)},
            "response": {"body": {"item": {"id": n, "name": f"n{n}", "tags": ["a"]}, "count": n}},
            "tests": [f"tests/test_bench.py::test_{n}"],
        })
    return {"rpctest_contract": 1, "kind": "consumer", "consumer": "bench", "stack": "bench", "service": "svc", "interactions": items}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=1000)
    parser.add_argument("--interactions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    from rpctest.contracts import format as fmt
    from rpctest.contracts.diff import diff, load_provider
    from rpctest.contracts.verify import verify

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old_file, new_file = root / "old.json", root / "providers/bench--svc.json"
        fmt.write(fmt.parse(provider(args.operations, changed=False)), old_file)
        fmt.write(fmt.parse(provider(args.operations, changed=True)), new_file)
        fmt.write(fmt.parse(copy.deepcopy(consumer(args.operations, args.interactions))), root / "consumers/bench--bench--svc.json")

        def run_diff() -> Any:
            consumers = fmt.load_many([root / "consumers"])
            return diff(load_provider(str(old_file)), load_provider(str(new_file)), consumers)

        def run_verify() -> Any:
            return verify(fmt.load_many([root / "consumers", new_file]))

        diff_times, verify_times = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            report = run_diff()
            diff_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            verified = run_verify()
            verify_times.append(time.perf_counter() - started)

    breaking = [f for f in report.findings if f.change.breaking]
    assert len(breaking) == args.operations // 10, len(breaking)  # one breaking change per changed operation
    errors, warnings = len(report.errors), len(breaking) - len(report.errors)
    diff_median, verify_median = statistics.median(diff_times), statistics.median(verify_times)
    print(f"contracts diff of two provider contracts of {args.operations} operations with {args.interactions} consumer interactions "
          f"({args.rounds} interleaved rounds, median; files loaded each round)")
    print(f"  {len(breaking)} breaking change(s): {errors} error(s) (a consumer relies on it), {warnings} warning(s); "
          f"verify on the same files: {len(verified.findings)} finding(s)")
    print(f"  rpctest contracts verify (consumers vs NEW)  {verify_median:7.3f} s   (baseline)")
    print(f"  rpctest contracts diff OLD NEW --consumers   {diff_median:7.3f} s   ratio {diff_median / verify_median:.2f}   (goal: < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
