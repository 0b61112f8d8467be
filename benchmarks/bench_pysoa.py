"""PySOA stub benchmark: rpctest's ``stub_action`` against pysoa.test's own, on the same client code.

Run: ``.nox/pysoa/bin/python benchmarks/bench_pysoa.py [--calls N] [--rounds N] [--json]``. Prints
the figure measured in this one run (both stubs in interleaved rounds, medians); nothing asserts a
time. Goal (issues 2 and 21): rpctest's stub per call <= 1.0x pysoa.test's, with rpctest's guarantees
kept (a reply the consumer mutates changes no later reply; recorded bodies cannot change after the
call), which pysoa.test does not give (it answers every call with the same ``ActionResponse``).
Server start and wire round trips are in ``bench_wire.py --stack pysoa``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import Figure, interleaved, median_ratio, per_call, report  # noqa: E402

BODY = {"user": {"id": 1, "name": "Ann", "email": "ann@example.com", "tags": []}}


def stubbed_calls(stub_factory: Callable[..., Any], calls: int) -> Callable[[], float]:
    """One round: a fresh stub, ``calls`` calls of the consumer's ``profile_line`` through it."""
    from pysoa.client.client import Client

    from examples.pysoa.consumer import profile_line

    def round_() -> float:
        client = Client({})
        with stub_factory("users", "get_user", body=BODY):
            return per_call(calls, lambda: profile_line(client, 1))

    return round_


def figures(calls: int, rounds: int) -> list[Figure]:
    from pysoa.test.stub_service import stub_action as pysoa_stub_action

    from rpctest import stub_action

    samples = interleaved({"pysoa.test": stubbed_calls(pysoa_stub_action, calls),
                           "rpctest": stubbed_calls(stub_action, calls)}, rounds)
    ratio = median_ratio(samples["rpctest"], samples["pysoa.test"])
    ours = sorted(samples["rpctest"])[len(samples["rpctest"]) // 2] * 1e6
    return [Figure("PySOA stub_action per call / pysoa.test's", ours, "us/call", ratio, "<= 1.0")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--json", action="store_true", help="also one JSON line per figure (run_all.py)")
    args = parser.parse_args()
    print(f"PySOA stubs ({args.calls} calls x {args.rounds} interleaved rounds, medians)")
    report(figures(args.calls, args.rounds), as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
