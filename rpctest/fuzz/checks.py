"""The fuzz oracle's checks: plain functions over one case and the reply it got.

Each check looks at a :class:`Case` (what was sent and what the stack must answer) and the neutral
:class:`~rpctest.model.Reply`, and returns a message when the reply breaks the rule, else None. They
know nothing about Hypothesis, transports or stacks: the stack's native expectations arrive in
``case.expected`` (from the adapter), the response schema in ``case.response_schema``. Add your own
to :data:`CHECKS` or pass ``checks=`` to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rpctest.fuzz.applicable import needs_valid_input
from rpctest.model import ErrorKind, Reply, RpcError
from rpctest.schema.validate import CompiledSchema, describe_value
from rpctest.strategies.defects import Defect, Expected

__all__ = ["Case", "Check", "CHECKS", "not_a_server_error", "not_refused_as_unauthorized", "valid_input_is_not_rejected", "caller_error_for_invalid_input", "not_found_for_unknown_operation", "response_conforms", "describe_errors"]

POSITIVE = "positive"
NEGATIVE = "negative"
UNKNOWN_OPERATION = "unknown_operation"


@dataclass
class Case:
    """One generated request: valid (positive), with one defect (negative), or to an unknown operation."""

    operation: str
    body: Any
    mode: str
    defect: Defect | None = None
    expected: Expected | None = None
    response_schema: CompiledSchema | None = None
    #: extra codes this operation may answer valid input with (per-operation overrides)
    allowed_codes: frozenset[str | int] = frozenset()
    #: where a stack that routes by content sends this request, when that decided the judgement
    #: (AsyncAPY: "handled by find_items"); empty for stacks that route by operation name
    routing: str = ""
    #: the contract could not list the operation's own codes (``errors_open``): any code but the
    #: stack's own (``standard_codes``: its validation and server errors) is a deliberate answer
    codes_open: bool = False
    standard_codes: frozenset[str | int] = frozenset()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis shows a case in the notes of a failure: the operation, mode and request
        (:class:`~rpctest.fuzz.engine.Failure` is what rpctest reports). Hypothesis would otherwise
        print the whole dataclass, compiled response schema included, and parse that text to decide
        how to show it: a large part of the time to a first failure."""
        defect = f", defect={self.defect}" if self.defect is not None else ""
        printer.text(f"Case({self.operation!r}, {self.mode}, body={describe_value(self.body, 400)}{defect})")

    def allows(self, code: str | int) -> bool:
        """Whether ``code`` is an answer this operation may give on purpose."""
        return code in self.allowed_codes or (self.codes_open and code not in self.standard_codes)


Check = Callable[[Case, Reply], "str | None"]


def describe_errors(errors: list[RpcError] | tuple[RpcError, ...]) -> str:
    return "; ".join(
        f"{e.code}" + (f" at {e.field!r}" if e.field is not None else "") + (f" ({e.kind.value})" if e.kind else "") + (f": {e.message[:120]}" if e.message else "")
        for e in errors
    ) or "no errors"


def not_a_server_error(case: Case, reply: Reply) -> str | None:
    """Valid input must never make the service fail (nor may invalid input: it is the caller's fault)."""
    failed = [e for e in reply.all_errors if e.kind is ErrorKind.SERVER_ERROR and not case.allows(e.code)]
    if failed:
        return f"the service answered with a server error: {describe_errors(failed)}"
    return None


def not_refused_as_unauthorized(case: Case, reply: Reply) -> str | None:
    """A request must not be refused as unauthorized unless the operation declares that code: the
    fuzzer sends the credentials it was given with every request, so a refusal means they are
    missing or wrong, and every other check would be judging the authentication layer instead.
    It needs no known-valid input: a service checks who calls before what is asked (PyCOM's
    ``authentication="required"`` answers 5 before any argument check). Only a code the operation
    declares excuses it: where a contract could not list codes (``codes_open``), a refusal of who
    calls is still never what a fuzz run means to test."""
    if case.mode == UNKNOWN_OPERATION:
        return None
    refused = [e for e in reply.all_errors if e.kind is ErrorKind.UNAUTHORIZED and e.code not in case.allowed_codes]
    if refused:
        return (f"the service refused the request as unauthorized: {describe_errors(refused)}; give the credentials it needs "
                "(--token, --header, --auth, or [tool.rpctest.services]), or declare the code if refusing is deliberate")
    return None


@needs_valid_input
def valid_input_is_not_rejected(case: Case, reply: Reply) -> str | None:
    """A request the schema allows must not get a caller error, unless the operation declares that
    code (``DUPLICATE`` for a name already taken is an answer, ``INVALID`` is a contradiction)."""
    if case.mode != POSITIVE:
        return None
    rejected = [e for e in reply.all_errors if e.kind is ErrorKind.CALLER_ERROR and not case.allows(e.code)]
    if rejected:
        return f"the service rejected a request its schema allows: {describe_errors(rejected)}"
    return None


def _matches(error: RpcError, expected: Expected) -> bool:
    if error.kind is not expected.kind:
        return False
    if expected.codes and error.code not in expected.codes:
        return False
    return not expected.check_field or error.field == expected.field


def caller_error_for_invalid_input(case: Case, reply: Reply) -> str | None:
    """A request with one defect must get the stack's caller error, at the defective field."""
    if case.mode != NEGATIVE or case.expected is None:
        return None
    if any(_matches(error, case.expected) for error in reply.all_errors):
        return None
    if reply.ok:
        return f"the service accepted a request with {case.defect} (expected {case.expected})"
    return f"expected {case.expected} for {case.defect}; got {describe_errors(list(reply.all_errors))}"


def not_found_for_unknown_operation(case: Case, reply: Reply) -> str | None:
    """An operation the service does not have must get the stack's not-found answer."""
    if case.mode != UNKNOWN_OPERATION or case.expected is None:
        return None
    if any(_matches(error, case.expected) for error in reply.all_errors):
        return None
    return f"expected {case.expected} for unknown operation {case.operation!r}; got {describe_errors(list(reply.all_errors)) if not reply.ok else 'a success'}"


def response_conforms(case: Case, reply: Reply) -> str | None:
    """Every successful reply must match the operation's response schema."""
    if case.mode != POSITIVE or not reply.ok or case.response_schema is None:
        return None
    violations = case.response_schema.violations(reply.body)
    if not violations:
        return None
    first = violations[0]
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return f"the response breaks its schema at {first.pointer or '/'}: {first.message}{more}; body {describe_value(reply.body, 200)}"


#: the checks every case runs, in order (the first failure is reported)
CHECKS: list[Check] = [
    not_a_server_error,
    not_refused_as_unauthorized,
    valid_input_is_not_rejected,
    caller_error_for_invalid_input,
    not_found_for_unknown_operation,
    response_conforms,
]
