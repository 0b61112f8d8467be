"""``pysoa.test.assertions``' five helpers with pysoa's semantics, failing through ``pytest.fail``.

Migrating suites read ``exc_info.soa_errors`` and expect ``pytest.fail.Exception`` (``Failed``) when
an assertion does not hold, so these keep both; what they yield is pytest's own ``ExceptionInfo``
(``.value``, ``.type``, ``.match()``, ...) with ``soa_errors`` set once the block has exited. As in
pysoa, only the first failing action's errors are looked at, and ``raises_error_codes`` counts an
error that carries a field as unexpected: the native :mod:`rpctest.assertions` helpers are the ones
that see every action and every field (docs/migrating-from-pysoa-test.md says why).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Union

import pytest

__all__ = [
    "raises_call_action_error",
    "raises_error_codes",
    "raises_field_errors",
    "raises_only_error_codes",
    "raises_only_field_errors",
]

Codes = Union[str, Iterable[str]]


@contextlib.contextmanager
def raises_call_action_error(**kwargs: Any) -> Iterator[Any]:
    """``pytest.raises(Client.CallActionError, **kwargs)`` whose info gets ``soa_errors`` on exit."""
    from pysoa.client.client import Client

    with pytest.raises(Client.CallActionError, **kwargs) as exc_info:
        yield exc_info
    exc_info.soa_errors = list(exc_info.value.actions[0].errors)


def _code_set(codes: Codes) -> set[str]:
    """One code or an iterable of them, as pysoa accepts (a str is one code, not its letters)."""
    if isinstance(codes, (str, bytes)):
        return {codes}
    try:
        return set(codes)
    except TypeError:
        raise TypeError(f"error codes must be a str or an iterable of str, not {codes!r}") from None


def _report(missing_label: str, missing: list[Any], unexpected: list[Any], only: bool) -> None:
    lines = []
    if missing:
        lines.append(f"Expected {missing_label} not found in response: {missing}")
    if only and unexpected:
        lines.append(f"Unexpected errors found in response: {unexpected}")
    if lines:
        pytest.fail("\n".join(lines))


@contextlib.contextmanager
def raises_error_codes(error_codes: Codes, only: bool = False, **kwargs: Any) -> Iterator[Any]:
    """Each code must be raised without a field; ``only``: no other error (a field error counts as other)."""
    wanted = _code_set(error_codes)
    with raises_call_action_error(**kwargs) as exc_info:
        yield exc_info
    unexpected: list[Any] = []
    for error in exc_info.soa_errors:
        if getattr(error, "field", None):
            unexpected.append({error.field: (error.code, error.message)})
        elif error.code in wanted:
            wanted.discard(error.code)
        else:
            unexpected.append((error.code, error.message))
    _report("errors", sorted(wanted, key=str), unexpected, only)


@contextlib.contextmanager
def raises_only_error_codes(error_codes: Codes, **kwargs: Any) -> Iterator[Any]:
    """:func:`raises_error_codes` with ``only=True``."""
    with raises_error_codes(error_codes, only=True, **kwargs) as exc_info:
        yield exc_info


@contextlib.contextmanager
def raises_field_errors(field_errors: Mapping[str, Codes], only: bool = False, **kwargs: Any) -> Iterator[Any]:
    """Each ``field: code(s)`` must be raised; ``only``: no other error (one without a field counts as other)."""
    if not isinstance(field_errors, Mapping):
        raise TypeError(f"field_errors must be a mapping of field name to code(s), not {field_errors!r}")
    wanted = {name: _code_set(codes) for name, codes in field_errors.items()}
    with raises_call_action_error(**kwargs) as exc_info:
        yield exc_info
    unexpected: list[Any] = []
    for error in exc_info.soa_errors:
        name = getattr(error, "field", None)
        if not name:
            unexpected.append((error.code, error.message))
        elif error.code in wanted.get(name, ()):
            wanted[name].discard(error.code)
            if not wanted[name]:
                del wanted[name]
        else:
            unexpected.append({name: (error.code, error.message)})
    missing = [{name: code} for name, codes in wanted.items() for code in sorted(codes, key=str)]
    _report("field errors", missing, unexpected, only)


@contextlib.contextmanager
def raises_only_field_errors(field_errors: Mapping[str, Codes], **kwargs: Any) -> Iterator[Any]:
    """:func:`raises_field_errors` with ``only=True``."""
    with raises_field_errors(field_errors, only=True, **kwargs) as exc_info:
        yield exc_info
