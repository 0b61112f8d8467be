"""Provider contracts of an AsyncAPY server, from its handlers' ``Filters.Fields``.

AsyncAPY routes a packet to the first handler (per group, in registration order) whose filters all
pass, and ``Fields(name=regex_or_None, ...)`` is the one filter that says what a packet holds: the
packet's keys must be *exactly* the named ones, a None only requires the key, and a regex must
``re.match`` ``str(value)`` (anchored at the start only: ``"add"`` also takes ``"address"``). So
each handler is an operation (named after its function) whose request schema is

    {"type": "object", "required": [every key], "additionalProperties": false,
     "properties": {key: {} or {"x-rpctest-match": regex, "pattern": "\\A(?:regex)"}}}

``x-rpctest-match`` is the faithful Python rule that rpctest's validators apply (``{"a": 5}``
passes ``a="-?\\d+$"`` as it does on the server); the ``pattern`` beside it is the JSON-Schema view
(strings only), for other readers and for generating strings.

What no filter declares comes from the author: :func:`handler_schema` on the handler (the reply
packet's schema, its failure codes) or ``schemas={"handler": {...}}`` given to the export. What
the schema cannot hold is written down as notes: a handler without ``Fields`` (it sees every packet
its group reaches), ``APIFactory`` (an issued API key: a predicate on a store), ``Ip`` (which
compares the server's *own* address, an AsyncAPY bug), other filter classes, and handlers that can
never be reached (two ``Fields`` with different key sets).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any, Callable, TypeVar

from rpctest.exceptions import ConfigError
from rpctest.schema.from_types import declared_schema

__all__ = ["declared", "export_provider", "fields_schema", "handler_schema", "handlers"]

_ATTRIBUTE = "__rpctest_asyncapy_schema__"
_F = TypeVar("_F", bound=Callable[..., Any])


def handler_schema(response: Any = None, *, errors: Iterable[str] = (), many: bool = False, description: str | None = None) -> Callable[[_F], _F]:
    """Declare what a handler sends back: ``response`` is the schema (or type) of one reply packet,
    ``many=True`` when it sends several, ``errors`` the codes of the failure packets it sends on
    purpose (``{"status": "failure", "error": CODE}``). Returns the very function it is given (put it
    under ``@server.add_handler(...)``, which keeps what it is handed)."""
    codes = tuple(str(code) for code in errors)

    def decorate(func: _F) -> _F:
        if not inspect.iscoroutinefunction(func):
            raise ConfigError(f"handler_schema decorates AsyncAPY handlers (async functions), not {func!r}")
        setattr(func, _ATTRIBUTE, {"response": response, "errors": codes, "many": many, "description": description})
        return func

    return decorate


def declared(func: Callable[..., Any]) -> dict[str, Any] | None:
    """What :func:`handler_schema` recorded on ``func`` (None when it was not decorated)."""
    return getattr(func, _ATTRIBUTE, None)


def handlers(server: Any) -> list[tuple[str, int, Any]]:
    """``(operation name, group, Handler)`` in dispatch order; a name used twice gets ``@group``
    (or ``#n``) appended, so every operation of the contract names one handler."""
    table = server._handlers
    out: list[tuple[str, int, Any]] = []
    taken: set[str] = set()
    for group in sorted(table):
        for handler in table[group]:
            base = getattr(handler.function, "__name__", "handler")
            name = base if base not in taken else f"{base}@{group}"
            counter = 2
            while name in taken:
                name, counter = f"{base}@{group}#{counter}", counter + 1
            taken.add(name)
            out.append((name, group, handler))
    return out


def _pattern_text(pattern: Any) -> str | None:
    return None if pattern is None else getattr(pattern, "pattern", pattern)


def fields_schema(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The request schema of one ``Fields`` filter's ``{name: compiled regex or None}``."""
    properties: dict[str, Any] = {}
    for name, pattern in fields.items():
        text = _pattern_text(pattern)
        properties[name] = {} if text is None else {"x-rpctest-match": text, "pattern": f"\\A(?:{text})"}
    return {"type": "object", "properties": properties, "required": list(fields), "additionalProperties": False}


def _filter_kind(flt: Any) -> str:
    return type(flt).__name__


def _request_schema(name: str, handler: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    notes: list[dict[str, str]] = []
    field_filters = [f for f in handler.filters if _filter_kind(f) == "Fields"]
    schema: dict[str, Any]
    if not field_filters:
        schema = {"type": "object"}
        notes.append({"pointer": "/request", "note": f"{name} has no Fields filter: it is offered every packet its group reaches"})
    else:
        key_sets = {tuple(sorted(f.fields)) for f in field_filters}
        if len(key_sets) > 1:
            notes.append({"pointer": "/request", "note": f"{name} has Fields filters with different key sets: no packet passes them all, so it is never called"})
            schema = {"not": {}}
            return schema, notes
        schema = fields_schema(field_filters[0].fields)
        for extra in field_filters[1:]:  # same keys, more patterns: every one must match
            for key, pattern in extra.fields.items():
                text = _pattern_text(pattern)
                if text is not None:
                    node = schema["properties"][key]
                    schema["properties"][key] = {"allOf": [node, {"x-rpctest-match": text, "pattern": f"\\A(?:{text})"}]} if node else {
                        "x-rpctest-match": text, "pattern": f"\\A(?:{text})"}
    for flt in handler.filters:
        kind = _filter_kind(flt)
        if kind == "Fields":
            continue
        if kind == "APIFactory":
            field = getattr(flt, "field_name", "?")
            notes.append({"pointer": f"/request/properties/{field}", "note": f"APIFactory: {field!r} must hold an API key issued by the server's factory (a predicate on its store, not a schema)"})
            node = schema.get("properties", {}).get(field)
            if isinstance(node, dict):
                node["x-rpctest-lossy"] = "an issued API key (AsyncAPY APIFactory filter)"
        elif kind == "Ip":
            notes.append({"pointer": "/request", "note": f"Ip filter {sorted(getattr(flt, 'ips', ()))}: AsyncAPY compares the server's own address, not the client's, so it passes for every client or for none"})
        else:
            notes.append({"pointer": "/request", "note": f"{name} has a {kind} filter: a Python predicate the schema does not hold"})
    return schema, notes


def operation_spec(name: str, group: int, handler: Any, override: Mapping[str, Any] | None = None, *, position: int = 0) -> dict[str, Any]:
    """One handler's operation: request from its filters, the rest from :func:`handler_schema` or ``override``."""
    decl = {**(declared(handler.function) or {}), **(override or {})}
    request, notes = _request_schema(name, handler)
    if "request" in decl and decl["request"] is not None:  # the author knows better than the filters
        request = declared_schema(decl["request"], f"{name} request")
    response = declared_schema(decl.get("response"), f"{name} response")
    if response is None:
        notes.append({"pointer": "/response", "note": f"no reply schema declared for {name} (handler_schema or schemas=): any packet passes"})
        response = {}
    if decl.get("many"):
        response = {"type": "array", "items": response}
    spec: dict[str, Any] = {"request": request, "response": response, "errors": sorted(set(decl.get("errors", ()))), "notes": notes,
                            # where AsyncAPY offers it a packet: the fuzz oracle dispatches as the server does (.dispatch)
                            "route": {"group": group, "position": position}}
    doc = decl.get("description") or inspect.getdoc(handler.function) or ""
    where = f"group {group}"
    spec["description"] = f"{doc.strip().splitlines()[0]} ({where})" if doc.strip() else f"AsyncAPY handler in {where}"
    return spec


def export_provider(provider: Any, *, schemas: Mapping[str, Mapping[str, Any]] | None = None, service: str | None = None) -> dict[str, Any]:
    """The neutral contract of an AsyncAPY server (see :func:`.host.resolve_provider`):
    ``{"service", "operations", "notes"}``, one operation per handler."""
    from rpctest.stacks.asyncapy.host import resolve_provider

    resolved = resolve_provider(provider, service=service)
    table = handlers(resolved.server)
    names = [name for name, _, _ in table]
    unknown = sorted(set(schemas or {}) - set(names))
    if unknown:
        raise ConfigError(
            f"schemas names {', '.join(map(repr, unknown))}, which the server has no handler for (handlers: {', '.join(names) or 'none'})"
        )
    operations = {
        name: operation_spec(name, group, handler, (schemas or {}).get(name), position=index) for index, (name, group, handler) in enumerate(table)
    }
    notes = []
    if not table:
        notes.append({"pointer": "", "note": "the server has no handlers: every packet is closed without a reply"})
    if any(not [f for f in h.filters if _filter_kind(f) == "Fields"] for _, _, h in table):
        notes.append({"pointer": "", "note": "a handler without Fields takes every packet: unknown-operation probes get a reply"})
    return {"service": resolved.service_name, "operations": operations, "notes": notes}
