"""The ``users`` service: three actions with Conformity schemas, served by a real PySOA ``Server``."""

from __future__ import annotations

import itertools
import threading

from conformity import fields
from pysoa.common.errors import Error
from pysoa.server.action import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server

_USER = fields.Dictionary(
    {
        "id": fields.Integer(gt=0),
        "name": fields.UnicodeString(min_length=1, max_length=50),
        "email": fields.EmailAddress(),
        "tags": fields.List(fields.UnicodeString(max_length=20), max_length=5),
    },
    description="A user as the service returns it.",
)


class _Store:
    """An in-memory user table (``reset()`` gives tests a clean one)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.users: dict[int, dict] = {1: {"id": 1, "name": "Ann", "email": "ann@example.com", "tags": ["admin"]}}
        self.ids = itertools.count(2)


class GetUser(Action):
    """Return one user by id."""

    request_schema = fields.Dictionary({"id": fields.Integer(gt=0)})
    response_schema = fields.Dictionary({"user": _USER})

    def run(self, request):
        user = STORE.users.get(request.body["id"])
        if user is None:
            raise ActionError(errors=[Error(code="NOT_FOUND", message="No such user", field="id")])
        return {"user": dict(user)}


class CreateUser(Action):
    """Create a user; names must be unique."""

    request_schema = fields.Dictionary(
        {
            "name": fields.UnicodeString(min_length=1, max_length=50),
            "email": fields.EmailAddress(),
            "tags": fields.List(fields.UnicodeString(max_length=20), max_length=5),
        },
        optional_keys=("tags",),
    )
    response_schema = fields.Dictionary({"user": _USER})

    def run(self, request):
        body = request.body
        with STORE.lock:
            if any(u["name"] == body["name"] for u in STORE.users.values()):
                raise ActionError(errors=[Error(code="DUPLICATE", message="Name taken", field="name")])
            user = {"id": next(STORE.ids), "name": body["name"], "email": body["email"], "tags": body.get("tags", [])}
            STORE.users[user["id"]] = user
        return {"user": dict(user)}


class ListUsers(Action):
    """List users in id order, at most ``limit``."""

    request_schema = fields.Dictionary(
        {"limit": fields.Integer(gte=1, lte=100)},
        optional_keys=("limit",),
    )
    response_schema = fields.Dictionary({"users": fields.List(_USER)})

    def run(self, request):
        limit = request.body.get("limit", 100)
        return {"users": [dict(STORE.users[k]) for k in sorted(STORE.users)][:limit]}


STORE = _Store()


class UserServer(Server):
    """The ``users`` service."""

    service_name = "users"
    action_class_map = {
        "get_user": GetUser,
        "create_user": CreateUser,
        "list_users": ListUsers,
    }


#: settings for running it standalone or in-process (the transport is chosen by rpctest or by you)
SETTINGS: dict = {}


def provider_state(operation: str, request: object) -> None:
    """Put the service in the state its consumers' contracts assume: a fresh store.

    ``rpctest contracts verify --live --setup examples.pysoa.service:provider_state`` calls it before
    each recorded request is replayed (Pact calls this a provider state).
    """
    STORE.reset()
