"""Provider state handlers for the example ``users`` service (``--states stack_pysoa.pysoa_states``)."""

from __future__ import annotations

from typing import Iterator

import rpctest
from examples.pysoa.service import STORE


@rpctest.provider_state("user exists")
def user_exists(id: int, name: str) -> Iterator[None]:
    """The user the consumer reads is in the store; the store is fresh again afterwards."""
    STORE.users[id] = {"id": id, "name": name, "email": f"{name.lower()}@example.com", "tags": []}
    yield
    STORE.reset()


@rpctest.provider_state("no such user")
def no_such_user(id: int) -> None:
    STORE.users.pop(id, None)


#: the number of users the store held each time "fresh store" reset it (the fuzzer's per-example reset)
RESETS: list[int] = []


@rpctest.provider_state("fresh store")
def fresh_store() -> None:
    """Only Ann, and the next id 2: what every fuzzed example starts from."""
    RESETS.append(len(STORE.users))
    STORE.reset()
