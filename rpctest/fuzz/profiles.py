"""Hypothesis profiles for fuzzing, registered for users to choose and never loaded by rpctest.

``pytest --hypothesis-profile rpctest-ci`` (or ``settings.load_profile("rpctest-ci")``): many
examples, derandomized so CI is repeatable, no example database. ``rpctest-quick``: a smoke run.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROFILES", "register_profiles"]

PROFILES: dict[str, dict[str, Any]] = {
    "rpctest-ci": {"max_examples": 200, "derandomize": True, "database": None, "deadline": None, "print_blob": True},
    "rpctest-quick": {"max_examples": 20, "deadline": None},
}


def register_profiles() -> None:
    from hypothesis import settings

    for name, options in PROFILES.items():
        settings.register_profile(name, **options)
