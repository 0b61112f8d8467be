"""``pysoa.test.assertions``' names."""

from __future__ import annotations

from rpctest.compat.pysoa_test import (
    raises_call_action_error,
    raises_error_codes,
    raises_field_errors,
    raises_only_error_codes,
    raises_only_field_errors,
)

__all__ = [
    "raises_call_action_error",
    "raises_error_codes",
    "raises_field_errors",
    "raises_only_error_codes",
    "raises_only_field_errors",
]
