"""pysoa's pytest fixtures, to import explicitly: ``from rpctest.compat.pysoa_test import service_client``.

rpctest's plugin never registers these (its own fixtures keep their own names); importing one into a
test module or ``conftest.py`` defines it there, shadowing the fixture of the same name that pysoa's
auto-loaded ``pysoa_test_fixtures`` plugin provides. As in pysoa, ``server_class`` is yours to define;
``server_settings`` defaults to ``$PYSOA_SETTINGS_MODULE`` and the servers run over the local transport.
Unlike pysoa's, ``service_client`` closes its server's event loop when its module's tests are done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from rpctest.stacks.pysoa.host import close_idle_loops
from rpctest.stacks.pysoa.pysoa_test.server import settings_for
from rpctest.stubs.api import started_stubs

__all__ = ["action_stubber", "server_settings", "service_client_settings", "service_client_class", "service_client"]


def _service_name(server_class: type) -> str:
    name: str | None = getattr(server_class, "service_name", None)
    if not name:
        raise TypeError(f"the server_class fixture must give a pysoa Server subclass with a service_name, not {server_class!r}")
    return name


@pytest.fixture(scope="module")
def server_settings(server_class: type) -> Mapping[str, Any]:
    """The settings of ``server_class``: Django's, or ``$PYSOA_SETTINGS_MODULE``'s (override it to give your own)."""
    return settings_for(server_class)


@pytest.fixture(scope="module")
def service_client_settings(server_class: type, server_settings: Mapping[str, Any]) -> dict[str, Any]:
    """Client settings: ``server_class`` behind the local transport."""
    return {
        _service_name(server_class): {
            "transport": {
                "path": "pysoa.common.transport.local:LocalClientTransport",
                "kwargs": {"server_class": server_class, "server_settings": server_settings},
            }
        }
    }


@pytest.fixture(scope="module")
def service_client_class(server_class: type) -> type:
    """A ``Client`` whose ``call_action(action, body, service_name=None)`` fills in the service name."""
    from pysoa.client.client import Client

    default = _service_name(server_class)

    class ServiceClient(Client):  # type: ignore[misc]
        def call_action(self, action: str, body: Any = None, service_name: str | None = None, **kwargs: Any) -> Any:
            return super().call_action(service_name or default, action, body=body, **kwargs)

    return ServiceClient


@pytest.fixture(scope="module")
def service_client(server_class: type, service_client_class: type, service_client_settings: Mapping[str, Any]) -> Iterator[Any]:
    """An instance of ``service_client_class`` on ``service_client_settings`` (one per module, as in pysoa)."""
    client = service_client_class(service_client_settings)
    client._get_handler(_service_name(server_class)).transport.server._skip_django_database_cleanup = True
    yield client
    close_idle_loops(client.handlers)


@pytest.fixture
def action_stubber() -> Iterator[Callable[..., Any]]:
    """``action_stubber(service, action, body=None, errors=None, side_effect=None)``: stubs stopped at teardown."""
    with started_stubs() as make:
        yield make
