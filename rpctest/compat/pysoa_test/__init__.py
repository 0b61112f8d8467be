"""``pysoa.test`` for current pytest: change ``pysoa.test`` to ``rpctest.compat.pysoa_test`` in your imports.

One name for each of ``pysoa.test``'s: ``stub_action`` (rpctest's, taking pysoa's positional
arguments too), ``StubClient``, ``StubServer``, the five ``raises_*`` helpers (pytest's ``ExceptionInfo``
with ``.soa_errors``, failing through ``pytest.fail``), ``BaseServerTestCase``, ``PyTestServerTestCase``
(also as ``ServerTestCase``) and ``UnitTestServerTestCase`` with their polyfills, and pysoa's fixtures
(``action_stubber``, ``server_settings``, ``service_client_settings``, ``service_client_class``,
``service_client``), which exist only where you import them. pysoa's submodule paths work too, so
``from pysoa.test.server import ServerTestCase`` becomes ``from rpctest.compat.pysoa_test.server import
ServerTestCase`` (``stub_service``, ``assertions``, ``server``, ``compatibility``, ``plugins.pytest.fixtures``).

This package imports pysoa: it is the one place outside ``rpctest/stacks/`` that does, and only when a
test imports it (docs/architecture.md). The implementation is in ``rpctest.stacks.pysoa.pysoa_test``.
"""

from __future__ import annotations

from rpctest.stacks.pysoa.host import require_pysoa

require_pysoa()  # a clear "install rpctest[pysoa]" message instead of a bare ModuleNotFoundError

from rpctest.stacks.pysoa.pysoa_test.assertions import (  # noqa: E402
    raises_call_action_error,
    raises_error_codes,
    raises_field_errors,
    raises_only_error_codes,
    raises_only_field_errors,
)
from rpctest.stacks.pysoa.pysoa_test.fixtures import (  # noqa: E402
    action_stubber,
    server_settings,
    service_client,
    service_client_class,
    service_client_settings,
)
from rpctest.stacks.pysoa.pysoa_test.server import (  # noqa: E402
    BaseServerTestCase,
    PyTestServerTestCase,
    ServerTestCase,
    UnitTestServerTestCase,
)
from rpctest.stacks.pysoa.pysoa_test.stub_client import StubClient, StubServer, stub_action  # noqa: E402

__all__ = [
    "stub_action",
    "StubClient",
    "StubServer",
    "raises_call_action_error",
    "raises_error_codes",
    "raises_field_errors",
    "raises_only_error_codes",
    "raises_only_field_errors",
    "BaseServerTestCase",
    "PyTestServerTestCase",
    "ServerTestCase",
    "UnitTestServerTestCase",
    "action_stubber",
    "server_settings",
    "service_client_settings",
    "service_client_class",
    "service_client",
]
