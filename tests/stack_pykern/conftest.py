"""pykern tests collect garbage after each test, so a socket one of them leaves open is reported
(as the ResourceWarning error the suite's filterwarnings make it) by the test that leaked it.

tornado's WebSocket objects sit in reference cycles: without this, an unclosed client socket is
found by the cyclic garbage collector in whichever later test happens to trigger it, which names
the wrong test (this happened intermittently in CI).

A leak that still turns up rarely is reported with where its socket was made: every socket made
while these tests run remembers the test and the call stack that created it (the collector can still
find a socket after its own test's collection, when something kept it reachable until later).
"""

from __future__ import annotations

import gc
import socket
import traceback
import warnings
from collections.abc import Iterator

import pytest

_current: dict[str, str | None] = {"test": None}


class _TracedSocket(socket.socket):
    """A socket that knows which test made it, and from where."""

    __slots__ = ("rpctest_origin",)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        stack = "".join(traceback.format_stack(limit=14)[:-1])
        self.rpctest_origin = f"made during {_current['test'] or 'no test'} at:\n{stack}"


socket.socket = _TracedSocket  # type: ignore[misc]


def _describe(caught: warnings.WarningMessage) -> str:
    origin = getattr(caught.source, "rpctest_origin", None)
    return f"{caught.message}" + (f"\n{origin}" if origin else "")


@pytest.fixture(autouse=True)
def _leaks_are_reported_by_the_test_that_leaked(request: pytest.FixtureRequest) -> Iterator[None]:
    _current["test"] = request.node.nodeid
    yield
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    leaked = [_describe(w) for w in caught if issubclass(w.category, ResourceWarning)]
    _current["test"] = None
    if leaked:
        pytest.fail("this test left resources to the garbage collector: " + "\n".join(leaked), pytrace=False)
