"""Route contracts for Kyoukai apps: the werkzeug route table plus body schemas rpctest attaches.

Kyoukai declares paths, methods and converters (its werkzeug ``Map``) but no request or response
schema, content type or status per route: nothing to read them from. The export reads the finalized map
(every rule: full path with blueprint prefixes, methods, endpoint) and adds, per route, what its
author declares, the first that says something winning:

1. ``schemas={"shop.create_order": {...}}`` passed to the export (keys: endpoint names, their last
   part when unique, or ``"METHOD /template"``);
2. ``@route_schema(request=..., response=..., query=..., errors=..., invalid=...)`` on the view. The
   decorator returns the very object it is given (a function, or the ``Route`` ``@app.route``
   returned), with an attribute, so it can sit above or below ``@app.route``.

Schemas are neutral-dialect dicts or types (TypedDict, dataclass, ``list[int]``; see
:mod:`rpctest.schema.from_types`). One operation per method and route, named ``"METHOD /template"``
(HEAD and OPTIONS, which Kyoukai adds itself, are left out); its request schema is the request
envelope of :mod:`.wire` (``path`` from the converters, ``query``, ``body``) and ``route`` keeps the
route table entry (method, path, endpoint, converters, the statuses invalid input must get).

:func:`to_openapi` turns such a contract into an OpenAPI 3.1 document (JSON Schema 2020-12 is
OpenAPI 3.1's own dialect, so the schemas go in unchanged).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable, Iterable, Mapping, TypeVar

from rpctest.exceptions import ConfigError
from rpctest.schema.from_types import declared_schema
from rpctest.stacks.kyoukai.routes import RouteTemplate

__all__ = ["route_schema", "declared", "export_app", "to_openapi", "IGNORED_METHODS"]

_ATTRIBUTE = "__rpctest_route_schema__"
#: methods Kyoukai and werkzeug add to every route themselves
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
_T = TypeVar("_T")
#: any query: each name once (a string) or repeated (``?c=0&c=0``: the list of its values), as HTTP allows
_ANY_QUERY = {"type": "object", "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}}


def route_schema(
    request: Any = None,
    response: Any = None,
    *,
    query: Any = None,
    errors: Iterable[int] = (),
    invalid: Iterable[int] = (),
    status: int = 200,
    description: str | None = None,
) -> Callable[[_T], _T]:
    """Declare a Kyoukai view's JSON request body, response body, query and statuses.

    ``request=None`` means the route takes no body. ``query`` is a schema of the query arguments as
    text (they are strings on the wire). ``errors`` are the statuses the route answers on purpose
    (404 for an unknown item, 409 for a conflict): valid input may get them and stubs may use them.
    ``invalid`` are the statuses input that breaks the schemas must get (default: any 4xx).
    ``status`` is the success status (201 for a creation), for the OpenAPI document.
    """
    statuses = tuple(_status(code, "errors") for code in errors)
    invalid_statuses = tuple(_status(code, "invalid") for code in invalid)

    def decorate(target: _T) -> _T:
        setattr(
            target,
            _ATTRIBUTE,
            {"request": request, "response": response, "query": query, "errors": statuses, "invalid": invalid_statuses,
             "status": _status(status, "status"), "description": description},
        )
        return target

    return decorate


def _status(code: Any, where: str) -> int:
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
        raise ConfigError(f"route_schema {where}= takes HTTP statuses such as 404 or 422, not {code!r}")
    return code


def declared(route: Any) -> dict[str, Any] | None:
    """What :func:`route_schema` recorded on a Kyoukai ``Route`` or its view function."""
    found = getattr(route, _ATTRIBUTE, None)
    if found is None:
        found = getattr(getattr(route, "_callable", None), _ATTRIBUTE, None)
    return found


def _built_app(provider: Any) -> Any:
    """The app to read: a factory is called inside a short-lived loop (Kyoukai binds one when built)."""
    from rpctest.stacks.kyoukai.host import _build, resolve_app

    app, factory = resolve_app(provider)
    if factory is None:
        return app

    async def build() -> Any:
        return _build(None, factory)

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(build())
    finally:
        loop.close()


def _route_object(app: Any, endpoint: str) -> Any:
    try:
        return app.root.get_route(endpoint)
    except Exception:  # an endpoint Kyoukai cannot look up (a collision): no declaration then
        return None


def export_app(
    provider: Any,
    *,
    schemas: Mapping[str, Mapping[str, Any]] | None = None,
    service: str | None = None,
) -> dict[str, Any]:
    """The neutral contract of a Kyoukai app (an app, a factory or ``"module:object"``):
    ``{"service", "operations", "notes"}``, one operation per route and method."""
    app = _built_app(provider)
    rules = sorted(app.finalize().iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
    operations: dict[str, Any] = {}
    endpoints: dict[str, list[str]] = {}
    for rule in rules:
        for method in sorted(set(rule.methods) - IGNORED_METHODS):
            name = f"{method} {rule.rule}"
            operations[name] = (rule, method)
            endpoints.setdefault(rule.endpoint, []).append(name)
    overrides = _overrides(schemas or {}, operations, endpoints)
    exported = {}
    for name, (rule, method) in sorted(operations.items()):
        route_object = _route_object(app, rule.endpoint)
        decl = {**(declared(route_object) or {}), **overrides.get(name, {})}
        exported[name] = _operation(name, method, rule, decl, view_doc(route_object))
    collisions = sorted(e for e, names in endpoints.items() if len({n.split(' ', 1)[1] for n in names}) > 1)
    notes = [
        {"pointer": "/operations", "note": f"endpoint {e} serves several paths; Kyoukai dispatches all of them to the first view of that name"}
        for e in collisions
    ]
    return {"service": service or app.name, "operations": exported, "notes": notes}


def _overrides(schemas: Mapping[str, Any], operations: Mapping[str, Any], endpoints: Mapping[str, list[str]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    short: dict[str, list[str]] = {}
    for endpoint in endpoints:
        short.setdefault(endpoint.rsplit(".", 1)[-1], []).append(endpoint)
    for key, value in schemas.items():
        if key in operations:
            names = [key]
        elif key in endpoints:
            names = endpoints[key]
        elif len(short.get(key, [])) == 1:
            names = endpoints[short[key][0]]
        else:
            raise ConfigError(
                f"schemas names {key!r}, which is no route of the app (routes: {', '.join(sorted(operations))}; "
                f"endpoints: {', '.join(sorted(endpoints))})"
            )
        for name in names:
            out.setdefault(name, {}).update(dict(value))
    return out


def _operation(name: str, method: str, rule: Any, decl: Mapping[str, Any], doc: str = "") -> dict[str, Any]:
    route = RouteTemplate.parse(rule.rule)
    notes = []
    properties: dict[str, Any] = {}
    required: list[str] = []
    if route.params:
        properties["path"] = route.params_schema()
        required.append("path")
    if not decl:
        notes.append({"pointer": "/request", "note": "no route_schema declared: any query and any body pass"})
        properties["query"] = dict(_ANY_QUERY)
        properties["body"] = {}
    else:
        query = declared_schema(decl.get("query"), f"{name} query")
        if query is not None:
            properties["query"] = query
        body = declared_schema(decl.get("request"), f"{name} request")
        if body is not None:
            properties["body"] = body
            required.append("body")
    request = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    response = declared_schema(decl.get("response"), f"{name} response")
    if response is None:
        notes.append({"pointer": "/response", "note": "no response schema declared: any body passes"})
        response = {}
    spec: dict[str, Any] = {
        "request": request,
        "response": response,
        # what the route can answer: its own statuses and those it gives invalid input
        "errors": sorted(set(decl.get("errors", ())) | set(decl.get("invalid", ()))),
        "notes": notes,
        "route": {
            "method": method,
            "path": rule.rule,
            "endpoint": rule.endpoint,
            "params": {p.name: p.to_dict() for p in route.params},
            **({"invalid_status": sorted(set(decl["invalid"]))} if decl.get("invalid") else {}),
            **({"status": decl["status"]} if decl.get("status", 200) != 200 else {}),
        },
    }
    description = decl.get("description") or doc
    if description:
        spec["description"] = description
    return spec


def view_doc(route: Any) -> str:
    """The first line of the view's docstring (the operation's description)."""
    func = getattr(route, "_callable", None)
    doc = inspect.getdoc(func) if func is not None else None
    return doc.strip().splitlines()[0] if doc else ""


# -- OpenAPI 3.1 ---------------------------------------------------------------------------------------------


def _openapi_path(template: str) -> str:
    route = RouteTemplate.parse(template)
    path = template
    import re

    for param in route.params:
        path = re.sub(r"<(?:[^:>]+:)?" + re.escape(param.name) + ">", "{" + param.name + "}", path)
    return path


def to_openapi(contract: Any, *, version: str = "1.0.0") -> dict[str, Any]:
    """An OpenAPI 3.1 document of a Kyoukai provider contract (a :class:`ProviderContract`).

    Path variables and query arguments become parameters (their wire-form string schemas), the body
    a JSON ``requestBody``; the response schema is the ``200`` response, each declared error status
    a response of its own; ``operationId`` is the endpoint name (``-METHOD`` appended when one
    endpoint has several methods).
    """
    from rpctest.contracts.format import ProviderContract

    if not isinstance(contract, ProviderContract) or contract.stack != "kyoukai":
        raise ConfigError("an OpenAPI document is made from a Kyoukai provider contract (contracts export --stack kyoukai)")
    paths: dict[str, dict[str, Any]] = {}
    methods_per_endpoint: dict[str, int] = {}
    for op in contract.operations.values():
        endpoint = (op.route or {}).get("endpoint", op.name)
        methods_per_endpoint[endpoint] = methods_per_endpoint.get(endpoint, 0) + 1
    for name in sorted(contract.operations):
        op = contract.operations[name]
        method, _, template = name.partition(" ")
        route = op.route or {}
        endpoint = route.get("endpoint", name)
        request = op.request if isinstance(op.request, Mapping) else {}
        props = request.get("properties", {})
        parameters = []
        for pname, schema in props.get("path", {}).get("properties", {}).items():
            parameters.append({"name": pname, "in": "path", "required": True, "schema": schema})
        query = props.get("query")
        if isinstance(query, Mapping):
            needed = set(query.get("required", []))
            for qname, schema in query.get("properties", {}).items():
                parameters.append({"name": qname, "in": "query", "required": qname in needed, "schema": schema})
        operation: dict[str, Any] = {
            "operationId": endpoint if methods_per_endpoint.get(endpoint, 0) == 1 else f"{endpoint}-{method}",
            "responses": {
                str(route.get("status", 200)): {"description": "success", "content": {"application/json": {"schema": op.response}}}
            },
        }
        if op.description:
            operation["summary"] = op.description
        if parameters:
            operation["parameters"] = parameters
        if "body" in props:
            operation["requestBody"] = {
                "required": "body" in request.get("required", []),
                "content": {"application/json": {"schema": props["body"]}},
            }
        for code in op.errors:
            operation["responses"][str(code)] = {"description": f"declared error {code}"}
        paths.setdefault(_openapi_path(template), {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": contract.service, "version": version, "description": "exported by rpctest from the Kyoukai app's route table"},
        "paths": paths,
    }
