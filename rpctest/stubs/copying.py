"""Copying request and reply bodies cheaply (stubs copy twice per call), at any depth."""

from __future__ import annotations

import copy
import functools
import pickle
from typing import Any, Callable

__all__ = ["copy_body", "template"]

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
    if type(value) is dict:  # the common request ({"id": 1}) is flat: one C-level copy
        for item in value.values():
            if type(item) not in _ATOMS:
                break
        else:
            return value.copy()
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


#: what a pickled template may hold: pickle copies these exactly (keys, order, types), in C
_TREE_ATOMS = frozenset(_ATOMS)
_TREE_CONTAINERS = frozenset((dict, list, tuple))


def template(value: Any) -> Callable[[], Any]:
    """A maker of fresh deep copies of ``value``: what a stub answers every call with.

    A stub's body is the same for every call, yet each call must get its own copy (a consumer that
    mutates one reply must not change the next). Copying the same value again and again in Python is
    the stub's largest own cost per call, so the value is pickled once and each copy is one
    ``pickle.loads`` (C speed, several times faster than :func:`copy_body`). Only trees of plain
    JSON-like values take that way, and only when no container appears twice (pickle would make the
    copies share it, where :func:`copy_body` makes two); anything else, a tree nested deeper than
    pickle recurses included, is copied by :func:`copy_body` per call. Atoms are their own copies.
    """
    if type(value) in _TREE_ATOMS:
        return functools.partial(_same, value)
    if _plain_tree(value):
        try:
            blob = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        except RecursionError:
            pass
        else:
            return functools.partial(pickle.loads, blob)
    return functools.partial(copy_body, value)


def _same(value: Any) -> Any:
    return value


def _plain_tree(value: Any) -> bool:
    """Whether ``value`` is dicts, lists and tuples of atoms, with no container in two places."""
    seen: set[int] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind in _TREE_ATOMS:
            continue
        if kind not in _TREE_CONTAINERS or id(item) in seen:
            return False
        seen.add(id(item))
        if kind is dict:
            if any(type(key) not in _TREE_ATOMS and type(key) is not tuple for key in item):
                return False
            pending.extend(item.values())
        else:
            pending.extend(item)
    return True
