"""The PyCOM / ZeroJSON adapter: a clean-room codec, client and server on pyzmq alone.

The PyPI ``pycom`` 0.6.0 cannot be imported on Python 3.7+ (a module named ``async``), so rpctest
speaks ZeroJSON itself: :mod:`.wire` (frames and JSON), :mod:`.errors` (codes and ErrorKind),
:mod:`.client`, :mod:`.service` (declaring Python services with PyCOM's model), :mod:`.server` (the
ROUTER server with PyCOM's check order and codes), :mod:`.nameserver`, :mod:`.schema` (contracts
from declarations or ``introspect``) and :mod:`.framing` (framing-level fuzz cases).

Stubs are served over the wire (``zerojson_stub_server``): there is no importable PyCOM client to
intercept in-process. Importing this module imports no pyzmq.

Vocabulary: a ZeroJSON *interface* is rpctest's service, a *method* its operation, the ``args``
object the body and the result the reply body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

from rpctest.exceptions import ConfigError, StackUnavailable, StubUsageError
from rpctest.model import Call, ErrorKind, Reply, RpcError
from rpctest.stacks.base import Capabilities, HostHalf, StackAdapter, WireHalf

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.credentials import Credentials
    from rpctest.stacks.zerojson.client import ZeroJSONClient
    from rpctest.stacks.zerojson.server import ZeroJSONServer
    from rpctest.strategies.defects import Defect, Expected
    from rpctest.stubs.router import StubRouter

__all__ = ["adapter", "ZeroJSONAdapter", "serve"]

#: PyCOM's codes, without importing pyzmq (``wire`` does)
_STANDARD_CODES = frozenset({1, 2, 3, 4, 5, 6})
_BAD_REQUEST = 4
_METHOD_NOT_FOUND = 2
#: where hosted services and stub servers listen unless told: real TCP on loopback, a free port, so
#: code in another process, or on another ZeroMQ context (inproc needs the same one), reaches them
DEFAULT_ADDRESS = "tcp://127.0.0.1:0"


class ZeroJSONWire(WireHalf):
    def client(self, address: str, *, service: str | None = None, timeout: float = 5.0, **options: Any) -> "ZeroJSONClient":
        """A :class:`~.client.ZeroJSONClient` (DEALER by default; ``socket_type="req"``, ``token=``,
        ``session_id=``, ``record=True``); ``credentials``' token is the ``org.pycom.auth`` extension."""
        from rpctest.stacks.zerojson.client import ZeroJSONClient

        credentials = options.pop("credentials", None)
        if credentials is not None and credentials.token is not None:
            options["token"] = credentials.token
        return ZeroJSONClient(address, timeout=timeout, **options)

    def stub_server(self, router: "StubRouter", *, address: str | None = None, **options: Any) -> "ZeroJSONServer":
        """A running ROUTER server answering from ``router`` (``address``: ``tcp://127.0.0.1:0`` by default)."""
        from rpctest.stacks.zerojson.server import serve_stubs

        return serve_stubs(router, address=address or DEFAULT_ADDRESS, **options)


class ZeroJSONHost(HostHalf):
    library = "zmq"
    extra = "zerojson"
    #: none of its own: the hosted services run in rpctest's own ZeroJSON server, which logs a
    #: service's failure on rpctest.serve (captured for every stack)
    log_names = ()

    def serve(self, provider: Any, **options: Any) -> "ZeroJSONServer":
        """Host ``provider``: a service declared with :mod:`.service` (class or instance), a list of
        them, or ``"module:object"``. A class declared with PyCOM itself needs an importable pycom."""
        from rpctest.contracts.export import import_object
        from rpctest.stacks.zerojson.server import serve

        self.require()
        if isinstance(provider, str):
            provider = import_object(provider)
        services = list(provider) if isinstance(provider, (list, tuple)) else [provider]
        for service in services:
            _refuse_pycom_class(service)
        options.setdefault("address", DEFAULT_ADDRESS)
        credentials = options.pop("credentials", None)
        server = serve(*services, **options)
        if credentials is not None and credentials.token is not None:
            server.client.token = credentials.token  # what the fuzzer and live verify call through
        return server

    def export_schema(self, provider: Any, **options: Any) -> dict[str, Any]:
        """The neutral contract of a declared service (``strict=True``: extra keys are defects)."""
        from rpctest.contracts.export import import_object
        from rpctest.stacks.zerojson.schema import export_service

        if isinstance(provider, str):
            provider = import_object(provider)
        _refuse_pycom_class(provider)
        return export_service(provider, **options)

    def export_from_address(
        self, address: str, service: str | None = None, *, timeout: float = 5.0, credentials: "Credentials | None" = None, **options: Any
    ) -> dict[str, Any]:
        """The names-only contract of interface ``service`` at ``address``, from its ``introspect``
        (with ``credentials``' token: introspect is a method like the others, behind the same policy)."""
        from rpctest.stacks.zerojson.client import ZeroJSONClient
        from rpctest.stacks.zerojson.schema import export_introspection

        if not service:
            raise ConfigError("a ZeroJSON address serves interfaces: name the one to export with --service INTERFACE")
        self.require()
        token = credentials.token if credentials is not None else None
        with ZeroJSONClient(address, timeout=timeout, token=token) as client:
            reply = client.call(service, "introspect", None)
        if not reply.ok:
            error = reply.all_errors[0]
            if error.code == 5:  # access denied: introspect is behind the interface's policy like any method
                refused = "refused the token sent" if token is not None else "requires its authenticator's token"
                raise ConfigError(
                    f"{service} at {address} {refused} ({error.code}: {error.message}): give the token with --token VALUE "
                    f"(or token = in [tool.rpctest.services])"
                )
            raise ConfigError(
                f"{service} at {address} did not answer introspect ({error.code}: {error.message}); only PyCOM "
                f"services derived from pycom.Service (or rpctest's Service) introspect: export from the code instead"
            )
        return export_introspection(reply.body, **options)

    def install_stub_interceptor(self, router: "StubRouter") -> Callable[[], None]:
        """Nothing to intercept: PyCOM's client cannot be imported; stubs answer over the wire."""
        return lambda: None


def _refuse_pycom_class(provider: Any) -> None:
    """A PyCOM-declared class (``pycom.interface``) can only run where pycom imports; say so."""
    cls = provider if isinstance(provider, type) else type(provider)
    if "__interface__" in getattr(cls, "__dict__", {}) and "__zerojson_interface__" not in cls.__dict__:
        try:
            import pycom  # noqa: F401
        except Exception as exc:
            raise StackUnavailable(
                f"{cls.__qualname__} is declared with PyCOM, which cannot be imported here ({exc!s:.80}; PyPI's pycom "
                f"0.6.0 has a module named 'async', a syntax error since Python 3.7). Declare it with "
                f"rpctest.stacks.zerojson.service (same model) to host it in-process, or run it under a patched "
                f"pycom and point rpctest at its address (--address)"
            ) from None
        raise StackUnavailable(
            f"{cls.__qualname__} is a PyCOM class; rpctest hosts services declared with rpctest.stacks.zerojson.service "
            f"(same model); run PyCOM's own server and use --address"
        )


class ZeroJSONAdapter(StackAdapter):
    name = "zerojson"
    title = "PyCOM / ZeroJSON"
    capabilities = Capabilities(sync_client=True, attachments=True, sessions=True)
    standard_error_codes = _STANDARD_CODES
    #: ``args: null`` reaches the server (a method with required arguments answers 4)
    null_body_sendable = True
    stub_options = frozenset({"attachment"})
    credential_options = frozenset({"token"})
    credential_note = "its one credential is the authenticator's token, sent as the org.pycom.auth extension"
    wire = ZeroJSONWire()
    host = ZeroJSONHost()

    def classify(self, code: str | int, *, field: str | None = None, **native: Any) -> ErrorKind:
        from rpctest.stacks.zerojson.errors import classify

        return classify(code, field=field, **native)

    def make_error(self, code: str | int, message: str = "", *, field: str | None = None, **details: Any) -> RpcError:
        if isinstance(code, str):
            from rpctest.stacks.zerojson.errors import CODES_BY_NAME

            if code not in CODES_BY_NAME:
                raise StubUsageError(
                    f"ZeroJSON error codes are integers (4, or a name: {', '.join(sorted(CODES_BY_NAME))}), not {code!r}"
                )
            code = CODES_BY_NAME[code]
        if isinstance(code, bool) or not isinstance(code, int) or code <= 0:
            raise StubUsageError(f"a ZeroJSON error code is a positive integer, not {code!r} (0 means success)")
        if field is not None:
            raise StubUsageError("ZeroJSON errors carry no field: name the argument in the message, as PyCOM does")
        return super().make_error(code, message, **details)

    def error_from_native(self, item: Any) -> RpcError | None:
        from rpctest.stacks.zerojson.errors import RemoteError

        if isinstance(item, RemoteError):
            return self.make_error(item.code, item.message or "")
        return None

    def check_body(self, body: Any) -> None:
        if isinstance(body, (set, frozenset, bytes)) or (callable(body) and not isinstance(body, Mapping)):
            raise StubUsageError(f"a ZeroJSON stub body is the JSON result, not {body!r} (attachments go in attachment=)")

    def expected_for_defect(self, defect: "Defect") -> "Expected":
        """Code 4 with no field (PyCOM names the argument in the message only)."""
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.CALLER_ERROR, None, frozenset({_BAD_REQUEST}), check_field=False)

    def expected_for_unknown_operation(self, operation: str) -> "Expected":
        """Code 2, METHOD_NOT_FOUND (an unknown *interface* is code 4, as PyCOM answers it)."""
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.NOT_FOUND, None, frozenset({_METHOD_NOT_FOUND}), check_field=False)

    def framing_fuzz(
        self, address: str, *, service: str, operation: Any, args: Any, timeout: float, strict: bool = False, hosted: Any = None,
        budget: float | None = None,
    ) -> Any:
        """PyCOM's framing cases (:mod:`.framing`) against ``address``; ``operation`` answers the
        liveness probe after each case."""
        from rpctest.stacks.zerojson.framing import fuzz_framing

        request = operation.request if isinstance(operation.request, Mapping) else {}
        stateful = any("stateful" in note.get("note", "") for note in operation.notes)
        return fuzz_framing(
            address, service, operation.name, args, timeout=timeout,
            parameters=bool(request.get("properties")), stateful=stateful, strict=strict,
        )

    def garbage_target(self, address: str, probe: Call, *, timeout: float = 5.0, **options: Any) -> Any:
        """Random malformed messages for the endpoint (:class:`.framing.GarbageTarget`; ``context=``
        for an ``inproc://`` address)."""
        from rpctest.stacks.zerojson.framing import GarbageTarget

        return GarbageTarget(address, probe, timeout=timeout, **options)

    def reply_from_exception(self, exc: BaseException) -> Reply | None:
        error = self.error_from_native(exc)
        return None if error is None else Reply(errors=[error])


adapter = ZeroJSONAdapter()


def serve(*services: Any, **options: Any) -> "ZeroJSONServer":
    """Host declared services on a ROUTER server; see :func:`.server.serve`."""
    adapter.host.require()
    from rpctest.stacks.zerojson.server import serve as start

    options.setdefault("address", DEFAULT_ADDRESS)
    return start(*services, **options)
