"""Fixtures for the example's own tests."""

import pytest

from examples.kyoukai.service import ORDERS


@pytest.fixture(autouse=True)
def fresh_orders():
    """Each test starts with no orders."""
    ORDERS.reset()
    yield
    ORDERS.reset()
