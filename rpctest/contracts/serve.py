"""A stub provider built from recorded interactions: what ``rpctest serve`` runs.

Each recorded interaction becomes an ordinary stub (the recorded request, matched **exactly**; the
recorded reply as its answer) in a private :class:`~rpctest.stubs.router.StubRouter`, and the stack's
wire stub server answers from that router. So a consumer in another process or language gets the
very replies the contract promises, and only to the requests the contract recorded: the real server
may answer ``add {"a": 1, "b": 1}`` otherwise than ``add {"a": 1}``, so a recorded reply to the one
is no answer to the other (a stub a test writes keeps ``match=``'s subset meaning). A request nothing
matches gets the router's near-miss explanation (the recorded request it came nearest to, and how
it differs) in the server's log, with the stack's own not-found or caller error on the wire.

A recorded stream (``items``) is served as one: its stub carries the ``items`` option, which is what
the pykern stub server asks to answer SUBSCRIBE (and a CALL with pykern's ``APIKindError``) and the
AsyncAPY stub server to send one frame per item. Recorded reply options (Kyoukai's status and
headers) come back in the reply's ``meta``.
"""

from __future__ import annotations

from typing import Any, Iterable

from rpctest.contracts.format import Contract, ConsumerContract, RecordedInteraction, gc_paused
from rpctest.exceptions import ConfigError
from rpctest.model import Call
from rpctest.stubs.router import Stub, StubRouter

__all__ = ["router_from_contracts", "ServedHandle"]


def router_from_contracts(contracts: Iterable[Contract], stack: str, *, states: Iterable[str] | None = None) -> StubRouter:
    """A router (that patches no client library) answering ``stack``'s recorded interactions, each
    to its recorded request exactly (:meth:`~rpctest.stacks.base.StackAdapter.recorded_differences`).

    ``states`` are the provider states the served provider is in (``rpctest serve --state``). One
    request recorded under several states answers as recorded under the given ones; interactions
    recorded under a state not given are not served at all (the provider is not in it). With no
    states given, every interaction is served, and where one request was recorded under no state
    and under some, the one under no state answers. Among equals, the last in file order answers.
    """
    from rpctest.stacks import get_adapter

    adapter = get_adapter(stack)
    router = StubRouter(intercept=False)
    recorded = [
        (consumer, item)
        for consumer in contracts
        if isinstance(consumer, ConsumerContract) and consumer.stack == stack
        for item in consumer.interactions
    ]
    if not recorded:
        raise ConfigError(f"the given contracts hold no recorded {stack} interactions to serve")
    if states:
        recorded = _in_states(recorded, set(states))
    else:  # the router answers from the newest stub: stateless recordings go last, so they win
        recorded = sorted(recorded, key=lambda pair: not pair[1].states)
    with gc_paused():
        router.add_many(_stubs(recorded, adapter))
    return router


def _in_states(recorded: list[tuple[ConsumerContract, RecordedInteraction]], given: set[str]) -> list[tuple[ConsumerContract, RecordedInteraction]]:
    """The interactions a provider in the ``given`` states answers: those recorded under no state,
    then (so that they win) those whose every state is given; an unknown state name is an error."""
    known = {state.name for _, item in recorded for state in item.states}
    unknown = sorted(given - known)
    if unknown:
        raise ConfigError(
            f"no interaction was recorded under provider state {', '.join(map(repr, unknown))}; recorded states: "
            f"{', '.join(map(repr, sorted(known))) or 'none'}"
        )
    stateless = [pair for pair in recorded if not pair[1].states]
    chosen = [pair for pair in recorded if pair[1].states and {s.name for s in pair[1].states} <= given]
    return stateless + chosen


def _stubs(recorded: list[tuple[ConsumerContract, RecordedInteraction]], adapter: Any) -> list[Stub]:
    stubs = []
    for consumer, item in recorded:
        handle = ServedHandle(f"{consumer.service}.{item.operation}")
        handle.stub = Stub(
            adapter=adapter,
            service=consumer.service,
            action=item.operation,
            handle=handle,  # type: ignore[arg-type]
            side_effect=item.as_reply(),
            match=item.request,
            exact=True,
            # a request that keeps the consumer's rules is taken, not only the recorded example
            matchers={"request": item.rules("request")} if item.rules("request") else {},
            options={"items": list(item.items)} if item.items is not None else {},
            match_attachment=item.request_attachment,
        )
        stubs.append(handle.stub)
    return stubs


class ServedHandle:
    """The handle of a served interaction: what the router asks of a stub's handle, and no more.

    A test's :class:`~rpctest.stubs.handle.StubHandle` is a MagicMock, so that a test can assert on
    its calls. A served contract has no test to read them: a MagicMock per interaction was most of
    ``rpctest serve``'s start-up for thousands of interactions, and kept every request answered for
    as long as the server ran. This one counts calls (for logs and the router's messages) and keeps
    nothing else.
    """

    __slots__ = ("name", "stub", "call_count")

    def __init__(self, name: str) -> None:
        self.name = name
        self.stub: Stub | None = None
        self.call_count = 0

    def __repr__(self) -> str:
        return f"<served {self.name} ({self.call_count} call(s))>"

    def _rpctest_user_configured(self) -> bool:
        return False  # nothing sets a return value on a served stub: its recorded reply answers

    def _rpctest_record(self, call: Call) -> None:
        self.call_count += 1
