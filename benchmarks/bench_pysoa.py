"""PySOA benchmarks: stub overhead against pysoa.test's own stub_action, and in-process server start.

Run: ``.venv/bin/python benchmarks/bench_pysoa.py [--calls N] [--starts N]``. Prints figures and
ratios measured in this one run (baseline and rpctest side by side); nothing here asserts a time.
Goals (issue #2): stub per-call ratio <= 1.0 against pysoa.test; median server start <= 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BODY = {"user": {"id": 1, "name": "Ann", "email": "ann@example.com", "tags": []}}


def per_call(stub_factory: Callable, calls: int) -> float:
    """Seconds per ``call_action`` on a stubbed action, over one round of ``calls`` calls."""
    from pysoa.client.client import Client

    from examples.pysoa.consumer import profile_line

    client = Client({})
    with stub_factory("users", "get_user", body=BODY):
        profile_line(client, 1)  # warm up
        started = time.perf_counter()
        for _ in range(calls):
            profile_line(client, 1)
        return (time.perf_counter() - started) / calls


def compare(baseline: Callable, ours: Callable, calls: int, rounds: int = 7) -> tuple[float, float]:
    """Best round of each, with rounds interleaved so that machine noise hits both sides alike."""
    a, b = [], []
    for _ in range(rounds):
        a.append(per_call(baseline, calls))
        b.append(per_call(ours, calls))
    return min(a), min(b)


def start_time(transport: str, starts: int, redis_target=None) -> tuple[float, float]:
    """Median and max milliseconds from serve() to a ready client, then one call to prove it."""
    from examples.pysoa.service import UserServer
    from rpctest.stacks.pysoa import serve

    samples = []
    for _ in range(starts):
        started = time.perf_counter()
        service = serve(UserServer, transport=transport, redis=redis_target)
        samples.append((time.perf_counter() - started) * 1000)
        try:
            assert service.call("list_users", {"limit": 1}).ok
        finally:
            service.stop()
    return statistics.median(samples), max(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--starts", type=int, default=20)
    args = parser.parse_args()

    from pysoa.test.stub_service import stub_action as pysoa_stub_action

    from rpctest import stub_action
    from rpctest import redis_backend

    print(f"PySOA stub overhead ({args.calls} calls x 7 interleaved rounds, best round per call)")
    baseline, ours = compare(pysoa_stub_action, stub_action, args.calls)
    print(f"  pysoa.test.stub_service.stub_action  {baseline * 1e6:8.1f} us/call   (baseline)")
    print(f"  rpctest.stub_action                  {ours * 1e6:8.1f} us/call   ratio {ours / baseline:.2f} (goal <= 1.0)")

    print(f"\nIn-process PySOA server start ({args.starts} starts; goal: median <= 50 ms)")
    rows = [("local transport", "local", None), ("Redis gateway, fakeredis", "redis", None)]
    process = None
    if redis_backend.real() is not None:
        rows.append(("Redis gateway, RPCTEST_REDIS_URL", "redis", redis_backend.real()))
    elif redis_backend.find_redis_server_binary():
        process = redis_backend.RedisServerProcess()
        rows.append(("Redis gateway, real redis-server", "redis", process.start()))
    else:
        print("  (no redis-server on PATH and no RPCTEST_REDIS_URL: real-Redis row not measured)")
    try:
        for label, transport, target in rows:
            median, worst = start_time(transport, args.starts, target)
            print(f"  {label:<34} median {median:6.1f} ms   max {worst:6.1f} ms")
    finally:
        if process is not None:
            process.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
