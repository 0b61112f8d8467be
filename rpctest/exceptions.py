"""rpctest's own errors: each one says what is wrong and what to do about it."""

from __future__ import annotations

__all__ = [
    "RpctestError",
    "ConfigError",
    "StackUnavailable",
    "StubUsageError",
    "UnmatchedCall",
    "StrictStubError",
    "TransportError",
    "CallTimeout",
]


class RpctestError(Exception):
    """Base class of every error rpctest raises about its own use."""


class ConfigError(RpctestError, ValueError):
    """Bad ``[tool.rpctest]`` configuration, ini option or command-line value (names the key)."""


class StackUnavailable(RpctestError, ImportError):
    """A stack library is missing or broken; the message names the extra or the fix."""


class StubUsageError(RpctestError, TypeError):
    """``stub_action`` was used with arguments it cannot honour."""


class UnmatchedCall(RpctestError, AssertionError):
    """A call reached the stub layer and no stub matched it.

    It is an AssertionError so that pytest reports it as a test failure, and the message names the
    stub that came nearest and how the call differs from it.
    """


class StrictStubError(RpctestError, AssertionError):
    """Strict mode found a stub never called, or a call nothing was stubbed for."""


class TransportError(RpctestError):
    """The other side answered with something unusable, or not at all (a timeout, a broken frame).

    Live verification and fuzzing report these as findings about the provider, while other
    rpctest errors (an unreachable server, bad configuration) stop the run as usage errors.
    """


class CallTimeout(TransportError, TimeoutError):
    """A wire client waited its whole timeout and no reply came.

    The message names the service, the operation, the address and the timeout, so a test failure
    says which endpoint was silent. It is a TimeoutError so generic timeout handling catches it.
    """
