"""``StubClient``, ``StubServer`` and a positional-friendly ``stub_action``, as ``pysoa.test.stub_service`` names them.

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
from rpctest.stubs.api import stub_action as _stub_action

__all__ = ["StubClient", "StubServer", "stub_action"]


class StubClient(_PySOAStubClient):
    """``StubClient({service: {action: {"body": ..., "errors": [...]}}})`` and ``.stub_action(...)``, as in pysoa."""

    def __init__(self, service_action_map: Any = None, **kwargs: Any) -> None:
        super().__init__(service_action_map, **kwargs)
        # holds the handlers dict, not the client: the servers' loops close when the client goes
        weakref.finalize(self, close_idle_loops, self.handlers)


class stub_action(_stub_action):
    """:class:`rpctest.stub_action` with pysoa's signature: ``body``, ``errors`` and ``side_effect`` may be positional.

    pysoa's ``stub_action(service, action, body=None, errors=None, side_effect=None)`` takes them by
    position too (its own ``action_stubber`` does); rpctest's native one takes keywords only, so that a
    stub reads the same in every stack. Everything else is rpctest's ``stub_action``.
    """

    def __init__(
        self, service: str, action: str, body: Any = None, errors: Any = None, side_effect: Any = None, **options: Any
    ) -> None:
        __tracebackhide__ = True
        super().__init__(service, action, body=body, errors=errors, side_effect=side_effect, **options)
