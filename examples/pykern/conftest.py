"""Fixtures for the example's own tests."""

import pytest

from examples.pykern.service import ACCOUNTS


@pytest.fixture(autouse=True)
def fresh_accounts():
    """Each test starts from the same balances (ann 100, bob 0)."""
    ACCOUNTS.reset()
    yield
    ACCOUNTS.reset()
