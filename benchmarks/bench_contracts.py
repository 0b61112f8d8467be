"""Contract verification speed: 10,000 recorded interactions against a provider contract.

Run: ``.venv/bin/python benchmarks/bench_contracts.py [--interactions N] [--rounds N]``. Needs no
stack library. Prints the median time of ``rpctest.contracts.verify`` and, measured in the same
run on the same data, plain ``jsonschema`` validation of each request and response body with
precompiled validators (the floor: what checking those schemas costs at all). Goal (issue #3):
median <= 2 s for 10,000 interactions. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

USER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "exclusiveMinimum": 0},
        "name": {"type": "string", "minLength": 1, "maxLength": 50},
        "email": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 5},
    },
    "required": ["id", "name", "email", "tags"],
    "additionalProperties": False,
}

PROVIDER: dict[str, Any] = {
    "rpctest_contract": 1,
    "kind": "provider",
    "stack": "pysoa",
    "service": "users",
    "operations": {
        "get_user": {
            "request": {"type": "object", "properties": {"id": {"type": "integer", "exclusiveMinimum": 0}}, "required": ["id"], "additionalProperties": False},
            "response": {"type": "object", "properties": {"user": USER}, "required": ["user"], "additionalProperties": False},
            "errors": ["NOT_FOUND"],
        },
        "list_users": {
            "request": {"type": "object", "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 100}}, "additionalProperties": False},
            "response": {"type": "object", "properties": {"users": {"type": "array", "items": USER}}, "required": ["users"], "additionalProperties": False},
            "errors": [],
        },
    },
}


def interactions(count: int) -> list[dict[str, Any]]:
    """Distinct interactions (no two alike, so deduplication cannot shortcut the work)."""
    items = []
    for n in range(1, count + 1):
        user = {"id": n, "name": f"user{n}", "email": f"u{n}@example.com", "tags": ["a", "b"][: n % 3]}
        if n % 10 == 0:
            items.append({"operation": "get_user", "request": {"id": n}, "response": {"errors": [{"code": "NOT_FOUND", "field": "id"}]}})
        elif n % 3 == 0:
            items.append({"operation": "list_users", "request": {"limit": n % 100 + 1}, "response": {"body": {"users": [user, user]}}})
        else:
            items.append({"operation": "get_user", "request": {"id": n}, "response": {"body": {"user": user}}})
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import jsonschema

    from rpctest.contracts import format as fmt
    from rpctest.contracts.verify import verify

    provider = fmt.parse(PROVIDER)
    consumer = fmt.parse(
        {"rpctest_contract": 1, "kind": "consumer", "consumer": "bench", "stack": "pysoa", "service": "users", "interactions": interactions(args.interactions)}
    )
    validators = {
        name: (jsonschema.Draft202012Validator(op["request"]), jsonschema.Draft202012Validator(op["response"]))
        for name, op in PROVIDER["operations"].items()
    }

    def plain() -> int:
        bad = 0
        for item in consumer.interactions:
            request, response = validators[item.operation]
            bad += not request.is_valid(item.request)
            if item.ok:
                bad += not response.is_valid(item.body)
        return bad

    def ours() -> int:
        report = verify([provider, consumer])
        return len(report.findings)

    ours_times, plain_times = [], []
    for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
        started = time.perf_counter()
        findings = ours()
        ours_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        bad = plain()
        plain_times.append(time.perf_counter() - started)
    assert findings == 0 and bad == 0, (findings, bad)  # the data is valid: both must say so

    ours_median, plain_median = statistics.median(ours_times), statistics.median(plain_times)
    print(f"Contract verification of {args.interactions} interactions ({args.rounds} interleaved rounds, median)")
    print(f"  plain jsonschema (precompiled, request + body)  {plain_median:7.3f} s   (baseline)")
    print(f"  rpctest contracts verify                        {ours_median:7.3f} s   ratio {ours_median / plain_median:.2f}   (goal: <= 2 s)")
    print(f"  per interaction: {ours_median / args.interactions * 1e6:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
