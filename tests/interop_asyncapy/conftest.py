"""Fixtures of the AsyncAPY differential suite."""

from __future__ import annotations

import pytest


@pytest.fixture
def require_asyncapy() -> None:
    """Fail, not skip, where AsyncAPY is required (RPCTEST_REQUIRE_ASYNCAPY=1, as in CI) but absent."""
    from stack_asyncapy.aap_real import UNAVAILABLE

    if UNAVAILABLE is not None:
        pytest.fail(f"RPCTEST_REQUIRE_ASYNCAPY=1, but AsyncAPY is not usable here: {UNAVAILABLE}", pytrace=False)
