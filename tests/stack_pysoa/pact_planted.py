"""The example ``users`` service with one planted contract break, for ``pact verifier`` to find:
``get_user`` answers the user's id as text (its response schema is dropped, as a careless change
would, so PySOA itself lets the reply through)."""

from __future__ import annotations

from typing import Any

from examples.pysoa.service import GetUser, UserServer


class GetUserWithTextId(GetUser):
    response_schema = None

    def run(self, request: Any) -> dict[str, Any]:
        reply: dict[str, Any] = super().run(request)
        reply["user"]["id"] = str(reply["user"]["id"])
        return reply


class PlantedUserServer(UserServer):
    action_class_map = {**UserServer.action_class_map, "get_user": GetUserWithTextId}
