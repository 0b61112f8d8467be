"""Fixtures of the differential suite against the real PyCOM."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest


@pytest.fixture(scope="module", autouse=True)
def real_pycom() -> None:
    """Every test here needs the real PyCOM: skip without it, saying why, or fail where it is required
    (RPCTEST_REQUIRE_PYCOM=1: CI, where ../shared/peers is at hand)."""
    from interop_zerojson.pycom_peer import REQUIRED, UNAVAILABLE

    if UNAVAILABLE is None:
        return
    if REQUIRED:
        pytest.fail(f"RPCTEST_REQUIRE_PYCOM=1, but the real PyCOM is not usable here: {UNAVAILABLE}", pytrace=False)
    pytest.skip(f"needs the real PyCOM: {UNAVAILABLE}")


@pytest.fixture(scope="module")
def pycom_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PyCOM server (its launcher, in a child process) hosting the suite's services."""
    from interop_zerojson.pycom_peer import pycom_launcher

    log: Path = tmp_path_factory.mktemp("pycom") / "launcher.log"
    with pycom_launcher(log, "pycom_services") as address:
        yield address
