"""Fixtures for the example's own tests."""

import pytest

from examples.zerojson.service import ORDERS


@pytest.fixture(autouse=True)
def fresh_orders():
    ORDERS.reset()
    yield
    ORDERS.reset()
