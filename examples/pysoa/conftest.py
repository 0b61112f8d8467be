"""Fixtures for the example's own tests."""

import pytest

from examples.pysoa.service import STORE


@pytest.fixture(autouse=True)
def clean_store():
    """Each test starts from the same single user (Ann, id 1)."""
    STORE.reset()
    yield
    STORE.reset()
