"""The PySOA adapter: Conformity-validated actions, jobs of several actions, Redis gateway or local transport.

This module imports no pysoa at import time; the host half imports it on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

from rpctest.exceptions import ConfigError, StubUsageError
from rpctest.model import ErrorKind, Reply, RpcError
from rpctest.stacks.base import Capabilities, HostHalf, StackAdapter, WireHalf
from rpctest.stacks.pysoa import errors as pysoa_errors

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stacks.pysoa.host import PySOAService
    from rpctest.strategies.defects import Defect, Expected
    from rpctest.stubs.router import StubRouter

__all__ = ["adapter", "PySOAAdapter", "serve"]


class PySOAWire(WireHalf):
    """PySOA over the Redis gateway without pysoa: codec (:mod:`.wire`), client and stub server.

    Both need only redis-py (or fakeredis) and are imported on first use, so importing the adapter
    stays cheap.
    """

    if TYPE_CHECKING:  # pragma: no cover - names for the annotations below, imported lazily at run time
        from rpctest.stacks.pysoa.redis_client import PySOAWireClient
        from rpctest.stacks.pysoa.redis_stub import PySOAStubServer

    def client(
        self, address: Any, *, service: str | None = None, timeout: float = 5.0, **options: Any
    ) -> PySOAWireClient:
        """A :class:`~.redis_client.PySOAWireClient` for ``address``.

        ``address`` is a ``RedisTarget`` or ``redis://host:port/db[#service.NAME]`` (what a hosted
        service or stub server reports); ``options`` are the client's (``content_type``,
        ``protocol_version``, ``message_expiry`` ...); ``credentials``' request context and switches
        go with every job (``context=``, ``switches=``).
        """
        from rpctest.stacks.pysoa.redis_client import PySOAWireClient

        credentials = options.pop("credentials", None)
        if credentials is not None:
            options.update(context=dict(credentials.context), switches=tuple(credentials.switches))
        return PySOAWireClient(address, service, timeout=timeout, **options)

    def stub_server(
        self,
        router: StubRouter,
        *,
        address: str | None = None,
        redis: Any = None,
        services: list[str] | None = None,
        public: bool = False,  # noqa: ARG002 - it listens on no socket: it reads a Redis named by address/redis
        **options: Any,
    ) -> PySOAStubServer:
        """A running :class:`~.redis_stub.PySOAStubServer` answering from ``router``.

        ``redis`` is None (a private redis-server, started now and stopped with the server;
        RedisUnavailable when there is no ``redis-server`` binary), ``"fake"``, a ``RedisTarget`` or
        a ``redis://`` URL; ``services`` defaults to every service ``router`` has PySOA stubs for.
        Give it a ``StubRouter(intercept=False)`` when a real PySOA client in this process should
        reach it over the wire.
        """
        from rpctest.stacks.pysoa.redis_stub import serve_stubs

        if address is not None:  # the stack-neutral spelling (``rpctest serve --address``)
            if redis is not None:
                raise ConfigError("give the PySOA stub server's Redis as address= or redis=, not both")
            redis = address.split("#", 1)[0]
        return serve_stubs(router, redis=redis, services=services, **options)


class PySOAHost(HostHalf):
    library = "pysoa"
    extra = "pysoa"
    #: pysoa.server logs every action's exception with its traceback
    log_names = ("pysoa", "rpctest.pysoa.host")

    def require(self, module: str | None = None) -> Any:
        mod = super().require(module)
        if module is None:  # a half-installed pysoa imports its package but not these
            super().require("pysoa.client.client")
            super().require("pysoa.server.server")
        return mod

    def serve(self, provider: Any, **options: Any) -> "PySOAService":
        """The real server (see :func:`.host.serve`); ``credentials``' request context and switches go
        with every job of :meth:`~.host.PySOAService.call` (what the fuzzer and live verify send)."""
        from rpctest.stacks.pysoa.host import serve

        credentials = options.pop("credentials", None)
        hosted = serve(provider, **options)
        if credentials is not None:
            hosted.job_headers = {"context": dict(credentials.context), "switches": list(credentials.switches)}
        return hosted

    def export_schema(self, provider: Any, **options: Any) -> dict[str, Any]:
        """The neutral contract of a ``Server`` subclass (or ``"module:Server"``); see :mod:`.schema`.

        ``options``: ``expected_errors={action: [codes]}``, the codes PySOA cannot declare.
        """
        self.require()
        from rpctest.stacks.pysoa.schema import export_provider

        if isinstance(provider, str):
            from rpctest.contracts.export import import_object

            provider = import_object(provider)
        return export_provider(provider, **options)

    def export_from_address(self, address: str, service: str | None = None, **options: Any) -> dict[str, Any]:
        """The neutral contract of a running service, from its ``introspect`` action (``timeout=`` seconds)."""
        self.require()
        from rpctest.stacks.pysoa.schema import export_from_address

        return export_from_address(address, service, **options)

    def install_stub_interceptor(self, router: "StubRouter") -> Callable[[], None]:
        self.require()
        from rpctest.stacks.pysoa.stubbing import install

        return install(router)

    def errors_from_exception(self, exc: BaseException) -> list[RpcError] | None:
        from rpctest.stacks.pysoa.stubbing import reply_from_exception

        reply = reply_from_exception(exc) if "pysoa" in type(exc).__module__ else None
        return None if reply is None else reply.all_errors


class PySOAAdapter(StackAdapter):
    name = "pysoa"
    title = "PySOA"
    capabilities = Capabilities(sync_client=True, jobs=True, fields_in_errors=True)
    standard_error_codes = pysoa_errors.STANDARD_CODES
    credential_options = frozenset({"context", "switch"})
    credential_note = "a PySOA job carries a request context and switches, and no token or HTTP header"
    wire = PySOAWire()
    host = PySOAHost()
    #: pysoa.test's switches for its global registries of stubbed bodies: taken, so its stubs migrate
    #: unchanged, and without effect (rpctest keeps no such registry; each handle has its calls)
    stub_options = frozenset({"register_request_schema_contract", "register_response_schema_contract"})

    def classify(self, code: str | int, *, field: str | None = None, **native: Any) -> ErrorKind:
        return pysoa_errors.classify(code, field=field, **native)

    def make_error(self, code: str | int, message: str = "", *, field: str | None = None, **details: Any) -> RpcError:
        if not isinstance(code, str):
            raise StubUsageError(f"PySOA error codes are strings, not {code!r}")
        details.setdefault("is_caller_error", pysoa_errors.default_is_caller_error(code))
        return super().make_error(code, message, field=field, **details)

    def error_from_native(self, item: Any) -> RpcError | None:
        if "pysoa" in type(item).__module__ and hasattr(item, "code") and hasattr(item, "is_caller_error"):
            return pysoa_errors.from_wire(item)
        return None

    def check_body(self, body: Any) -> None:
        if body is not None and not isinstance(body, Mapping):
            raise StubUsageError(f"a PySOA stub body must be a dict (the action response body), not {body!r}")

    def expected_for_defect(self, defect: "Defect") -> "Expected":
        """PySOA's answer to one defect: INVALID at the field, MISSING at a missing key, UNKNOWN at
        the parent of an extra key (None at the top) and at a value outside a Constant; see
        :mod:`.oracle` for the verified table."""
        from rpctest.stacks.pysoa.oracle import expected_for_defect

        return expected_for_defect(defect)

    def strategy_options(self) -> dict[str, Any]:
        """Aware datetimes in ``pytz.UTC``: PySOA's MessagePack serializer refuses any other UTC
        object (``datetime.timezone.utc`` included), so a request a real PySOA client could not
        send is never generated."""
        from rpctest.stacks.pysoa.strategies import utc_tzinfo

        return {"utc": utc_tzinfo()}

    def expected_for_unknown_operation(self, operation: str) -> "Expected":
        """UNKNOWN on the field ``action`` (PySOA's "action not found"), classified NOT_FOUND."""
        from rpctest.stacks.pysoa.oracle import expected_for_unknown_operation

        return expected_for_unknown_operation(operation)

    def garbage_target(self, address: Any, probe: Any, *, timeout: float = 5.0, **options: Any) -> Any:
        """Random malformed request-list elements for the service of ``probe`` on the Redis at
        ``address`` (a ``redis://`` URL or a RedisTarget: :class:`.framing.GarbageTarget`)."""
        from rpctest.stacks.pysoa.framing import GarbageTarget

        return GarbageTarget(address, probe, timeout=timeout, **options)

    def reply_from_native(self, value: Any) -> Reply | None:
        from rpctest.stacks.pysoa.stubbing import reply_from_native

        return reply_from_native(value)

    def reply_from_exception(self, exc: BaseException) -> Reply | None:
        if "pysoa" not in type(exc).__module__:
            return None
        from rpctest.stacks.pysoa.stubbing import reply_from_exception

        return reply_from_exception(exc)


adapter = PySOAAdapter()


def serve(server_class: Any, settings: dict[str, Any] | None = None, **options: Any) -> "PySOAService":
    """Run ``server_class`` in-process (``transport="local"`` or ``"redis"``); see :mod:`.host`."""
    return adapter.host.serve(server_class, settings=settings, **options)
