"""Time to first bug: rpctest's fuzzer and Schemathesis on a Kyoukai app with planted bugs (issue 21,
item 5), per bug the median over seeds of the seconds until the tool reports it.

Run in the bench-kyoukai environment: ``.nox/bench-kyoukai/bin/python benchmarks/bench_first_bug.py
[--seeds 10] [--json]``. Nothing asserts a time. Goal: rpctest <= 0.5x Schemathesis' time, every
bug found by rpctest.

The app is the interop suite's ``make_buggy`` library (tests/interop_kyoukai/kyk_services.py), served
on 127.0.0.1 over HTTP. Both tools fuzz only the operation that holds the bug, positive cases,
Hypothesis' generate phase only (no shrinking: the time is to the first failing case), the same seed:

* a server error for one input class: ``POST /books`` raises on a title over 30 characters;
* a response breaking its schema: ``GET /tags/old`` answers its ids as text.

The third planted bug (``PUT /books/<id>`` takes any integer year, a validation gap) shows only for an
existing book, which takes a provider state reset before each example; it is not measured here.
rpctest sends through its own Kyoukai client over the socket; Schemathesis through a ``requests``
session with its default checks, as its users run it against an app that is neither ASGI nor WSGI.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import Figure, report  # noqa: E402

FACTORY = "interop_kyoukai.kyk_services:make_buggy"
#: (what the bug is, the operation, the path Schemathesis names it by, rpctest's check that reports it)
BUGS = [
    ("server error for long titles", "POST /books", ("POST", "/books"), "not_a_server_error"),
    ("response breaking its schema", "GET /tags/<any(new,old):kind>", ("GET", "/tags/{kind}"), "response_conforms"),
]


def planted(label: str, response: Any) -> bool:
    """Whether an HTTP response shows the planted bug itself (another finding of a tool, such as
    Schemathesis' integral floats refused with 422, does not count as finding this bug)."""
    if label.startswith("server error"):
        return bool(response.status_code >= 500)
    try:
        return any(isinstance(i, str) for i in response.json().get("ids", []))
    except ValueError:
        return False
#: cases per run before a tool is said not to find the bug
LIMIT = 2000


def _settings() -> Any:
    from hypothesis import HealthCheck, Phase, settings

    return settings(max_examples=LIMIT, database=None, deadline=None, phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck))


def rpctest_seconds(address: str, contract: Any, operation: str, seed: int, check: str) -> float | None:
    from rpctest.fuzz.engine import Target, fuzz_operation
    from rpctest.stacks import get_adapter

    client = get_adapter("kyoukai").wire.client(address)
    try:
        target = Target(stack="kyoukai", contract=contract, send=client.call, origin={"address": address})
        started = time.perf_counter()
        result = fuzz_operation(target, operation, mode="positive", max_examples=LIMIT, settings=_settings(), seed=seed)
        found = result.failure is not None and result.failure.check == check
        return time.perf_counter() - started if found else None
    finally:
        client.close()


class _Found(Exception):
    """Raised in Schemathesis' test when a response shows the planted bug: Hypothesis stops there."""


def schemathesis_seconds(schema: Any, address: str, where: tuple[str, str], seed: int, label: str) -> float | None:
    import requests  # type: ignore[import-untyped, unused-ignore]
    from hypothesis import given
    from hypothesis import seed as hypothesis_seed

    from schemathesis.generation.modes import GenerationMode

    operation = schema[where[1]][where[0]]
    session = requests.Session()

    @hypothesis_seed(seed)
    @_settings()  # type: ignore[untyped-decorator, unused-ignore]
    @given(operation.as_strategy(GenerationMode.POSITIVE))
    def test(case: Any) -> None:
        response = case.call(base_url=address, session=session)
        try:
            case.validate_response(response)  # the default checks, as call_and_validate runs them
        except BaseExceptionGroup:  # Schemathesis' FailureGroup: a finding; is it the planted bug?
            if planted(label, response):
                raise _Found() from None

    started = time.perf_counter()
    try:
        test()
    except _Found:
        return time.perf_counter() - started
    finally:
        session.close()
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="also one JSON line per figure (run_all.py)")
    args = parser.parse_args()
    import logging

    import schemathesis

    from rpctest.contracts.export import export
    from rpctest.stacks.kyoukai import serve
    from rpctest.stacks.kyoukai.schema import to_openapi

    logging.getLogger("Kyoukai").setLevel(logging.CRITICAL + 1)
    contract = export("kyoukai", provider=FACTORY)
    schema = schemathesis.openapi.from_dict(to_openapi(contract))
    figures = []
    with serve(FACTORY, transport="http") as app:
        address = app.address
        assert address is not None  # served over HTTP: it has one
        for label, operation, where, check in BUGS:
            ours: list[float | None] = []
            theirs: list[float | None] = []
            for seed in range(args.seeds):  # interleaved: each seed runs both tools back to back
                ours.append(rpctest_seconds(address, contract, operation, seed, check))
                theirs.append(schemathesis_seconds(schema, address, where, seed, label))
            found_ours = [s for s in ours if s is not None]
            found_theirs = [s for s in theirs if s is not None]
            print(f"{label}: rpctest found it with {len(found_ours)}/{args.seeds} seeds, Schemathesis with "
                  f"{len(found_theirs)}/{args.seeds}")
            if found_ours and found_theirs:
                median_ours = statistics.median(found_ours)
                figures.append(Figure(f"Kyoukai time to first bug ({label}): rpctest / Schemathesis", median_ours * 1000,
                                      "ms", median_ours / statistics.median(found_theirs), "<= 0.5",
                                      note=f"found by rpctest {len(found_ours)}/{args.seeds}, Schemathesis "
                                           f"{len(found_theirs)}/{args.seeds}"))
    report(figures, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
