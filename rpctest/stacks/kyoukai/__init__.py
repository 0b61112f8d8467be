"""The Kyoukai adapter: asyncio HTTP/1.1 apps (werkzeug routing, asphalt components).

Kyoukai 2.2.1.post1 runs on Python 3.11 only installed ``--no-deps`` next to newer dependencies and
with a one-line runtime shim (:mod:`.compat`); :func:`.host.require_kyoukai` applies it and explains
any other install (docs: the exact commands are :data:`.host.INSTALL_COMMANDS`). The published
wheel answers every error whose handler keeps the status (404, 405, ``abort``, an unhandled
exception) with a canned ``HTTP/1.0 500`` page: rpctest reproduces and reports that, never fixes it.

* :func:`serve_async` / :func:`serve`: the real app under a real ``KyoukaiComponent`` on 127.0.0.1
  port 0, on the running loop or a background thread's, or without a socket (``transport="local"``);
* :class:`LocalTransport` / :class:`LocalSyncTransport`: httpx transports that drive the app's real
  HTTP backend over memory (``httpx.AsyncClient(transport=LocalTransport(app), base_url="http://app")``);
* :mod:`.errors`: HTTP statuses as :class:`~rpctest.model.ErrorKind`;
* stubs for consumers (:mod:`.stubbing`: answers at httpx's transport; :mod:`.stub_server`: HTTP for
  any other client), route contracts and OpenAPI 3.1 (:mod:`.schema`, :func:`route_schema`), the
  request envelope and wire client (:mod:`.wire`), route templates without werkzeug (:mod:`.routes`).

Vocabulary: a Kyoukai *app* is rpctest's service, a *route* its operation, named ``"METHOD /template"``
in contracts (``"GET /items/<int:item_id>"``), and in stubs also ``"METHOD /path"`` or the endpoint
(``"blueprint.function"``); the neutral request is the envelope ``{"path", "query", "body"}`` of
:mod:`.wire`; the reply body is the JSON body; an error is the HTTP status.
Importing this module imports no Kyoukai, no werkzeug, no httpx and no respx.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

from rpctest.exceptions import StubUsageError
from rpctest.model import ErrorKind, Reply, RpcError
from rpctest.stacks.base import Capabilities, HostHalf, StackAdapter, WireHalf
from rpctest.stacks.kyoukai import errors as kyoukai_errors
from rpctest.stacks.kyoukai.schema import route_schema

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.contracts.format import OperationSpec, ProviderContract
    from rpctest.fuzz.checks import Case
    from rpctest.stacks.kyoukai.host import KyoukaiService
    from rpctest.stacks.kyoukai.stub_server import KyoukaiStubServer
    from rpctest.stacks.kyoukai.wire import KyoukaiClient
    from rpctest.strategies.defects import Defect, Expected
    from rpctest.stubs.router import StubRouter

__all__ = [
    "adapter",
    "KyoukaiAdapter",
    "LocalSyncTransport",
    "LocalTransport",
    "require_kyoukai",
    "route_schema",
    "serve",
    "serve_async",
    "version_problem",
]

#: statuses Kyoukai and werkzeug answer for any route (routing, bad requests, server errors)
_STANDARD_STATUSES = frozenset({400, 404, 405, 413, 500})


class KyoukaiWire(WireHalf):
    """Plain HTTP/1.1: a neutral client of a running app, and a stub server; neither needs Kyoukai."""

    def client(self, address: str, *, service: str | None = None, timeout: float = 5.0, **options: Any) -> "KyoukaiClient":
        """A blocking :class:`~.wire.KyoukaiClient` of ``http://HOST:PORT`` (calls carry request envelopes).

        ``credentials``: its headers go on every request, its basic auth as ``Authorization: Basic``,
        its token as ``Authorization: Bearer`` (an explicit ``--header Authorization:...`` wins)."""
        from rpctest.stacks.kyoukai.wire import KyoukaiClient, http_credentials

        credentials = options.pop("credentials", None)
        if credentials is not None:
            headers, auth = http_credentials(credentials)
            options.update(headers=headers, auth=auth)
        return KyoukaiClient(address, timeout=timeout, **options)

    def stub_server(self, router: "StubRouter", *, address: str | None = None, **options: Any) -> "KyoukaiStubServer":
        """A running :class:`~.stub_server.KyoukaiStubServer` (127.0.0.1, a free port) answering from ``router``."""
        from rpctest.stacks.kyoukai.stub_server import serve_stubs

        return serve_stubs(router, address=address, **options)


class KyoukaiHost(HostHalf):
    library = "kyoukai"
    extra = "kyoukai"

    def require(self, module: str | None = None) -> Any:
        """Kyoukai with rpctest's shim applied, or a StackUnavailable with the exact install commands."""
        from rpctest.stacks.kyoukai.host import require_kyoukai

        kyoukai = require_kyoukai()
        return kyoukai if module is None else super().require(module)

    def serve(self, provider: Any, **options: Any) -> "KyoukaiService":
        """Serve an app (or a factory, or ``"module:object"``) on a background thread; see :func:`.host.serve`.
        ``credentials`` go on every request of its client (what the fuzzer and live verify send)."""
        from rpctest.stacks.kyoukai.host import serve

        credentials = options.pop("credentials", None)
        hosted = serve(provider, **options)
        if credentials is not None:
            from rpctest.stacks.kyoukai.wire import http_credentials

            headers, auth = http_credentials(credentials)
            hosted.client.headers.update(headers)
            if auth is not None:
                hosted.client.auth = auth  # httpx takes (user, password) as basic auth
        return hosted

    def install_stub_interceptor(self, router: "StubRouter") -> Callable[[], None]:
        """Kyoukai ships no client library; its callers speak HTTP. httpx clients are answered from
        the stubs at httpx's transport (see :mod:`.stubbing`); other clients use the stub server."""
        from rpctest.stacks.kyoukai.stubbing import install

        return install(router)

    def export_schema(self, provider: Any, **options: Any) -> dict[str, Any]:
        """The route contract of an app (see :func:`.schema.export_app`)."""
        from rpctest.stacks.kyoukai.schema import export_app

        return export_app(provider, **options)

    def export_from_address(self, address: str, service: str | None = None, **options: Any) -> dict[str, Any]:
        """A running Kyoukai app does not describe its routes over HTTP."""
        from rpctest.exceptions import ConfigError

        raise ConfigError(
            f"Kyoukai has no introspection, so the routes at {address} cannot be exported from the running app; "
            f"export the contract from the code (--provider MODULE:APP) and pass it with --contract FILE"
        )

    #: Kyoukai logs a traceback for each canned 500 it writes (on Kyoukai and Kyoukai.HTTP11)
    log_names = ("Kyoukai", "asphalt", "rpctest.kyoukai.host")

    def version_problem(self) -> str | None:
        """What is wrong with this environment's Kyoukai install, with the fix (for ``rpctest doctor``)."""
        from rpctest.stacks.kyoukai.host import version_problem

        return version_problem()


class KyoukaiAdapter(StackAdapter):
    name = "kyoukai"
    title = "Kyoukai"
    capabilities = Capabilities(sync_client=True, async_client=True)
    standard_error_codes = _STANDARD_STATUSES
    null_body_sendable = False  # the envelope is an object; a missing body is the absent "body" key
    #: ``status=`` (a success status, e.g. 201), ``headers=`` (response headers), ``base_url=`` (which
    #: httpx requests are for this service, when config does not say)
    stub_options = frozenset({"status", "headers", "base_url"})
    credential_options = frozenset({"header", "token", "auth"})
    credential_note = "HTTP has headers, basic auth and bearer tokens, and no request context"
    #: the status and headers a stub answers with belong to its reply: they are recorded, served and
    #: compared with the reply (``Reply.meta``), as the real app's status and headers are
    reply_options = frozenset({"status", "headers"})
    pact_interaction_type = "Synchronous/HTTP"  # the pact verifier calls the app over HTTP itself
    wire = KyoukaiWire()
    host = KyoukaiHost()

    def classify(self, code: str | int, *, field: str | None = None, **native: Any) -> ErrorKind:
        return kyoukai_errors.classify(code, field=field, **native)

    def make_error(self, code: str | int, message: str = "", *, field: str | None = None, **details: Any) -> RpcError:
        try:
            status = kyoukai_errors.status_number(code)
        except ValueError:
            status = -1
        if not 300 <= status <= 599:
            raise StubUsageError(f"a Kyoukai error is an HTTP status from 300 to 599 (e.g. 404, 409, 500), not {code!r}")
        if field is not None:
            raise StubUsageError("Kyoukai errors carry no field: an HTTP error is its status (put details in the message)")
        return super().make_error(status, message, **details)

    def check_body(self, body: Any) -> None:
        if isinstance(body, (set, frozenset)) or (callable(body) and not isinstance(body, Mapping)):
            raise StubUsageError(f"a Kyoukai stub body is the JSON (or text) the route answers, not {body!r}")

    def recorded_differences(self, recorded: Any, body: Any) -> list[str]:
        """As the base, with the recorded envelope in the form a request carries it (path and query
        values are text on the wire, the body goes through JSON): a request recorded from rpctest's
        own client may hold ``{"query": {"n": 5}}``, which arrives as ``"5"``."""
        from rpctest.stacks.kyoukai.wire import wire_form

        return super().recorded_differences(wire_form(recorded), body)

    http = True

    def http_request(self, operation: str, request: Any) -> dict[str, Any]:
        """The method, path (the route's variables filled in) and query the envelope sends."""
        from urllib.parse import parse_qsl

        from rpctest.stacks.kyoukai.wire import request_parts

        method, target, _, _ = request_parts(operation, request)
        path, _, query_string = target.partition("?")
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            query.setdefault(name, []).append(value)
        http: dict[str, Any] = {"method": method, "path": path, "query": query}
        if isinstance(request, Mapping) and "body" in request:
            http["body"] = request["body"]
        return http

    def request_from_http(self, operation: str, http: Mapping[str, Any]) -> Any:
        """The envelope: the route's variables read back from the path, one query value as itself."""
        from urllib.parse import urlencode

        from rpctest.stacks.kyoukai.routes import RouteTemplate, split_operation
        from rpctest.stacks.kyoukai.wire import envelope_from_request

        parts = split_operation(operation)
        route = RouteTemplate.parse(parts[1].split("?", 1)[0]) if parts is not None else None
        query = urlencode([(name, item) for name, value in (http.get("query") or {}).items()
                           for item in (value if isinstance(value, list) else [value])])
        envelope = envelope_from_request(str(http.get("path", "/")), query, b"", route=route)
        if "body" in http:
            envelope["body"] = http["body"]
        return envelope

    def http_response(self, reply: Reply) -> dict[str, Any]:
        from rpctest.stacks.kyoukai.wire import response_parts

        headers = dict((reply.meta or {}).get("headers") or {})
        status, _, _ = response_parts(reply, headers=headers)
        response: dict[str, Any] = {"status": status, "headers": {str(k): str(v) for k, v in headers.items()}}
        if not reply.all_errors and reply.body is not None:
            response["body"] = reply.body
        return response

    def reply_from_http(self, status: int, headers: Mapping[str, Any], body: Any) -> Reply:
        if 300 <= status <= 599:
            return Reply(errors=[self.make_error(status)], meta={"status": status})
        return Reply(body=body, meta={"status": status, "headers": dict(headers)})

    def recorded_meta(self, reply: Reply) -> dict[str, Any]:
        """The status when it is not what the reply says anyway (200 for a body, 204 for none, the
        error's status), and headers a stub gave (a mapping; a real response's full header list is
        the server's, not what the consumer relied on)."""
        meta = reply.meta or {}
        kept: dict[str, Any] = {}
        status = meta.get("status")
        errors = reply.all_errors
        default = errors[0].code if errors else (204 if reply.body is None else 200)
        if isinstance(status, int) and status != default:
            kept["status"] = status
        if isinstance(meta.get("headers"), Mapping) and meta["headers"]:
            kept["headers"] = {str(name): str(value) for name, value in meta["headers"].items()}
        return kept

    def errors_in_meta(self, meta: Mapping[str, Any]) -> list[tuple[str, RpcError]]:
        """A recorded status from 300 up is that HTTP error (the body beside it is its page)."""
        status = meta.get("status")
        if isinstance(status, int) and not isinstance(status, bool) and 300 <= status <= 599:
            return [("status", self.make_error(status))]
        return []

    def reply_as_recorded(self, reply: Reply, meta: Mapping[str, Any]) -> Reply:
        """A recorded success with an error status (``status=422`` and a body) is what the real app
        says as a 422 response: the same reply, with its body and no error."""
        status = meta.get("status")
        errors = reply.all_errors
        if (
            isinstance(status, int) and status >= 300 and (reply.meta or {}).get("status") == status
            and errors and all(error.code == status for error in errors)
        ):
            return Reply(body=reply.body, meta=dict(reply.meta), attachment=reply.attachment)
        return reply

    def meta_differences(self, recorded: Mapping[str, Any], reply: Reply, *, exact: bool = False) -> list[tuple[str, str, str]]:
        """The status must be the recorded one; each recorded header must be there (names in any
        case, as HTTP has them), with the recorded value when ``exact``."""
        meta = reply.meta or {}
        found: list[tuple[str, str, str]] = []
        if "status" in recorded and meta.get("status") != recorded["status"]:
            found.append(("status", str(recorded["status"]), str(meta.get("status", "missing"))))
        headers = meta.get("headers") or []
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        have = {str(name).lower(): str(value) for name, value in pairs}
        for name, value in (recorded.get("headers") or {}).items():
            actual = have.get(str(name).lower())
            if actual is None:
                found.append(("headers", str(name), "missing"))
            elif exact and actual != str(value):
                found.append(("headers", f"{name}: {value}", f"{name}: {actual}"))
        return found

    def expected_for_defect(self, defect: "Defect") -> "Expected":
        """A 4xx (any: Kyoukai has no validation of its own; the app's views decide)."""
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.CALLER_ERROR, None, check_field=False)

    def expected_for_defect_in(self, defect: "Defect", operation: "OperationSpec") -> "Expected":
        """A path variable the converter rejects is a 404 (no route matches); a bad query or body
        gets a 4xx, the route's declared ``invalid`` statuses when it has some."""
        from rpctest.strategies.defects import Expected

        if defect.path[:1] == ("path",):
            return Expected(ErrorKind.NOT_FOUND, None, frozenset({404}), check_field=False)
        codes = frozenset((operation.route or {}).get("invalid_status") or ())
        if codes:
            kinds = {kyoukai_errors.classify(code) for code in codes}
            kind = next(iter(kinds)) if len(kinds) == 1 else ErrorKind.CALLER_ERROR
            return Expected(kind, None, codes, check_field=False)
        return Expected(ErrorKind.CALLER_ERROR, None, check_field=False)

    def sendable_defect(self, item: Any, operation: "OperationSpec") -> bool:
        """Whether HTTP can carry the invalid request ``item.body`` *as invalid*.

        The body must be an envelope a request can carry (:func:`.wire.sendable`). A defect in a path
        variable counts when routing must reject it: the rendered path no longer matches the route
        (a value the converter still accepts is the view's business, and the route's pattern is
        stricter than its converter). Any other defect must survive the wire: path and query values
        become text and the body goes through JSON (an int 5 for a string is "5" on the wire).
        """
        from rpctest.contracts.drift import registry
        from rpctest.stacks.kyoukai.routes import parse_operation, split_operation
        from rpctest.stacks.kyoukai.wire import sendable, wire_form

        body = item.body
        if not sendable(body, operation.name):
            return False
        if item.defect.path[:1] == ("path",):
            if split_operation(operation.name) is None:
                return False
            _method, route = parse_operation(operation.name)
            return route.match(route.build(body.get("path"))) is None
        return bool(registry.compiled(operation.request).violations(wire_form(body)))

    def probe_cases(self, contract: "ProviderContract") -> list["Case"]:
        """One wrong-method request per route path: Kyoukai's routing must answer 405."""
        from rpctest.fuzz.checks import UNKNOWN_OPERATION, Case
        from rpctest.stacks.kyoukai.routes import RouteTemplate, methods_of
        from rpctest.strategies.defects import Expected

        cases = []
        templates = sorted({name.split(" ", 1)[1] for name in contract.operations if " " in name})
        for template in templates:
            declared = methods_of(contract.operations, template)
            wrong = next((m for m in ("DELETE", "PATCH", "PUT", "POST", "GET") if m not in declared), None)
            if wrong is None:
                continue
            path = RouteTemplate.parse(template).example_path()
            expected = Expected(ErrorKind.NOT_FOUND, None, frozenset({405}), check_field=False)
            cases.append(Case(f"{wrong} {path}", {}, UNKNOWN_OPERATION, expected=expected))
        return cases

    def contract_operation(self, provider: "ProviderContract", operation: str, request: Any) -> tuple[str, Any] | None:
        """The provider's operation for a stubbed one: ``"GET /items/5"`` is ``"GET /items/<int:item_id>"``
        with ``{"path": {"item_id": "5"}}`` in its envelope; an endpoint name is its route."""
        from rpctest.stacks.kyoukai.routes import parse_operation, split_operation

        if operation in provider.operations:
            return operation, request
        parts = split_operation(operation)
        if parts is None:
            found = [n for n, op in provider.operations.items()
                     if (op.route or {}).get("endpoint") in (operation,) or (op.route or {}).get("endpoint", "").rsplit(".", 1)[-1] == operation]
            return (found[0], request) if len(found) == 1 else None
        method, path = parts
        for name in sorted(provider.operations):
            try:
                op_method, route = parse_operation(name)
            except Exception:
                continue
            values = route.match(path.split("?", 1)[0]) if op_method == method else None
            if values is not None:
                envelope = dict(request) if isinstance(request, Mapping) else {}
                if route.params:
                    envelope["path"] = values
                return name, envelope
        return None

    def expected_for_unknown_operation(self, operation: str) -> "Expected":
        """404 (no such path) or 405 (no such method on that path), Kyoukai's own routing answers.

        Kyoukai 2.2.1.post1 answers both with its canned 500 instead: that deviation is what
        rpctest reports about the published wheel.
        """
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.NOT_FOUND, None, frozenset({404, 405}), check_field=False)

    def to_openapi(self, contract: "ProviderContract") -> dict[str, Any]:
        """The OpenAPI 3.1 document of a route contract (``contracts export --format openapi``)."""
        from rpctest.stacks.kyoukai.schema import to_openapi

        return to_openapi(contract)

    def garbage_target(self, address: str, probe: Any, *, timeout: float = 5.0, **options: Any) -> Any:
        """Random malformed HTTP requests for the endpoint (:class:`.framing.GarbageTarget`)."""
        from rpctest.stacks.kyoukai.framing import GarbageTarget

        return GarbageTarget(address, probe, timeout=timeout, **options)

    def reply_from_exception(self, exc: BaseException) -> Reply | None:
        """A stub's side effect raising is the route failing: a 500 (an httpx error propagates, so a
        test can simulate a network failure with ``side_effect=httpx.ConnectError(...)``)."""
        if type(exc).__module__.startswith("httpx"):
            return None
        return Reply(errors=[RpcError(500, f"{type(exc).__name__}: {exc}", kind=ErrorKind.SERVER_ERROR, details={"status": 500})])

    def reply_from_native(self, value: Any) -> Reply | None:
        """An ``httpx.Response`` (what a side effect may return) as a neutral reply."""
        if type(value).__name__ == "Response" and type(value).__module__.startswith("httpx"):
            from rpctest.stacks.kyoukai.host import reply_from_response

            return reply_from_response(value)
        return None


adapter = KyoukaiAdapter()


def require_kyoukai() -> Any:
    """Import Kyoukai with the shim applied, or raise StackUnavailable with the exact install commands."""
    from rpctest.stacks.kyoukai.host import require_kyoukai as require

    return require()


def version_problem() -> str | None:
    """None when this environment's Kyoukai is usable by rpctest, else what is wrong and the fix."""
    from rpctest.stacks.kyoukai.host import version_problem as problem

    return problem()


def serve(provider: Any, **options: Any) -> "KyoukaiService":
    """Serve a Kyoukai app on a background thread's loop; see :func:`.host.serve`."""
    return adapter.host.serve(provider, **options)


def serve_async(provider: Any, **options: Any) -> Any:
    """``async with serve_async(app_or_factory) as service``: on the running loop; see :func:`.host.serve_async`."""
    from rpctest.stacks.kyoukai.host import serve_async as start

    return start(provider, **options)


def __getattr__(name: str) -> Any:
    """``LocalTransport`` and ``LocalSyncTransport`` load httpx only when asked for."""
    if name in ("LocalTransport", "LocalSyncTransport"):
        from rpctest.stacks.kyoukai import transport

        return getattr(transport, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
