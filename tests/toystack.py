"""A minimal stack ("toy") for testing the stack-neutral core without any stack library.

Its "client" asks the router the way every real interceptor and stub server does. Shared by the
core tests and by the pytest runs they start (``register()`` in a conftest).
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from rpctest import stacks
from rpctest.model import Call, CallFailed, ErrorKind, Reply
from rpctest.stacks.base import Capabilities, HostHalf, StackAdapter, WireHalf
from rpctest.stubs.router import StubRouter, router


class ToyHost(HostHalf):
    library = "toy"
    extra = "toy"

    def __init__(self) -> None:
        self.installs = 0
        self.active = False

    def serve(self, provider: Any, **options: Any) -> Any:
        raise NotImplementedError

    def install_stub_interceptor(self, router: Any) -> Callable[[], None]:
        self.installs += 1
        self.active = True

        def undo() -> None:
            self.active = False

        return undo


class ToyAdapter(StackAdapter):
    name = "toy"
    title = "Toy"
    capabilities = Capabilities(sync_client=True)
    standard_error_codes = frozenset({"BAD", "NOPE", "BOOM"})
    #: ``items=`` (a stream of items, as pykern subscriptions and AsyncAPY multi-frame replies) and
    #: ``status=`` (a reply option that travels in the reply's meta, as Kyoukai's HTTP status)
    stub_options = frozenset({"items", "status"})
    reply_options = frozenset({"status"})
    wire = WireHalf.__new__(type("ToyWire", (WireHalf,), {}))
    host = ToyHost()

    def classify(self, code: str | int, *, field: str | None = None, **native: Any) -> ErrorKind:
        return {"BAD": ErrorKind.CALLER_ERROR, "NOPE": ErrorKind.NOT_FOUND}.get(str(code), ErrorKind.SERVER_ERROR)


def register() -> ToyAdapter:
    """A fresh toy adapter, registered as the stack ``toy`` (undo with :func:`unregister`)."""
    adapter = ToyAdapter()
    adapter.host = ToyHost()
    stacks._loaded["toy"] = adapter
    return adapter


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> ToyAdapter:
    """A fresh toy adapter registered as the stack ``toy`` for one test (import the fixture)."""
    adapter = ToyAdapter()
    adapter.host = ToyHost()
    monkeypatch.setitem(stacks._loaded, "toy", adapter)
    return adapter


def unregister() -> None:
    stacks._loaded.pop("toy", None)


def toy_call(service: str, operation: str, body: Any = None) -> Any:
    """What a toy client does: ask the router, raise CallFailed for errors."""
    call = Call("toy", service, operation, body)
    stub = router.match(call)
    if stub is None:
        raise router.unmatched(call)
    reply = router.respond(stub, call)
    if not reply.ok:
        raise CallFailed(reply)
    return reply.body


def ask(router: StubRouter, operation: str, body: Any, service: str = "users") -> Reply:
    """A toy-stack call answered by ``router`` as an intercepted client would have it (raises UnmatchedCall)."""
    call = Call("toy", service, operation, body)
    stub = router.match(call)
    if stub is None:
        raise router.unmatched(call)
    return router.respond(stub, call)
