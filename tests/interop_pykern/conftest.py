"""The pykern.api differential suite: rpctest against pykern's real server and pykern's real client.

Fixtures: the services of :mod:`interop_pykern.services` hosted by pykern's real server (its
``_Server`` on a background thread's loop, a real WebSocket on 127.0.0.1), and their provider
contracts exported to files, as a user would pass them with ``--contract``.

Each differential test counts what it compared (``tally``); the counts of every test, from every
xdist worker, are summed at the end of the run and printed per direction, the figures the issue
asks for ("cases compared" and "cases that differed").
"""

from __future__ import annotations

import gc
import json
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

try:  # not a skip: a differential suite that did not run has compared nothing
    import pykern.api.server  # noqa: F401
except ImportError as exc:
    raise pytest.UsageError(f"the pykern differential suite needs pykern.api ({exc}): run it with 'nox -s interop-pykern'") from None

_TALLY = "rpctest-interop"
_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])


@pytest.fixture
def tally(record_property: Callable[[str, Any], None]) -> Callable[[str, int, int], None]:
    """``tally(direction, compared, differed)``: add a test's counts to the run's figures."""

    def add(direction: str, compared: int, differed: int) -> None:
        record_property(_TALLY, json.dumps([direction, compared, differed]))

    return add


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Sum the counts (on the xdist controller, reports carry each worker's properties)."""
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == _TALLY:
            direction, compared, differed = json.loads(value)
            _totals[direction][0] += compared
            _totals[direction][1] += differed


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _totals:
        return
    terminalreporter.section("pykern.api differential figures")
    for direction in sorted(_totals):
        compared, differed = _totals[direction]
        terminalreporter.write_line(f"pykern {direction}: {compared} case(s) compared, {differed} differed")


@pytest.fixture(autouse=True)
def _no_socket_left_to_the_collector() -> Iterator[None]:
    """tornado's WebSocket objects sit in reference cycles: collect after each test, so a socket one
    of them leaves open is reported by the test that leaked it."""
    yield
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    if leaked:
        pytest.fail("this test left resources to the garbage collector: " + "\n".join(leaked), pytrace=False)


def _hosted(provider: str) -> Iterator[Any]:
    from rpctest.stacks.pykern import serve

    service = serve(provider)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def shop() -> Iterator[Any]:
    """The correct ``ShopAPI`` on pykern's real server (a real socket)."""
    yield from _hosted("interop_pykern.services:ShopAPI")


@pytest.fixture(scope="module")
def buggy_shop() -> Iterator[Any]:
    """``BuggyShopAPI`` on pykern's real server."""
    yield from _hosted("interop_pykern.services:BuggyShopAPI")


def _exported(provider: str, path: Path) -> Path:
    from rpctest.cli import main

    assert main(["contracts", "export", "--stack", "pykern", "--provider", provider, "-o", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def shop_contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _exported("interop_pykern.services:ShopAPI", tmp_path_factory.mktemp("contracts") / "pykern--shop.json")


@pytest.fixture(scope="module")
def buggy_contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _exported("interop_pykern.services:BuggyShopAPI", tmp_path_factory.mktemp("contracts") / "pykern--buggy_shop.json")


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The consumer contract ``pytest --rpctest-record`` writes for ``consumer_shop.py``'s stubs."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    where = tmp_path_factory.mktemp("recorded")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "rpctest", "-p", "no:cacheprovider", "-q", "-p", "no:xdist",
         "tests/interop_pykern/consumer_shop.py", "--rpctest-record", "--rpctest-contracts-dir", str(where)],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return where / "consumers" / "rpctest-examples--pykern--shop.json"
