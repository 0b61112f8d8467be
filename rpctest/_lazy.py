"""The module ``__getattr__`` of a package whose public names load on first use.

``import rpctest`` (and the pytest plugin) must stay cheap and import no stack library and not
Hypothesis, so ``rpctest``, ``rpctest.strategies``, ``rpctest.fuzz`` and ``rpctest.contracts`` name
their public objects in a table (name -> defining module) and import a module only when one of its
names is first used. Type checkers never see this ``__getattr__`` (each package defines it under
``if not TYPE_CHECKING``, and imports the real names under ``if TYPE_CHECKING``): one they saw would
turn every misspelt name into an ``Any``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Mapping


def lazy_getattr(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """``package``'s module ``__getattr__``: ``table[name]``'s ``name``, imported once and kept in the
    package's namespace, so later lookups are plain attribute reads."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
