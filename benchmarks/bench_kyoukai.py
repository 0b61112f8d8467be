"""Kyoukai fuzzing benchmark: rpctest against Schemathesis on the same app, in the same run.

Run: ``python benchmarks/bench_kyoukai.py [--examples N] [--rounds R]`` in the Kyoukai environment
with schemathesis installed next to it (``pip install -c "$(rpctest constraints kyoukai --path)" schemathesis``:
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
Before either tool is timed, both tools' modules are imported and one trivial Hypothesis property
runs (``timing.warm_up_hypothesis``): Hypothesis' one-time work in a process (its first look at every
module outside site-packages, which rpctest run from a source checkout is) otherwise fell on the
tool run first, in a one-run ``--quick`` process about 40 ms of rpctest's 50-example run.

Schemathesis is measured three ways: through its Python API over HTTP on a real port (a ``requests``
session, its default checks), through its command as most of its users run it (``schemathesis run``,
alias ``st run``, on the exported document with ``--url`` at the app on a real port, ``--phases
fuzzing --mode positive -n N``, its default checks; the wall time of the command, its start included,
and, as a further line, the fuzzing time the command prints itself), and on rpctest's in-thread path.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _require_schemathesis() -> Any:
    try:
        import schemathesis
    except ImportError:
        sys.exit(
            "bench_kyoukai: schemathesis is not installed here. Install it next to Kyoukai without letting pip "
            "touch Kyoukai: pip install -c \"$(rpctest constraints kyoukai --path)\" schemathesis (then check 'rpctest doctor')"
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


def run_schemathesis(schemathesis: Any, document: dict[str, Any], examples: int, send: Any) -> tuple[int, float, int]:
    """Schemathesis' fuzzing phase (positive cases) over every operation; ``send(case)`` returns
    whether the case was a finding (a server error, or a failed check)."""
    from hypothesis import given

    from schemathesis.generation.modes import GenerationMode

    schema = schemathesis.openapi.from_dict(document)
    count = [0]
    findings = [0]
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()

        @_settings(examples)  # type: ignore[untyped-decorator, unused-ignore]
        @given(operation.as_strategy(GenerationMode.POSITIVE))
        def test(case: Any) -> None:
            count[0] += 1
            findings[0] += bool(send(case))

        test()
    return count[0], time.perf_counter() - started, findings[0]


def schemathesis_over_http(address: str) -> tuple[Any, Any]:
    """How Schemathesis users run it against an app that is neither ASGI nor WSGI: over HTTP on one
    requests session, with its default checks (``case.call`` + ``case.validate_response``, which is
    ``call_and_validate`` without raising, so a finding does not make Hypothesis shrink)."""
    import requests

    session = requests.Session()

    def send(case: Any) -> bool:
        response = case.call(base_url=address, session=session)
        try:
            case.validate_response(response)  # the default checks, as call_and_validate runs them
        except BaseExceptionGroup:  # Schemathesis' FailureGroup: counted, not shrunk (runs stay comparable)
            return True
        return False

    return send, session


#: what ``st run`` prints: "Test cases:\n  60 generated, ..." and "Fuzzing (in 0.45s)"
_CLI_CASES = re.compile(r"Test cases:\s*(\d+) generated")
_CLI_FUZZING = re.compile(r"Fuzzing \(in ([0-9.]+)s\)")


def run_schemathesis_cli(document: dict[str, Any], address: str, examples: int) -> tuple[int, float, float]:
    """Schemathesis as its users run it: the ``schemathesis run`` command (``st run``) in its own
    process, on the exported OpenAPI document, against the app on a real port, its default checks,
    the fuzzing phase only, positive cases, ``-n`` examples per operation, no example database.
    Returns (cases it says it generated, wall seconds of the whole command including its start, the
    fuzzing seconds it prints itself)."""
    import json
    import subprocess
    import tempfile

    command = Path(sys.executable).with_name("schemathesis")
    with tempfile.TemporaryDirectory(prefix="rpctest-bench-") as folder:
        schema = Path(folder) / "openapi.json"
        schema.write_text(json.dumps(document))
        argv = [str(command), "run", str(schema), "--url", address, "--phases", "fuzzing", "--mode", "positive",
                "-n", str(examples), "--seed", "0", "--generation-database", "none", "--continue-on-failure",
                "--workers", "1", "--no-color"]
        started = time.perf_counter()
        # run in the temporary folder: the command keeps a crash cache (.schemathesis/) in its working directory
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False, cwd=folder)
        seconds = time.perf_counter() - started
    cases = _CLI_CASES.search(done.stdout)
    fuzzing = _CLI_FUZZING.search(done.stdout)
    if cases is None or fuzzing is None:
        sys.exit(f"bench_kyoukai: 'schemathesis run' printed no case count (exit {done.returncode}):\n"
                 f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return int(cases.group(1)), seconds, float(fuzzing.group(1))


def schemathesis_inline(app: Any) -> tuple[Any, Any]:
    """Schemathesis' cases through rpctest's own in-thread path to the app (``InlineSender.send``, what
    rpctest's fuzzer sends through), checking only for 5xx: what is left when both tools pay the same
    per request."""
    from rpctest.stacks.kyoukai.transport import InlineSender

    sender = InlineSender(app, timeout=5)

    def send(case: Any) -> bool:
        kwargs = case.as_transport_kwargs(base_url="")
        target = kwargs["url"]
        params = kwargs.get("params")
        if params:
            import urllib.parse

            target += "?" + urllib.parse.urlencode(params, doseq=True)
        content = kwargs.get("data")
        headers = dict(kwargs.get("headers") or {})
        if kwargs.get("json") is not None or "json" in kwargs:
            import json

            content = json.dumps(kwargs.get("json")).encode()
            headers["Content-Type"] = "application/json"
        if isinstance(content, str):
            content = content.encode("utf-8")  # as httpx encoded text content
        reply = sender.send(kwargs["method"], target, headers, content, 5)  # what rpctest's fuzzer sends through
        return bool(reply.errors) and (reply.errors[0].code == "TRANSPORT" or reply.meta.get("status", 0) >= 500)

    return send, sender


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="Hypothesis examples per operation for each tool (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each tool; the median is reported (default 3)")
    parser.add_argument("--json", action="store_true", help="also one JSON line per figure (run_all.py)")
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
    cli_wall, cli_own = "schemathesis CLI (st run, wall time)", "schemathesis CLI (its own fuzzing time)"
    rates: dict[str, list[float]] = {"rpctest": [], "schemathesis (HTTP, default checks)": [], cli_wall: [], cli_own: [],
                                     "schemathesis (rpctest's in-thread path)": []}
    with serve(make_app, transport="local") as hosted, serve(make_app, transport="http") as over_http:
        address = over_http.address
        assert address is not None  # served over HTTP: it has one
        http_send, session = schemathesis_over_http(address)
        inline_send, sender = schemathesis_inline(getattr(hosted, "app"))  # the local transport's app
        from timing import warm_up_hypothesis

        warm_up_hypothesis()  # before either tool is timed, everything else set up: see its docstring
        try:
            for _ in range(args.rounds):  # interleaved, so a noisy moment hits every tool
                ORDERS.reset()
                cases, seconds, ok = run_rpctest(hosted, contract, args.examples)
                rates["rpctest"].append(cases / seconds)
                print(f"rpctest                                  {cases:5d} cases {seconds:6.2f} s {cases / seconds:8.1f}/s  "
                      f"({'no findings' if ok else 'FINDINGS'})")
                for label, send in (("schemathesis (HTTP, default checks)", http_send), ("schemathesis (rpctest's in-thread path)", inline_send)):
                    ORDERS.reset()
                    cases, seconds, findings = run_schemathesis(schemathesis, document, args.examples, send)
                    rates[label].append(cases / seconds)
                    print(f"{label:<40} {cases:5d} cases {seconds:6.2f} s {cases / seconds:8.1f}/s  ({findings} finding(s))")
                ORDERS.reset()
                cases, seconds, fuzzing = run_schemathesis_cli(document, address, args.examples)
                rates[cli_wall].append(cases / seconds)
                rates[cli_own].append(cases / fuzzing)
                print(f"{cli_wall:<40} {cases:5d} cases {seconds:6.2f} s {cases / seconds:8.1f}/s  "
                      f"(fuzzing {fuzzing:.2f} s by its own count: {cases / fuzzing:.1f}/s)")
        finally:
            session.close()
            sender.close()
    medians = {label: statistics.median(values) for label, values in rates.items()}
    rp = medians["rpctest"]
    version = getattr(schemathesis, "__version__", "")
    print(f"\nmedian of {args.rounds} round(s), {args.examples} examples per operation, schemathesis {version}:")
    for label, value in medians.items():
        print(f"  {label:<40} {value:8.1f} cases/s" + ("" if label == "rpctest" else f"   rpctest is {rp / value:.2f}x"))
    print("  goal (issue #8): rpctest >= 2x Schemathesis as its users run it (the HTTP line through its Python API, the "
          "st run lines through its command); the last line isolates generation and checking, with both tools on "
          "rpctest's transport")
    if args.json:
        from timing import Figure, report

        report([
            Figure("Kyoukai fuzz cases/s: rpctest / Schemathesis over HTTP", rp, "cases/s",
                   rp / medians["schemathesis (HTTP, default checks)"], ">= 2"),
            Figure("Kyoukai fuzz cases/s: rpctest / Schemathesis CLI (st run) over HTTP", rp, "cases/s",
                   rp / medians[cli_wall], ">= 2", note="wall time of the command, its start included"),
            Figure("Kyoukai fuzz cases/s: rpctest / st run's own fuzzing time", rp, "cases/s",
                   rp / medians[cli_own], note="the time st run prints for its fuzzing phase"),
            Figure("Kyoukai fuzz cases/s: rpctest / Schemathesis on rpctest's in-thread path", rp, "cases/s",
                   rp / medians["schemathesis (rpctest's in-thread path)"], note="generation and checks alone"),
        ], as_json=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
