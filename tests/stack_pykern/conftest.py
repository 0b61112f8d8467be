"""pykern tests collect garbage after each test, so a socket one of them leaves open is reported
(as the ResourceWarning error the suite's filterwarnings make it) by the test that leaked it.

tornado's WebSocket objects sit in reference cycles: without this, an unclosed client socket is
found by the cyclic garbage collector in whichever later test happens to trigger it, which names
the wrong test (this happened intermittently in CI).
"""

import gc
import warnings

import pytest


@pytest.fixture(autouse=True)
def _leaks_are_reported_by_the_test_that_leaked() -> object:
    yield
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    if leaked:
        pytest.fail("this test left resources to the garbage collector: " + "; ".join(leaked), pytrace=False)
