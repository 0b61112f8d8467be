"""PySOA's native answer to each kind of bad request: the fuzz oracle's half that knows the stack.

PySOA validates an action's request body with its Conformity ``request_schema`` before ``validate()``
and ``run()``, and turns every Conformity error into an action error with ``is_caller_error=True``
and the error's pointer as ``field`` (keys and list indexes joined with dots). What it answers was
verified against pysoa 1.4.9 / conformity 1.28.2 through the local transport
(``tests/stack_pysoa/test_pysoa_oracle.py`` keeps it verified):

================================  ========  =================================================
defect                            code      field
================================  ========  =================================================
wrong_type, out_of_range,         INVALID   the dotted path (``user.tags.1``, ``limits.0.max``)
too_long, too_short,
pattern_mismatch (blank string,
bad e-mail, IP or decimal text)
null_not_nullable                 INVALID   the dotted path; ``UNKNOWN`` when the field is a
                                            ``Constant`` (None is just another value not in it)
missing_required                  MISSING   the dotted path of the missing key
unexpected_key                    UNKNOWN   the path of the *containing* dict (None at the top)
not_in_enum                       UNKNOWN   the key (Conformity ``Constant``, also inside
                                            ``Nullable``/``All``); ``INVALID`` from the Constant
                                            subclasses that type-check first
                                            (``CountryCodeField``, ``CurrencyCodeField``) when
                                            the value is not a string (from code: they need
                                            pycountry / currint)
unknown action                    UNKNOWN   ``action`` (classified NOT_FOUND)
================================  ========  =================================================

A defect at the body itself (path ``()``: a body that is not a dict) never reaches the action:
PySOA's job schema rejects it as a *job* error ``INVALID`` at ``actions.0.body`` (with
``is_caller_error`` false, as every job-level validation error). A ``None`` body cannot be sent
through PySOA's client at all: it sends ``{}`` instead.

Known weakness (a finding, not an oracle case): Conformity's ``Polymorph`` crashes on a value that
is not a mapping or lacks the switch key, so PySOA answers ``SERVER_ERROR`` to what is a caller's
mistake.

No pysoa import here: the oracle is plain data, usable without the stack installed.
"""

from __future__ import annotations

from typing import Any, Mapping

from rpctest.model import ErrorKind
from rpctest.strategies.defects import Defect, Expected, path_text

__all__ = ["BODY_FIELD", "expected_for_defect", "expected_for_unknown_operation"]

#: where PySOA's job schema reports a body that is not a dict (the action's index is always 0 for a
#: single call; a job of several actions reports ``actions.<i>.body``)
BODY_FIELD = "actions.0.body"

INVALID = "INVALID"
MISSING = "MISSING"
UNKNOWN = "UNKNOWN"

#: defect kind -> the codes PySOA answers at the defective field itself
_AT_FIELD: dict[str, frozenset[str]] = {
    "wrong_type": frozenset({INVALID}),
    "out_of_range": frozenset({INVALID}),
    "too_long": frozenset({INVALID}),
    "too_short": frozenset({INVALID}),
    "pattern_mismatch": frozenset({INVALID}),
    # a Constant answers UNKNOWN to None (not among its values); every typed field INVALID
    "null_not_nullable": frozenset({INVALID, UNKNOWN}),
    # a Constant answers UNKNOWN; CountryCodeField / CurrencyCodeField answer INVALID to a non-string
    "not_in_enum": frozenset({UNKNOWN, INVALID}),
    "missing_required": frozenset({MISSING}),
}


#: defects that, at the body itself, replace the whole body (the job schema rejects a non-dict body)
_BODY_LEVEL = frozenset({"wrong_type", "null_not_nullable", "pattern_mismatch", "not_in_enum"})
#: defects whose answer a plain Constant changes to UNKNOWN
_ENUM_SENSITIVE = frozenset({"wrong_type", "null_not_nullable", "not_in_enum"})


def _is_enum_node(node: Mapping[str, Any] | None) -> bool:
    """True for a neutral schema node exported from a Conformity ``Constant`` (``enum``/``const``, no type)."""
    return isinstance(node, Mapping) and ("enum" in node or "const" in node) and "type" not in node


def expected_for_defect(defect: Defect, *, index: int = 0, node: Mapping[str, Any] | None = None) -> Expected:
    """PySOA's answer to a request body with ``defect``, for the action at ``index`` of the job.

    ``node`` (optional) is the neutral schema node at the defect's path; it makes the answer exact
    where the path alone cannot: a plain ``Constant`` (``enum``/``const`` without a type) answers
    only ``UNKNOWN``, to a wrong type and to None as well.
    """
    if not defect.path and defect.kind in _BODY_LEVEL:
        # the body itself is not a dict: the job schema answers, not the action
        return Expected(ErrorKind.CALLER_ERROR, f"actions.{index}.body", frozenset({INVALID}))
    if defect.kind == "unexpected_key":
        return Expected(ErrorKind.CALLER_ERROR, path_text(defect.parent) or None, frozenset({UNKNOWN}))
    codes = _AT_FIELD[defect.kind]
    if defect.kind in _ENUM_SENSITIVE and _is_enum_node(node):
        # a plain Constant says UNKNOWN to anything not among its values; a Constant subclass that
        # overrides errors() (the export marks it lossy) may type-check first and say INVALID
        codes = frozenset({UNKNOWN, INVALID}) if node.get("x-rpctest-lossy") else frozenset({UNKNOWN})  # type: ignore[union-attr]
    return Expected(ErrorKind.CALLER_ERROR, path_text(defect.path) or None, codes)


def expected_for_unknown_operation(operation: str) -> Expected:
    """An action the server does not have: ``UNKNOWN`` on the field ``action`` (rpctest: NOT_FOUND)."""
    return Expected(ErrorKind.NOT_FOUND, "action", frozenset({UNKNOWN}))
