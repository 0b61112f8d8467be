"""``pysoa.test.compatibility.mock``: the ``mock`` backport when it is installed, else ``unittest.mock``.

rpctest's stubs work with either (they take part in both ``patch`` protocols), so tests that build
their mocks from this name keep doing so.
"""

from __future__ import annotations

from pysoa.test.compatibility import mock

__all__ = ["mock"]
