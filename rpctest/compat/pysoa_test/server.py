"""``pysoa.test.server``'s names."""

from __future__ import annotations

from rpctest.compat.pysoa_test import BaseServerTestCase, PyTestServerTestCase, ServerTestCase, UnitTestServerTestCase

__all__ = ["BaseServerTestCase", "PyTestServerTestCase", "ServerTestCase", "UnitTestServerTestCase"]
