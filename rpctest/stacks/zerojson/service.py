"""Declaring ZeroJSON services in Python: rpctest's small mirror of PyCOM's service model.

::

    from rpctest.stacks.zerojson.service import Service, interface, method

    @interface("com.example.calc")
    class Calc(Service):
        "Calculator demo service."

        @method
        def add(self, request, a, b):
            return a + b

        @method(results=("quotient", "remainder"))
        def divmod(self, request, a, b):
            return divmod(a, b)

The rules are PyCOM's (so a service declared here answers exactly as a PyCOM service would):

* a method's signature is ``(self, request, <params>)``; parameters **without** defaults are the
  required arguments, those **with** defaults the optional ones (``*args``, ``**kwargs`` and
  keyword-only parameters are not part of the contract). Required ones are passed positionally,
  optional ones as keywords and only when present in ``args``;
* a method that declares no parameters gets ``request.args`` untouched (any JSON, no check);
  otherwise ``args`` must be an object or null (4), extra keys are ignored and the first missing
  required argument in declaration order is reported (4);
* ``results=("r1", "r2")`` turns the returned tuple into ``{"r1": ..., "r2": ...}``; a single
  declared result wraps the plain value; a wrong count is a server-side error (code 1);
* ``attachments=(incoming, outgoing)``: the required parameter ``incoming`` receives the request's
  attachment frame (or None), and ``outgoing``, one of the results, is taken out of the result
  object and sent as the reply's attachment frame;
* :func:`check_argument` adds PyCOM's type/validator prehook (4, with PyCOM's generated messages);
* ``@interface(name, stateful=True)`` gives each caller a session (``request.session``, a dict);
  ``authentication="required"`` demands a valid ``org.pycom.auth`` token (5);
* deriving from :class:`Service` adds the ``introspect`` method, answered as PyCOM answers it.

Unlike PyCOM, declaring an interface neither instantiates the class nor registers it in a
process-global registry: a server hosts the instances (or classes) it is given, so tests stay
independent of each other.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from rpctest.stacks.zerojson import wire
from rpctest.stacks.zerojson.errors import AccessDenied, BadRequest, code_number

__all__ = [
    "AUTHENTICATION_POLICIES",
    "INTROSPECT",
    "InterfaceInfo",
    "MethodInfo",
    "Request",
    "Service",
    "Session",
    "check_argument",
    "interface",
    "interface_of",
    "method",
]

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., Any])

#: what ``authentication=`` accepts: None defers to the server's default policy
AUTHENTICATION_POLICIES = (None, "required", "never")
#: PyCOM's name for the introspection method (``GENERIC_METHOD_INTROSPECT``)
INTROSPECT = "introspect"
_METHOD_ATTR = "__zerojson_method__"
_PENDING_HOOKS_ATTR = "__zerojson_prehooks__"
_INTERFACE_ATTR = "__zerojson_interface__"

#: a prehook: (interface, method, request) -> None, raising a RemoteError (usually BadRequest)
Prehook = Callable[["InterfaceInfo", "MethodInfo", "Request"], None]
#: a posthook: (interface, method, response) -> None; may change the response in place
Posthook = Callable[["InterfaceInfo", "MethodInfo", wire.Response], None]


# -- sessions and requests --------------------------------------------------------------------------


class Session(dict[str, Any]):
    """A stateful interface's per-caller state: a dict with the ``session_id`` the caller sends back.

    :meth:`discard` drops it from the server at once; the reply that discards it still carries its
    id (as in PyCOM), so the caller's next call with it gets code 6.
    """

    def __init__(self, session_id: str, on_discard: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.session_id = session_id
        self.discarded = False
        self._on_discard = on_discard

    def discard(self) -> None:
        self.discarded = True
        if self._on_discard is not None:
            self._on_discard(self.session_id)

    def __repr__(self) -> str:
        return f"<Session {self.session_id} {dict.__repr__(self)}>"


class Request:
    """What a hosted method receives as ``request``: the call as it came over the wire.

    ``args`` is the JSON value as sent, ``extensions`` the request's extensions object (``{}`` for
    none), ``attachment`` the attachment frame or None, ``session`` the caller's :class:`Session`
    on a stateful interface (None otherwise). :meth:`user_info` validates the caller's token with
    the server's authenticator (once per request).
    """

    def __init__(
        self,
        interface: str,
        method: str,
        args: Any = None,
        *,
        extensions: Mapping[str, Any] | None = None,
        attachment: bytes | None = None,
        session: Session | None = None,
        validate: Callable[[Any], Mapping[str, Any]] | None = None,
    ) -> None:
        self.interface = interface
        self.method = method
        self.args = args
        self.extensions: Mapping[str, Any] = extensions if extensions is not None else {}
        self.attachment = attachment
        self.session = session
        self._validate = validate
        self._user_info: Mapping[str, Any] | None = None

    @property
    def token(self) -> Any:
        """The ``org.pycom.auth`` token the caller sent (None when there is none)."""
        return self.extensions.get(wire.AUTH_EXTENSION)

    def user_info(self) -> Mapping[str, Any]:
        """The authenticator's ``validate`` result for the caller's token (AccessDenied without one)."""
        if self._user_info is None:
            if not self.token:
                raise AccessDenied("Authentication required")
            if self._validate is None:
                raise AccessDenied("no authenticator is configured to validate the token")
            self._user_info = self._validate(self.token)
        return self._user_info

    def response(self, result: Any = None, attachment: bytes | None = None) -> wire.Response:
        """A success reply to return from a method, e.g. to attach bytes without declaring them."""
        return wire.Response(code=wire.OK, result=result, attachment=attachment)

    def error(self, code: int | str, message: str | None = None) -> wire.Response:
        """An error reply to return from a method (raising a RemoteError does the same)."""
        return wire.Response(code=code_number(code), error=message)

    def __repr__(self) -> str:
        return f"<Request {self.interface}.{self.method}({self.args!r})>"


# -- methods ---------------------------------------------------------------------------------------------


@dataclass
class MethodInfo:
    """One remote method: its name, its contract (from the signature) and how to call it."""

    name: str
    wrapped: Callable[..., Any]
    required_arguments: list[str]
    optional_arguments: list[str]
    results: tuple[str, ...] = ()
    attachments: tuple[str | None, str | None] = (None, None)
    prehooks: list[Prehook] = field(default_factory=list)
    posthooks: list[Posthook] = field(default_factory=list)

    @property
    def docstring(self) -> str | None:
        return self.wrapped.__doc__

    @property
    def declares_parameters(self) -> bool:
        """Whether ``args`` is checked at all (PyCOM passes it untouched when nothing is declared)."""
        return bool(self.required_arguments or self.optional_arguments)

    def describe(self) -> dict[str, Any]:
        """This method's entry in an ``introspect`` result, keys in PyCOM's order."""
        incoming, outgoing = self.attachments
        return {
            "required_arguments": list(self.required_arguments),
            "optional_arguments": list(self.optional_arguments),
            "results": list(self.results),
            "docstring": self.docstring,
            "attachments": {"incoming": incoming, "outgoing": outgoing},
        }

    def bind(self, iface: InterfaceInfo, request: Request) -> tuple[list[Any], dict[str, Any]]:
        """(positional, keyword) arguments for the call, checked in PyCOM's order (BadRequest: 4).

        The object check, then the prehooks, then the required arguments in declaration order.
        """
        qualified = f"{iface.name}.{self.name}"
        args = request.args
        if self.declares_parameters:
            if args is None:
                args = {}
            if not isinstance(args, dict):
                raise BadRequest(f"Expected dictionary as argument for {qualified}")
        for hook in self.prehooks:
            hook(iface, self, request)
        if not self.declares_parameters:
            return [], {}
        incoming = self.attachments[0]
        positional: list[Any] = []
        for name in self.required_arguments:
            if name == incoming:
                positional.append(request.attachment)
            elif name in args:
                positional.append(args[name])
            else:
                raise BadRequest(f"Argument '{name}' is required for {qualified}")
        keywords = {name: args[name] for name in self.optional_arguments if name in args}
        return positional, keywords

    def shape(self, value: Any) -> wire.Response:
        """The reply for a method's return value: named results, the outgoing attachment taken out.

        A :class:`~rpctest.stacks.zerojson.wire.Response` returned by the method is sent as is. A
        result count that does not match ``results`` is a RuntimeError (code 1, as in PyCOM).
        """
        if isinstance(value, wire.Response):
            return value
        if not self.results:
            return wire.Response(code=wire.OK, result=value)
        if len(self.results) == 1:
            data = {self.results[0]: value}
        else:
            if not isinstance(value, (tuple, list)) or len(value) != len(self.results):
                count = len(value) if isinstance(value, (tuple, list)) else f"a {type(value).__name__}"
                raise RuntimeError(
                    f"method {self.name!r} declares {len(self.results)} results {self.results!r} but returned {count}"
                )
            data = dict(zip(self.results, value))
        attachment = None
        outgoing = self.attachments[1]
        if outgoing is not None:
            attachment = data.pop(outgoing, None)
            if attachment is not None and not isinstance(attachment, (bytes, bytearray, memoryview)):
                raise RuntimeError(
                    f"method {self.name!r} returned {type(attachment).__name__} as its outgoing attachment "
                    f"{outgoing!r}; an attachment is bytes"
                )
            attachment = None if attachment is None else bytes(attachment)
        return wire.Response(code=wire.OK, result=data, attachment=attachment)


def _signature_arguments(func: Callable[..., Any]) -> tuple[list[str], list[str]]:
    """(required, optional) parameter names after ``self`` and ``request``."""
    params = [
        p
        for p in inspect.signature(func).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(params) < 2:
        raise TypeError(
            f"a ZeroJSON method's signature starts with (self, request, ...); "
            f"{getattr(func, '__qualname__', func)!r} has {[p.name for p in params]}"
        )
    required = [p.name for p in params[2:] if p.default is p.empty]
    optional = [p.name for p in params[2:] if p.default is not p.empty]
    return required, optional


def _declare(
    func: _F, name: str | None, results: Iterable[str], attachments: tuple[str | None, str | None]
) -> _F:
    if not callable(func):
        raise TypeError(f"@method decorates a function, not {func!r}")
    results = tuple(results)
    for result in results:
        if not isinstance(result, str):
            raise TypeError(f"results are names (str), not {result!r}")
    if not (isinstance(attachments, tuple) and len(attachments) == 2):
        raise TypeError(f"attachments is a pair (incoming name, outgoing name), not {attachments!r}")
    incoming, outgoing = attachments
    if outgoing is not None and outgoing not in results:
        raise TypeError(f"the outgoing attachment {outgoing!r} must be one of the results {results!r}")
    required, optional = _signature_arguments(func)
    info = MethodInfo(
        name=name or func.__name__,
        wrapped=func,
        required_arguments=required,
        optional_arguments=optional,
        results=results,
        attachments=(incoming, outgoing),
        prehooks=list(getattr(func, _PENDING_HOOKS_ATTR, ())),
    )
    setattr(func, _METHOD_ATTR, info)
    return func


@overload
def method(
    name: _F, *, results: Iterable[str] = (), attachments: tuple[str | None, str | None] = (None, None)
) -> _F: ...


@overload
def method(
    name: str | None = None, *, results: Iterable[str] = (), attachments: tuple[str | None, str | None] = (None, None)
) -> Callable[[_F], _F]: ...


def method(
    name: Any = None,
    *,
    results: Iterable[str] = (),
    attachments: tuple[str | None, str | None] = (None, None),
) -> Any:
    """Declare a remote method: ``@method``, ``@method("remote_name")`` or ``@method(results=...)``.

    The function stays an ordinary method of its class (callable locally, without the wire).
    """
    if callable(name):
        return _declare(name, None, results, attachments)
    if name is not None and not isinstance(name, str):
        raise TypeError(f"a method name is a str, not {name!r}")

    def decorate(func: _F) -> _F:
        return _declare(func, name, results, attachments)

    return decorate


def method_info(func: Any) -> MethodInfo | None:
    """The :class:`MethodInfo` of a declared method (None for anything else)."""
    return getattr(func, _METHOD_ATTR, None)


def check_argument(
    name: str,
    valid_types: type | tuple[type, ...] | None = None,
    validator: Callable[[Any], Any] | None = None,
    error_message: str | None = None,
) -> Callable[[_F], _F]:
    """PyCOM's ``check_argument`` prehook: type and validator checks on one argument (4).

    Only a present key is checked. ``isinstance`` decides the type (so JSON ``true`` passes an
    ``int`` check, as in PyCOM); a validator that returns something falsy or raises fails. The
    messages are PyCOM's generated ones unless ``error_message`` is given. Stack it above or below
    ``@method``.
    """

    def hook(iface: InterfaceInfo, info: MethodInfo, request: Request) -> None:
        args = request.args
        if not isinstance(args, dict) or name not in args:
            return
        value = args[name]
        where = f"'{name}' of '{iface.name}.{info.name}'"
        if valid_types is not None and not isinstance(value, valid_types):
            raise BadRequest(
                error_message or f"Invalid type for argument {where}, expected '{valid_types}', got '{type(value)}'"
            )
        if validator is not None:
            try:
                ok = validator(value)
            except Exception:
                ok = False
            if not ok:
                raise BadRequest(error_message or f"Validation failed for argument {where}")

    # what the schema export reads back (the closure alone would hide it)
    hook.argument = name  # type: ignore[attr-defined]
    hook.valid_types = valid_types  # type: ignore[attr-defined]
    hook.validated = validator is not None  # type: ignore[attr-defined]

    def decorate(func: _F) -> _F:
        info = method_info(func)
        if info is not None:
            info.prehooks.append(hook)
        else:
            pending = list(getattr(func, _PENDING_HOOKS_ATTR, ()))
            pending.append(hook)
            setattr(func, _PENDING_HOOKS_ATTR, pending)
        return func

    return decorate


# -- interfaces ------------------------------------------------------------------------------------------


@dataclass
class InterfaceInfo:
    """One declared interface: name, flags and methods (on the class as ``__zerojson_interface__``)."""

    name: str
    cls: type
    stateful: bool = False
    authentication: str | None = None
    methods: dict[str, MethodInfo] = field(default_factory=dict)

    @property
    def docstring(self) -> str | None:
        return self.cls.__doc__

    @property
    def introspectable(self) -> bool:
        return INTROSPECT in self.methods

    def register_method(self, info: MethodInfo) -> None:
        """Add a method (RuntimeError if the name is taken, as in PyCOM)."""
        if info.name in self.methods:
            raise RuntimeError(f"method {info.name!r} is already registered in interface {self.name}")
        self.methods[info.name] = info

    def describe_methods(self) -> dict[str, Any]:
        """The ``methods`` of an introspect result, sorted by name as PyCOM lists them."""
        return {name: self.methods[name].describe() for name in sorted(self.methods)}


def interface(name: str, *, stateful: bool = False, authentication: str | None = None) -> Callable[[type[_T]], type[_T]]:
    """Declare a class as the ZeroJSON interface ``name`` (see the module docstring)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"an interface name is a non-empty str, not {name!r}")
    if authentication not in AUTHENTICATION_POLICIES:
        raise ValueError(f"authentication must be one of {AUTHENTICATION_POLICIES}, not {authentication!r}")

    def decorate(cls: type[_T]) -> type[_T]:
        if not isinstance(cls, type):
            raise TypeError(f"@interface decorates a class, not {cls!r}")
        data = getattr(cls, "introspection_data", {})
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__qualname__}.introspection_data must be a dict, not {type(data).__name__}")
        info = InterfaceInfo(name=name, cls=cls, stateful=bool(stateful), authentication=authentication)
        seen: set[str] = set()
        for klass in cls.__mro__:
            for attr, value in vars(klass).items():
                if attr in seen:
                    continue
                seen.add(attr)
                declared = method_info(value)
                if declared is not None:
                    info.register_method(declared)
        setattr(cls, _INTERFACE_ATTR, info)
        return cls

    return decorate


def interface_of(obj: Any) -> InterfaceInfo:
    """The :class:`InterfaceInfo` of a declared class or of one of its instances."""
    cls = obj if isinstance(obj, type) else type(obj)
    info = cls.__dict__.get(_INTERFACE_ATTR)
    if not isinstance(info, InterfaceInfo):
        raise TypeError(f"{cls.__qualname__} is not a ZeroJSON interface: decorate it with @interface(name)")
    return info


class Service:
    """Base class adding PyCOM's ``introspect`` method; ``introspection_data`` is sent as ``data``."""

    introspection_data: dict[str, Any] = {}

    @method(results=("name", "methods", "docstring", "data"))
    def introspect(self, request: Request) -> tuple[str, dict[str, Any], str | None, dict[str, Any]]:
        """Provides introspection information for a service."""
        info = interface_of(self)
        return info.name, info.describe_methods(), info.docstring, dict(self.introspection_data)
