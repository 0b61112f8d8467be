"""Kyoukai's host half: the user's real app served in the test process, over a socket or without one.

**Installing.** Kyoukai 2.2.1.post1 (2018) cannot be installed with its own pins on Python 3.11
(httptools<0.1 does not build); it is installed ``--no-deps`` next to newer dependencies, and
:mod:`.compat` restores the one ``collections`` alias it needs. :func:`require_kyoukai` applies the
shim, imports Kyoukai and refuses versions rpctest does not support (Kyoukai 2.1.4 is what pip
silently picks when it resolves Kyoukai's own pins next to packages that need newer ones), always
with the exact commands; :func:`version_problem` is the same check as a string, for ``rpctest
doctor``.

**Serving** (:func:`serve_async`, :func:`serve`). The app runs under a real ``KyoukaiComponent``
with its httptools backend, started as ``KyoukaiComponent.start(ctx)`` starts it, on 127.0.0.1
port 0, either on the **running** loop (an async test's own) or on a **background thread's** loop
(sync tests, the CLI, fixtures wider than a test's loop). ``transport="local"`` serves the same app
with no socket, through :class:`~.transport.LocalTransport`.

**The event-loop binding trap.** ``Kyoukai(...)`` takes ``asyncio.get_event_loop()``
when built, ``KyoukaiComponent.start`` calls ``app.loop.create_server``, and each connection's
protocol schedules its requests on ``app.loop``. An app built at import time, or for another loop,
therefore accepts connections and then never answers. rpctest handles it twice over:

* give a **factory** (a callable returning the app, or ``"module:factory"``): it is called on the
  serving loop, so the app binds to it (building the app inside the serving loop is the fix, and the
  only one that works on Python 3.14, where a loop-less ``Kyoukai(...)`` outside a loop raises);
* give an **app**: ``app.loop`` is rebound to the serving loop while it is served and restored at
  stop, and every connection's protocol is bound to the serving loop. One app object can be served
  by one server at a time (a second concurrent ``serve`` of it is refused: use a factory).

**Stopping** closes rpctest's clients, the listening socket, every connection the server accepted,
cancels requests still running, closes the asphalt context, and (for :func:`serve`) joins the thread
and closes its loop: no thread, socket, task or loop is left behind.

**Calling** (:meth:`KyoukaiService.call` / :meth:`~KyoukaiService.acall`): an operation is
``"METHOD /path"`` (``"GET /items/5?q=x"``) or a route's endpoint name (``"vec.get_item"``, or
``"get_item"`` when unique) with URL values in ``params=``; the body is sent as JSON. The reply's
``meta`` has ``status``, ``reason``, ``http_version`` and ``headers``; a non-2xx status is one
:class:`~rpctest.model.RpcError` with ``code`` = the status and the kind from :mod:`.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import logging
import re
import threading
import weakref
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterable, Literal, Mapping

from rpctest.binding import check_bind_host
from rpctest.exceptions import ConfigError, StackUnavailable
from rpctest.loop_thread import LoopHosted
from rpctest.model import Call, ErrorKind, Reply, RpcError
from rpctest.stacks.base import HostedService
from rpctest.stacks.kyoukai import compat
from rpctest.stacks.kyoukai.errors import error_for_status, is_critical_page
from rpctest.untrusted import Undecodable, decode_json

if TYPE_CHECKING:  # pragma: no cover
    import httpx

__all__ = [
    "INSTALL_COMMANDS",
    "PUBLISHED_VERSION",
    "SUPPORTED_VERSIONS",
    "KyoukaiService",
    "install_problem",
    "installed_version",
    "require_kyoukai",
    "resolve_app",
    "serve",
    "serve_async",
    "version_problem",
]

_logger = logging.getLogger("rpctest.kyoukai.host")

#: the wheel users run (GitHub HEAD); rpctest reproduces what it answers, error-handler bug included
PUBLISHED_VERSION = "2.2.1.post1"
#: the versions rpctest's host half supports (2.2.1 is the release before the error-handler regression)
SUPPORTED_VERSIONS = ("2.2.1.post1", "2.2.1")
#: the exact install, in order (the second line is also what ``rpctest[kyoukai]`` brings)
INSTALL_COMMANDS = (
    "pip install --no-deps Kyoukai==2.2.1.post1",
    "pip install httptools==0.9.0 werkzeug==2.3.8 asphalt==4.12.0 h2==4.4.1 httpx",
)
_DEPENDENCIES = ("httptools", "werkzeug", "asphalt", "h2", "httpx")

Transport = Literal["http", "local"]
TRANSPORTS = ("http", "local")


def _install_text() -> str:
    return " && ".join(INSTALL_COMMANDS)


def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def installed_version() -> str | None:
    """The installed Kyoukai distribution's version (None when there is none), without importing it."""
    return _distribution_version("Kyoukai")


def _major(version: str | None) -> int | None:
    match = re.match(r"\d+", version or "")
    return int(match.group()) if match else None


def install_problem(
    version_of: Callable[[str], str | None] | None = None,
    importable: Callable[[str], bool] | None = None,
    requirers: Callable[[str], Iterable[tuple[str, str]]] | None = None,
) -> tuple[str, str] | None:
    """``(what is wrong, the fix)`` with this environment's Kyoukai install, or None when usable.

    The one rule for :func:`version_problem`, :func:`require_kyoukai` and ``rpctest doctor`` (which
    passes its own lookups). It imports nothing from Kyoukai. It flags: Kyoukai missing; a version
    other than 2.2.1.post1 / 2.2.1 (notably 2.1.4, which pip silently resolves to when Kyoukai is
    installed with its own dependencies next to packages that need newer ones, e.g. schemathesis);
    a missing dependency; werkzeug 3 (``import kyoukai`` fails) or older than 2 (needs more shims
    than rpctest applies); h2 older than 4 (imports names Python 3.10 removed from ``collections``).
    """
    if version_of is None:
        version = installed_version()
        version_of = _distribution_version
    else:
        version = version_of("Kyoukai")
    importable = importable or _importable
    if not importable("kyoukai"):
        from rpctest.stacks.environments import install_advice, installed_requirements

        return "Kyoukai is not installed", install_advice("kyoukai", version_of, requirers or installed_requirements)
    if version is not None and version not in SUPPORTED_VERSIONS:
        why = (
            " (pip picks 2.1.4 when it resolves Kyoukai's own pins next to packages that need newer "
            "werkzeug or httptools, e.g. schemathesis)"
            if version == "2.1.4"
            else ""
        )
        return (
            f"Kyoukai {version} is installed, but rpctest supports Kyoukai {PUBLISHED_VERSION} (and 2.2.1){why}",
            f"pip install --no-deps --force-reinstall Kyoukai=={PUBLISHED_VERSION} && {INSTALL_COMMANDS[1]}",
        )
    missing = [name for name in _DEPENDENCIES if not importable(name)]
    if missing:
        return (
            f"Kyoukai {version or ''} is installed without {', '.join(missing)} (it goes in with --no-deps, so its "
            f"dependencies are installed separately)",
            f"Install them with: {INSTALL_COMMANDS[1]}",
        )
    werkzeug = version_of("werkzeug")
    werkzeug_major = _major(werkzeug)
    if werkzeug_major is not None and werkzeug_major >= 3:
        return (
            f"werkzeug {werkzeug} is installed; Kyoukai {PUBLISHED_VERSION} does not import on werkzeug 3 "
            f"(FormDataParser.parse_functions is gone)",
            "pip install werkzeug==2.3.8",
        )
    if werkzeug_major is not None and werkzeug_major < 2:
        return f"werkzeug {werkzeug} is older than rpctest supports with Kyoukai", "pip install werkzeug==2.3.8"
    h2 = version_of("h2")
    h2_major = _major(h2)
    if h2_major is not None and h2_major < 4:
        return f"h2 {h2} does not import on Python 3.10+ (collections.MutableMapping)", "pip install h2==4.4.1"
    return None


def version_problem() -> str | None:
    """What stops rpctest's Kyoukai support here, with the fix; None when the install is usable
    (:func:`install_problem` as one sentence)."""
    problem = install_problem()
    if problem is None:
        return None
    message, fix = problem
    return f"{message}. {fix}" if fix.startswith(("Install", "Do not install")) else f"{message}. Fix: {fix}"


def require_kyoukai() -> Any:
    """Apply the shim, import ``kyoukai`` and its httptools backend, or say exactly what to install.

    Raises :class:`~rpctest.exceptions.StackUnavailable` (never a bare traceback) for a missing or
    unsupported install. Never fixes Kyoukai's error-handler regression (see :mod:`.compat`).
    """
    problem = version_problem()
    if problem:
        raise StackUnavailable(problem)
    compat.apply()
    try:
        kyoukai = importlib.import_module("kyoukai")
        importlib.import_module("kyoukai.backends.httptools_")
    except Exception as exc:  # ImportError, or what an old dependency raises at import time
        raise StackUnavailable(
            f"Kyoukai is installed but does not import ({type(exc).__name__}: {exc}). "
            f"Install the supported set with: {_install_text()}"
        ) from exc
    version = importlib.import_module("kyoukai.app").__version__
    if version not in SUPPORTED_VERSIONS:
        raise StackUnavailable(
            f"kyoukai {version} is importable, but rpctest supports Kyoukai {PUBLISHED_VERSION} (and 2.2.1). "
            f"Fix: pip install --no-deps --force-reinstall Kyoukai=={PUBLISHED_VERSION}"
        )
    return kyoukai


def _require_httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:
        raise StackUnavailable(f"httpx is not importable ({exc}); rpctest's Kyoukai support uses it. Install it with: pip install httpx") from exc
    return httpx


# -- what a provider is ------------------------------------------------------------------------------


def resolve_app(provider: Any) -> tuple[Any, Any]:
    """``(app, factory)``, exactly one of them set, from what a user names as a Kyoukai provider.

    Accepted: a ``kyoukai.Kyoukai`` app; a callable returning one (called later, on the serving
    loop); a ``"module:object"`` string naming either.
    """
    from rpctest.contracts.export import import_object

    kyoukai = require_kyoukai()
    if isinstance(provider, str):
        provider = import_object(provider)
    if isinstance(provider, kyoukai.Kyoukai):
        return provider, None
    if callable(provider) and not isinstance(provider, type):
        return None, provider
    raise ConfigError(
        f"a Kyoukai provider is a kyoukai.Kyoukai app, a function returning one (called on the serving loop), "
        f"or 'module:object' naming either; got {provider!r}"
    )


#: what an app factory is given, by parameter name: Kyoukai apps are built on a loop (``make_app(loop)``,
#: then ``Kyoukai(name, loop=loop)``), and the factory runs on the loop the app will serve on
FACTORY_SUPPLIES = {"loop": asyncio.get_event_loop}


def _build(app: Any, factory: Any) -> Any:
    if factory is None:
        return app
    from rpctest.stacks.factories import call_factory

    kyoukai = require_kyoukai()
    built = call_factory(factory, FACTORY_SUPPLIES, stack="Kyoukai")
    if not isinstance(built, kyoukai.Kyoukai):
        raise ConfigError(f"the Kyoukai app factory {factory!r} returned {built!r}, not a kyoukai.Kyoukai app")
    return built


#: apps currently served over a socket -> the service (one server per app object: app.loop is one loop)
_SERVING: "weakref.WeakKeyDictionary[Any, KyoukaiService]" = weakref.WeakKeyDictionary()
_SERVING_LOCK = threading.Lock()


def _component_class() -> type:
    """``KyoukaiComponent``, unchanged but for handing each new connection's protocol to rpctest."""
    global _COMPONENT
    if _COMPONENT is None:
        kyoukai = require_kyoukai()

        class RpctestKyoukaiComponent(kyoukai.KyoukaiComponent):  # type: ignore[misc, name-defined]
            rpctest_service: "KyoukaiService | None" = None

            def get_protocol(self, ctx: Any, serv_info: tuple[Any, ...]) -> Any:
                protocol = super().get_protocol(ctx, serv_info)
                if self.rpctest_service is not None:
                    self.rpctest_service._adopt(protocol)
                return protocol

        _COMPONENT = RpctestKyoukaiComponent
    return _COMPONENT


_COMPONENT: type | None = None


# -- the hosted service ------------------------------------------------------------------------------

_METHOD_TARGET = re.compile(r"^([A-Z]+) (/\S*)$")


class KyoukaiService(LoopHosted, HostedService):
    """A real Kyoukai app in this process; :meth:`call` goes through its whole stack.

    ``address`` is ``http://127.0.0.1:PORT`` for the ``http`` transport (None for ``local``);
    ``client`` is an httpx client of the app: an ``httpx.AsyncClient`` for :func:`serve_async`
    (use it on the test's loop), an ``httpx.Client`` for :func:`serve` (use it from any thread),
    over the socket or the local transport. ``app`` is the app served, ``loop`` the loop it runs on,
    ``component`` the KyoukaiComponent (``http`` only).
    """

    stack_title = "Kyoukai"

    def __init__(
        self,
        app: Any,
        factory: Any = None,
        *,
        transport: Transport = "http",
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 5.0,
        record: bool = False,
        service: str | None = None,
        component_options: Mapping[str, Any] | None = None,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ConfigError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
        if timeout is None or timeout <= 0:
            raise ConfigError(f"timeout must be a positive number of seconds, not {timeout!r}")
        check_bind_host(host, server="in-process Kyoukai host")
        self.app = app
        self._factory = factory
        self.transport = transport
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.timeout = timeout
        self.record = record
        self._service_name = service
        self.component_options = dict(component_options or {})
        self.loop: asyncio.AbstractEventLoop | None = None
        self.component: Any = None
        self.context: Any = None
        self._thread: threading.Thread | None = None
        self._aclient: Any = None
        self._local: Any = None
        self._saved_loop: Any = None
        self._bound = False
        self._protocols: set[Any] = set()
        self._lost: list[asyncio.Future[None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False
        self._stopped = False
        self._inline_sender: Any = None
        self._inline_guard = threading.Lock()

    @property
    def service_name(self) -> str:
        if self._service_name:
            return self._service_name
        return getattr(self.app, "name", None) or "kyoukai"

    # starting ----------------------------------------------------------------------------------

    async def _start(self) -> None:
        """Build (factory) or bind the app on the running loop, start the server, make the clients."""
        httpx = _require_httpx()
        require_kyoukai()
        self.loop = asyncio.get_running_loop()
        self.app = _build(self.app, self._factory)
        if self.transport == "http":
            await self._start_server()
            # verify=False: plain HTTP to 127.0.0.1 never uses TLS, and loading the CA store costs ~30 ms a client
            self._aclient = httpx.AsyncClient(base_url=self.address, timeout=self.timeout, verify=False)
        else:
            from rpctest.stacks.kyoukai.transport import LocalTransport

            self._local = LocalTransport(self.app, timeout=self.timeout)
            self._aclient = httpx.AsyncClient(transport=self._local, base_url="http://app", timeout=self.timeout)
        self._started = True

    async def _start_server(self) -> None:
        from asphalt.core import Context

        self._bind_loop()
        self.context = Context()
        component = _component_class()(self.app, self.host, self.requested_port, **self.component_options)
        component.rpctest_service = self
        self.component = component
        await component.start(self.context)
        if component.server is None:
            raise ConfigError("the KyoukaiComponent started no server (run_server=False in component_options?)")
        self.port = component.server.sockets[0].getsockname()[1]
        self.address = f"http://{self.host}:{self.port}"
        from rpctest.stacks.kyoukai.stubbing import register_endpoint

        register_endpoint(self.address)  # in-process httpx stubs leave the real app alone

    def _bind_loop(self) -> None:
        with _SERVING_LOCK:
            other = _SERVING.get(self.app)
            if other is not None and other is not self and not other._stopped:
                raise ConfigError(
                    f"the Kyoukai app {self.app.name!r} is already served by {other!r}; a Kyoukai app holds one event "
                    f"loop (app.loop), so serve one app object at a time, or give a factory that builds a new app"
                )
            _SERVING[self.app] = self
            self._saved_loop = self.app.loop
            self.app.loop = self.loop
            self._bound = True

    def _unbind_loop(self) -> None:
        with _SERVING_LOCK:
            if not self._bound:
                return
            self._bound = False
            if _SERVING.get(self.app) is self:
                del _SERVING[self.app]
            if self.app.loop is self.loop:
                self.app.loop = self._saved_loop
            self._saved_loop = None

    def _adopt(self, protocol: Any) -> None:
        """A new connection's protocol: run its requests on our loop, remember it for stop()."""
        from rpctest.stacks.kyoukai.transport import bind_protocol

        assert self.loop is not None
        bind_protocol(protocol, self.loop, self._tasks)
        self._protocols.add(protocol)
        lost = self.loop.create_future()
        self._lost.append(lost)
        original = protocol.connection_lost

        def connection_lost(exc: BaseException | None) -> None:
            try:
                original(exc)
            finally:
                self._protocols.discard(protocol)
                if not lost.done():
                    lost.set_result(None)

        protocol.connection_lost = connection_lost

    # calling -----------------------------------------------------------------------------------

    def route_rules(self) -> list[Any]:
        """The app's werkzeug rules (finalizing the app, as starting it does)."""
        return list(self.app.finalize().iter_rules())

    def resolve_operation(self, operation: str, params: Mapping[str, Any] | None = None, method: str | None = None) -> tuple[str, str]:
        """``(METHOD, target)`` for ``"METHOD /path"`` or an endpoint name (with ``params``)."""
        match = _METHOD_TARGET.match(operation.strip()) if isinstance(operation, str) else None
        if match:
            if params:
                raise ConfigError(f"params= fill an endpoint's URL variables; {operation!r} is already a path")
            return (method or match.group(1)).upper(), match.group(2)
        if not isinstance(operation, str) or not operation:
            raise ConfigError(f"a Kyoukai operation is 'METHOD /path' or a route endpoint name, not {operation!r}")
        rules = self.route_rules()
        exact = [r for r in rules if r.endpoint == operation]
        found = exact or [r for r in rules if r.endpoint.rsplit(".", 1)[-1] == operation]
        endpoints = sorted({r.endpoint for r in found})
        if not found:
            raise ConfigError(
                f"{self.service_name} has no route endpoint {operation!r}; its endpoints: "
                f"{', '.join(sorted({r.endpoint for r in rules}))} (or call it as 'METHOD /path')"
            )
        if len(endpoints) > 1:
            raise ConfigError(f"{operation!r} names several endpoints ({', '.join(endpoints)}): use the full name")
        rule = found[0]
        if method is None:
            methods = sorted(set().union(*(r.methods for r in found)) - {"HEAD", "OPTIONS"})
            if len(methods) == 1:
                method = methods[0]
            elif "GET" in methods:
                method = "GET"
            else:
                raise ConfigError(f"{operation!r} answers {', '.join(methods)}: say which with method=")
        adapter = self.app.root.map.bind("app")
        try:
            target = adapter.build(rule.endpoint, dict(params or {}), method=method.upper())
        except Exception as exc:  # werkzeug's BuildError: missing or bad URL values
            raise ConfigError(f"cannot build a URL for {operation!r} with params={dict(params or {})!r}: {exc}") from None
        return method.upper(), target

    async def acall(
        self,
        operation: str,
        body: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        method: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """Call one route on the service's own loop; errors, timeouts and broken answers come back
        in the :class:`Reply`, never raised (usage errors excepted)."""
        self._check_usable()
        httpx = _require_httpx()
        verb, target = self.resolve_operation(operation, params, method)
        send_headers = dict(headers or {})
        content = None
        if body is not None:
            content = json.dumps(body).encode("utf-8")
            send_headers.setdefault("Content-Type", "application/json")
        wait = self.timeout if timeout is None else timeout
        try:
            response = await self._aclient.request(verb, target, content=content, headers=send_headers, timeout=wait)
        except httpx.TimeoutException:
            reply = Reply(errors=[RpcError("TRANSPORT", f"no reply to {verb} {target} within {wait:g}s", kind=ErrorKind.TRANSPORT)])
        except httpx.TransportError as exc:
            reply = Reply(errors=[RpcError("TRANSPORT", f"{verb} {target}: {type(exc).__name__}: {exc}", kind=ErrorKind.TRANSPORT)])
        else:
            reply = reply_from_response(response)
        if self.record:
            from rpctest.contracts.recorder import observe

            meta = {k: v for k, v in (("params", dict(params) if params else None), ("method", method)) if v}
            observe(Call("kyoukai", self.service_name, operation, body, meta=meta), reply, source=self.transport)
        return reply

    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """:meth:`acall` from synchronous code (a service started by :func:`serve`, on its thread)."""
        self._check_usable()
        if self._thread is None:
            raise RuntimeError(
                "this Kyoukai service runs on the test's own event loop (serve_async): use 'await service.acall(...)'"
            )
        future = asyncio.run_coroutine_threadsafe(self.acall(operation, body, **meta), self.loop)  # type: ignore[arg-type]
        return future.result()

    def send_call(self, call: Call) -> Reply:
        """Send a neutral call whose body is a request envelope (:mod:`.wire`) through :attr:`client`
        (what contract verification and the fuzzer use; a service started by :func:`serve`)."""
        from rpctest.stacks.kyoukai.transport import InlineSender
        from rpctest.stacks.kyoukai.wire import send, send_plain

        self._check_usable()
        if self._thread is None:
            raise RuntimeError("send_call needs a service started by serve() (a thread's loop); use acall on the test's loop")
        sender = self._sender()
        if isinstance(sender, InlineSender):
            return send_plain(sender, call, self.timeout)
        return send(sender, call, self.timeout)

    def _sender(self) -> Any:
        """The socket-less app called in this thread (:class:`.transport.InlineSender`, which writes
        each request itself: :meth:`.transport.InlineSender.send`) where it can be, else :attr:`client`."""
        from rpctest.stacks.kyoukai.transport import InlineSender, _running_loop

        if self.transport != "local" or _running_loop() is not None:
            return self.client
        with self._inline_guard:
            if self._inline_sender is None:
                self._inline_sender = InlineSender(self.app, timeout=self.timeout)
            return self._inline_sender

    def _check_usable(self) -> None:
        if self._stopped:
            raise RuntimeError(f"{self!r} is stopped")
        if not self._started:
            raise RuntimeError(f"{self!r} is not started")

    # stopping ----------------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        """Close our clients, the listening socket, every accepted connection; cancel what runs."""
        if self._aclient is not None:
            with contextlib.suppress(Exception):
                await self._aclient.aclose()
            self._aclient = None
        server = self.component.server if self.component is not None else None
        if self.address:
            from rpctest.stacks.kyoukai.stubbing import unregister_endpoint

            unregister_endpoint(self.address)
        if server is not None:
            server.close()
        for protocol in list(self._protocols):
            transport = getattr(protocol, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.close()
        pending = [lost for lost in self._lost if not lost.done()]
        if pending:
            await asyncio.wait(pending, timeout=self.timeout)
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()
        if self.context is not None:
            with contextlib.suppress(Exception):
                await self.context.close()
        self._unbind_loop()

    def _before_thread_stop(self) -> None:
        sync_client, self.client = self.client, None
        if sync_client is not None:
            with contextlib.suppress(Exception):
                sync_client.close()
        inline, self._inline_sender = self._inline_sender, None
        if inline is not None:
            inline.close()

    def __repr__(self) -> str:
        where = self.address or "local transport"
        state = " stopped" if self._stopped else ""
        return f"<KyoukaiService {self.service_name} {where}{state}>"


def reply_from_response(response: "httpx.Response") -> Reply:
    """The neutral reply for an httpx response (see the module docstring)."""
    reason = response.extensions.get("reason_phrase", b"") or b""
    reason_text = reason.decode("latin-1") if isinstance(reason, bytes) else str(reason)
    version = response.extensions.get("http_version", b"HTTP/1.1")
    version_text = version.decode("ascii") if isinstance(version, bytes) else str(version)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
    return reply_from_parts(response.status_code, reason_text, version_text, headers, response.content)


def reply_from_parts(status: int, reason: str, version: str, headers: list[tuple[str, str]], content: bytes) -> Reply:
    """The neutral reply for an HTTP response's parts, whichever client read them (httpx, or
    :mod:`.plain_http` for rpctest's own servers): the same reply for the same bytes."""
    meta = {"status": status, "reason": reason, "http_version": version, "headers": headers}
    body: Any = None
    if content and status != 204:
        text = content.decode("utf-8", errors="replace")
        body = text
        content_type = ", ".join(value for name, value in headers if name.lower() == "content-type")
        if content_type.split(";")[0].strip() == "application/json":
            try:
                body = decode_json(text)
            except Undecodable:
                body = text
    if 200 <= status < 300:
        return Reply(body=body, meta=meta)
    critical = is_critical_page(version, status, headers, content)
    error = error_for_status(status, reason, critical=critical, body=content.decode("utf-8", errors="replace")[:2000])
    return Reply(body=body, errors=[error], meta=meta)


# -- entry points ------------------------------------------------------------------------------------


def serve(
    provider: Any,
    *,
    transport: Transport = "http",
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 5.0,
    record: bool = False,
    service: str | None = None,
    component_options: Mapping[str, Any] | None = None,
) -> KyoukaiService:
    """Serve ``provider`` (an app, a factory, ``"module:object"``) on a background thread's loop.

    For synchronous tests, the CLI and fixtures wider than one test's loop. The returned service is
    started; stop it with ``stop()`` (or use it as a context manager).
    """
    app, factory = resolve_app(provider)  # Kyoukai first: its message covers httpx too
    httpx = _require_httpx()
    hosted = KyoukaiService(
        app, factory, transport=transport, host=host, port=port, timeout=timeout, record=record, service=service,
        component_options=component_options,
    )
    name = getattr(app, "name", None) or getattr(factory, "__name__", "app")
    hosted.start_in_thread(f"rpctest-kyoukai-{name}")
    if transport == "http":
        hosted.client = httpx.Client(base_url=hosted.address, timeout=timeout, verify=False)  # plain HTTP: no CA store
    else:
        from rpctest.stacks.kyoukai.transport import LocalSyncTransport

        hosted.client = httpx.Client(
            transport=LocalSyncTransport(hosted.app, loop=hosted.loop, timeout=timeout), base_url="http://app", timeout=timeout
        )
    return hosted


@contextlib.asynccontextmanager
async def serve_async(
    provider: Any,
    *,
    transport: Transport = "http",
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 5.0,
    record: bool = False,
    service: str | None = None,
    component_options: Mapping[str, Any] | None = None,
) -> AsyncIterator[KyoukaiService]:
    """Serve ``provider`` on the **running** loop (an async test's own) for the ``async with`` block.

    ``service.client`` is an ``httpx.AsyncClient`` of the app; ``await service.acall(...)`` calls
    in neutral terms.
    """
    app, factory = resolve_app(provider)
    hosted = KyoukaiService(
        app, factory, transport=transport, host=host, port=port, timeout=timeout, record=record, service=service,
        component_options=component_options,
    )
    try:
        await hosted._start()
        hosted.client = hosted._aclient
        yield hosted
    finally:
        hosted.client = None
        await hosted.astop()
