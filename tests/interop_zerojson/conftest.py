"""Fixtures of the differential suite against the real PyCOM."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest


@pytest.fixture
def require_pycom() -> None:
    """Fail, not skip, where the real PyCOM is required (RPCTEST_REQUIRE_PYCOM=1) but absent."""
    from interop_zerojson.pycom_peer import UNAVAILABLE

    if UNAVAILABLE is not None:
        pytest.fail(f"RPCTEST_REQUIRE_PYCOM=1, but the real PyCOM is not usable here: {UNAVAILABLE}", pytrace=False)


@pytest.fixture(scope="module")
def pycom_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PyCOM server (its launcher, in a child process) hosting the suite's services."""
    from interop_zerojson.pycom_peer import UNAVAILABLE, pycom_launcher

    if UNAVAILABLE is not None:
        pytest.skip(f"needs the real PyCOM: {UNAVAILABLE}")
    log: Path = tmp_path_factory.mktemp("pycom") / "launcher.log"
    with pycom_launcher(log, "pycom_services") as address:
        yield address
