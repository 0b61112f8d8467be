"""The demo itself, run inside .venv by scripts/demo.py."""

from __future__ import annotations

import collections
import statistics
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Collector:
    """Collects test outcomes per example file, instead of pytest's own terminal output."""

    def __init__(self) -> None:
        self.outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.failures: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or report.outcome != "passed":
            self.outcomes[report.nodeid.split("::")[0]][report.outcome] += 1
        if report.failed:
            self.failures.append(f"{report.nodeid} ({report.when})\n{report.longreprtext}")


def _start_times(transport: str, runs: int = 5) -> float:
    from examples.pysoa.service import UserServer
    from rpctest.stacks.pysoa import serve

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        service = serve(UserServer, transport=transport)
        times.append(time.perf_counter() - started)
        service.stop()
    return statistics.median(times) * 1000


def main() -> int:
    import rpctest
    from examples.pysoa.service import UserServer

    print(f"rpctest {rpctest.__version__} demo (Python {sys.version.split()[0]})\n")
    collector = Collector()
    code = pytest.main(
        ["-p", "rpctest", "-p", "no:terminal", "-p", "no:cacheprovider", "-W", "error::ResourceWarning", "examples/pysoa"],
        plugins=[collector],
    )
    actions = ", ".join(sorted(UserServer.action_class_map))
    print(f"PySOA   service 'users' (examples/pysoa/service.py): {actions}")
    for path, counts in sorted(collector.outcomes.items()):
        label = {"test_consumer.py": "consumer tests, service stubbed", "test_service.py": "provider tests, local + Redis"}
        name = label.get(Path(path).name, path)
        print(f"        {name:<34} " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    print(f"        in-process server start (median)   local {_start_times('local'):.1f} ms, "
          f"redis/fakeredis {_start_times('redis'):.1f} ms")
    contracts_ok = _contracts()
    fuzz_ok = _fuzz()
    for failure in collector.failures:
        print("\nFAILED " + failure)
    ok = code == 0 and contracts_ok and fuzz_ok
    verdicts = f"pytest exit {int(code)}, contracts {'ok' if contracts_ok else 'FAILED'}, fuzz {'ok' if fuzz_ok else 'FAILED'}"
    print("\nresult: " + ("all example checks passed" if ok else f"FAILED ({verdicts})"))
    return 0 if ok else 1


def _fuzz() -> bool:
    """Fuzz the example provider's error semantics from its exported schema (rpctest fuzz)."""
    from hypothesis import settings

    from examples.pysoa.service import STORE, UserServer
    from rpctest.fuzz.engine import fuzz
    from rpctest.fuzz.target import open_target

    print("\nrpctest fuzz --stack pysoa --provider examples.pysoa.service:UserServer (50 cases per operation)")
    STORE.reset()
    with open_target("pysoa", provider=UserServer) as target:
        report = fuzz(target, max_examples=50, seed=0, settings=settings(database=None), replay_dir=ROOT / ".rpctest" / "replays")
    STORE.reset()
    for result in report.results:
        status = "ok" if result.ok else "FAILED"
        print(f"        {status:<6} {result.operation:<26} {result.mode:<17} {result.examples:4d} case(s)")
        if result.failure is not None:
            print("        " + "\n        ".join(result.failure.render().splitlines()))
    print("        " + report.summary())
    return report.ok


def _contracts() -> bool:
    """Verify the examples' contracts (contracts/): against the provider contracts, then live."""
    from examples.pysoa.service import UserServer, provider_state
    from rpctest.contracts import format as fmt
    from rpctest.contracts.live import open_sender, verify_live
    from rpctest.contracts.report import finding_lines
    from rpctest.contracts.verify import verify

    contracts = fmt.load_many([ROOT / "contracts"])
    started = time.perf_counter()
    report = verify(contracts)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"\ncontracts/ ({len(report.consumers)} consumer, {len(report.providers)} provider contract(s))")
    print(f"        rpctest contracts verify           {len(report.errors)} finding(s) in {report.interactions} interaction(s), {elapsed:.1f} ms")
    with open_sender("pysoa", provider=UserServer) as send:
        live = verify_live(contracts, send, stack="pysoa", service="users", setup=provider_state)
    print(f"        verify --live (real UserServer)    {len(live.errors)} finding(s) in {live.interactions} replayed request(s)")
    for finding in [*report.findings, *live.findings]:
        print("        " + "\n        ".join(finding_lines(finding)))
    return report.ok and live.ok


if __name__ == "__main__":
    sys.exit(main())
