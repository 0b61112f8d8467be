"""Hypothesis strategies from rpctest's neutral schema (in the manner of ``hypothesis.strategies``).

::

    from rpctest import strategies as rst

    rst.from_schema(schema)                     # values valid for the schema
    rst.invalid_from_schema(schema)             # InvalidRequest(body, defect): exactly one defect
    rst.invalid_from_schema(schema, kinds=["missing_required", "wrong_type"])
    rst.invalid_from_schema(schema, min_depth=1)  # the body stays an object: keys and below only
    rst.register_format("sku", st.from_regex(r"[A-Z]{3}-\\d{4}", fullmatch=True))
    rst.register_type(EchoArgs)                 # st.from_type(EchoArgs) honours its Constraints

Stack-neutral: no stack library is imported. Hypothesis is imported on first use of a strategy
function, so importing :mod:`rpctest.strategies.defects` (as stack adapters do to state what a defect
must produce) stays as cheap as ``import rpctest``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rpctest._lazy import lazy_getattr
from rpctest.strategies.defects import DEFECT_KINDS, Defect, Expected, InvalidRequest, path_text

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.strategies.invalid import invalid_from_schema
    from rpctest.strategies.types import register_type
    from rpctest.strategies.valid import from_schema, register_format

_LAZY = {
    "from_schema": "rpctest.strategies.valid",
    "register_format": "rpctest.strategies.valid",
    "invalid_from_schema": "rpctest.strategies.invalid",
    "register_type": "rpctest.strategies.types",
}

__all__ = [
    "DEFECT_KINDS",
    "Defect",
    "Expected",
    "InvalidRequest",
    "from_schema",
    "invalid_from_schema",
    "path_text",
    "register_format",
    "register_type",
]


if not TYPE_CHECKING:  # hidden from type checkers: rpctest/_lazy.py says why
    __getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
