"""Bytes from a peer: decoding one unit of them, and handling one, so that no unit can stop a server.

Every server rpctest runs (the stub servers of the five stacks, ``rpctest serve``, the ZeroJSON server
that hosts declared services) reads bytes it did not write. Python's decoders fail on hostile bytes
in more ways than the error they document, and a server that catches only that one dies on the first
frame that finds another (issue 15: one 2 KB ZeroJSON body, ``[`` a thousand times, ended the
server's loop thread with a RecursionError, and every later call timed out):

* ``json.loads`` raises ``RecursionError`` for deep nesting, a plain ``ValueError`` (not
  ``JSONDecodeError``) for an integer of more digits than ``sys.get_int_max_str_digits()`` (4300),
  ``UnicodeDecodeError`` for bytes that are not UTF-8/16/32, ``MemoryError`` in the worst case;
* msgpack raises ``StackError``, ``ExtraData``, ``FormatError``, ``ValueError``, ``TypeError`` or
  ``UnicodeDecodeError`` depending on the version; a recursive decoder (ZiProto) or anything that walks
  a decoded value (``repr``, a comparison, re-encoding) raises ``RecursionError`` on a deep one.

So each stack's decoder turns every one of those into its own wire error, and each server handles a
unit (a message, a connection) inside one guard. This module has both, stack-neutral:

* :func:`decode_json` and :class:`Undecodable`: ``json.loads`` whose every failure is one
  ``ValueError`` subclass, with a :attr:`~Undecodable.kind` that tells the failures apart, because the
  reference implementations answer them differently (PyCOM 0.6.0 answers code 4 for bad text, syntax
  and a too-long integer, and nothing for deep nesting; AsyncAPY 0.5.0 answers
  ``ERR_REQUEST_MALFORMED`` for bad syntax only and closes silently on the rest);
* :data:`DECODE_FAILURES` and :func:`describe_failure`: what a decoder of untrusted bytes may raise,
  and a sentence for it, for the codecs that keep their own error type (ZiProto, msgpack);
* :func:`contained`: the guard around one unit. Whatever the handling raises (an ``Exception``; a
  cancellation goes through) is logged with its traceback and reported through the server's
  ``diagnose``; that unit fails alone and the server goes on with the next.
"""

from __future__ import annotations

import contextlib
import json
import logging
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any, Literal

__all__ = ["DECODE_FAILURES", "Undecodable", "UndecodableKind", "contained", "decode_json", "describe_failure", "report_uncontained"]

_logger = logging.getLogger("rpctest.serve")

#: what decoding untrusted bytes can raise besides a codec's own error: ``ValueError`` (with
#: ``UnicodeDecodeError``, ``JSONDecodeError``, int's digit limit and msgpack's errors), deep nesting,
#: exhausted memory, numbers out of range, wrong types, short buffers
DECODE_FAILURES: tuple[type[Exception], ...] = (
    ValueError,
    RecursionError,
    MemoryError,
    OverflowError,
    TypeError,
    LookupError,
    struct.error,
)

UndecodableKind = Literal["text", "syntax", "nesting", "number", "memory", "other"]


class Undecodable(ValueError):
    """Bytes that are not the document they should be; ``kind`` says how, the message says where.

    ``kind`` is ``text`` (not UTF-8/16/32), ``syntax`` (what ``json.JSONDecodeError`` reports),
    ``nesting`` (deeper than the interpreter's recursion limit allows), ``number`` (an integer longer
    than Python converts), ``memory`` or ``other``. ``original`` is what the decoder raised, ``detail``
    its own text, which some stacks quote in their answer (PyCOM: ``Cannot decode response: <detail>``).
    """

    def __init__(self, kind: UndecodableKind, message: str, original: BaseException | None = None) -> None:
        super().__init__(message)
        self.kind: UndecodableKind = kind
        self.original = original
        self.detail = str(original) if original is not None else message


def describe_failure(exc: BaseException) -> str:
    """A sentence for what a decoder (or a walk over a decoded value) raised on untrusted input."""
    if isinstance(exc, RecursionError):
        return f"nested deeper than Python's recursion limit ({sys.getrecursionlimit()}) lets it be read ({exc})"
    if isinstance(exc, MemoryError):
        return "too large to hold in memory"
    if isinstance(exc, UnicodeError):
        return f"not valid text ({exc})"
    if isinstance(exc, ValueError) and "digits" in str(exc):
        return f"an integer too long to convert ({exc})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _kind(exc: BaseException) -> UndecodableKind:
    if isinstance(exc, UnicodeError):
        return "text"
    if isinstance(exc, json.JSONDecodeError):
        return "syntax"
    if isinstance(exc, RecursionError):
        return "nesting"
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, ValueError) and "digits" in str(exc):
        return "number"
    return "other"


def decode_json(data: bytes | bytearray | str) -> Any:
    """``json.loads(data)`` (bytes in UTF-8, -16 or -32, as ``json.loads`` detects them), with every
    failure an :class:`Undecodable`; Python's dialect otherwise (``NaN``, the last duplicate key wins).

    Text is first read by the C scanner ``json.loads`` ends in, between the same whitespace skips
    (``JSONDecoder.decode``'s): ``json.loads``, ``decode`` and ``raw_decode`` are three Python calls
    around it, as costly as scanning a small frame, and a stub server decodes one per request. What
    that read does not accept whole goes to ``json.loads``, whose error is the one reported.
    """
    if type(data) is str:
        try:
            value, end = _scan_json(data, _json_space(data, 0).end())
            if _json_space(data, end).end() == len(data):
                return value
        except (ValueError, RecursionError, MemoryError, StopIteration):
            pass  # json.loads below says what is wrong, as it always has
    try:
        return json.loads(data)
    except (ValueError, RecursionError, MemoryError) as exc:
        raise Undecodable(_kind(exc), f"not a JSON document: {describe_failure(exc)}", exc) from None


#: ``json.loads``' own scanner (C where the interpreter has it) and the whitespace it skips around a document
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_json_space: Callable[[str, int], Any] = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]


@contextlib.contextmanager
def contained(
    what: str, diagnose: Callable[[str], None], *, then: str, failed: Callable[[], None] | None = None
) -> Iterator[None]:
    """Handle one unit of a peer's input (``what``: "connection #3", "a 4-frame message") inside
    this block: an exception it raises is logged with its traceback on ``rpctest.serve`` and reported
    as ``"<what>: internal error, <then>: <exception>"`` through ``diagnose`` (the server's own
    diagnostics), ``failed()`` runs (to close that unit's connection), and the block ends there.
    ``then`` says what became of the unit ("no reply was sent", "connection closed"). A cancellation
    (``BaseException``) is not caught: stopping a server must still stop it."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the point: one unit's failure must not reach the server's loop
        report_uncontained(exc, what, diagnose, then=then)
        if failed is not None:
            failed()


def report_uncontained(exc: Exception, what: str, diagnose: Callable[[str], None], *, then: str) -> None:
    """What :func:`contained` does with the exception handling a unit raised, for a server whose
    loop catches it itself: a ``try`` costs nothing until something is raised, where the context
    manager is three Python calls per unit (a ZeroJSON message), and ``what`` need not be worded
    for a unit that does not fail."""
    _logger.error("%s: internal error, %s", what, then, exc_info=exc)
    diagnose(f"{what}: internal error, {then}: {describe_failure(exc)}")
