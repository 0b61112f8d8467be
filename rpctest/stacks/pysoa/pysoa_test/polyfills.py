"""The ``unittest``-style ``self.assert*`` / ``self.fail*`` methods ``PyTestServerTestCase`` offers.

pysoa wrote each one again on plain ``assert``; here they are the standard library's own, run on a
private ``unittest.TestCase``, so each checks exactly what its ``unittest`` namesake checks and fails
with ``unittest``'s fuller message (still an ``AssertionError``). ``assertRaises``, ``assertRaisesRegex``,
``assertWarns`` and ``assertWarnsRegex`` are pytest's, as in pysoa: used as context managers they give
pytest's ``ExceptionInfo`` (with ``.exception`` too, after the block) or ``WarningsChecker``. The names
pysoa deprecated still work and still warn (``DeprecationWarning``), as they did there.
"""

from __future__ import annotations

import contextlib
import functools
import unittest
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

__all__ = ["UnitTestPolyfills"]

#: the assertions taken from unittest.TestCase as they are
_DELEGATED = (
    "fail", "assertEqual", "assertNotEqual", "assertMultiLineEqual", "assertSequenceEqual", "assertListEqual",
    "assertTupleEqual", "assertSetEqual", "assertDictEqual", "assertCountEqual", "assertAlmostEqual",
    "assertNotAlmostEqual", "assertTrue", "assertFalse", "assertIs", "assertIsNot", "assertIsNone",
    "assertIsNotNone", "assertIn", "assertNotIn", "assertIsInstance", "assertNotIsInstance", "assertGreater",
    "assertGreaterEqual", "assertLess", "assertLessEqual", "assertRegex", "assertNotRegex", "assertLogs",
)

#: pysoa's deprecated alias -> the method it stands for
_DEPRECATED = {
    "assertEquals": "assertEqual", "failUnlessEqual": "assertEqual", "assertNotEquals": "assertNotEqual",
    "failIfEqual": "assertNotEqual", "assertAlmostEquals": "assertAlmostEqual",
    "failUnlessAlmostEqual": "assertAlmostEqual", "assertNotAlmostEquals": "assertNotAlmostEqual",
    "failIfAlmostEqual": "assertNotAlmostEqual", "failUnless": "assertTrue", "assert_": "assertTrue",
    "failIf": "assertFalse", "assertRegexpMatches": "assertRegex", "assertNotRegexpMatches": "assertNotRegex",
    "failUnlessRaises": "assertRaises", "assertRaisesRegexp": "assertRaisesRegex",
}


class _Checker(unittest.TestCase):
    """A TestCase used only for its assertion methods (never run)."""

    maxDiff = None

    def runTest(self) -> None:  # pragma: no cover - present so the constructor accepts the default name
        """Never run."""


_CHECKER = _Checker()


def _delegate(name: str) -> Callable[..., Any]:
    original = getattr(unittest.TestCase, name)

    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return getattr(_CHECKER, name)(*args, **kwargs)

    return method


def _deprecated(alias: str, target: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        warnings.warn(f"Please use {target} instead. This will be removed in PySOA 2.0.", DeprecationWarning, 2)
        return getattr(self, target)(*args, **kwargs)

    method.__name__ = method.__qualname__ = alias
    method.__doc__ = f"Deprecated alias of {target} (as in pysoa.test)."
    return method


@contextlib.contextmanager
def _raises(exception: Any, **kwargs: Any) -> Iterator[Any]:
    """pytest.raises, plus ``.exception`` (unittest's name for ``.value``) once the block has exited."""
    with pytest.raises(exception, **kwargs) as exc_info:
        yield exc_info
    exc_info.exception = exc_info.value


class UnitTestPolyfills:
    """Mixin: ``unittest.TestCase``'s assertion methods on a class that is not a ``TestCase``."""

    def assertRaises(self, exception: Any, callable: Callable[..., Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        """With a callable: call it and require ``exception``; without: a context manager (pytest's)."""
        __tracebackhide__ = True
        if callable is None:
            return _raises(exception, **kwargs)
        with pytest.raises(exception):
            callable(*args, **kwargs)
        return None

    def assertRaisesRegex(
        self, exception: Any, regex: Any, callable: Callable[..., Any] | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        """As :meth:`assertRaises`, and the exception's text must match ``regex`` (``re.search``)."""
        __tracebackhide__ = True
        if callable is None:
            return _raises(exception, match=regex, **kwargs)
        with pytest.raises(exception, match=regex):
            callable(*args, **kwargs)
        return None

    def assertWarns(self, warning: Any, callable: Callable[..., Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        """pytest.warns, called on ``callable`` or returned as a context manager."""
        __tracebackhide__ = True
        if callable is None:
            return pytest.warns(warning, **kwargs)
        with pytest.warns(warning):
            callable(*args, **kwargs)
        return None

    def assertWarnsRegex(
        self, warning: Any, regex: Any, callable: Callable[..., Any] | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        """As :meth:`assertWarns`, and the warning's text must match ``regex``."""
        __tracebackhide__ = True
        if callable is None:
            return pytest.warns(warning, match=regex, **kwargs)
        with pytest.warns(warning, match=regex):
            callable(*args, **kwargs)
        return None


for _name in _DELEGATED:
    setattr(UnitTestPolyfills, _name, _delegate(_name))
for _alias, _target in _DEPRECATED.items():
    setattr(UnitTestPolyfills, _alias, _deprecated(_alias, _target))
del _name, _alias, _target
