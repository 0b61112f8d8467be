"""PySOA services written for the differential suite (not the examples), run by PySOA's own
``Server.run()`` loop on a real Redis in a child process (``pysoa_main``).

``ledger`` is correct: Conformity schemas of several kinds, optional keys, errors raised on purpose
with a field (``DUPLICATE`` at ``name``) and without one, an action without a request schema.
``flawed`` has planted bugs: each is a SERVER_ERROR for some request its schema allows, or a reply
that breaks its own response schema.
"""

from __future__ import annotations

from conformity import fields
from pysoa.common.errors import Error
from pysoa.server.action import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server

#: names the ledger refuses as taken: a caller error at a field, raised on purpose
TAKEN = ("root", "admin")


class Add(Action):
    """Add two integers."""

    request_schema = fields.Dictionary({"a": fields.Integer(), "b": fields.Integer()})
    response_schema = fields.Dictionary({"sum": fields.Integer()})

    def run(self, request):
        return {"sum": request.body["a"] + request.body["b"]}


class Register(Action):
    """Register a name; a taken name is DUPLICATE at field ``name``."""

    request_schema = fields.Dictionary(
        {
            "name": fields.UnicodeString(min_length=1, max_length=12),
            "age": fields.Integer(gte=0, lte=150),
            "tags": fields.List(fields.UnicodeString(max_length=8), max_length=3),
            "role": fields.Constant("reader", "writer"),
        },
        optional_keys=("tags", "role"),
    )
    response_schema = fields.Dictionary(
        {"id": fields.Integer(), "name": fields.UnicodeString(), "tags": fields.List(fields.UnicodeString()),
         "role": fields.UnicodeString()},
    )

    def run(self, request):
        body = request.body
        if body["name"] in TAKEN:
            raise ActionError(errors=[Error(code="DUPLICATE", message="That name is taken", field="name", is_caller_error=True)])
        return {"id": len(body["name"]) * 100 + body["age"], "name": body["name"], "tags": list(body.get("tags", [])),
                "role": body.get("role", "reader")}


class Lookup(Action):
    """A nested request and a nullable response field."""

    request_schema = fields.Dictionary({"query": fields.Dictionary({"key": fields.UnicodeString(), "exact": fields.Boolean()},
                                                                   optional_keys=("exact",))})
    response_schema = fields.Dictionary({"found": fields.Boolean(), "value": fields.Nullable(fields.UnicodeString())})

    def run(self, request):
        key = request.body["query"]["key"]
        return {"found": key == "k", "value": "v" if key == "k" else None}


class Ping(Action):
    """No request schema: PySOA checks nothing; it answers any body."""

    response_schema = fields.Dictionary({"pong": fields.Boolean()})

    def run(self, request):
        return {"pong": True}


class Refuse(Action):
    """An error without a field, raised on purpose."""

    request_schema = fields.Dictionary({"reason": fields.UnicodeString()})

    def run(self, request):
        raise ActionError(errors=[Error(code="REFUSED", message="refused: " + request.body["reason"], is_caller_error=True)])


class LedgerServer(Server):
    service_name = "ledger"
    action_class_map = {"add": Add, "register": Register, "lookup": Lookup, "ping": Ping, "refuse": Refuse}


class Ratio(Action):
    """Planted: 100 // n, a ZeroDivisionError (SERVER_ERROR) for n == 0."""

    request_schema = fields.Dictionary({"n": fields.Integer()})
    response_schema = fields.Dictionary({"r": fields.Integer()})

    def run(self, request):
        return {"r": 100 // request.body["n"]}


class Label(Action):
    """Planted: answers an int where its response schema says a string, for a long label."""

    request_schema = fields.Dictionary({"label": fields.UnicodeString(max_length=20)})
    response_schema = fields.Dictionary({"label": fields.UnicodeString()})

    def run(self, request):
        label = request.body["label"]
        return {"label": len(label) if len(label) > 3 else label}


class Greet(Action):
    """Planted: reads an optional key as if it were required (KeyError: SERVER_ERROR without it)."""

    request_schema = fields.Dictionary({"name": fields.UnicodeString(), "title": fields.UnicodeString()}, optional_keys=("title",))
    response_schema = fields.Dictionary({"greeting": fields.UnicodeString()})

    def run(self, request):
        return {"greeting": request.body["title"] + " " + request.body["name"]}


class FlawedServer(Server):
    service_name = "flawed"
    action_class_map = {"ratio": Ratio, "label": Label, "greet": Greet}
