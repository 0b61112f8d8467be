"""Assert which errors a call raised, for any stack, as context managers that hand back what matched.

Compared with ``pysoa.test.assertions``: errors that carry a field count for ``raises_error_codes``
too (pysoa's helpers ignore them), errors from every failing action of a job are seen (not only the
first), job errors are included, and the same helpers work on any stack whose adapter is loaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from rpctest.model import ErrorKind, RpcError

__all__ = [
    "RaisedErrors",
    "raises_error_codes",
    "raises_field_errors",
    "raises_error_kind",
    "raises_not_found",
    "raises_caller_error",
    "errors_of",
]


@dataclass
class RaisedErrors:
    """Filled in when the ``with`` block exits: every error raised, and the ones that matched."""

    errors: list[RpcError] = field(default_factory=list)
    matched: list[RpcError] = field(default_factory=list)
    exception: BaseException | None = None

    def __iter__(self) -> Iterator[RpcError]:
        return iter(self.matched)

    def __len__(self) -> int:
        return len(self.matched)


def errors_of(exc: BaseException) -> list[RpcError] | None:
    """The neutral errors of a native exception of any loaded stack (None if it carries none)."""
    from rpctest.stacks import errors_from_exception

    return errors_from_exception(exc)


def _listing(errors: Iterable[RpcError]) -> str:
    return ", ".join(f"{e.code}" + (f"@{e.field}" if e.field is not None else "") for e in errors) or "none"


@contextlib.contextmanager
def _capture(what: str) -> Iterator[RaisedErrors]:
    info = RaisedErrors()
    try:
        yield info
    except BaseException as exc:
        errors = errors_of(exc)
        if errors is None:
            raise
        info.exception = exc
        info.errors = errors
        return
    raise AssertionError(f"expected the call to fail with {what}, but it raised nothing")


@contextlib.contextmanager
def raises_error_codes(*codes: str | int, only: bool = False) -> Iterator[RaisedErrors]:
    """Every code must be among the raised errors, with or without a field; ``only``: nothing else."""
    wanted = _flatten(codes)
    with _capture(f"codes {sorted(map(str, wanted))}") as info:
        yield info
    present = {e.code for e in info.errors}
    missing = [c for c in wanted if c not in present]
    if missing:
        raise AssertionError(f"expected error codes {missing} not raised; raised: {_listing(info.errors)}")
    info.matched = [e for e in info.errors if e.code in wanted]
    if only and len(info.matched) != len(info.errors):
        extra = [e for e in info.errors if e.code not in wanted]
        raise AssertionError(f"unexpected errors besides {sorted(map(str, wanted))}: {_listing(extra)}")


@contextlib.contextmanager
def raises_field_errors(
    expected: Mapping[str | None, str | int | Iterable[str | int]], *, only: bool = False
) -> Iterator[RaisedErrors]:
    """Each ``field: code`` (or ``field: [codes]``) must be raised; ``only``: and no other error."""
    pairs = {(fld, code) for fld, codes in expected.items() for code in _flatten([codes])}
    with _capture(f"field errors {sorted(pairs, key=str)}") as info:
        yield info
    present = {(e.field, e.code) for e in info.errors}
    missing = sorted(pairs - present, key=str)
    if missing:
        raise AssertionError(
            "expected field errors not raised: "
            + ", ".join(f"{c}@{f}" for f, c in missing)
            + f"; raised: {_listing(info.errors)}"
        )
    info.matched = [e for e in info.errors if (e.field, e.code) in pairs]
    if only and len(info.matched) != len(info.errors):
        extra = [e for e in info.errors if (e.field, e.code) not in pairs]
        raise AssertionError(f"unexpected errors besides the expected field errors: {_listing(extra)}")


@contextlib.contextmanager
def raises_error_kind(kind: ErrorKind | str, *, field: str | None = None) -> Iterator[RaisedErrors]:
    """Some raised error must be of ``kind`` (and at ``field`` when given): stack-neutral."""
    kind = ErrorKind(kind)
    with _capture(f"a {kind.value} error") as info:
        yield info
    info.matched = [e for e in info.errors if e.kind == kind and (field is None or e.field == field)]
    if not info.matched:
        where = f" at {field!r}" if field is not None else ""
        kinds = ", ".join(f"{e.code}={e.kind.value if e.kind else '?'}" for e in info.errors)
        raise AssertionError(f"expected a {kind.value} error{where}; raised: {kinds or 'none'}")


def raises_not_found() -> contextlib.AbstractContextManager[RaisedErrors]:
    return raises_error_kind(ErrorKind.NOT_FOUND)


def raises_caller_error(field: str | None = None) -> contextlib.AbstractContextManager[RaisedErrors]:
    return raises_error_kind(ErrorKind.CALLER_ERROR, field=field)


def _flatten(items: Iterable[object]) -> list[str | int]:
    flat: list[str | int] = []
    for item in items:
        if isinstance(item, (str, int)):
            flat.append(item)
        elif isinstance(item, Iterable):
            flat.extend(_flatten(item))
        else:
            raise TypeError(f"error codes are str or int, not {item!r}")
    return flat
