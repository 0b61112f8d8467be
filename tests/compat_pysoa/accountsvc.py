"""``accounts``: a small real PySOA service for the compat suite's server test cases.

Its errors cover what pysoa's assertion helpers tell apart: a field error from the schema
(``INVALID`` / ``MISSING`` on a field), an error without a field, and both at once.
"""

from __future__ import annotations

from conformity import fields
from pysoa.common.errors import Error
from pysoa.server.action import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server

ACCOUNTS = {1: "Ann", 2: "Bob"}


class GetAccount(Action):
    request_schema = fields.Dictionary({"id": fields.Integer(gt=0)})
    response_schema = fields.Dictionary({"name": fields.UnicodeString()})

    def run(self, request):
        if request.body["id"] not in ACCOUNTS:
            raise ActionError([Error(code="NOT_FOUND", message="no such account")])
        return {"name": ACCOUNTS[request.body["id"]]}


class Freeze(Action):
    """Fails with one error without a field and one with, to tell the helpers apart."""

    request_schema = fields.Dictionary({"id": fields.Integer()})

    def run(self, request):
        raise ActionError(
            [
                Error(code="FROZEN", message="account is frozen"),
                Error(code="LOCKED", message="id is locked", field="id"),
            ]
        )


class AccountServer(Server):
    service_name = "accounts"
    action_class_map = {"get_account": GetAccount, "freeze": Freeze}
