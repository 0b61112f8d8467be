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
    for failure in collector.failures:
        print("\nFAILED " + failure)
    print("\nresult: " + ("all example checks passed" if code == 0 else f"FAILED (pytest exit {int(code)})"))
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
