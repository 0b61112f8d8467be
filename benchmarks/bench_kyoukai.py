"""Kyoukai fuzzing benchmark: rpctest against Schemathesis on the same app, in the same run.

Run: ``python benchmarks/bench_kyoukai.py [--examples N] [--rounds R]`` in the Kyoukai environment
with schemathesis installed next to it (``pip install -c constraints/kyoukai.txt schemathesis``:
Kyoukai itself stays 2.2.1.post1 because it was installed ``--no-deps``; see docs/stacks/kyoukai.md).
Prints figures and the ratio measured in this one run; nothing asserts a time. Goal (issue #8):
rpctest at least 2 times as many cases per second as Schemathesis.

What is compared, and why it is fair:

* **the same app** (``examples.kyoukai.service:make_app``), the real Kyoukai 2.2.1.post1, through
  **the same transport**: rpctest's socket-less ``LocalSyncTransport`` (Kyoukai's own httptools
  protocol over memory) under one ``httpx.Client``, so neither tool pays for TCP and both pay for
  Kyoukai's full pipeline;
* **the same schema**: Schemathesis fuzzes the OpenAPI 3.1 document rpctest exports from the app
  (``contracts export --format openapi``); rpctest fuzzes the provider contract it came from;
* **the fuzzing phase only, positive cases, the same number of examples per operation**: each
  tool's Hypothesis runs ``max_examples=N`` per operation with no database and no deadline;
  Schemathesis' other phases (examples, coverage, stateful) are not run, nor are rpctest's
  unknown-route and wrong-method probes;
* **the same oracle at least**: Schemathesis checks "not a server error" on each response;
  rpctest runs its full positive checks (no 5xx, not rejected, response matches its schema).

Cases per second = cases sent / wall time of that tool's whole run (generation, sending, checking).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _require_schemathesis() -> Any:
    try:
        import schemathesis
    except ImportError:
        sys.exit(
            "bench_kyoukai: schemathesis is not installed here. Install it next to Kyoukai without letting pip "
            "touch Kyoukai: pip install -c constraints/kyoukai.txt schemathesis (then check 'rpctest doctor')"
        )
    from rpctest.stacks.kyoukai.host import version_problem

    problem = version_problem()
    if problem:
        sys.exit(f"bench_kyoukai: the Kyoukai install is not the one to measure: {problem}")
    return schemathesis


def _settings(examples: int) -> Any:
    from hypothesis import HealthCheck, settings

    return settings(max_examples=examples, database=None, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def run_rpctest(hosted: Any, contract: Any, examples: int) -> tuple[int, float, bool]:
    from rpctest.fuzz.engine import Target, fuzz

    target = Target(stack="kyoukai", contract=contract, send=hosted.send_call, origin={"provider": "examples.kyoukai.service:make_app"})
    started = time.perf_counter()
    report = fuzz(target, mode="positive", max_examples=examples, unknown_operation=False, settings=_settings(examples), seed=0)
    return report.examples, time.perf_counter() - started, report.ok


def run_schemathesis(schemathesis: Any, hosted: Any, document: dict, examples: int) -> tuple[int, float, int]:
    from hypothesis import given

    from schemathesis.generation.modes import GenerationMode

    schema = schemathesis.openapi.from_dict(document)
    client = hosted.client  # the same httpx.Client over LocalSyncTransport
    count = [0]
    server_errors = [0]
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()

        @_settings(examples)
        @given(operation.as_strategy(GenerationMode.POSITIVE))
        def test(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://app")
            response = client.request(
                kwargs["method"], kwargs["url"], params=kwargs.get("params"), headers=kwargs.get("headers"),
                json=kwargs.get("json"), content=kwargs.get("data"),
            )
            count[0] += 1
            if response.status_code >= 500:  # the not_a_server_error check, as Schemathesis' own
                server_errors[0] += 1

        test()
    return count[0], time.perf_counter() - started, server_errors[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="Hypothesis examples per operation for each tool (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each tool; the median is reported (default 3)")
    args = parser.parse_args()
    schemathesis = _require_schemathesis()
    import logging

    from examples.kyoukai.service import ORDERS, make_app
    from rpctest.contracts.export import export
    from rpctest.stacks.kyoukai import serve
    from rpctest.stacks.kyoukai.schema import to_openapi

    logging.getLogger("Kyoukai").setLevel(logging.CRITICAL + 1)
    contract = export("kyoukai", provider=make_app)
    document = to_openapi(contract)
    rp_rates, st_rates = [], []
    with serve(make_app, transport="local") as hosted:
        for _ in range(args.rounds):
            ORDERS.reset()
            cases, seconds, ok = run_rpctest(hosted, contract, args.examples)
            rp_rates.append(cases / seconds)
            print(f"rpctest       {cases:5d} cases in {seconds:6.2f} s  {cases / seconds:8.1f} cases/s  ({'no findings' if ok else 'FINDINGS'})")
            ORDERS.reset()
            cases, seconds, errors = run_schemathesis(schemathesis, hosted, document, args.examples)
            st_rates.append(cases / seconds)
            print(f"schemathesis  {cases:5d} cases in {seconds:6.2f} s  {cases / seconds:8.1f} cases/s  ({errors} server errors)")
    rp, st = statistics.median(rp_rates), statistics.median(st_rates)
    print(f"\nmedian of {args.rounds}: rpctest {rp:.1f} cases/s, schemathesis {st:.1f} cases/s "
          f"({schemathesis.__version__ if hasattr(schemathesis, '__version__') else ''}); ratio {rp / st:.2f}x (goal >= 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
