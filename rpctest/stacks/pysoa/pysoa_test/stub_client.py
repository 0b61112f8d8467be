"""``StubClient``, ``StubServer`` and ``stub_action``, as ``pysoa.test.stub_service`` names them.

``StubClient`` is pysoa's own (a ``Client`` whose services are generated stub ``Server``\\ s behind the
local transport, so answers go through pysoa's real server code path, exactly as before); rpctest adds
only that the event loop each of those servers builds is closed when the client is collected, instead
of warning ``ResourceWarning`` at garbage collection.
"""

from __future__ import annotations

import weakref
from typing import Any

from pysoa.test.stub_service import StubClient as _PySOAStubClient
from pysoa.test.stub_service import StubServer

from rpctest.stacks.pysoa.host import close_idle_loops
# rpctest's own stub_action: it takes ``body``, ``errors`` and ``side_effect`` by position too, as pysoa's
# does, and speaks mock.patch's patcher protocol (parameterized, the mock backport)
from rpctest.stubs.api import stub_action

__all__ = ["StubClient", "StubServer", "stub_action"]


class StubClient(_PySOAStubClient):
    """``StubClient({service: {action: {"body": ..., "errors": [...]}}})`` and ``.stub_action(...)``, as in pysoa."""

    def __init__(self, service_action_map: Any = None, **kwargs: Any) -> None:
        super().__init__(service_action_map, **kwargs)
        # holds the handlers dict, not the client: the servers' loops close when the client goes
        weakref.finalize(self, close_idle_loops, self.handlers)
