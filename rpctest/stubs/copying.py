"""Copying request and reply bodies cheaply (stubs copy twice per call)."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["copy_body"]

_ATOMS = (str, int, float, bool, type(None), bytes)


def copy_body(value: Any) -> Any:
    """A deep copy of a JSON-like body, several times faster than ``copy.deepcopy`` for that case.

    Stubs copy every body twice per call (the recorded request and the returned reply), so that a
    consumer mutating either cannot change what the test later asserts or what the next call gets.
    """
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        return {key: copy_body(item) for key, item in value.items()}
    if kind is list:
        return [copy_body(item) for item in value]
    return copy.deepcopy(value)
