"""Fuzzing throughput on the PySOA example over the local transport, against a hand-written baseline.

Run: ``.venv/bin/python benchmarks/bench_fuzz.py [--examples N] [--rounds N]``. Three figures from
one run on the same in-process service:

* the raw call rate of the transport (the ceiling: no generation, no checks);
* a hand-written Hypothesis test per operation: hand-written strategies, the same calls, one check;
* rpctest's engine (``fuzz_operation``, positive mode): strategies from the exported contract, every
  check, shrinking machinery armed.

Goal (issue #4): rpctest's rate >= 0.8 x the hand-written one (its machinery costs at most a fifth
of the engine's own time). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def hand_written(service, examples: int) -> float:
    """Cases per second of plain Hypothesis tests with hand-written strategies (the baseline)."""
    from hypothesis import given, settings, strategies as st

    name = st.text(min_size=1, max_size=50)
    email = st.emails()
    bodies = {
        "get_user": st.fixed_dictionaries({"id": st.integers(1, 2**31)}),
        "list_users": st.fixed_dictionaries({}, optional={"limit": st.integers(1, 100)}),
        "create_user": st.fixed_dictionaries(
            {"name": name, "email": email}, optional={"tags": st.lists(st.text(max_size=20), max_size=5)}
        ),
    }
    count = 0
    started = time.perf_counter()
    def property_for(operation, strategy):
        @settings(max_examples=examples, database=None, deadline=None)
        @given(strategy)
        def test(body):
            nonlocal count
            count += 1
            reply = service.call(operation, body)
            assert not [e for e in reply.all_errors if e.code == "SERVER_ERROR"]

        return test

    for operation, strategy in bodies.items():
        property_for(operation, strategy)()
    return count / (time.perf_counter() - started)


def engine(target, examples: int) -> float:
    """Cases per second of rpctest's engine on the same operations."""
    from hypothesis import settings

    from rpctest.fuzz.engine import fuzz_operation

    count = 0
    started = time.perf_counter()
    for operation in ("get_user", "list_users", "create_user"):
        result = fuzz_operation(target, operation, mode="positive", max_examples=examples, settings=settings(database=None))
        assert result.ok, result.failure.render() if result.failure else ""
        count += result.examples
    return count / (time.perf_counter() - started)


def raw(service, calls: int) -> float:
    started = time.perf_counter()
    for n in range(calls):
        service.call("get_user", {"id": n % 3 + 1})
    return calls / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="cases per operation per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from examples.pysoa.service import STORE, UserServer
    from rpctest.fuzz.engine import Target
    from rpctest.contracts.export import export
    from rpctest.stacks.pysoa import serve

    service = serve(UserServer)
    try:
        target = Target("pysoa", export("pysoa", provider=UserServer), lambda call: service.call(call.operation, call.body))
        raw_rates, hand_rates, ours_rates = [], [], []
        for _ in range(args.rounds):  # interleaved: machine noise hits every side alike
            STORE.reset()
            raw_rates.append(raw(service, args.examples * 3))
            STORE.reset()
            hand_rates.append(hand_written(service, args.examples))
            STORE.reset()
            ours_rates.append(engine(target, args.examples))
    finally:
        service.stop()
    raw_rate, hand, ours = statistics.median(raw_rates), statistics.median(hand_rates), statistics.median(ours_rates)
    print(f"Fuzzing the PySOA example over the local transport ({args.examples} cases x 3 operations, {args.rounds} rounds, median)")
    print(f"  raw transport calls (no generation)        {raw_rate:8.0f} calls/s")
    print(f"  hand-written Hypothesis tests (baseline)   {hand:8.0f} cases/s")
    print(f"  rpctest fuzz engine                        {ours:8.0f} cases/s   ratio {ours / hand:.2f} (goal >= 0.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
