"""The neutral schema of Python type hints: TypedDicts, dataclasses and annotations as RPC schemas.

Stacks with no schema language of their own (pykern.api, and later AsyncAPY and Kyoukai) declare a
request or a reply with ordinary type hints; this module turns such a hint into rpctest's neutral
dialect (:mod:`rpctest.schema`), spelled exactly as the PySOA exporter spells the same thing, so
the validator, the strategies and contract files treat both alike::

    class EchoArgs(TypedDict):
        text: Annotated[str, Constraints(max_length=100)]
        times: NotRequired[int]

    schema_from_type(EchoArgs)
    # {"type": "object", "title": "EchoArgs",
    #  "properties": {"text": {"type": "string", "maxLength": 100}, "times": {"type": "integer"}},
    #  "required": ["text"], "additionalProperties": False}

    request, result = schema_from_function(Api.api_echo)   # its first parameter, its return

The schema describes the value **as the wire carries it**: a dataclass or a TypedDict is an object
with its fields, an Enum is one of its members' values, a ``UUID`` a string, a ``NamedTuple``, a
``tuple`` or a ``set`` may come as a list. ``docs/contracts.md`` tables the whole mapping.

Decisions worth knowing:

* ``strict=True`` (the default) closes TypedDicts and dataclasses (``additionalProperties: false``).
  A key the class does not declare is a defect: the service would ignore it (a TypedDict) or fail on
  it (``Cls(**body)``), and the caller meant something else by it. Closed objects let the validator
  reject a stub or a reply carrying such a key, and let :func:`rpctest.strategies.invalid_from_schema`
  generate the ``unexpected_key`` defect. ``strict=False`` leaves them open.
* Recursive types (a TypedDict that contains itself) raise :class:`TypeSchemaError`: they need
  ``$ref``, which the validator would follow (through ``jsonschema``) but the dialect does not
  include and the strategies cannot generate from. Cut the cycle with ``Any``/``dict[str, Any]``.
* Constraints come from ``Annotated[X, Constraints(...)]`` (and from ``annotated_types`` objects,
  when a project uses that package): lengths apply to strings, bytes and arrays, bounds to numbers,
  ``pattern`` (a *search*, as in JSON Schema: anchor it with ``^...$``) and ``format`` to strings.
  A rule the dialect cannot say (a mapping's size, an ``annotated_types.Predicate``) is kept as
  ``x-rpctest-lossy``, as the PySOA exporter does. Other ``Annotated`` metadata is ignored.
* ``format`` is an annotation: the validator does not check it (a ``UUID`` field accepts any
  string), the strategies generate well-formed values.
* String forward references are resolved with ``typing.get_type_hints(include_extras=True)`` in the
  module of the class or function that holds them.

Paths in errors read like ``EchoArgs.items[]``: ``.name`` a field, ``[]`` an item of a list or set,
``[0]`` a tuple position, ``{}`` a mapping value, ``{key}`` a mapping key.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import dataclasses
import datetime
import decimal
import enum
import inspect
import math
import re
import types
import typing
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

from rpctest.exceptions import ConfigError

try:  # optional: its TypedDict, Required, Literal... are accepted beside typing's
    import typing_extensions as _te
except ImportError:  # pragma: no cover - not in every environment
    _te = None  # type: ignore[assignment]

__all__ = ["Constraints", "TypeSchemaError", "declared_schema", "schema_from_function", "schema_from_type"]

Schema = dict[str, Any]


class TypeSchemaError(ConfigError):
    """A type hint rpctest cannot turn into a schema; the message names the type, where, and what to use.

    ``hint`` is the offending type and ``path`` where it sits (``EchoArgs.items[]``).
    """

    def __init__(self, message: str, *, hint: Any = None, path: str = "") -> None:
        super().__init__(message)
        self.hint = hint
        self.path = path


# -- constraints -----------------------------------------------------------------------------------------

_NUMBER_FIELDS = ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum", "multiple_of")


@dataclass(frozen=True)
class Constraints:
    """Rules for ``Annotated[X, Constraints(...)]``, in the words of the neutral schema.

    ``min_length``/``max_length`` limit a string's characters, a bytes value's length or an array's
    items; the bounds and ``multiple_of`` limit a number; ``pattern`` (searched, as in JSON Schema)
    and ``format`` (``"email"``, ``"uuid"``... an annotation the strategies honour) describe a string.
    """

    min_length: int | None = None
    max_length: int | None = None
    minimum: int | float | decimal.Decimal | None = None
    maximum: int | float | decimal.Decimal | None = None
    exclusive_minimum: int | float | decimal.Decimal | None = None
    exclusive_maximum: int | float | decimal.Decimal | None = None
    pattern: str | None = None
    format: str | None = None
    multiple_of: int | float | decimal.Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("min_length", "max_length"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise TypeSchemaError(f"Constraints({name}={value!r}): a length is an int >= 0")
        for name in _NUMBER_FIELDS:
            value = getattr(self, name)
            if value is not None:
                _json_number(value, f"Constraints({name}={value!r})")
        if self.multiple_of is not None and not self.multiple_of > 0:
            raise TypeSchemaError(f"Constraints(multiple_of={self.multiple_of!r}): must be > 0")
        if self.pattern is not None:
            if not isinstance(self.pattern, str):
                raise TypeSchemaError(f"Constraints(pattern={self.pattern!r}): a pattern is a str")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise TypeSchemaError(f"Constraints(pattern={self.pattern!r}) is not a regular expression: {exc}") from None
        if self.format is not None and (not isinstance(self.format, str) or not self.format):
            raise TypeSchemaError(f"Constraints(format={self.format!r}): a format is a non-empty str such as 'email'")
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise TypeSchemaError(f"Constraints(min_length={self.min_length}, max_length={self.max_length}): no length fits")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise TypeSchemaError(f"Constraints(minimum={self.minimum}, maximum={self.maximum}): no value fits")

    def __repr__(self) -> str:
        given = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if getattr(self, f.name) is not None)
        return f"Constraints({given})"

    def items(self) -> list[tuple[str, Any]]:
        """The rules given, as (field name, value) pairs."""
        return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self) if getattr(self, f.name) is not None]


def _json_number(value: Any, where: str) -> int | float:
    """``value`` as a JSON number (a Decimal only when int or float holds it exactly)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        raise TypeSchemaError(f"{where}: a bound is an int, float or Decimal, not {type(value).__name__}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeSchemaError(f"{where}: a bound must be finite")
        return value
    if not value.is_finite():
        raise TypeSchemaError(f"{where}: a bound must be finite")
    if value == value.to_integral_value():
        return int(value)
    if decimal.Decimal(float(value)) == value:
        return float(value)
    raise TypeSchemaError(f"{where}: {value} is not exactly a JSON number (a float); give a bound a float can hold")


#: (constraint, value kind) -> keyword; a missing pair does not apply to that kind
_KEYWORDS: dict[tuple[str, str], str] = {
    ("min_length", "string"): "minLength",
    ("max_length", "string"): "maxLength",
    ("min_length", "bytes"): "minLength",
    ("max_length", "bytes"): "maxLength",
    ("min_length", "array"): "minItems",
    ("max_length", "array"): "maxItems",
    ("pattern", "string"): "pattern",
    ("format", "string"): "format",
    ("minimum", "number"): "minimum",
    ("maximum", "number"): "maximum",
    ("exclusive_minimum", "number"): "exclusiveMinimum",
    ("exclusive_maximum", "number"): "exclusiveMaximum",
    ("multiple_of", "number"): "multipleOf",
}
_LOWER = frozenset({"minLength", "minItems", "minimum", "exclusiveMinimum"})
_UPPER = frozenset({"maxLength", "maxItems", "maximum", "exclusiveMaximum"})
_NATIVE_KINDS = {"set": "array", "tuple": "array", "bytes": "bytes", "decimal": "number", "datetime": "temporal",
                 "date": "temporal", "time": "temporal", "timedelta": "temporal"}
_JSON_KINDS = {"string": "string", "integer": "number", "number": "number", "array": "array", "object": "object",
               "boolean": "boolean", "null": "null"}

#: annotated_types classes and the Constraints field each one sets
_ANNOTATED_TYPES = {"Gt": ("exclusive_minimum", "gt"), "Ge": ("minimum", "ge"), "Lt": ("exclusive_maximum", "lt"),
                    "Le": ("maximum", "le"), "MultipleOf": ("multiple_of", "multiple_of"),
                    "MinLen": ("min_length", "min_length"), "MaxLen": ("max_length", "max_length")}


# -- the fixed mappings ----------------------------------------------------------------------------------

_TEMPORAL: list[tuple[type, Schema]] = [  # datetime before date: a datetime is a date
    (datetime.datetime, {"type": "string", "format": "date-time", "x-rpctest-type": "datetime"}),
    (datetime.date, {"type": "string", "format": "date", "x-rpctest-type": "date"}),
    (datetime.time, {"type": "string", "format": "time", "x-rpctest-type": "time"}),
    (datetime.timedelta, {"type": "string", "format": "duration", "x-rpctest-type": "timedelta"}),
]
#: exact classes (a subclass of int, str or float is not one of them: it may carry rules of its own)
_EXACT: dict[type, Schema] = {
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
}
#: classes whose subclasses are values of the same native type
_NATIVE_CLASSES: list[tuple[type, Schema]] = [
    (bytes, {"type": "string", "x-rpctest-type": "bytes"}),
    (bytearray, {"type": "string", "x-rpctest-type": "bytes"}),
    (decimal.Decimal, {"type": "number", "x-rpctest-type": "decimal"}),
    (uuid.UUID, {"type": "string", "format": "uuid"}),
    *_TEMPORAL,
]
_ARRAYS = (list, cabc.Sequence, cabc.MutableSequence, cabc.Collection, cabc.Iterable)
_SETS = (set, frozenset, cabc.Set, cabc.MutableSet)
_MAPPINGS = (dict, cabc.Mapping, cabc.MutableMapping)


def _forms(name: str) -> tuple[Any, ...]:
    """``typing.<name>`` and ``typing_extensions.<name>``, those that exist."""
    found = [getattr(module, name) for module in (typing, _te) if module is not None and hasattr(module, name)]
    return tuple(dict.fromkeys(found))


_ANNOTATED = _forms("Annotated")
_LITERAL = _forms("Literal")
_UNION = (typing.Union, types.UnionType)
_QUALIFIERS = {form: name for name in ("Required", "NotRequired", "ReadOnly") for form in _forms(name)}
_FINAL = _forms("Final")
_STRINGS = _forms("LiteralString")
_NEVER = _forms("Never") + _forms("NoReturn")
_CALLABLES: tuple[object, ...] = (cabc.Callable, typing.Callable)


def _is_typeddict(tp: Any) -> bool:
    if typing.is_typeddict(tp):
        return True
    return _te is not None and _te.is_typeddict(tp)


def _is_namedtuple(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields")


def _origin(tp: Any) -> Any:
    return typing.get_origin(tp)


def type_name(tp: Any) -> str:
    """A short, readable spelling of a type hint for messages (``list[EchoArgs]``, ``int | None``)."""
    if tp is None or tp is type(None):
        return "None"
    if tp is Any:
        return "Any"
    if tp is Ellipsis:
        return "..."
    if isinstance(tp, list):  # Callable's parameter list
        return "[" + ", ".join(type_name(arg) for arg in tp) + "]"
    if isinstance(tp, str):
        return repr(tp)
    if isinstance(tp, typing.ForwardRef):
        return repr(tp.__forward_arg__)
    if isinstance(tp, typing.TypeVar):
        return f"~{tp.__name__}"
    origin, args = _origin(tp), typing.get_args(tp)
    if origin in _ANNOTATED:
        metadata = ", ".join(repr(item) for item in tp.__metadata__)
        return f"Annotated[{type_name(tp.__origin__)}, {metadata}]"
    if origin in _LITERAL:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin in _UNION:
        return " | ".join(type_name(arg) for arg in args)
    if origin is not None:
        base = getattr(origin, "__qualname__", None) or getattr(origin, "_name", None) or repr(origin)
        base = base.rpartition("<locals>.")[2]
        if not isinstance(origin, type):  # typing.Required, typing.Final...
            base = getattr(tp, "_name", None) or repr(origin).replace("typing.", "")
        return f"{base}[{', '.join(type_name(arg) for arg in args)}]" if args else base
    if isinstance(tp, type):
        return tp.__qualname__.rpartition("<locals>.")[2]
    return repr(tp).replace("typing_extensions.", "").replace("typing.", "")


# -- the converter ---------------------------------------------------------------------------------------


class _Converter:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.active: list[Any] = []  # the classes being converted, outermost first (recursion guard)
        self.typevars: dict[Any, Any] = {}  # a generic class's parameters, while its fields are converted

    def fail(self, tp: Any, path: str, problem: str, instead: str) -> TypeSchemaError:
        where = path or type_name(tp)
        return TypeSchemaError(f"{where}: {type_name(tp)} {problem}; {instead}", hint=tp, path=where)

    # -- dispatch

    def convert(self, tp: Any, path: str) -> Schema:
        if tp is Any or tp is object:
            return {}
        if tp is None or tp is type(None):
            return {"type": "null"}
        if isinstance(tp, (str, typing.ForwardRef)):
            raise self.fail(tp, path, "is a forward reference that was not resolved",
                            "pass the class itself, or annotate with it in a module-level class or function "
                            "(the string is looked up in that module's globals; a class local to a function "
                            "cannot be named in a string, and a self-referencing alias is recursive: use Any there)")
        if isinstance(tp, typing.TypeVar):
            if tp in self.typevars:
                return self.convert(self.typevars[tp], path)
            raise self.fail(tp, path, "is a type variable, which has no schema until it is bound",
                            "use a concrete type (or parametrise the generic class: Box[int])")
        if tp in _STRINGS:
            return {"type": "string"}
        if tp in _NEVER:
            raise self.fail(tp, path, "has no values, so no schema", "annotate what is actually sent, or leave it out")
        if hasattr(tp, "__supertype__") and callable(tp):  # typing.NewType
            return self.convert(tp.__supertype__, path)
        if type(tp).__name__ == "TypeAliasType" and hasattr(tp, "__value__"):  # type X = ... (PEP 695)
            with self._entering(tp, path):
                return self.convert(tp.__value__, path)
        origin = _origin(tp)
        if origin is not None:
            return self.generic(tp, origin, typing.get_args(tp), path)
        if isinstance(tp, type):
            return self.cls(tp, path)
        raise self.fail(tp, path, "is not a type rpctest can read", "use a class or a typing construct")

    def generic(self, tp: Any, origin: Any, args: tuple[Any, ...], path: str) -> Schema:
        if origin in _ANNOTATED:
            return self.annotated(tp.__origin__, tp.__metadata__, path)
        if origin in _LITERAL:
            return self.literal(tp, args, path)
        if origin in _UNION:
            return self.union(args, path)
        if origin in _QUALIFIERS:
            raise self.fail(tp, path, f"is a TypedDict key qualifier ({_QUALIFIERS[origin]}) outside a TypedDict",
                            "use it only on the keys of a TypedDict")
        if origin in _FINAL:
            return self.convert(args[0], path) if args else {}
        if origin is tuple:
            return self.tuple_(tp, args, path)
        if origin in _ARRAYS:
            return {"type": "array", "items": self.convert(args[0], f"{path}[]")} if args else {"type": "array"}
        if origin in _SETS:
            node: Schema = {"type": "array"}
            if args:
                node["items"] = self.convert(args[0], f"{path}[]")
            node.update({"x-rpctest-type": "set", "uniqueItems": True})
            return node
        if origin in _MAPPINGS:
            return self.mapping(args, path)
        if origin in _CALLABLES:
            raise self.fail(tp, path, "is a callable, which cannot travel as a request or reply value",
                            "send data instead (a str naming the function the service should use, for example)")
        if isinstance(origin, type) and (_is_typeddict(origin) or dataclasses.is_dataclass(origin) or _is_namedtuple(origin)):
            return self.cls(origin, path, args)
        if origin is type:
            raise self.fail(tp, path, "is a class object, which cannot travel as a value", "send its name as a str")
        raise self.fail(tp, path, "is not supported",
                        "use list[X], tuple[X, ...], set[X], dict[str, X], a Union, a Literal, a TypedDict or a dataclass")

    def cls(self, tp: type, path: str, args: tuple[Any, ...] = ()) -> Schema:
        if issubclass(tp, enum.Enum):
            return self.enum_(tp, path)
        if tp in _EXACT:
            return dict(_EXACT[tp])
        for kind, node in _NATIVE_CLASSES:
            if issubclass(tp, kind):
                return dict(node)
        if _is_typeddict(tp):
            return self.typeddict(tp, path, args)
        if dataclasses.is_dataclass(tp):
            return self.dataclass_(tp, path, args)
        if _is_namedtuple(tp):
            return self.namedtuple(tp, path, args)
        if tp is tuple:
            return {"type": "array", "x-rpctest-type": "tuple"}
        if tp in _ARRAYS:
            return {"type": "array"}
        if tp in _SETS:
            return {"type": "array", "x-rpctest-type": "set", "uniqueItems": True}
        if tp in _MAPPINGS:
            return {"type": "object"}
        if tp in _CALLABLES or tp in (types.FunctionType, types.MethodType):
            raise self.fail(tp, path, "is a callable, which cannot travel as a request or reply value",
                            "send data instead (a str naming the function the service should use, for example)")
        if issubclass(tp, (int, float, str)):
            raise self.fail(tp, path, f"is a subclass of {next(k for k in (int, float, str) if issubclass(tp, k)).__name__}"
                            ", whose own rules a schema cannot know",
                            "annotate the base type (with Annotated[..., Constraints(...)] for its rules), or use "
                            "typing.NewType for a named scalar")
        raise self.fail(tp, path, "is a plain class, with no declared fields rpctest can read",
                        "declare it as a TypedDict, a dataclass, a NamedTuple or an Enum, or annotate the value as "
                        "dict[str, Any] / Any")

    # -- scalars and choices

    def enum_(self, tp: type[enum.Enum], path: str) -> Schema:
        if issubclass(tp, enum.Flag):
            raise self.fail(tp, path, "is a Flag, whose combined values are not listed members",
                            "annotate the value as int (or list the members it may be as a Literal)")
        values = [member.value for member in tp]
        for value in values:
            if not _json_scalar(value):
                raise self.fail(tp, path, f"has the member value {value!r}, which is not a JSON scalar",
                                "give the members str, int, float, bool or None values")
        return {"title": tp.__name__, "enum": _unique(values)}

    def literal(self, tp: Any, args: tuple[Any, ...], path: str) -> Schema:
        values = [arg.value if isinstance(arg, enum.Enum) else arg for arg in args]
        for value in values:
            if not _json_scalar(value):
                raise self.fail(tp, path, f"holds {value!r}, which is not a JSON scalar",
                                "use str, int, float, bool, None or Enum member literals")
        values = _unique(values)
        return {"const": values[0]} if len(values) == 1 else {"enum": values}

    def union(self, args: tuple[Any, ...], path: str) -> Schema:
        nullable = any(arg is None or arg is type(None) for arg in args)
        nodes = [self.convert(arg, path) for arg in args if arg is not None and arg is not type(None)]
        if any(node == {} for node in nodes):
            return {}  # Any absorbs the rest (and null)
        if len(nodes) == 1:
            return _nullable(nodes[0]) if nullable else nodes[0]
        if all(set(node) == {"type"} and isinstance(node["type"], str) for node in nodes):
            names = list(dict.fromkeys(node["type"] for node in nodes)) + (["null"] if nullable else [])
            return {"type": names[0] if len(names) == 1 else names}
        return {"anyOf": nodes + ([{"type": "null"}] if nullable else [])}

    # -- containers

    def tuple_(self, tp: Any, args: tuple[Any, ...], path: str) -> Schema:
        node: Schema = {"type": "array", "x-rpctest-type": "tuple"}
        if tp is typing.Tuple:  # bare typing.Tuple: any tuple  # noqa: UP006
            return node
        if len(args) == 2 and args[1] is Ellipsis:
            node["items"] = self.convert(args[0], f"{path}[]")
            return node
        if args == ((),):  # Tuple[()] on older Pythons
            args = ()
        if args:  # an empty prefixItems is not valid JSON Schema
            node["prefixItems"] = [self.convert(arg, f"{path}[{index}]") for index, arg in enumerate(args)]
        node.update({"items": False, "minItems": len(args), "maxItems": len(args)})
        return node

    def mapping(self, args: tuple[Any, ...], path: str) -> Schema:
        node: Schema = {"type": "object"}
        if not args:
            return node
        key, value = args
        keys = self.convert(key, f"{path}{{key}}")
        if keys:
            if not _string_rule(keys):
                raise self.fail(key, f"{path}{{key}}", "cannot be a mapping key: JSON object keys are strings",
                                "use dict[str, X] (or str-valued Literal / Enum keys)")
            node["propertyNames"] = keys
        node["additionalProperties"] = self.convert(value, f"{path}{{}}")
        return node

    # -- classes with fields

    @contextlib.contextmanager
    def _entering(self, key: Any, path: str) -> Iterator[None]:
        """Mark ``key`` (a class and its type arguments, or an alias) as being converted."""
        if key in self.active:
            raise self.fail(key[0] if isinstance(key, tuple) else key, path,
                            "refers to itself (a recursive type)",
                            "recursion needs $ref, which rpctest's schema dialect and its strategies do not support: "
                            "cut the cycle with Any, dict[str, Any] or list[Any] at this field")
        self.active.append(key)
        try:
            yield
        finally:
            self.active.pop()

    def _hints(self, tp: type, path: str) -> dict[str, Any]:
        try:
            return typing.get_type_hints(tp, include_extras=True)
        except Exception as exc:  # NameError for an unknown name, TypeError/SyntaxError for a bad string
            raise TypeSchemaError(
                f"{path}: the annotations of {type_name(tp)} cannot be resolved ({type(exc).__name__}: {exc}); a string "
                f"annotation is looked up in module {tp.__module__}: define what it names at that module's top level "
                "(a class local to a function cannot be named in a string)",
                hint=tp, path=path,
            ) from None

    def _bind(self, tp: type, args: tuple[Any, ...], path: str) -> dict[Any, Any]:
        """The values of a generic class's type parameters (``Box[int]``: T -> int)."""
        parameters = tuple(getattr(tp, "__parameters__", ()))
        if not args:
            return {}
        if len(args) != len(parameters):
            raise self.fail(tp, path, f"takes {len(parameters)} type parameter(s), not {len(args)}", "parametrise it fully")
        return dict(zip(parameters, args))

    def _fields(self, tp: type, path: str, args: tuple[Any, ...], fields: list[tuple[str, Any, bool]]) -> dict[str, Any]:
        """Convert (name, hint, required) fields inside ``tp``'s frame; returns properties and required."""
        saved = self.typevars
        self.typevars = {**saved, **self._bind(tp, args, path)}
        try:
            properties = {name: self.convert(hint, f"{path}.{name}") for name, hint, _ in fields}
        finally:
            self.typevars = saved
        return properties

    def typeddict(self, tp: type, path: str, args: tuple[Any, ...]) -> Schema:
        with self._entering((tp, args), path):
            hints = self._hints(tp, path)
            required_keys = set(getattr(tp, "__required_keys__", hints))
            fields = []
            for name, hint in hints.items():
                hint, required = _qualified(hint)
                fields.append((name, hint, name in required_keys if required is None else required))
            return self._object(tp, path, args, fields)

    def dataclass_(self, tp: type, path: str, args: tuple[Any, ...]) -> Schema:
        with self._entering((tp, args), path):
            hints = self._hints(tp, path)
            fields = [
                # init=False fields are optional: a reply (asdict) has them, a request (Cls(**body)) must not
                (field.name, hints.get(field.name, field.type),
                 field.init and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING)
                for field in dataclasses.fields(tp)
            ]
            return self._object(tp, path, args, fields)

    def _object(self, tp: type, path: str, args: tuple[Any, ...], fields: list[tuple[str, Any, bool]]) -> Schema:
        node: Schema = {"type": "object", "title": tp.__name__, "properties": self._fields(tp, path, args, fields)}
        required = sorted(name for name, _, needed in fields if needed)
        if required:
            node["required"] = required
        node["additionalProperties"] = not self.strict
        return node

    def namedtuple(self, tp: type, path: str, args: tuple[Any, ...]) -> Schema:
        with self._entering((tp, args), path):
            hints = self._hints(tp, path)
            defaults = getattr(tp, "_field_defaults", {})
            names = list(tp._fields)  # type: ignore[attr-defined]
            properties = self._fields(tp, path, args, [(name, hints.get(name, Any), True) for name in names])
            node: Schema = {"type": "array", "x-rpctest-type": "tuple", "title": tp.__name__}
            if names:
                node["prefixItems"] = [properties[name] for name in names]
            least = len([name for name in names if name not in defaults])
            node.update({"items": False, "minItems": least, "maxItems": len(names)})
            return node

    # -- Annotated

    def annotated(self, base: Any, metadata: tuple[Any, ...], path: str) -> Schema:
        node = self.convert(base, path)
        for item in metadata:
            for name, value in _constraint_items(item):
                if name == "lossy":
                    _lossy(node, value)
                else:
                    self.constrain(node, name, value, base, path)
        return node

    def constrain(self, node: Schema, name: str, value: Any, base: Any, path: str) -> None:
        kinds = _kinds(node)
        keywords = {_KEYWORDS[(name, kind)] for kind in kinds if (name, kind) in _KEYWORDS}
        if name in _NUMBER_FIELDS:
            if not isinstance(value, (int, float, decimal.Decimal)) or isinstance(value, bool):
                if "temporal" in kinds:  # annotated_types.Gt(datetime(...)) on a datetime
                    _lossy(node, f"The bound {name}={value!r} cannot be compared in JSON Schema; not expressed.")
                    return
            value = _json_number(value, f"{path}: {name}={value!r}")
            if name == "multiple_of" and node.get("x-rpctest-type") == "decimal" and not isinstance(value, int):
                raise self.fail(base, path, f"cannot be checked against multiple_of={value!r} (a Decimal does not "
                                "divide by a float)", "use an integer multiple_of, or a float field")
        if name in ("min_length", "max_length") and "object" in kinds:
            word = "at least" if name == "min_length" else "at most"
            _lossy(node, f"The mapping must have {word} {value} entries; minProperties/maxProperties are outside "
                         "rpctest's schema subset, so the size is not checked.")
            if not keywords:
                return
        if not keywords:
            applies = sorted({kind for (field, kind) in _KEYWORDS if field == name})
            raise self.fail(base, path, f"cannot take the constraint {name}={value!r}",
                            f"it applies to {', '.join(applies)} values only")
        for keyword in sorted(keywords):
            if keyword not in node:
                node[keyword] = value
            elif keyword in _LOWER:
                node[keyword] = max(node[keyword], value)
            elif keyword in _UPPER:
                node[keyword] = min(node[keyword], value)
            elif node[keyword] != value:
                raise self.fail(base, path, f"has two different {keyword} rules ({node[keyword]!r} and {value!r})",
                                "combine them into one")


# -- helpers ---------------------------------------------------------------------------------------------


def _json_scalar(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _unique(values: list[Any]) -> list[Any]:
    """Values without repeats, ``True`` and ``1`` kept apart (as JSON Schema compares them)."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for value in values:
        key = (isinstance(value, bool), isinstance(value, str), value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _nullable(node: Schema) -> Schema:
    """``node`` or null, spelled as the PySOA exporter spells a Nullable field."""
    kind = node.get("type")
    if isinstance(kind, str) and not {"x-rpctest-type", "enum", "const", "anyOf"} & node.keys():
        return {**node, "type": [kind, "null"]} if kind != "null" else node
    if isinstance(kind, list) and not {"x-rpctest-type", "enum", "const", "anyOf"} & node.keys():
        return {**node, "type": kind if "null" in kind else [*kind, "null"]}
    return {"anyOf": [node, {"type": "null"}]}


def _string_rule(node: Schema) -> bool:
    """True when ``node`` accepts strings alone, so it can be ``propertyNames``."""
    if "x-rpctest-type" in node:
        return False
    if node.get("type") == "string":
        return True
    values = node["enum"] if "enum" in node else [node["const"]] if "const" in node else None
    return values is not None and all(isinstance(value, str) for value in values)


def _kinds(node: Schema) -> set[str]:
    """The kinds of value (string, bytes, number, array, object, temporal...) a node accepts."""
    native = node.get("x-rpctest-type")
    if native is not None:
        return {_NATIVE_KINDS.get(native, "other")}
    kinds: set[str] = set()
    declared = node.get("type")
    for name in [declared] if isinstance(declared, str) else declared or []:
        kinds.add(_JSON_KINDS.get(name, "other"))
    for branch in node.get("anyOf", ()):
        kinds |= _kinds(branch)
    for value in node["enum"] if "enum" in node else [node["const"]] if "const" in node else []:
        if isinstance(value, str):
            kinds.add("string")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            kinds.add("number")
    kinds.discard("null")
    return kinds


def _lossy(node: Schema, sentence: str) -> None:
    previous = node.get("x-rpctest-lossy")
    node["x-rpctest-lossy"] = sentence if not previous else f"{previous} {sentence}"


def _constraint_items(item: Any) -> list[tuple[str, Any]]:
    """The (Constraints field, value) pairs an ``Annotated`` metadata item stands for; ("lossy", sentence)
    for an ``annotated_types`` rule the dialect cannot say; [] for metadata meant for other tools."""
    if isinstance(item, Constraints):
        return item.items()
    kind = type(item)
    if not kind.__module__.split(".")[0] == "annotated_types":
        return []
    if getattr(item, "__is_annotated_types_grouped_metadata__", False):  # Interval, Len: groups of the below
        return [pair for part in item for pair in _constraint_items(part)]
    if kind.__name__ == "DocInfo":  # documentation, not a rule
        return []
    known = _ANNOTATED_TYPES.get(kind.__name__)
    if known is not None:
        field, attribute = known
        return [(field, getattr(item, attribute))]
    return [("lossy", f"annotated_types {item!r} cannot be expressed in the schema; not checked.")]


def _qualified(hint: Any) -> tuple[Any, bool | None]:
    """A TypedDict key's hint without Required/NotRequired/ReadOnly, and what they say (None: nothing)."""
    origin = _origin(hint)
    if origin in _QUALIFIERS:
        inner, required = _qualified(typing.get_args(hint)[0])
        name = _QUALIFIERS[origin]
        if name == "Required":
            return inner, True if required is None else required
        if name == "NotRequired":
            return inner, False if required is None else required
        return inner, required
    if origin in _ANNOTATED:  # Annotated[Required[int], ...]
        inner, required = _qualified(hint.__origin__)
        if required is not None:
            return typing.Annotated[(inner, *hint.__metadata__)], required
    return hint, None


# -- public API ------------------------------------------------------------------------------------------


def schema_from_type(tp: Any, *, strict: bool = True) -> dict[str, Any]:
    """The neutral schema of a type hint.

    ``strict`` closes TypedDicts and dataclasses (``additionalProperties: false``): a key the class
    does not declare is a defect the validator reports and the fuzzer can generate. Raises
    :class:`TypeSchemaError` for a type with no schema (naming it, where it sits, and what to use).
    """
    return _Converter(strict).convert(tp, type_name(tp))


def declared_schema(value: Any, where: str) -> Any:
    """What a declaration (``api_schema``, ``route_schema``) names as a schema: None stays None, a
    mapping or a boolean is a schema already, anything else a type (its error then says ``where``)."""
    if value is None:
        return None
    if isinstance(value, (cabc.Mapping, bool)):
        return dict(value) if isinstance(value, cabc.Mapping) else value
    try:
        return schema_from_type(value)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def schema_from_function(
    func: Any, *, parameter: str | None = None, strict: bool = True
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(request schema, result schema) from a function's annotations.

    The request is the annotation of ``parameter`` (default: the first parameter after ``self``/
    ``cls``), the result the return annotation (``Awaitable[X]`` and ``Coroutine[..., X]`` give X;
    an ``async def`` is already annotated with its result). None where there is no annotation;
    ``-> None`` is an annotation (the result is null).
    """
    if isinstance(func, (staticmethod, classmethod)):
        func = func.__func__
    name = getattr(func, "__qualname__", None) or type_name(func)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise TypeSchemaError(f"{name}: cannot read its signature ({exc}); pass a function or a method", hint=func) from None
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:
        module = getattr(func, "__module__", "?")
        raise TypeSchemaError(
            f"{name}: its annotations cannot be resolved ({type(exc).__name__}: {exc}); a string annotation is "
            f"looked up in module {module}: define what it names at that module's top level",
            hint=func, path=name,
        ) from None
    parameters = list(signature.parameters.values())
    if parameter is None:
        plain = [p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if plain and plain[0].name in ("self", "cls"):
            plain = plain[1:]
        target = plain[0].name if plain else None
    elif parameter in signature.parameters:
        target = parameter
    else:
        raise TypeSchemaError(
            f"{name}: has no parameter {parameter!r} (its parameters: {', '.join(signature.parameters) or 'none'})",
            hint=func, path=name,
        )
    converter = _Converter(strict)
    request = None
    if target is not None and target in hints:
        request = converter.convert(hints[target], f"{name}({target})")
    result = None
    if "return" in hints:
        returned = hints["return"]
        if _origin(returned) in (cabc.Awaitable, cabc.Coroutine):
            args = typing.get_args(returned)
            returned = args[-1] if args else Any
        result = converter.convert(returned, f"{name} -> return")
    return request, result
