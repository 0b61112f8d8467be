"""The stack-neutral model: what every adapter translates its native calls, replies and errors into.

Everything above ``rpctest/stacks/`` speaks only these types, so a stub, a contract or a fuzz check
written once works for PySOA actions, pykern APIs, ZeroJSON methods, Kyoukai routes and AsyncAPY
handlers alike.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

__all__ = ["ErrorKind", "RpcError", "CallFailed", "Call", "Reply", "Interaction", "ProviderState"]


class ErrorKind(str, enum.Enum):
    """What an error means to the caller, independent of how a stack spells it.

    The fuzz oracle is stated in these words: valid input never yields ``SERVER_ERROR``; one bad
    field yields ``CALLER_ERROR``; an unknown operation yields ``NOT_FOUND``.
    """

    CALLER_ERROR = "caller_error"
    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    SERVER_ERROR = "server_error"
    TRANSPORT = "transport"

    def __str__(self) -> str:
        return self.value


class RpcError(Exception):
    """One error as the service reported it, in neutral terms plus its native code.

    It is an exception so that a stub's ``side_effect`` can raise it, and a value (equality and hash
    over kind, code, field and message) so that replies and contracts can compare it.

    ``details`` keeps native attributes that have no neutral meaning but must survive a round trip,
    e.g. PySOA's ``is_caller_error``, ``traceback`` and ``variables``, or an HTTP status.
    """

    def __init__(
        self,
        code: str | int,
        message: str = "",
        *,
        field: str | None = None,
        kind: ErrorKind | str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(code, (str, int)) or isinstance(code, bool):
            raise TypeError(f"RpcError code must be a str or int, not {type(code).__name__}: {code!r}")
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.field = field
        self.kind = ErrorKind(kind) if kind is not None else None
        self.details = dict(details or {})

    def _key(self) -> tuple[Any, ...]:
        return (self.kind, self.code, self.field, self.message)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RpcError):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        parts = [repr(self.code)]
        if self.message:
            parts.append(repr(self.message))
        if self.field is not None:
            parts.append(f"field={self.field!r}")
        if self.kind is not None:
            parts.append(f"kind={self.kind.value!r}")
        return f"RpcError({', '.join(parts)})"

    def __str__(self) -> str:
        where = f" at {self.field!r}" if self.field is not None else ""
        what = f": {self.message}" if self.message else ""
        return f"{self.code}{where}{what}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (used by contracts and replay files)."""
        data: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        data["kind"] = self.kind.value if self.kind else None
        if self.details:
            data["details"] = dict(self.details)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RpcError":
        return cls(
            data["code"],
            data.get("message", ""),
            field=data.get("field"),
            kind=data.get("kind"),
            details=data.get("details"),
        )


class CallFailed(Exception):
    """Raised by rpctest's own neutral clients when a reply carries errors."""

    def __init__(self, reply: "Reply") -> None:
        self.reply = reply
        self.errors = list(reply.errors)
        super().__init__("; ".join(str(e) for e in self.errors) or "call failed")


@dataclass(slots=True)  # a stub records one per call: no per-instance __dict__ (issue 21)
class Call:
    """One operation invoked on one service.

    ``meta`` carries what some stacks have and others do not (PySOA context and switches, a
    ZeroJSON session id, pykern's call kind, HTTP headers); ``attachment`` is for stacks with binary
    side payloads (ZeroJSON).
    """

    stack: str
    service: str
    operation: str
    body: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    attachment: bytes | None = None


@dataclass
class Reply:
    """What came back: a body, or errors, or a stream of items (subscriptions), or nothing at all.

    ``errors`` are operation-level errors; ``job_errors`` are errors about the envelope as a whole
    (PySOA job errors, a framing error) that belong to no single operation.
    """

    body: Any = None
    errors: Sequence[RpcError] = ()
    job_errors: Sequence[RpcError] = ()
    attachment: bytes | None = None
    items: Sequence[Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.job_errors

    @property
    def all_errors(self) -> list[RpcError]:
        return [*self.job_errors, *self.errors]


@dataclass(frozen=True)
class ProviderState:
    """A state the provider must be in for a call to get the reply the consumer relied on
    ("user 1 exists", with ``params`` such as ``{"id": 1}``), as Pact's provider states.

    A consumer names it (``stub_action(..., state=)``, the ``rpctest`` marker, the ``provider_state``
    fixture); a provider's handler for that name sets its data up before live verification replays
    the call. Params are JSON-like values, passed to the handler as keyword arguments.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.name)

    def describe(self) -> str:
        if not self.params:
            return repr(self.name)
        shown = ", ".join(f"{key}={value!r}" for key, value in sorted(self.params.items()))
        return f"{self.name!r} ({shown})"


@dataclass
class Interaction:
    """A call and its reply as a consumer saw it: the unit of a consumer contract."""

    call: Call
    reply: Reply
    source: str = "stub"  # "stub" | "client" | "local"
    #: the provider states the consumer assumed (the stub's own, then the test's)
    states: tuple[ProviderState, ...] = ()
    #: the rules the consumer gave instead of literal values (:mod:`rpctest.matchers`), by side:
    #: ``{"request": {pointer: rule}, "response": {pointer: rule}}``; pointers into the request body
    #: and into the response (``/body/...``, ``/items/*/...``, ``/errors/0/message``)
    matchers: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
