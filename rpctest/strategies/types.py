"""``st.from_type`` for request and reply types declared with type hints.

Hypothesis already builds TypedDicts from their annotations, but it knows nothing of rpctest's
``Annotated[str, Constraints(max_length=3)]`` markers, so ``st.from_type(EchoArgs)`` would draw
requests the service rightly rejects. :func:`register_type` registers the type's neutral schema
(:func:`rpctest.schema.from_types.schema_from_type`) as its strategy, so ``st.from_type`` and
``@given(args=...)`` with type inference draw valid values of the declared shape.

Only TypedDicts are registered: their values *are* the dicts a wire carries. A dataclass's values
are instances, which the schema (the wire form, a map) does not describe; draw its wire form with
``from_schema(schema_from_type(cls))`` instead.
"""

from __future__ import annotations

from typing import Any

from rpctest.exceptions import ConfigError

__all__ = ["register_type"]


def register_type(tp: Any, **options: Any) -> None:
    """Make ``st.from_type(tp)`` draw valid values of ``tp``'s neutral schema.

    ``options`` go to :func:`rpctest.strategies.from_schema` (``formats=``, ``utc=`` ...).
    """
    from hypothesis import strategies as st

    from rpctest.schema.from_types import schema_from_type
    from rpctest.strategies.valid import from_schema

    if not (isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")):
        raise ConfigError(
            f"register_type takes a TypedDict (its values are the maps a wire carries), not {tp!r}; "
            f"for other types draw from_schema(schema_from_type(...))"
        )
    st.register_type_strategy(tp, from_schema(schema_from_type(tp), **options))
