"""Kyoukai stubs for consumer code: which stub answers an HTTP request, and httpx interception.

A Kyoukai stub names its route as ``"METHOD /template"`` (``"GET /items/<int:item_id>"``), a
concrete ``"METHOD /path"`` (``"GET /items/5"``) or a route endpoint name (``"shop.get_item"``,
resolved through the provider contract rpctest knows for that service: ``use_providers`` or
``[tool.rpctest] providers``). :func:`find_stub` matches one HTTP request against the active stubs
(newest first, as the router does); the stub server and the httpx interceptor both use it, so a
request gets the same answer in-process and over a socket.

**httpx clients** (:func:`install`): while Kyoukai stubs are active, rpctest answers at httpx's
transport (``HTTPTransport.handle_request`` and its async twin) for every httpx client of the process. A request is for a stubbed Kyoukai service when its base URL is
that service's ``address`` in ``[tool.rpctest.services]`` or a stub's ``base_url=`` option, or,
when neither says anything, when exactly one Kyoukai service is stubbed. Those requests are answered
from the stubs; a request no stub matches raises :class:`~rpctest.exceptions.UnmatchedCall` naming
the nearest stub (strict, never a silent 200). Everything else, including rpctest's own stub
servers and hosted apps, goes over the network as usual. Other clients (urllib, requests, another
process) use the stub server (:mod:`.stub_server`).
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any, Callable, Mapping

from rpctest.exceptions import StubUsageError
from rpctest.model import Call, Reply
from rpctest.stacks.kyoukai.routes import RouteTemplate, parse_operation, split_operation
from rpctest.stacks.kyoukai.wire import envelope_from_request, response_parts

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from rpctest.stubs.router import Stub, StubRouter

__all__ = [
    "STACK", "Answer", "answer", "base_of", "find_stub", "install", "register_endpoint", "service_for_base",
    "serving_over_wire", "stub_routes", "unregister_endpoint",
]

STACK = "kyoukai"

#: base URLs (``http://127.0.0.1:PORT``) of rpctest's own Kyoukai stub servers and hosted apps in this
#: process: an httpx request to one of them goes over the wire, never to the in-process stubs
serving_over_wire: set[str] = set()
_lock = threading.Lock()


def base_of(url: str) -> str:
    """``http://host:port/any/path?q`` -> ``http://host:port`` (how services are told apart)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.lower()}://{rest.split('/', 1)[0].lower()}"


def service_for_base(base: str, router: "StubRouter") -> str | None:
    """The stubbed Kyoukai service a request to ``base`` is for, or None (see the module docstring)."""
    from rpctest import config

    stubs = router.active(STACK)
    if not stubs:
        return None
    for name, entry in config.current().services.items():
        if entry.stack == STACK and entry.address and base_of(entry.address) == base:
            return name if any(s.service == name for s in stubs) else None
    for stub in stubs:
        url = (stub.options or {}).get("base_url")
        if url and base_of(url) == base:
            return stub.service
    services = {s.service for s in stubs}
    addressed = {s.service for s in stubs if (s.options or {}).get("base_url")} | {
        name for name, entry in config.current().services.items() if entry.stack == STACK and entry.address
    }
    unaddressed = services - addressed
    return next(iter(unaddressed)) if len(unaddressed) == 1 else None


@functools.lru_cache(maxsize=512)
def _parsed(operation: str) -> tuple[str, RouteTemplate]:
    return parse_operation(operation)


@functools.lru_cache(maxsize=512)
def _routes_of_action(action: str) -> tuple[tuple[str, RouteTemplate], ...] | None:
    """The route an action written as ``"METHOD /path"`` names, or None for an endpoint name:
    worked out once per action, as every request asks it of every stub."""
    if split_operation(action) is None:
        return None
    return (_parsed(action.split("?", 1)[0]),)


def stub_routes(stub: "Stub") -> "list[tuple[str, RouteTemplate]] | tuple[tuple[str, RouteTemplate], ...]":
    """The (method, route) pairs a stub answers: from its action, or from the provider contract when
    the action is an endpoint name."""
    routes_of_action = _routes_of_action(stub.action)
    if routes_of_action is not None:
        return routes_of_action
    from rpctest.contracts.drift import registry

    provider = registry.get(STACK, stub.service)
    routes = []
    if provider is not None:
        for name, op in provider.operations.items():
            endpoint = (op.route or {}).get("endpoint", "")
            if endpoint == stub.action or endpoint.rsplit(".", 1)[-1] == stub.action:
                routes.append(_parsed(name))
    if not routes:
        known = "" if provider is None else f" (its routes: {', '.join(sorted(provider.operations))})"
        raise StubUsageError(
            f"{stub!r}: {stub.action!r} is not 'METHOD /path', and no provider contract of {stub.service!r} names an "
            f"endpoint {stub.action!r}{known}; write the route as 'GET /items/<int:item_id>', or make the contract "
            f"known (rpctest.contracts.use_providers(...) or [tool.rpctest] providers)"
        )
    return routes


def newest_stubs(router: "StubRouter") -> "tuple[Stub, ...]":
    """The active Kyoukai stubs, newest first: worked out once while they stay the same
    (:meth:`~rpctest.stubs.router.StubRouter.memo`), where every request asked the router for a
    fresh list under its lock."""
    return router.memo((STACK, "newest stubs"), lambda: tuple(reversed(router.active(STACK))),
                       uses_config=False)


def find_stub(
    router: "StubRouter", service: str, method: str, path: str, query: str, content: bytes, content_type: str | None
) -> tuple["Stub | None", Call, set[str]]:
    """The newest stub answering this request and the neutral call it gets, or (None, the call as
    the router should explain it, the methods stubbed for this path: for a 405)."""
    allowed: set[str] = set()
    nearest: Call | None = None
    for stub in newest_stubs(router):
        if stub.service != service:
            continue
        for stub_method, route in stub_routes(stub):
            values = route.match(path)
            if values is None:
                continue
            if stub_method != method and not (stub_method == "GET" and method == "HEAD"):
                allowed.add(stub_method)
                continue
            envelope = envelope_from_request(path, query, content, content_type, route=route, path_values=values)
            call = Call(STACK, service, stub.action, envelope, meta={"method": method, "path": path})
            if stub.matches(call):
                return stub, call, allowed
            nearest = nearest or call
    if nearest is None:
        envelope = envelope_from_request(path, query, content, content_type)
        nearest = Call(STACK, service, f"{method} {path}", envelope, meta={"method": method, "path": path})
    return None, nearest, allowed


class Answer:
    """What a stub answers one HTTP request with (or why no stub did: ``explanation``)."""

    __slots__ = ("status", "headers", "content", "explanation")

    def __init__(self, status: int, headers: list[tuple[str, str]], content: bytes, explanation: str | None = None) -> None:
        self.status = status
        self.headers = headers
        self.content = content
        self.explanation = explanation


def answer(
    router: "StubRouter", service: str, method: str, path: str, query: str, content: bytes, content_type: str | None
) -> Answer:
    """The stub server's answer: the matching stub's reply; 405 (with ``Allow``) when only other
    methods are stubbed for the path; 404 with the router's near-miss explanation otherwise."""
    stub, call, allowed = find_stub(router, service, method, path, query, content, content_type)
    if stub is None:
        explanation = router.explain_unmatched(call)
        if allowed:
            allow = ", ".join(sorted(allowed | {"OPTIONS"} | ({"HEAD"} if "GET" in allowed else set())))
            return Answer(405, [("Allow", allow), ("Content-Type", "text/plain; charset=utf-8")], explanation.encode("utf-8"), explanation)
        return Answer(404, [("Content-Type", "text/plain; charset=utf-8")], explanation.encode("utf-8"), explanation)
    # a stub that answers every call alike has its status, headers and bytes made once
    return router.respond_encoded(stub, call, "kyoukai", lambda reply: (_answer_of(reply, stub), True))


def _answer_of(reply: Reply, stub: "Stub") -> Answer:
    """The HTTP answer of a stub's reply: the stub's ``status=``/``headers=`` are in the reply's
    meta (:attr:`~rpctest.stacks.base.StackAdapter.reply_options`), and so are a served recording's."""
    meta = reply.meta or {}
    headers = meta.get("headers")
    status, headers, body = response_parts(reply, status=meta.get("status"), headers=headers if isinstance(headers, Mapping) else None)
    return Answer(status, headers, body)


def install(router: "StubRouter") -> Callable[[], None]:
    """Answer httpx requests for stubbed Kyoukai services from the stubs; return the undo function.

    rpctest's own interception point: ``httpx.HTTPTransport.handle_request`` and
    ``httpx.AsyncHTTPTransport.handle_async_request`` are wrapped, so a stubbed request costs what a
    ``mock.patch`` of the transport costs plus the stub's own work. respx's router, used here before,
    converted every request to httpcore's form and back, inspected its side effect's signature and
    recorded each call: twice the cost of the patch, for routing rpctest does itself. Any request
    that is not for a stubbed service goes to the transport method that was there before, so a
    user's respx mock (which patches httpcore, under the transport, or the client's transport
    lookup, above it) still answers its own routes.
    """
    import httpx

    sync_before = httpx.HTTPTransport.handle_request
    async_before = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        service = _service_of(router, request)
        if service is None:
            return sync_before(self, request)
        return _respond(router, service, request, request.read())

    async def handle_async_request(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        service = _service_of(router, request)
        if service is None:
            return await async_before(self, request)
        return _respond(router, service, request, await request.aread())

    # setattr: a method assignment mypy would flag where httpx is installed, and not where it is not
    setattr(httpx.HTTPTransport, "handle_request", handle_request)
    setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)
    stopped: list[bool] = []

    def undo() -> None:
        if not stopped:
            stopped.append(True)
            setattr(httpx.HTTPTransport, "handle_request", sync_before)
            setattr(httpx.AsyncHTTPTransport, "handle_async_request", async_before)

    return undo


def _service_of(router: "StubRouter", request: "httpx.Request") -> str | None:
    """The stubbed Kyoukai service an httpx request is for, or None: it goes over the network (a
    request to one of rpctest's own stub servers or hosted apps always does)."""
    url = request.url
    base = f"{url.scheme}://{url.netloc.decode('ascii')}".lower()
    if base in serving_over_wire:  # a set's membership test is atomic; only its writers take the lock
        return None
    return router.memo((STACK, base), lambda: service_for_base(base, router))


def _respond(router: "StubRouter", service: str, request: "httpx.Request", content: bytes) -> "httpx.Response":
    """The stub's answer to an httpx request, as an ``httpx.Response``; :class:`UnmatchedCall` when
    no stub matches (strict, never a silent 200)."""
    import httpx

    url = request.url
    kind = request.headers.get("content-type") if content else None  # (httpx's header lookup is not free)
    stub, call, _allowed = find_stub(router, service, request.method, url.path, url.query.decode("ascii", "replace"),
                                     content, kind)
    if stub is None:
        raise router.unmatched(call, reason=f"httpx request to {url}")
    result = _answer_of(router.respond(stub, call), stub)
    headers = result.headers
    if any(name.lower() == "content-encoding" for name, _ in headers):  # httpx must decode what the stub encoded
        return httpx.Response(result.status, headers=headers, content=result.content, request=request)
    # the body is in memory and needs no decoding: the response is a stream, as a real transport's is,
    # whose content is already known (httpx would otherwise run the bytes through its decoders)
    if not any(name.lower() == "content-length" for name, _ in headers):
        headers = [*headers, ("Content-Length", str(len(result.content)))]
    response = httpx.Response(result.status, headers=headers, stream=httpx.ByteStream(result.content), request=request)
    response._content = result.content
    return response


def register_endpoint(base: str) -> None:
    with _lock:
        serving_over_wire.add(base_of(base))


def unregister_endpoint(base: str) -> None:
    with _lock:
        serving_over_wire.discard(base_of(base))

