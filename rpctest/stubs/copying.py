"""Copying request and reply bodies cheaply (stubs copy twice per call), at any depth."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["copy_body"]

_ATOMS = (str, int, float, bool, type(None), bytes)


def copy_body(value: Any) -> Any:
    """A deep copy of a JSON-like body, several times faster than ``copy.deepcopy`` for that case.

    Stubs copy every body twice per call (the recorded request and the returned reply), so that a
    consumer mutating either cannot change what the test later asserts or what the next call gets.
    Dicts and lists are copied without recursion: a wire decoder hands the stubs bodies nested up to
    its own limit (about 1000 levels for JSON and msgpack), which a recursive copy, two frames a
    level, could not copy (issue 15: every stub server then answered as if the stub had failed).
    Other containers go to ``copy.deepcopy``.
    """
    root = _shell(value)
    if type(value) not in (dict, list):  # an atom (itself) or another container (deep-copied)
        return root
    pending = [(value, root)]
    while pending:
        source, target = pending.pop()
        items = source.items() if type(source) is dict else enumerate(source)
        for key, item in items:
            shell = _shell(item)
            if shell is not item and type(item) in (dict, list):
                pending.append((item, shell))
            if type(target) is dict:
                target[key] = shell
            else:
                target.append(shell)
    return root


def _shell(value: Any) -> Any:
    """``value`` itself for an atom, an empty dict or list to fill for a dict or list, else a deep copy."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        return {}
    if kind is list:
        return []
    return copy.deepcopy(value)
