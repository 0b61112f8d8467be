"""Deliberately buggy PySOA services: each fuzz check must catch exactly its bug."""

from __future__ import annotations

from conformity import fields
from pysoa.server.action import Action
from pysoa.server.server import Server


class Divide(Action):
    """Raises ZeroDivisionError (a SERVER_ERROR) when b is 0."""

    request_schema = fields.Dictionary({"a": fields.Integer(), "b": fields.Integer()})
    response_schema = fields.Dictionary({"q": fields.Float()})

    def run(self, request):
        return {"q": request.body["a"] / request.body["b"]}


class SafeDivide(Divide):
    def run(self, request):
        b = request.body["b"]
        return {"q": request.body["a"] / b if b else 0.0}


class Greet(Action):
    """Reads an optional key as if it were required: SERVER_ERROR when it is left out."""

    request_schema = fields.Dictionary(
        {"name": fields.UnicodeString(max_length=10), "nickname": fields.UnicodeString(max_length=10)},
        optional_keys=("nickname",),
    )
    response_schema = fields.Dictionary({"greeting": fields.UnicodeString()})

    def run(self, request):
        return {"greeting": "hi " + request.body["nickname"]}


class Double(Action):
    """Answers correctly by its declaration; the tests tighten the contract to catch a response drift."""

    request_schema = fields.Dictionary({"n": fields.Integer(gte=0, lte=1000)})
    response_schema = fields.Dictionary({"doubled": fields.Integer()})

    def run(self, request):
        return {"doubled": request.body["n"] * 2}


class Lenient(Action):
    """Declares no request schema, so it accepts anything (the tests give it a strict contract)."""

    response_schema = fields.Dictionary({"ok": fields.Boolean()})

    def run(self, request):
        return {"ok": True}


class BuggyServer(Server):
    service_name = "buggy"
    action_class_map = {"divide": Divide, "greet": Greet, "double": Double, "lenient": Lenient}


class FixedServer(Server):
    service_name = "buggy"
    action_class_map = {"divide": SafeDivide, "greet": Greet, "double": Double, "lenient": Lenient}
