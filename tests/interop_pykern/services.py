"""pykern.api services written for the differential suite (not the examples): the shapes real pykern
services have and rpctest's own examples do not.

* ``ShopAPI`` is correct: an API with no schema at all (``echo``), one with a request schema that
  checks its own input and raises pykern error classes (``add``), per-session state kept in
  pykern's ``self.session`` (``count``, ``last``), a subscription (``countdown``) and an API that
  refuses with ``APIForbidden`` (``vault``).
* ``BuggyShopAPI`` has planted bugs, each of which ``rpctest fuzz`` must find: an unhandled
  exception on one input (``divide`` by zero), a result of the wrong type (``label``), and an API
  without a schema that assumes its arguments are a map (``keys``).

The services import nothing from rpctest: their schemas are their annotations, as a pykern user
would write them.
"""

from __future__ import annotations

from typing import Any, TypedDict

import pykern.quest
import pykern.util
from pykern.api.util import APIForbidden, subscription

__all__ = ["BadArgs", "ShopAPI", "BuggyShopAPI", "AddArgs", "CountdownArgs", "Tick"]


class BadArgs(pykern.util.APIError):
    """The api_args break the API's shape (a caller error)."""


class AddArgs(TypedDict):
    a: int
    b: int


class CountdownArgs(TypedDict):
    n: int


class Tick(TypedDict):
    left: int


class Counted(TypedDict):
    calls: int


def _ints(api_args: Any, names: tuple[str, ...]) -> tuple[list[int], str | None]:
    """The service's own validation: a map of exactly ``names``, each an int (not a bool); the values,
    or what is wrong (each API raises BadArgs itself, so that its contract lists the class)."""
    if not isinstance(api_args, dict):
        return [], f"api_args={type(api_args).__name__}: not a map"
    extra = sorted(set(api_args) - set(names), key=str)
    if extra:
        return [], f"field={extra[0]}: unknown"
    values = []
    for name in names:
        if name not in api_args:
            return [], f"field={name}: missing"
        value = api_args[name]
        if not isinstance(value, int) or isinstance(value, bool):
            return [], f"field={name}: not an int"
        values.append(value)
    return values, None


class _Counter:
    """What ``count`` keeps in pykern's per-connection session; ``session_end`` runs on close."""

    ended: list[int] = []

    def __init__(self) -> None:
        self.calls = 0

    def session_end(self) -> None:
        _Counter.ended.append(self.calls)


def _two(api_args: Any) -> tuple[int, int, str | None]:
    values, problem = _ints(api_args, ("a", "b"))
    return (*values, None) if problem is None else (0, 0, problem)  # type: ignore[return-value]


class ShopAPI(pykern.quest.API):
    """A correct service: every check of the fuzzer passes on it."""

    async def api_echo(self, api_args):  # noqa: ANN001 - no schema at all, on purpose
        return api_args

    async def api_add(self, api_args: AddArgs) -> int:
        """A fixed-width (int64) sum, so that every pair of ints the schema admits has an answer
        msgpack can carry. A plain ``a + b`` is a real bug rpctest fuzz finds (seed 16 draws a=-1,
        b=-2**63): pykern's server fails to pack the reply and sends none, leaving the call to time out."""
        a, b, problem = _two(api_args)
        if problem:
            raise BadArgs("{}", problem)
        return (a + b + 2**63) % 2**64 - 2**63

    async def api_count(self, api_args) -> Counted:  # noqa: ANN001 - any args: per-session state
        counter = self.session.get("counter")
        if counter is None:
            counter = self.session.counter = _Counter()
        counter.calls += 1
        return {"calls": counter.calls}

    async def api_vault(self, api_args) -> dict:  # noqa: ANN001
        raise APIForbidden()

    @subscription
    async def api_countdown(self, api_args: CountdownArgs) -> Tick:
        values, problem = _ints(api_args, ("n",))
        if problem:
            raise BadArgs("{}", problem)
        if not 0 <= values[0] <= 5:
            raise BadArgs("n={}: not in 0..5", values[0])
        for left in range(values[0], 0, -1):
            if self.is_quest_end():
                break
            self.subscription.result_put({"left": left})


class BuggyShopAPI(pykern.quest.API):
    """Each API has one planted bug."""

    async def api_divide(self, api_args: AddArgs) -> int:
        a, b, problem = _two(api_args)
        if problem:
            raise BadArgs("{}", problem)
        return a // b  # ZeroDivisionError for b == 0: pykern answers APICallError

    async def api_label(self, api_args: AddArgs) -> str:
        a, b, problem = _two(api_args)
        if problem:
            raise BadArgs("{}", problem)
        return f"{a}+{b}" if a >= 0 else a  # the wrong type (an int) for a negative a

    async def api_keys(self, api_args):  # noqa: ANN001 - no schema: assumes a map
        return sorted(map(str, api_args.keys()))
