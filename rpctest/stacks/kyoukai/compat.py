"""The runtime shim that lets Kyoukai 2.2.1.post1 import and run on Python 3.10+.

Kyoukai's last release (2.2.1.post1, 2018) installs with ``pip install --no-deps`` next to newer
dependencies (httptools 0.9.0, werkzeug 2.3.8, asphalt 4.12.0, h2 4.4.1: ``rpctest constraints kyoukai``).
With that set exactly one thing stops it on Python 3.10 and later: ``Route.invoke_function`` checks
``isinstance(params, collections.Mapping)`` on every call, and the ABC aliases in ``collections``
were removed in Python 3.10. Error handlers are routes too, so without the alias *every* routed
request ends in Kyoukai's canned "Critical Server Error" page.

:func:`apply` restores that one alias (``collections.Mapping`` -> ``collections.abc.Mapping``) and
nothing else. It deliberately leaves ``Kyoukai.handle_httpexception`` alone: the published wheel's
error-handler regression (404, 405, ``abort`` and unhandled exceptions become a canned HTTP/1.0 500
on the wire) is what a real 2.2.1.post1 deployment does, so rpctest must see and report it, never
hide it. :func:`describe` says what the shim did, for ``rpctest doctor``.

This module imports nothing from Kyoukai; it is safe to call before ``import kyoukai`` and any number
of times.
"""

from __future__ import annotations

import collections
import collections.abc
import threading

__all__ = ["ALIASES", "apply", "applied", "describe"]

#: the ``collections`` names Kyoukai 2.2.1.post1 itself uses that Python 3.10 removed
ALIASES: tuple[str, ...] = ("Mapping",)

_lock = threading.Lock()
_added: list[str] = []


def apply() -> list[str]:
    """Make ``import kyoukai`` and its request path work here; idempotent.

    Returns the names this process's shim has added to ``collections`` (empty on an interpreter
    that still has them, e.g. Python < 3.10). A name already present, whoever put it there, is left
    as it is.
    """
    with _lock:
        for name in ALIASES:
            if not hasattr(collections, name):
                setattr(collections, name, getattr(collections.abc, name))
                _added.append(name)
        return list(_added)


def applied() -> bool:
    """Whether every alias Kyoukai needs is present in ``collections`` now."""
    return all(getattr(collections, name, None) is getattr(collections.abc, name) for name in ALIASES)


def describe() -> str:
    """One line on the shim's state (for ``rpctest doctor`` and failure messages)."""
    if not applied():
        return "not applied: collections lacks " + ", ".join(n for n in ALIASES if not hasattr(collections, n))
    if _added:
        return "applied: collections." + ", collections.".join(_added) + " aliased to collections.abc"
    return "not needed: this Python still has collections." + ", collections.".join(ALIASES)
