"""The demo: the example services of every supported stack, their tests, contracts and fuzzing.

Usage: ``python3 scripts/demo.py``. Each stack runs in its own environment (their pins conflict:
``.venv`` for PySOA and ZeroJSON, ``.venv-pykern`` for pykern.api and AsyncAPY, ``.venv-kyoukai`` for
Kyoukai), created on first use and left ready. AsyncAPY is not on PyPI: set ``RPCTEST_ASYNCAPY`` to a
checkout, wheel or pip URL of it to include its provider side (the real AsyncAPY wheel beside the
repository, ``../shared/wheels``, is used when present).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _bootstrap import ENVIRONMENTS, ROOT, ensure_venv

#: stack -> (title, the environment it runs in: a key of _bootstrap.ENVIRONMENTS)
STACKS = {
    "pysoa": ("PySOA", "pysoa"),
    "zerojson": ("ZeroJSON", "pysoa"),
    "pykern": ("pykern.api", "pykern"),
    "asyncapy": ("AsyncAPY", "pykern"),
    "kyoukai": ("Kyoukai", "kyoukai"),
}


def _overview() -> str:
    by_venv: dict[str, list[str]] = {}
    for title, environment in STACKS.values():
        by_venv.setdefault(ENVIRONMENTS[environment][0], []).append(title)
    venvs = "; ".join(f"{venv} for {' and '.join(titles)}" for venv, titles in by_venv.items())
    return (
        "rpctest demo: the example service of each stack, its consumer and provider tests, its contracts verified\n"
        "statically and live, and its error semantics fuzzed. The stacks' pins conflict, so each runs in its own\n"
        f"virtualenv: {venvs}.\n"
    )


def _summary(results: dict[str, dict]) -> list[str]:
    width = max(len(title) for title, _ in STACKS.values())
    lines = []
    for stack, (title, environment) in STACKS.items():
        result = results.get(stack, {"ok": False, "notes": ["did not report (see its output above)"]})
        verdict = "passed" if result["ok"] else "FAILED"
        notes = f" ({'; '.join(result['notes'])})" if result["notes"] else ""
        lines.append(f"  {title:<{width}}  {verdict}{notes}")
    return lines


def _activate_hint() -> list[str]:
    lines = ["to work with a stack yourself, activate its virtualenv (each has rpctest, pytest and the stack):"]
    width = max(len(venv) for venv, _, _ in ENVIRONMENTS.values())
    for environment, (venv, _, _) in ENVIRONMENTS.items():
        titles = " and ".join(title for title, env in STACKS.values() if env == environment)
        lines.append(f"  source {venv + '/bin/activate':<{width + 13}}  # {titles}")
    return lines


if __name__ == "__main__":
    print(_overview())
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="rpctest-demo-") as scratch:
        for number, (stack, (title, environment)) in enumerate(STACKS.items()):
            print(f"\n=== {title} (in {ENVIRONMENTS[environment][0]}) ===\n", flush=True)
            python = ensure_venv(environment)
            summary = Path(scratch) / f"{stack}.json"
            subprocess.run([str(python), str(ROOT / "scripts" / "_demo_run.py"), stack, str(summary)], cwd=ROOT)
            if summary.is_file():
                results[stack] = json.loads(summary.read_text(encoding="utf-8"))
    failed = [stack for stack in STACKS if not results.get(stack, {}).get("ok")]
    print("\ndemo: " + ("every stack passed" if not failed else f"FAILED on {', '.join(failed)}"))
    print("\n".join(_summary(results)))
    print()
    print("\n".join(_activate_hint()))
    sys.exit(1 if failed else 0)
