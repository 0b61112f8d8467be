"""Error-semantics fuzzing: from a provider's schema, prove its answers to good and bad requests.

``fuzz(target)`` runs every operation; ``fuzz_tests(...)`` makes one pytest item per operation;
``rpctest fuzz`` and ``rpctest replay`` are the command-line faces. Checks are plain functions in
:mod:`rpctest.fuzz.checks`. Framing-level fuzzing (malformed frames, not requests) is
:mod:`rpctest.fuzz.framing` (``rpctest fuzz --framing``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rpctest._lazy import lazy_getattr

if TYPE_CHECKING:  # pragma: no cover - what __getattr__ below loads, named for type checkers
    from rpctest.fuzz.checks import CHECKS
    from rpctest.fuzz.engine import Failure, FuzzReport, Target, fuzz, fuzz_operation
    from rpctest.fuzz.framing import FramingCase, FramingOutcome, FramingReport, run_framing
    from rpctest.fuzz.pytest_support import fuzz_tests
    from rpctest.fuzz.replay import replay
    from rpctest.fuzz.target import open_target

__all__ = [
    "fuzz", "fuzz_operation", "Target", "FuzzReport", "Failure", "open_target", "fuzz_tests", "replay", "CHECKS",
    "run_framing", "FramingCase", "FramingOutcome", "FramingReport",
]

_LAZY = {
    "fuzz": "rpctest.fuzz.engine",
    "fuzz_operation": "rpctest.fuzz.engine",
    "Target": "rpctest.fuzz.engine",
    "FuzzReport": "rpctest.fuzz.engine",
    "Failure": "rpctest.fuzz.engine",
    "open_target": "rpctest.fuzz.target",
    "fuzz_tests": "rpctest.fuzz.pytest_support",
    "replay": "rpctest.fuzz.replay",
    "CHECKS": "rpctest.fuzz.checks",
    "run_framing": "rpctest.fuzz.framing",
    "FramingCase": "rpctest.fuzz.framing",
    "FramingOutcome": "rpctest.fuzz.framing",
    "FramingReport": "rpctest.fuzz.framing",
}


from rpctest.fuzz.profiles import register_profiles

register_profiles()  # named profiles exist once fuzzing is imported; loading one is the user's choice


if not TYPE_CHECKING:  # hidden from type checkers: rpctest/_lazy.py says why
    __getattr__ = lazy_getattr(__name__, _LAZY)
