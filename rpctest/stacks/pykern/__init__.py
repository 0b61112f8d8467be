"""The pykern.api adapter: ``api_*`` methods of ``pykern.quest.API`` classes over a msgpack WebSocket.

pykern declares no schemas and no error semantics beyond its ``api_error`` strings; rpctest adds
both: :func:`api_schema` (or type annotations) for request and result schemas, and the caller /
server error rule of :mod:`.errors`. Importing this module imports no pykern and no tornado.

    from rpctest.stacks.pykern import api_schema, serve, serve_async
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

from rpctest.exceptions import ConfigError, StubUsageError
from rpctest.model import ErrorKind, Reply, RpcError
from rpctest.stacks.base import Capabilities, HostHalf, StackAdapter, WireHalf
from rpctest.stacks.pykern import errors as pykern_errors
from rpctest.stacks.pykern.schema import api_schema

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stacklogs import StackLogs
    from rpctest.stacks.pykern.host import PykernService
    from rpctest.strategies.defects import Defect, Expected
    from rpctest.stubs.router import StubRouter

__all__ = ["adapter", "PykernAdapter", "api_schema", "close_client", "serve", "serve_async"]


class PykernWire(WireHalf):
    """pykern's protocol without pykern: the codec, an asyncio client and a stub server (tornado)."""

    def client(self, address: str, *, service: str | None = None, timeout: float = 5.0, **options: Any) -> Any:
        """A blocking :class:`~.client.PykernSyncClient` connected to ``ws://host:port/path``.

        ``options``: ``token=`` for servers that require one, ``authenticate=False`` to skip the
        handshake (pykern's server does not enforce it), ``record=True``. It reconnects after the
        server closes the connection (``reconnect=False`` to see every later call fail instead):
        pykern's server closes on some requests (a nil ``api_args``, an ``APIProtocolError``), and
        the fuzzer and live verification must judge each request on its own. ``credentials``
        (:class:`~rpctest.credentials.Credentials`): its token goes in the handshake, as ``token=``.
        """
        from rpctest.stacks.pykern.sync_client import PykernSyncClient

        credentials = options.pop("credentials", None)
        if credentials is not None and credentials.token is not None:
            options["token"] = credentials.token
        options.setdefault("reconnect", True)
        return PykernSyncClient(address, service=service, timeout=timeout, **options)

    def stub_server(self, router: "StubRouter", *, address: str | None = None, **options: Any) -> Any:
        """A running :class:`~.stub_server.PykernStubServer` on its own thread, answering from ``router``."""
        from rpctest.stacks.pykern.stub_server import serve_stubs

        if address is not None:
            options.setdefault("address", address)
        return serve_stubs(router, **options)


class PykernHost(HostHalf):
    library = "pykern"
    extra = "pykern"

    def require(self, module: str | None = None) -> Any:
        mod = super().require(module)
        if module is None:  # pykern without pykern.api is the silent bad install (rpctest doctor)
            super().require("pykern.api.server")
        return mod

    def serve(self, provider: Any, **options: Any) -> "PykernService":
        """The real server (see :func:`.host.serve`); ``credentials``' token is what its client sends
        in the handshake, to a provider that authenticates itself (none is required of it)."""
        from rpctest.stacks.pykern.host import serve

        self.require()
        credentials = options.pop("credentials", None)
        if credentials is not None and credentials.token is not None:
            options["client_token"] = credentials.token
        return serve(provider, **options)

    def export_schema(self, provider: Any, **options: Any) -> dict[str, Any]:
        """The neutral contract of a provider (see :func:`.schema.export_provider`)."""
        self.require()
        from rpctest.stacks.pykern.schema import export_provider

        return export_provider(provider, **options)

    def export_from_address(self, address: str, service: str | None = None, **options: Any) -> dict[str, Any]:
        """pykern.api has no introspection: a running service cannot say what it serves."""
        raise ConfigError(
            f"pykern.api has no introspection, so the APIs at {address} cannot be exported from the running "
            f"service; export its contract from the code (--provider MODULE:OBJECT) and pass it with --contract FILE"
        )

    def install_stub_interceptor(self, router: "StubRouter") -> Callable[[], None]:
        self.require("pykern.api.client")
        from rpctest.stacks.pykern.stubbing import install

        return install(router)

    def errors_from_exception(self, exc: BaseException) -> list[RpcError] | None:
        error = _error_from_exception(exc)
        return None if error is None else [error]

    #: tornado logs the tracebacks of the WebSocket server pykern runs on
    log_names = ("pykern", "tornado", "rpctest.pykern.host")

    def capture_logs(self, logs: "StackLogs") -> Callable[[], None]:
        """pykern's pkdebug writes lines per request to stderr, not through logging: it writes to
        ``logs`` instead, until the undo puts it back on its configured output."""
        undo_logging = super().capture_logs(logs)
        try:
            from pykern import pkdebug
        except ImportError:
            return undo_logging
        pkdebug.init(output=_Lines(logs))

        def undo() -> None:
            pkdebug.init()
            undo_logging()

        return undo


class _Lines:
    """A writable (what pkdebug accepts as output) handing each line to a command's log file."""

    def __init__(self, logs: "StackLogs") -> None:
        self.logs = logs

    def write(self, text: str) -> int:
        return self.logs.write_text(text)

    def flush(self) -> None:
        pass


def _error_from_exception(exc: Any) -> RpcError | None:
    """The neutral error of a ``pykern.util.APIError`` (the client's generic one or a server class)."""
    if not isinstance(exc, BaseException):
        return None
    names = {f"{k.__module__}.{k.__qualname__}" for k in type(exc).__mro__}
    if "pykern.util.APIError" not in names:
        return None
    name = type(exc).__name__
    text = str(exc)
    if name == pykern_errors.API_ERROR:  # what the stock client raises: the class is in the text
        return pykern_errors.parse_api_error(text)
    return RpcError(name, text, kind=pykern_errors.classify(name))


class PykernAdapter(StackAdapter):
    name = "pykern"
    title = "pykern.api"
    capabilities = Capabilities(async_client=True, sync_client=True, subscriptions=True, sessions=True)
    standard_error_codes = pykern_errors.STANDARD_CODES
    null_body_sendable = False  # pykern's server answers a nil api_args with APIProtocolError and closes
    stub_options = frozenset({"items", "delay", "interval"})
    credential_options = frozenset({"token"})
    credential_note = "its only credential is the token of the authenticate_connection handshake"
    wire = PykernWire()
    host = PykernHost()

    def classify(self, code: str | int, *, field: str | None = None, **native: Any) -> ErrorKind:
        return pykern_errors.classify(code, field=field, **native)

    def make_error(self, code: str | int, message: str = "", *, field: str | None = None, **details: Any) -> RpcError:
        if not isinstance(code, str) or not code:
            raise StubUsageError(
                f"pykern error codes are the APIError class names the server puts in api_error "
                f"(e.g. 'APINotFound', 'NotEnoughCredit'), not {code!r}"
            )
        if field is not None:
            raise StubUsageError("pykern errors carry no field: put what is wrong in the message")
        return super().make_error(code, message, **details)

    def error_from_native(self, item: Any) -> RpcError | None:
        if isinstance(item, type) and issubclass(item, BaseException):
            names = {f"{k.__module__}.{k.__qualname__}" for k in item.__mro__}
            if "pykern.util.APIError" in names:
                return RpcError(item.__name__, "", kind=pykern_errors.classify(item.__name__))
            return None
        return _error_from_exception(item)

    def check_body(self, body: Any) -> None:
        if isinstance(body, (set, frozenset)) or callable(body) and not isinstance(body, Mapping):
            raise StubUsageError(f"a pykern stub body must be a value msgpack can pack, not {body!r}")

    def expected_for_defect(self, defect: "Defect") -> "Expected":
        """A caller error (any class the API raises on purpose); pykern names no field."""
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.CALLER_ERROR, None, check_field=False)

    def expected_for_unknown_operation(self, operation: str) -> "Expected":
        """``APINotFound: api_name=...``, the connection staying open."""
        from rpctest.strategies.defects import Expected

        return Expected(ErrorKind.NOT_FOUND, None, frozenset({"APINotFound"}), check_field=False)

    def garbage_target(self, address: str, probe: Any, *, timeout: float = 5.0, **options: Any) -> Any:
        """Random malformed WebSocket messages for the endpoint (:class:`.framing.GarbageTarget`;
        ``token=`` for a server that requires one)."""
        from rpctest.stacks.pykern.framing import GarbageTarget

        return GarbageTarget(address, probe, timeout=timeout, **options)

    def reply_from_exception(self, exc: BaseException) -> Reply | None:
        error = _error_from_exception(exc)
        return None if error is None else Reply(errors=[error])


adapter = PykernAdapter()


def serve(provider: Any, **options: Any) -> "PykernService":
    """Serve a pykern provider on a background thread's loop; see :func:`.host.serve`."""
    return adapter.host.serve(provider, **options)


async def close_client(client: Any) -> None:
    """Destroy a pykern ``Client`` and wait for its socket to close; see :func:`.host.close_client`."""
    from rpctest.stacks.pykern.host import close_client as close

    await close(client)


def serve_async(provider: Any, **options: Any) -> Any:
    """``async with serve_async(MyAPI) as service``: on the running loop; see :func:`.host.serve_async`."""
    adapter.host.require()
    from rpctest.stacks.pykern.host import serve_async as start

    return start(provider, **options)

