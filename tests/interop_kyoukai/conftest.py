"""The Kyoukai differential suite runs where Kyoukai 2.2.1.post1 is installed (the interop-kyoukai
nox session); elsewhere it skips, saying how to install it."""

from __future__ import annotations

import pytest

from rpctest.stacks import get_adapter

UNAVAILABLE = get_adapter("kyoukai").host.unavailable_reason()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if UNAVAILABLE is None:
        return
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.skip(reason=f"needs Kyoukai: {UNAVAILABLE}"))


@pytest.fixture(autouse=True)
def _fresh_shelf() -> object:
    """Every test meets the library's first two books (its apps keep them in memory)."""
    from interop_kyoukai.kyk_services import SHELF_STORE

    SHELF_STORE.reset()
    yield
    SHELF_STORE.reset()
