"""``tenants``: a PySOA service whose action reads the request context and switches, for the
``--context``/``--switch`` tests. ``whoami`` refuses a job whose context has no ``user_id`` with
NOT_AUTHORIZED (as services behind a gateway that puts the caller in the context do), and answers
through a SwitchedAction: switch 5 selects version 2, whose reply says so."""

from __future__ import annotations

from typing import Any

from conformity import fields
from pysoa.common.errors import Error
from pysoa.server.action import Action
from pysoa.server.action.switched import SwitchedAction
from pysoa.server.errors import ActionError
from pysoa.server.server import Server

SWITCH_V2 = 5
WHOAMI = fields.Dictionary({
    "user_id": fields.Integer(),
    "locale": fields.UnicodeString(),
    "version": fields.Integer(),
    "switches": fields.List(fields.Integer()),
})


class _WhoAmI(Action):
    version = 1
    request_schema = fields.Dictionary({})
    response_schema = WHOAMI

    def run(self, request: Any) -> dict[str, Any]:
        user_id = request.context.get("user_id")
        if not isinstance(user_id, int):
            raise ActionError(errors=[Error(code="NOT_AUTHORIZED", message="no user_id in the request context", is_caller_error=True)])
        return {"user_id": user_id, "locale": str(request.context.get("locale", "")), "version": self.version,
                "switches": sorted(int(s) for s in request.switches)}


class _WhoAmIV2(_WhoAmI):
    version = 2


class WhoAmI(SwitchedAction):
    switch_to_action_map = ((SWITCH_V2, _WhoAmIV2), (0, _WhoAmI))


class TenantServer(Server):
    service_name = "tenants"
    action_class_map = {"whoami": WhoAmI}
