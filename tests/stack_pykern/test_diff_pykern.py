"""``contracts diff`` through pykern.api's export: two versions of an API whose decorators, annotations
and raised errors change, each change classified as the table (tests/diff_cases.py) says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pykern.quest
import pykern.util
from diff_cases import classified, expect
from pykern.api.util import subscription

from rpctest.contracts.export import export
from rpctest.stacks.pykern import api_schema


class Refused(pykern.util.APIError):
    pass


class Throttled(pykern.util.APIError):
    pass


@dataclass
class ScoreV1:
    score: float


@dataclass
class ScoreV2:
    score: int


TICK = {"type": "object", "properties": {"n": {"type": "integer"}}}


def _search(required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": {"q": {"type": "string"}, "page": {"type": "integer"}}, "required": required}


def _api(version: int) -> type:
    class ShopAPI(pykern.quest.API):
        @api_schema(request=_search(["q"] if version == 1 else ["q", "page"]), result={"type": "object"},
                    caller_errors=[Refused] if version == 1 else [Refused, Throttled])
        async def api_search(self, api_args: Any) -> Any:
            return {}

        async def api_rate(self, api_args: ScoreV1) -> dict:
            return {}

        # the annotation is a string here (``from __future__ import annotations``): give the class itself
        api_rate.__annotations__ = {"api_args": ScoreV1 if version == 1 else ScoreV2, "return": dict}

        # a subscription's response is the array of its items: the call's is that array, so only the kind differs
        @api_schema(request={"type": "object"}, result=TICK if version == 1 else {"type": "array", "items": TICK})
        async def api_feed(self, api_args: Any) -> Any:
            return [1]

        if version == 1:
            api_feed = subscription(api_feed)

            async def api_legacy(self, api_args: dict) -> dict:
                return {}

    return ShopAPI


def test_each_change_of_the_exported_api_is_classified_as_the_table_says() -> None:
    old, new = export("pykern", provider=_api(1)), export("pykern", provider=_api(2))
    assert old.operations["feed"].kind == "subscription" and new.operations["feed"].kind == "call"
    assert classified(old, new) == {
        expect("request optional field made required", "search", "/request/page"),
        expect("error code added", "search", "/errors/Throttled"),
        expect("request type narrowed number->integer", "rate", "/request/score"),
        expect("call became a subscription", "feed"),
        expect("operation removed", "legacy"),
    }
