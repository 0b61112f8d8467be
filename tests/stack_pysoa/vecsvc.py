"""``vecsvc``: the real PySOA service the golden vectors in tests/golden/pysoa/ were captured from.

Rebuilt from the ``services.vecsvc`` description of those files (schemas, behaviour) so that the
host half can be checked against the recorded answers: same codes, fields, ``is_caller_error`` and
bodies, through the local transport and over Redis.

No ``__version__`` here on purpose: the built-in ``status`` action reports ``version: "unknown"``
in the vectors, and it reads the version from the server's module.
"""

from __future__ import annotations

from conformity import fields
from pysoa.common.errors import Error
from pysoa.server.action import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server


class EchoAction(Action):
    description = "greeting = 'hello ' + name (upper-cased when mode == 'loud'), repeated count times (default 1)"
    request_schema = fields.Dictionary(
        {
            "name": fields.UnicodeString(min_length=1, max_length=10),
            "count": fields.Integer(gte=0, lte=5),
            "tags": fields.List(fields.UnicodeString(), max_length=3),
            "mode": fields.Constant("loud", "quiet"),
        },
        optional_keys=("count", "tags", "mode"),
    )
    response_schema = fields.Dictionary({"greeting": fields.UnicodeString()})

    def run(self, request):
        greeting = "hello " + request.body["name"]
        if request.body.get("mode") == "loud":
            greeting = greeting.upper()
        return {"greeting": greeting * request.body.get("count", 1)}


class DivideAction(Action):
    description = "a / b; b == 0 -> ActionError DIVIDE_BY_ZERO on field b"
    request_schema = fields.Dictionary({"a": fields.Integer(), "b": fields.Integer()})
    response_schema = fields.Dictionary({"result": fields.Float()})

    def run(self, request):
        if request.body["b"] == 0:
            raise ActionError([Error(code="DIVIDE_BY_ZERO", message="b must not be 0", field="b")])
        return {"result": request.body["a"] / request.body["b"]}


class NestedAction(Action):
    description = "returns {ok: true}"
    request_schema = fields.Dictionary(
        {
            "user": fields.Dictionary(
                {
                    "id": fields.Integer(),
                    "emails": fields.List(fields.EmailAddress()),
                }
            ),
            "flags": fields.SchemalessDictionary(key_type=fields.UnicodeString(), value_type=fields.Boolean()),
            "choice": fields.Polymorph(
                "kind",
                {
                    "a": fields.Dictionary({"kind": fields.Constant("a"), "x": fields.Integer()}),
                    "__default__": fields.Dictionary({"kind": fields.UnicodeString()}),
                },
            ),
        },
        optional_keys=("flags", "choice"),
    )
    response_schema = fields.Dictionary({"ok": fields.Boolean()})

    def run(self, request):
        return {"ok": True}


class WhoamiAction(Action):
    description = "app-level auth: job context key 'auth_token' must equal 'tok-alice'"
    response_schema = fields.Dictionary({"user": fields.UnicodeString()})

    def run(self, request):
        if request.context.get("auth_token") != "tok-alice":
            raise ActionError([Error(code="NOT_AUTHORIZED", message="invalid or missing auth_token")])
        return {"user": "alice"}


class BrokenAction(Action):
    description = "raises RuntimeError('boom')"

    def run(self, request):
        raise RuntimeError("boom")


class BadResponseAction(Action):
    description = "returns a body that breaks its own response schema"
    response_schema = fields.Dictionary({"x": fields.Integer()})

    def run(self, request):
        return {"x": "not-an-int", "extra": 1}


class VecServer(Server):
    service_name = "vecsvc"
    action_class_map = {
        "echo": EchoAction,
        "divide": DivideAction,
        "nested": NestedAction,
        "whoami": WhoamiAction,
        "broken": BrokenAction,
        "bad_response": BadResponseAction,
    }
