"""``pysoa.test.stub_service``'s names: rpctest's ``stub_action`` and pysoa's own stub client classes."""

from __future__ import annotations

from pysoa.test.stub_service import (  # the settings/transport classes StubClient is built from, unchanged
    Errors,
    StubClientSettings,
    StubClientTransport,
    StubClientTransportSchema,
)

from rpctest.compat.pysoa_test import StubClient, StubServer, stub_action

__all__ = ["Errors", "stub_action", "StubClient", "StubClientSettings", "StubClientTransport", "StubClientTransportSchema", "StubServer"]
