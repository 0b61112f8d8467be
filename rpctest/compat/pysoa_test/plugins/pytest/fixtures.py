"""``pysoa.test.plugins.pytest.fixtures``' fixtures, for explicit import (rpctest never registers them)."""

from __future__ import annotations

from rpctest.compat.pysoa_test import (
    action_stubber,
    server_settings,
    service_client,
    service_client_class,
    service_client_settings,
)

__all__ = ["action_stubber", "server_settings", "service_client_settings", "service_client_class", "service_client"]
