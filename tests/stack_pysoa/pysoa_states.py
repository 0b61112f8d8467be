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
