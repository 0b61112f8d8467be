"""Time to first bug: rpctest's fuzzer and Schemathesis on a Kyoukai app with planted bugs (issue 21,
item 5), per bug the median over seeds of the seconds until the tool reports it.

Run in the bench-kyoukai environment: ``.nox/bench-kyoukai/bin/python benchmarks/bench_first_bug.py
[--seeds 10] [--json]``. Nothing asserts a time. Goal: rpctest <= 0.5x Schemathesis' time, every
bug found by rpctest.

The app is the interop suite's ``make_buggy`` library (tests/interop_kyoukai/kyk_services.py), served
on 127.0.0.1 over HTTP. Both tools fuzz only the operation that holds the bug, positive cases,
Hypothesis' generate phase only (no shrinking: the time is to the first failing case), the same seed:

* a server error for one input class: ``POST /books`` raises on a title over 30 characters;
* a response breaking its schema: ``GET /tags/old`` answers its ids as text;
* a validation gap: ``PUT /books/<id>`` takes any integer year (its schema says 1450 to 2100). It
  shows only for a book that exists, so every example starts from the shelf's first two books: rpctest
  through ``fuzz(states=...)`` and the interop suite's provider state handler (what ``rpctest fuzz
  --state`` does), Schemathesis through the same reset at the top of its test function. Both tools
  fuzz negative cases for it (an input the schema rejects), the others positive ones.

Before the first seed, both tools' modules are imported and one trivial Hypothesis property runs
(``timing.warm_up_hypothesis``), so that Hypothesis' one-time work in a process does not fall on the
tool that runs first.

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
SERVER_ERROR, SCHEMA_BREAK, VALIDATION_GAP = ("server error for long titles", "response breaking its schema",
                                              "validation gap: any integer year accepted")
#: (what the bug is, the operation, the path Schemathesis names it by, rpctest's check that reports it,
#: the generation mode, whether each example starts from the shelf's first two books)
BUGS = [
    (SERVER_ERROR, "POST /books", ("POST", "/books"), "not_a_server_error", "positive", False),
    (SCHEMA_BREAK, "GET /tags/<any(new,old):kind>", ("GET", "/tags/{kind}"), "response_conforms", "positive", False),
    (VALIDATION_GAP, "PUT /books/<int:book_id>", ("PUT", "/books/{book_id}"), "caller_error_for_invalid_input",
     "negative", True),
]


def planted(label: str, response: Any) -> bool:
    """Whether an HTTP response shows the planted bug itself (another finding of a tool, such as
    Schemathesis' integral floats refused with 422, does not count as finding this bug)."""
    if label == SERVER_ERROR:
        return bool(response.status_code >= 500)
    if label == VALIDATION_GAP:  # accepted, for an integer year outside 1450..2100
        import json

        try:
            year = json.loads(response.request.body or b"null").get("year")
        except (ValueError, AttributeError):
            return False
        return bool(response.status_code < 300 and isinstance(year, int) and not isinstance(year, bool)
                    and not 1450 <= year <= 2100)
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


def rpctest_seconds(address: str, contract: Any, operation: str, seed: int, check: str, mode: str, reset: bool) -> float | None:
    """rpctest's fuzzer on one operation, as ``rpctest fuzz --operation ... [--state ...]`` runs it."""
    from rpctest.fuzz.engine import Target, fuzz
    from rpctest.model import ProviderState
    from rpctest.stacks import get_adapter

    states = []
    if reset:
        from interop_kyoukai.kyk_states import FIRST_BOOKS  # registers the provider state handler

        states = [ProviderState(FIRST_BOOKS)]
    client = get_adapter("kyoukai").wire.client(address)
    try:
        target = Target(stack="kyoukai", contract=contract, send=client.call, origin={"address": address})
        started = time.perf_counter()
        report = fuzz(target, operations=[operation], mode=mode, max_examples=LIMIT, settings=_settings(), seed=seed,
                      unknown_operation=False, states=states)
        result = report.results[0]
        found = result.failure is not None and result.failure.check == check
        return time.perf_counter() - started if found else None
    finally:
        client.close()


class _Found(Exception):
    """Raised in Schemathesis' test when a response shows the planted bug: Hypothesis stops there."""


def schemathesis_seconds(schema: Any, address: str, where: tuple[str, str], seed: int, label: str, mode: str,
                         reset: bool) -> float | None:
    import requests  # type: ignore[import-untyped, unused-ignore]
    from hypothesis import given
    from hypothesis import seed as hypothesis_seed

    from schemathesis.generation.modes import GenerationMode

    from interop_kyoukai.kyk_services import SHELF_STORE

    operation = schema[where[1]][where[0]]
    generation = GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE
    session = requests.Session()

    @hypothesis_seed(seed)
    @_settings()  # type: ignore[untyped-decorator, unused-ignore]
    @given(operation.as_strategy(generation))
    def test(case: Any) -> None:
        if reset:  # the same per-example reset rpctest's provider state does
            SHELF_STORE.reset()
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
    parser.add_argument("--bug", default="", help="only the planted bugs whose description contains this text")
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
        from timing import FUZZING_MODULES, warm_up_hypothesis

        # before either tool is timed, everything else set up: see its docstring
        warm_up_hypothesis((*FUZZING_MODULES, "requests", "interop_kyoukai.kyk_states"))
        for label, operation, where, check, mode, reset in BUGS:
            if args.bug not in label:
                continue
            ours: list[float | None] = []
            theirs: list[float | None] = []
            for seed in range(args.seeds):  # interleaved: each seed runs both tools back to back
                ours.append(rpctest_seconds(address, contract, operation, seed, check, mode, reset))
                theirs.append(schemathesis_seconds(schema, address, where, seed, label, mode, reset))
            print(f"  per seed (s): rpctest {[None if s is None else round(s, 3) for s in ours]}, Schemathesis "
                  f"{[None if s is None else round(s, 3) for s in theirs]}")
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
