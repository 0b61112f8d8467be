"""A stub provider built from recorded interactions: what ``rpctest serve`` runs.

Each recorded interaction becomes an ordinary stub (``match`` = the recorded request, answer = the
recorded reply) in a private :class:`~rpctest.stubs.router.StubRouter`, and the stack's wire stub
server answers from that router. So a consumer in another process or language gets the very
replies the contract promises, and a request nothing matches gets the router's usual near-miss
explanation in the server's log, with the stack's own not-found or caller error on the wire.
"""

from __future__ import annotations

from typing import Iterable

from rpctest.contracts.format import Contract, ConsumerContract
from rpctest.exceptions import ConfigError
from rpctest.schema import values
from rpctest.stubs.handle import StubHandle
from rpctest.stubs.router import Stub, StubRouter

__all__ = ["router_from_contracts"]


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
    # the router tries the newest stub first: add the least specific requests first
    recorded.sort(key=lambda pair: (len(values.canonical(values.encode(pair[1].request))), pair[1].identity()))
    for consumer, item in recorded:
        handle = StubHandle(name=f"{consumer.service}.{item.operation}")
        stub = Stub(
            adapter=adapter,
            service=consumer.service,
            action=item.operation,
            handle=handle,
            side_effect=item.as_reply(),
            match=adapter.match_for_recorded(item.request) if item.request is not None else None,
        )
        handle.__dict__["_rpctest_stub"] = stub
        router.add(stub)
    return router
