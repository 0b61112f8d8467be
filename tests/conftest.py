"""Shared test configuration: pytester for the tests that run pytest itself in a subprocess, and a
Hypothesis profile for a suite that must pass on a loaded machine."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

pytest_plugins = ["pytester"]

# A command's progress line comes once 10 s have passed (rpctest.progress): on a loaded machine, in
# the middle of output a test compares. Only the progress tests ask for it (they set their own).
os.environ.setdefault("RPCTEST_PROGRESS_INTERVAL", "3600")

#: Hypothesis' checks that fail a test for being slow, not wrong (with the deadline)
SPEED_HEALTH_CHECKS = ("too_slow",)


#: the state directory (rpctest.report.state) of this test process, when the suite made it
_STATE_DIR: list[str] = []


def _private_state_dir() -> None:
    """Runs that commands keep for ``rpctest report`` go to a directory of this test process's own
    (and of the commands it starts), not to the repository's ``.rpctest/``."""
    if "RPCTEST_STATE_DIR" not in os.environ:
        _STATE_DIR.append(tempfile.mkdtemp(prefix="rpctest-state-"))
        os.environ["RPCTEST_STATE_DIR"] = _STATE_DIR[0]


def pytest_unconfigure(config: pytest.Config) -> None:
    for directory in _STATE_DIR:
        os.environ.pop("RPCTEST_STATE_DIR", None)
        shutil.rmtree(directory, ignore_errors=True)
    _STATE_DIR.clear()


def pytest_configure(config: pytest.Config) -> None:
    """No test here is about speed (benchmarks/ measures that), so a loaded CI machine must not fail
    one with ``FailedHealthCheck: Input generation is slow`` or a ``DeadlineExceeded``: the profile in
    force (Hypothesis' ``ci`` profile under ``CI``, else its default) gets no deadline and those
    checks suppressed. A profile chosen with ``--hypothesis-profile`` is left alone."""
    _private_state_dir()
    if config.getoption("hypothesis_profile", None):
        return
    from hypothesis import HealthCheck, settings

    current = settings()
    speed = [getattr(HealthCheck, name) for name in SPEED_HEALTH_CHECKS]
    settings.register_profile(
        "rpctest-suite",
        parent=current,
        deadline=None,
        suppress_health_check=[*current.suppress_health_check, *(c for c in speed if c not in current.suppress_health_check)],
    )
    settings.load_profile("rpctest-suite")


@pytest.fixture(autouse=True)
def _private_rpctest_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Contracts fetched from git or a broker go to a cache of the test run's own, never the user's."""
    monkeypatch.setenv("RPCTEST_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "rpctest-cache"))
