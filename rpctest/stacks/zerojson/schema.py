"""ZeroJSON contracts: from a declared service (names and types) or from a running one's ``introspect``.

PyCOM's ``introspect`` is a names-only contract: required and optional argument names, result
names, attachments; no types, no defaults, nothing about sessions or authentication. So:

* **request**: an object with a property per argument, the required ones ``required``;
  ``additionalProperties`` stays open (PyCOM ignores extra keys), unless the export is ``strict``,
  in which case an extra key is a defect the fuzzer generates and PyCOM's leniency a finding. A
  method that declares no parameters accepts any ``args`` (``{}``): PyCOM passes them untouched.
* **types**, where rpctest can know them (in-process export only): a parameter's annotation
  (``def add(self, request, a: int, b: int)``, through :mod:`rpctest.schema.from_types`), else a
  ``check_argument(name, valid_types=...)`` declaration, converted with PyCOM's ``isinstance``
  semantics (an ``int`` check lets JSON ``true`` through; a ``float`` check refuses ``1``).
* **response**: several results are an object with those keys; one result, or a return annotation,
  its value; none: any JSON (PyCOM's empty ``results`` means "anything", not "nothing").
* attachment names and stateful/authentication flags, which JSON Schema cannot say, are notes.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any, Iterable, Mapping

from rpctest.exceptions import ConfigError

__all__ = ["export_service", "export_introspection", "raised_codes", "schema_for_types"]

_PYTHON_TYPES: dict[type, dict[str, Any]] = {
    bool: {"type": "boolean"},
    int: {"type": ["integer", "boolean"]},  # isinstance(True, int): PyCOM's int check passes booleans
    float: {"type": "number", "not": {"type": "integer"}},  # isinstance(1, float) is false: JSON 1 fails
    str: {"type": "string"},
    list: {"type": "array"},
    dict: {"type": "object"},
    type(None): {"type": "null"},
}


def schema_for_types(valid_types: Any) -> dict[str, Any] | None:
    """The schema of a ``check_argument(valid_types=...)`` (None when a type has no JSON form)."""
    types = valid_types if isinstance(valid_types, tuple) else (valid_types,)
    parts = []
    for tp in types:
        schema = _PYTHON_TYPES.get(tp)
        if schema is None:
            return None
        parts.append(schema)
    return parts[0] if len(parts) == 1 else {"anyOf": parts}


def _results_schema(results: Iterable[str], hinted: Any) -> Any:
    names = list(results)
    if len(names) > 1:
        return {"type": "object", "properties": {n: {} for n in names}, "required": sorted(names), "additionalProperties": False}
    if hinted is not None:
        return hinted
    return {}


def _notes_for(method: Mapping[str, Any], interface: Mapping[str, Any]) -> list[dict[str, str]]:
    notes = []
    attachments = method.get("attachments") or {}
    if attachments.get("incoming"):
        notes.append({"pointer": f"/request/properties/{attachments['incoming']}",
                      "note": "arrives as the request's attachment frame, not in args"})
    if attachments.get("outgoing"):
        notes.append({"pointer": "/response", "note": f"the result {attachments['outgoing']!r} travels as the reply's attachment frame"})
    if interface.get("stateful"):
        notes.append({"pointer": "", "note": "stateful interface: calls carry a session_id (code 6 when it expired)"})
    if interface.get("authentication") == "required":
        notes.append({"pointer": "", "note": "requires an org.pycom.auth token (code 5 without a valid one)"})
    return notes


def _operation(describe: Mapping[str, Any], interface: Mapping[str, Any], types: Mapping[str, Any], result: Any, strict: bool) -> dict[str, Any]:
    required = list(describe.get("required_arguments") or [])
    optional = list(describe.get("optional_arguments") or [])
    incoming = (describe.get("attachments") or {}).get("incoming")
    if required or optional:
        arguments = [a for a in required + optional if a != incoming]
        request: Any = {
            "type": ["object", "null"] if not [a for a in required if a != incoming] else "object",
            "properties": {name: dict(types.get(name, {})) for name in arguments},
            "required": sorted(a for a in required if a != incoming),
            "additionalProperties": not strict,
        }
    else:
        request = {}
    spec: dict[str, Any] = {
        "request": request,
        "response": _results_schema([r for r in describe.get("results") or [] if r != (describe.get("attachments") or {}).get("outgoing")], result),
        "errors": [],
        "notes": _notes_for(describe, interface),
    }
    doc = (describe.get("docstring") or "").strip()
    if doc:
        spec["description"] = doc.splitlines()[0]
    return spec


#: the exceptions of :mod:`.errors` a method raises to answer a code on purpose
_RAISED_CODES = {"BadRequest": 4, "AccessDenied": 5, "SessionExpired": 6, "MethodNotFound": 2, "ServiceNotFound": 3}


def raised_codes(func: Any) -> list[int]:
    """Codes a method's own source answers on purpose: ``raise BadRequest(...)`` (4) and the like,
    ``raise RemoteError(..., code=N)``; without them a fuzzer calls every deliberate refusal of a
    well-formed request a rejection of valid input."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return []
    codes = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
            continue
        target = node.exc.func
        name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
        if name in _RAISED_CODES:
            codes.add(_RAISED_CODES[name])
        for keyword in node.exc.keywords:
            if keyword.arg == "code" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, int):
                codes.add(keyword.value.value)
        if name == "RemoteError" and len(node.exc.args) > 1 and isinstance(node.exc.args[1], ast.Constant):
            if isinstance(node.exc.args[1].value, int):
                codes.add(node.exc.args[1].value)
    return sorted(codes)


def export_introspection(result: Mapping[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """The neutral contract from an ``introspect`` result (``{name, methods, docstring, data}``)."""
    if not isinstance(result, Mapping) or not isinstance(result.get("methods"), Mapping) or not isinstance(result.get("name"), str):
        raise ConfigError(f"not a ZeroJSON introspect result (name, methods, docstring, data): {result!r:.200}")
    operations = {
        # introspect never says which codes a method raises (any RemoteError code passes through)
        name: {**_operation(describe, {}, {}, None, strict), "errors_open": True}
        for name, describe in sorted(result["methods"].items())
        if isinstance(describe, Mapping)
    }
    return {"service": result["name"], "operations": operations, "notes": []}


def export_service(provider: Any, *, strict: bool = False, expected_errors: Mapping[str, Iterable[Any]] | None = None) -> dict[str, Any]:
    """The neutral contract of a declared service class or instance, with the types it declares."""
    from rpctest.schema.from_types import schema_from_type
    from rpctest.stacks.zerojson.service import interface_of

    try:
        info = interface_of(provider)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
    flags = {"stateful": info.stateful, "authentication": info.authentication}
    unknown = sorted(set(expected_errors or {}) - set(info.methods))
    if unknown:
        raise ConfigError(f"expected_errors names {', '.join(map(repr, unknown))}, which {info.name} does not serve")
    operations = {}
    for name in sorted(info.methods):
        method = info.methods[name]
        types: dict[str, Any] = {}
        for hook in method.prehooks:
            argument, valid_types = getattr(hook, "argument", None), getattr(hook, "valid_types", None)
            if argument is not None and valid_types is not None:
                converted = schema_for_types(valid_types)
                if converted is not None:
                    types[argument] = converted
        result = None
        try:
            hints = inspect.get_annotations(method.wrapped, eval_str=True)
        except Exception:
            hints = {}
        for argument, hint in hints.items():
            if argument == "return":
                result = schema_from_type(hint)
            elif argument in method.required_arguments or argument in method.optional_arguments:
                types[argument] = schema_from_type(hint)
        spec = _operation(method.describe(), flags, types, result, strict)
        declared = (expected_errors or {}).get(name, ())
        spec["errors"] = sorted({*raised_codes(method.wrapped), *declared}, key=str)
        operations[name] = spec
    return {"service": info.name, "operations": operations, "notes": []}
