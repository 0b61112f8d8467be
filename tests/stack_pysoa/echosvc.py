"""A PySOA service that echoes its input into an error message (issue 20: the JUnit report of
``rpctest fuzz`` against such a service did not parse): it refuses a name holding a control
character, quoting the name, although its schema allows any text."""

from __future__ import annotations

from typing import Any

from conformity import fields
from pysoa.common.errors import Error
from pysoa.server.action import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server


class Store(Action):
    request_schema = fields.Dictionary({"name": fields.UnicodeString()})
    response_schema = fields.Dictionary({"stored": fields.Boolean()})

    def run(self, request: Any) -> dict[str, bool]:
        name = request.body["name"]
        if any(ord(ch) < 0x20 for ch in name):
            raise ActionError(errors=[Error(code="INVALID", message=f"cannot store the name {name}", field="name")])
        return {"stored": True}


class EchoServer(Server):
    service_name = "echo"
    action_class_map = {"store": Store}
