"""Route ``pykern.api.client.Client`` through the stub router, without a socket.

Code under test holds a real ``Client``; ``stub_action(SERVICE, "echo", stack="pykern")`` patches
its ``connect``, ``call_api``, ``subscribe_api`` and ``destroy`` so that:

* a client that connects while its service has stubs connects without a socket (no server needs
  to exist) and every call it makes is answered by the stubs: a call no stub matches is an
  :class:`~rpctest.exceptions.UnmatchedCall` naming the nearest stub, not a hang on a dead socket;
* a client connected for real (to a service without stubs, or before the stubs started) keeps its
  connection: the APIs that are stubbed are answered from stubs, the rest by its real server.

Replies are delivered as pykern's client delivers them: ``call_api`` returns the result or raises
the generic ``pykern.util.APIError`` with the ``"<ClassName>: <message>"`` text the real server
sends; a stubbed body of None is pykern's ``missing reply``; a stub with ``items=`` is a
subscription whose ``result_get()`` yields them, then None. ``delay=`` (seconds before the answer)
and ``interval=`` (between items) behave as on the stub server, for testing timeouts.

Each ``Client`` is one connection, so it has one session, as on pykern's server: every stubbed call
it makes carries the same :class:`~rpctest.stubs.session.StubSession` in ``meta["session"]`` (a
``side_effect`` taking ``session`` gets it), another ``Client`` has another, and ``destroy()``
ends it (its values' ``session_end`` hooks run).

Which service a ``Client`` talks to: the ``[tool.rpctest.services]`` entry with ``stack = "pykern"``
whose ``address`` is the client's URI; else, when the stubs cover exactly one pykern service, that
one; else the URI itself.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Callable

from rpctest.model import Call, Reply
from rpctest.stacks.pykern.errors import MISSING_REPLY, to_api_error
from rpctest.stubs.session import SESSION, StubSession

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stubs.router import StubRouter

__all__ = ["install", "remembered_service", "service_for_uri", "serving_over_wire"]

_STACK = "pykern"
_STUBBED = "_rpctest_stubbed"
_SESSION = "_rpctest_session"

#: addresses of rpctest's own pykern stub servers in this process: a Client pointed at one of them
#: talks to it over the wire (that is what it was started for), never to the in-process stubs
serving_over_wire: set[str] = set()


def service_for_uri(uri: str, router: "StubRouter") -> str:
    """The logical service name of a pykern endpoint (see the module docstring)."""
    from rpctest import config

    for name, entry in config.current().services.items():
        if entry.stack == _STACK and entry.address == uri:
            return name
    services = {stub.service for stub in router.active(_STACK)}
    if len(services) == 1:
        return next(iter(services))
    return uri


def stub_seconds(reply: Reply, stub: Any, key: str) -> float:
    """A stub's ``delay`` (before answering) or ``interval`` (between items), from the reply a side
    effect built or the stub's options; bad values count as 0."""
    value = (reply.meta or {}).get(key)
    if value is None and stub is not None:
        value = (stub.options or {}).get(key)
    try:
        return max(float(value or 0), 0.0)
    except (TypeError, ValueError):
        return 0.0


def _api_error(text: str) -> BaseException:
    import pykern.util

    error: BaseException = pykern.util.APIError(text)
    return error


def _kind_error(api_name: str, subscribe: bool) -> BaseException:
    if subscribe:
        return _api_error(f"APIKindError: error=cannot subscribe non-subscription api={api_name}")
    return _api_error(f"APIKindError: error=call_api on subscription api={api_name}")


def _raise_errors(reply: Reply) -> None:
    errors = [*reply.job_errors, *reply.errors]
    if errors:
        raise _api_error(to_api_error(errors[0]))


class _StubSubscription:
    """What ``subscribe_api`` returns: ``result_get()`` per item, None at the end; ``unsubscribe``."""

    def __init__(self, api_name: str, reply: Reply, interval: float = 0.0) -> None:
        self.api_name = api_name
        self.is_subscription = True
        self._reply = reply
        self._items = list(reply.items or [])
        self._interval = interval
        self._started = False
        self._ended = False

    async def result_get(self) -> Any:
        from pykern.api.util import APIDisconnected

        if self._ended:
            raise APIDisconnected()
        if self._reply.errors or self._reply.job_errors:
            self._ended = True
            _raise_errors(self._reply)
        if self._reply.items is None:
            self._ended = True
            raise _kind_error(self.api_name, subscribe=True)
        if self._started and self._interval:
            await asyncio.sleep(self._interval)
        self._started = True
        if not self._items:
            self._ended = True
            return None
        return self._items.pop(0)

    def unsubscribe(self) -> None:
        self._ended = True
        self._items.clear()

    def __enter__(self) -> "_StubSubscription":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.unsubscribe()


def install(router: "StubRouter") -> Callable[[], None]:
    """Patch ``Client`` once for all pykern stubs; return the undo function."""
    from pykern.api.client import Client

    originals = {name: getattr(Client, name) for name in ("connect", "call_api", "subscribe_api", "destroy")}
    state = {"active": True}

    def _call(client: Any, api_name: str, api_args: Any, kind: str) -> tuple[Call, Any]:
        meta = {"kind": kind, SESSION: _session(client)}
        call = Call(_STACK, _service_of(client, router), api_name, api_args, meta=meta)
        if client.uri in serving_over_wire:
            return call, None
        return call, router.match(call)

    async def connect(self: Any, auth_args: Any = None) -> Any:
        stubbed = self.uri not in serving_over_wire and router.stubs_service(_STACK, service_for_uri(self.uri, router))
        if state["active"] and stubbed:
            if getattr(self, "_destroyed", False):
                raise AssertionError("destroyed")
            setattr(self, _STUBBED, True)
            self._authenticated = True
            return self
        return await originals["connect"](self, auth_args)

    async def call_api(self: Any, api_name: str, api_args: Any) -> Any:
        if not state["active"]:
            return await originals["call_api"](self, api_name, api_args)
        call, stub = _call(self, api_name, api_args, "call")
        if stub is None:
            if getattr(self, _STUBBED, False):
                raise router.unmatched(call, reason="the client is connected to stubs only")
            return await originals["call_api"](self, api_name, api_args)
        _check_open(self)
        reply = router.respond(stub, call)
        delay = stub_seconds(reply, stub, "delay")
        if delay:
            await asyncio.sleep(delay)
        _raise_errors(reply)
        if reply.items is not None:
            raise _kind_error(api_name, subscribe=False)
        if reply.body is None:
            raise _api_error(MISSING_REPLY)
        return reply.body

    async def subscribe_api(self: Any, api_name: str, api_args: Any) -> Any:
        if not state["active"]:
            return await originals["subscribe_api"](self, api_name, api_args)
        call, stub = _call(self, api_name, api_args, "subscribe")
        if stub is None:
            if getattr(self, _STUBBED, False):
                raise router.unmatched(call, reason="the client is connected to stubs only")
            return await originals["subscribe_api"](self, api_name, api_args)
        _check_open(self)
        reply = router.respond(stub, call)
        delay = stub_seconds(reply, stub, "delay")
        if delay:
            await asyncio.sleep(delay)
        return _StubSubscription(api_name, reply, stub_seconds(reply, stub, "interval"))

    def destroy(self: Any) -> None:
        session = self.__dict__.pop(_SESSION, None)
        if session is not None:
            session.end()
        if getattr(self, _STUBBED, False):
            self._destroyed = True
            return
        originals["destroy"](self)

    patched = {"connect": connect, "call_api": call_api, "subscribe_api": subscribe_api, "destroy": destroy}
    for name, func in patched.items():
        func.__wrapped__ = originals[name]  # type: ignore[attr-defined]
        setattr(Client, name, func)

    def undo() -> None:
        state["active"] = False
        for name, func in patched.items():
            if getattr(Client, name) is func:  # someone patched over us: leave our inactive wrapper
                setattr(Client, name, originals[name])

    return undo


def _service_of(client: Any, router: "StubRouter") -> str:
    """The service of the client's URI (every call asks)."""
    return remembered_service(client.uri, router)


def remembered_service(uri: str, router: "StubRouter") -> str:
    """:func:`service_for_uri`, which the router remembers for as long as the stubs and the
    configuration it depends on stay the same (the interceptor and the stub server ask per call)."""
    return router.memo((_STACK, uri), lambda: service_for_uri(uri, router))


def _session(client: Any) -> StubSession:
    """The client's session: one per ``Client``, as pykern's server keeps one per connection."""
    session: StubSession | None = client.__dict__.get(_SESSION)
    if session is None:
        session = client.__dict__[_SESSION] = StubSession(f"pykern client {client.uri}")
    return session


def _check_open(client: Any) -> None:
    """What pykern's client checks before sending: not destroyed, connected."""
    from pykern.api.util import APIDisconnected

    if getattr(client, "_destroyed", False):
        raise APIDisconnected()
    if not getattr(client, _STUBBED, False) and getattr(client, "_connection", None) is None:
        raise AssertionError("no connection, must call connect() first")
