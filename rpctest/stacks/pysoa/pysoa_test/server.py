"""``BaseServerTestCase``, ``UnitTestServerTestCase`` and ``PyTestServerTestCase`` that run on pytest 8 and 9.

pysoa's own ``pysoa.test.server`` imports ``RaisesContext`` from ``_pytest.python_api``, which pytest
8.4 removed, so a suite built on it stops importing. These classes keep pysoa's names, attributes
(``server_class``, ``server_settings``, ``self.client``, ``self.service_name``) and helpers, and run the
server through rpctest's :func:`~rpctest.stacks.pysoa.host.serve` over the local transport, which also
stops the server's event loop thread after each test (pysoa's leaked one per test).
"""

from __future__ import annotations

import importlib
import os
import unittest
import warnings
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from rpctest.stacks.pysoa.pysoa_test.assertions import (
    Codes,
    raises_call_action_error,
    raises_error_codes,
    raises_field_errors,
)
from rpctest.stacks.pysoa.pysoa_test.polyfills import UnitTestPolyfills

__all__ = ["BaseServerTestCase", "UnitTestServerTestCase", "PyTestServerTestCase", "ServerTestCase", "settings_for"]


def settings_for(server_class: type[Any]) -> Mapping[str, Any]:
    """The server settings pysoa.test falls back to: Django's ``SOA_SERVER_SETTINGS`` for a Django server,
    else ``SOA_SERVER_SETTINGS`` (or ``settings``) of the module named by ``$PYSOA_SETTINGS_MODULE``."""
    if getattr(server_class, "use_django", False):
        from django.conf import settings as django_settings  # type: ignore[import-not-found]

        django_server_settings: Mapping[str, Any] = django_settings.SOA_SERVER_SETTINGS
        return django_server_settings
    name = os.environ.get("PYSOA_SETTINGS_MODULE")
    if not name:
        raise AssertionError(
            f"{server_class.__name__} has no server_settings and PYSOA_SETTINGS_MODULE is not set: set "
            f"server_settings = {{...}} on the test class (or the server_settings fixture), or export "
            f"PYSOA_SETTINGS_MODULE=your.settings.module"
        )
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise AssertionError(f"could not import PYSOA_SETTINGS_MODULE {name!r}: {exc}") from exc
    for attribute in ("SOA_SERVER_SETTINGS", "settings"):
        if hasattr(module, attribute):
            module_settings: Mapping[str, Any] = getattr(module, attribute)
            return module_settings
    raise AssertionError(f"PYSOA_SETTINGS_MODULE {name!r} has neither SOA_SERVER_SETTINGS nor settings")


class BaseServerTestCase:
    """Call a real ``server_class`` through its whole stack (middleware, validation) from a test.

    Set ``server_class`` (a ``pysoa.server.Server`` subclass with a ``service_name``) and, usually,
    ``server_settings``; then :meth:`setup_pysoa` gives ``self.client`` and ``self.service_name``.
    """

    server_class: type[Any] | None = None
    server_settings: Mapping[str, Any] | None = None

    def setup_pysoa(self) -> None:
        """Start ``server_class`` in-process and set ``self.client`` and ``self.service_name``."""
        from pysoa.server.server import Server

        from rpctest.stacks.pysoa.host import serve

        server_class = self.server_class
        if server_class is None:
            raise TypeError("You must specify `server_class` in `ServerTestCase` subclasses")
        if not (isinstance(server_class, type) and issubclass(server_class, Server)):
            raise TypeError("`server_class` must be a subclass of `Server` in `ServerTestCase` subclasses")
        if not server_class.service_name:
            raise TypeError("`server_class.service_name` must be set in `ServerTestCase` subclasses")
        settings = self.server_settings if self.server_settings is not None else settings_for(server_class)
        self.teardown_pysoa()  # a second setup replaces the first server, it does not leak it
        service = serve(server_class, settings)
        service.server._skip_django_database_cleanup = True
        self.service_name: str = server_class.service_name
        self.client = service.client
        self._rpctest_service = service
        # a class that calls setup_pysoa itself and never teardown_pysoa still gets the server stopped
        self._rpctest_finalizer = weakref.finalize(self, service.stop)

    def teardown_pysoa(self) -> None:
        """Stop the server :meth:`setup_pysoa` started (idempotent). The test case classes call it for you."""
        finalizer = self.__dict__.pop("_rpctest_finalizer", None)
        self.__dict__.pop("_rpctest_service", None)
        if finalizer is not None:
            finalizer()

    def call_action(self, action: str, body: Any = None, service_name: str | None = None, **kwargs: Any) -> Any:
        """``self.client.call_action`` with the service name filled in (``service_name`` calls another)."""
        return self.client.call_action(service_name or self.service_name, action, body=body, **kwargs)

    def assertActionRunsWithAndReturnErrors(self, action: str, body: Any, **kwargs: Any) -> list[Any]:
        """Call ``action``; it must fail; return the (first failing action's) ``Error`` objects."""
        __tracebackhide__ = True
        with raises_call_action_error() as exc_info:
            self.call_action(action, body, **kwargs)
        errors: list[Any] = exc_info.soa_errors
        return errors

    def assertActionRunsWithFieldErrors(
        self, action: str, body: Any, field_errors: Mapping[str, Codes], only: bool = False, **kwargs: Any
    ) -> None:
        """Call ``action``; it must fail with these field errors (``only``: and no other)."""
        __tracebackhide__ = True
        with raises_field_errors(field_errors, only=only):
            self.call_action(action, body, **kwargs)

    def assertActionRunsWithOnlyFieldErrors(self, action: str, body: Any, field_errors: Mapping[str, Codes], **kwargs: Any) -> None:
        """:meth:`assertActionRunsWithFieldErrors` with ``only=True``."""
        __tracebackhide__ = True
        self.assertActionRunsWithFieldErrors(action, body, field_errors, only=True, **kwargs)

    def assertActionRunsWithErrorCodes(self, action: str, body: Any, error_codes: Codes, only: bool = False, **kwargs: Any) -> None:
        """Call ``action``; it must fail with these codes, without a field (``only``: and no other)."""
        __tracebackhide__ = True
        with raises_error_codes(error_codes, only=only):
            self.call_action(action, body, **kwargs)

    def assertActionRunsWithOnlyErrorCodes(self, action: str, body: Any, error_codes: Codes, **kwargs: Any) -> None:
        """:meth:`assertActionRunsWithErrorCodes` with ``only=True``."""
        __tracebackhide__ = True
        self.assertActionRunsWithErrorCodes(action, body, error_codes, only=True, **kwargs)


class UnitTestServerTestCase(unittest.TestCase, BaseServerTestCase):
    """A ``unittest.TestCase`` whose ``setUp`` calls :meth:`setup_pysoa` (call ``super().setUp()`` if you override it)."""

    def setUp(self) -> None:
        super().setUp()
        self.setup_pysoa()
        self.addCleanup(self.teardown_pysoa)


def _overrides(cls: type, name: str) -> bool:
    return getattr(cls, name) is not getattr(PyTestServerTestCase, name)


def _deprecated_hook(old: str, new: str) -> None:
    warnings.warn(
        f"`ServerTestCase.{old}` is deprecated. `ServerTestCase` no longer inherits from `unittest.TestCase`. "
        f"Your test code has been run, but you should rename `{old}` to `{new}` and still call `super` within it. "
        f"This will be removed in PySOA 2.0.",
        DeprecationWarning,
        stacklevel=3,
    )


class PyTestServerTestCase(UnitTestPolyfills, BaseServerTestCase):
    """A plain pytest class: ``setup_method`` calls :meth:`setup_pysoa` (call ``super().setup_method()``).

    As in pysoa, ``unittest``-style ``setUpClass``/``setUp``/``tearDown``/``tearDownClass`` still run
    (from ``setup_class``/``setup_method``/``teardown_method``/``teardown_class``, with a
    ``DeprecationWarning``), ``addCleanup`` works (deprecated too), and the ``self.assert*`` methods are there.
    """

    @classmethod
    def setUpClass(cls) -> None:
        """Deprecated: override ``setup_class`` instead."""

    @classmethod
    def tearDownClass(cls) -> None:
        """Deprecated: override ``teardown_class`` instead."""

    def setUp(self) -> None:
        """Deprecated: override ``setup_method`` instead."""

    def tearDown(self) -> None:
        """Deprecated: override ``teardown_method`` instead."""

    @classmethod
    def setup_class(cls) -> None:
        if cls.setUpClass.__func__ is not PyTestServerTestCase.setUpClass.__func__:  # type: ignore[attr-defined]
            _deprecated_hook("setUpClass", "setup_class")
            cls.setUpClass()

    @classmethod
    def teardown_class(cls) -> None:
        if cls.tearDownClass.__func__ is not PyTestServerTestCase.tearDownClass.__func__:  # type: ignore[attr-defined]
            _deprecated_hook("tearDownClass", "teardown_class")
            cls.tearDownClass()

    def setup_method(self, method: Callable[..., Any] | None = None) -> None:
        self._cleanups: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self.setup_pysoa()
        if _overrides(type(self), "setUp"):
            _deprecated_hook("setUp", "setup_method")
            self.setUp()

    def teardown_method(self, method: Callable[..., Any] | None = None) -> None:
        try:
            if _overrides(type(self), "tearDown"):
                _deprecated_hook("tearDown", "teardown_method")
                self.tearDown()
            self.doCleanups()
        finally:
            self.teardown_pysoa()

    def addCleanup(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Deprecated (as in pysoa): run ``function`` after the test, last added first."""
        _deprecated_hook("addCleanup", "teardown_method")
        self._cleanups.append((function, args, kwargs))

    def doCleanups(self) -> bool:
        """Run the cleanups, last added first; every one runs, the first error is raised at the end."""
        first: BaseException | None = None
        while self._cleanups:
            function, args, kwargs = self._cleanups.pop()
            try:
                function(*args, **kwargs)
            except Exception as exc:  # the rest still run, as in unittest
                first = first or exc
        if first is not None:
            raise first
        return True


#: pysoa.test.server's name for PyTestServerTestCase
ServerTestCase = PyTestServerTestCase
