"""Schemas for pykern.api, which declares none: :func:`api_schema`, type annotations, or a mapping.

pykern's ``api_args`` and ``api_result`` are free-form, so a contract needs the API's author to say
what they are. Three ways, the first that gives a schema wins, per API:

1. ``schemas={"echo": {"request": ..., "result": ...}}`` passed to the export (or the CLI's config);
2. ``@api_schema(request=..., result=..., caller_errors=..., server_errors=...)`` on the method;
3. the method's annotations: ``async def api_echo(self, api_args: EchoArgs) -> EchoResult``.

A schema is a neutral-dialect dict or a type (TypedDict, dataclass, ``list[int]`` ...; see
:mod:`rpctest.schema.from_types`). An API with none accepts and answers anything, and the export
says so in a note, because a silent ``{}`` would let every stub pass verification.

The decorator returns the very function it is given, with an attribute: pykern finds APIs with
``inspect.getmembers(..., inspect.isfunction)`` and checks ``iscoroutinefunction`` and its
subscription marker on that function, so a wrapper would hide it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any, Callable, Iterable, Mapping, TypeVar

from rpctest.exceptions import ConfigError
from rpctest.schema.from_types import declared_schema
from rpctest.stacks.pykern import errors as pykern_errors

__all__ = ["api_schema", "declared", "export_provider", "operation_spec", "API_PREFIX"]

API_PREFIX = "api_"
_ATTRIBUTE = "__rpctest_api_schema__"
#: pykern's handshake API: protocol, not an operation of the service
_AUTH_API = "authenticate_connection"

_F = TypeVar("_F", bound=Callable[..., Any])


def api_schema(
    request: Any = None,
    result: Any = None,
    *,
    caller_errors: Iterable[Any] = (),
    server_errors: Iterable[Any] = (),
    description: str | None = None,
) -> Callable[[_F], _F]:
    """Declare an ``api_*`` method's request (``api_args``) and result schemas and its errors.

    For a subscription, ``result`` is the schema of one item. ``caller_errors`` and
    ``server_errors`` are ``pykern.util.APIError`` subclasses (or their names) the API raises:
    both are listed in the contract; the server errors are classified as such (an APIError an API
    raises on purpose is otherwise a caller error: see :mod:`.errors`).
    """
    callers = tuple(pykern_errors.error_name(e) for e in caller_errors)
    servers = tuple(pykern_errors.error_name(e) for e in server_errors)
    overlap = set(callers) & set(servers)
    if overlap:
        raise ConfigError(f"api_schema: {', '.join(sorted(overlap))} cannot be both a caller and a server error")
    pykern_errors.declare_server_errors(servers)

    def decorate(func: _F) -> _F:
        if not getattr(func, "__name__", "").startswith(API_PREFIX):
            raise ConfigError(f"api_schema decorates pykern API methods named api_*, not {func!r}")
        setattr(
            func,
            _ATTRIBUTE,
            {"request": request, "result": result, "caller_errors": callers, "server_errors": servers, "description": description},
        )
        return func

    return decorate


def declared(func: Callable[..., Any]) -> dict[str, Any] | None:
    """What :func:`api_schema` recorded on ``func`` (None when it was not decorated)."""
    return getattr(func, _ATTRIBUTE, None)


def _api_functions(api_classes: Iterable[type]) -> dict[str, Callable[..., Any]]:
    """The APIs a pykern server dispatches, by name, as pykern finds them."""
    found: dict[str, Callable[..., Any]] = {}
    for cls in api_classes:
        for attr, func in inspect.getmembers(cls, predicate=inspect.isfunction):
            if attr.startswith(API_PREFIX) and attr[len(API_PREFIX):] != _AUTH_API:
                found.setdefault(attr[len(API_PREFIX):], func)
    return found


def _raised_api_errors(func: Callable[..., Any]) -> list[str]:
    """Names of ``pykern.util.APIError`` subclasses the function's own source raises."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name):
                names.add(target.id)
            elif isinstance(target, ast.Attribute):
                names.add(target.attr)
    found = []
    scope = {**getattr(func, "__globals__", {})}
    for name in sorted(names):
        obj = scope.get(name)
        if obj is None:
            import pykern.api.util as api_util

            obj = getattr(api_util, name, None)
        if isinstance(obj, type) and any(f"{k.__module__}.{k.__qualname__}" == "pykern.util.APIError" for k in obj.__mro__):
            found.append(name)
    return found


def operation_spec(name: str, func: Callable[..., Any], override: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One API's operation in the export document (``request``, ``response``, ``errors``, ``kind``, ``notes``)."""
    from pykern.api.util import is_subscription

    decl = {**(declared(func) or {}), **(override or {})}
    where = f"api_{name}"
    request = declared_schema(decl.get("request"), f"{where} request")
    result = declared_schema(decl.get("result"), f"{where} result")
    if request is None or result is None:
        from rpctest.schema.from_types import schema_from_function

        try:
            hinted_request, hinted_result = schema_from_function(func)
        except ConfigError as exc:
            raise ConfigError(f"{where} annotations: {exc}") from None
        request = hinted_request if request is None else request
        result = hinted_result if result is None else result
    notes = []
    if request is None:
        notes.append({"pointer": "/request", "note": "no request schema declared (api_schema or an annotation): any api_args pass"})
        request = {}
    if result is None:
        notes.append({"pointer": "/response", "note": "no result schema declared (api_schema or an annotation): any api_result passes"})
        result = {}
    subscription = bool(is_subscription(func))
    response = {"type": "array", "items": result} if subscription else result
    errors = sorted({*decl.get("caller_errors", ()), *decl.get("server_errors", ()), *_raised_api_errors(func)})
    doc = decl.get("description") or inspect.getdoc(func) or ""
    spec: dict[str, Any] = {"request": request, "response": response, "errors": errors, "notes": notes}
    if doc:
        spec["description"] = doc.strip().splitlines()[0]
    if subscription:
        spec["kind"] = "subscription"
    return spec


def export_provider(
    provider: Any,
    *,
    schemas: Mapping[str, Mapping[str, Any]] | None = None,
    service: str | None = None,
    attr_classes: Any = None,
    expected_errors: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Any]:
    """The neutral contract of a pykern provider (an API class, a list of them, or an object with
    ``api_classes``): ``{"service", "operations", "notes"}``; see the module docstring for where
    each schema comes from. ``expected_errors={api: [class names]}`` adds codes, as for PySOA."""
    from rpctest.stacks.pykern.host import resolve_provider

    resolved = resolve_provider(provider, attr_classes=attr_classes, service=service)
    functions = _api_functions(resolved.api_classes)
    for label, mapping in (("schemas", schemas), ("expected_errors", expected_errors)):
        unknown = sorted(set(mapping or {}) - set(functions))
        if unknown:
            raise ConfigError(
                f"{label} names {', '.join(map(repr, unknown))}, which the provider does not serve "
                f"(APIs: {', '.join(sorted(functions))})"
            )
    operations = {}
    for name in sorted(functions):
        spec = operation_spec(name, functions[name], (schemas or {}).get(name))
        extra = list((expected_errors or {}).get(name, ()))
        if extra:
            spec["errors"] = sorted({*spec["errors"], *extra})
        operations[name] = spec
    return {"service": resolved.service, "operations": operations, "notes": []}
