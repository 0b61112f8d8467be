"""Fixtures of the AsyncAPY tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def require_asyncapy() -> None:
    """Fail, not skip, a host-half test where AsyncAPY is required (RPCTEST_REQUIRE_ASYNCAPY=1) but absent."""
    from stack_asyncapy.aap_real import UNAVAILABLE

    if UNAVAILABLE is not None:
        pytest.fail(f"RPCTEST_REQUIRE_ASYNCAPY=1, but AsyncAPY is not usable here: {UNAVAILABLE}", pytrace=False)
