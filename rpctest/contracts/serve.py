"""A stub provider built from recorded interactions: what ``rpctest serve`` runs.

Each recorded interaction becomes an ordinary stub (``match`` = the recorded request, answer = the
recorded reply) in a private :class:`~rpctest.stubs.router.StubRouter`, and the stack's wire stub
server answers from that router. So a consumer in another process or language gets the very
replies the contract promises, and a request nothing matches gets the router's usual near-miss
explanation in the server's log, with the stack's own not-found or caller error on the wire.
"""

from __future__ import annotations

from typing import Any, Iterable

from rpctest.contracts.format import Contract, ConsumerContract, RecordedInteraction, gc_paused
from rpctest.exceptions import ConfigError
from rpctest.model import Call
from rpctest.schema import values
from rpctest.stubs.router import Stub, StubRouter

__all__ = ["router_from_contracts", "ServedHandle"]


def router_from_contracts(contracts: Iterable[Contract], stack: str) -> StubRouter:
    """A router (that patches no client library) answering ``stack``'s recorded interactions.

    When several interactions of one operation match a request, the one with the most specific
    recorded request wins (requests are matched as subsets, and larger ones are tried first).
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
    with gc_paused():
        router.add_many(_stubs(recorded, adapter))
    return router


def _stubs(recorded: list[tuple[ConsumerContract, RecordedInteraction]], adapter: Any) -> list[Stub]:
    # the router tries the newest stub first: add the least specific requests first
    recorded.sort(key=lambda pair: (len(values.canonical(values.encode(pair[1].request))), pair[1].identity()))
    stubs = []
    for consumer, item in recorded:
        handle = ServedHandle(f"{consumer.service}.{item.operation}")
        handle.stub = Stub(
            adapter=adapter,
            service=consumer.service,
            action=item.operation,
            handle=handle,  # type: ignore[arg-type]
            side_effect=item.as_reply(),
            match=adapter.match_for_recorded(item.request) if item.request is not None else None,
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
