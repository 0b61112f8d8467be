"""PySOA's host half: run a user's real ``pysoa.server.Server`` in the test process.

Two transports, one interface (:class:`PySOAService`):

* ``transport="local"`` - a ``pysoa.client.Client`` on ``LocalClientTransport``: every call goes
  through the server's full stack (job and action validation, middleware, error handling, response
  validation) in the caller's thread, without sockets or serialization;
* ``transport="redis"`` - a real ``RedisServerTransport`` server whose request loop runs in a
  background daemon thread, and a Client on ``RedisClientTransport``, both pointed at a
  :class:`~rpctest.redis_backend.RedisTarget` (an in-memory fakeredis by default, or a real Redis).
  This exercises the wire: serializers, protocol headers, queues, expiry.

``Server.run()`` cannot be used off the main thread (it installs signal handlers), so the loop here
is PySOA's documented chain without signals: ``setup()``, ``handle_next_request()`` until stopped,
``teardown()``. Stopping wakes the blocked BLPOP with an already-expired message, which PySOA's
Redis core drops and the server treats as an idle turn, so :meth:`PySOAService.stop` takes
milliseconds although ``receive_timeout_in_seconds`` is a whole number of seconds.

Teardown leaves no thread, socket, Redis connection or event loop behind: each ``Server`` builds an
``AsyncEventLoopThread`` with a fresh event loop; it is started here (so ``request.run_coroutine``
works in-process) and joined at stop, which closes the loop. The redis-py clients PySOA caches in
``RedisTransportCore._backend_layer_cache`` are removed from that cache and disconnected.

pysoa is imported inside functions only: importing this module never imports pysoa, and a missing
pysoa is reported as :class:`~rpctest.exceptions.StackUnavailable` naming the extra to install.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping

from rpctest.model import Call, Reply
from rpctest.stacks.base import HostedService
from rpctest.stacks.pysoa.errors import from_wire

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.redis_backend import RedisTarget

__all__ = ["PySOAService", "serve", "reply_from_job", "require_pysoa", "FAKE_HOST_PREFIX"]

_logger = logging.getLogger("rpctest.pysoa.host")

#: reserved Redis host names that route PySOA's Redis backend to a registered fakeredis server
FAKE_HOST_PREFIX = "rpctest-fakeredis-"

_LOCAL_TRANSPORT = "pysoa.common.transport.local:LocalClientTransport"
_REDIS_CLIENT_TRANSPORT = "pysoa.common.transport.redis_gateway.client:RedisClientTransport"
_REDIS_SERVER_TRANSPORT = "pysoa.common.transport.redis_gateway.server:RedisServerTransport"

_ids = itertools.count(1)
#: seconds to wait for a server's async event loop thread to finish at stop (never forever)
_LOOP_STOP_WAIT = 10.0


def require_pysoa() -> Any:
    """Import pysoa or raise :class:`StackUnavailable` saying what to install (the adapter's rule)."""
    from rpctest.stacks.pysoa import adapter

    return adapter.host.require()


# -- routing PySOA's Redis backend to fakeredis ------------------------------------------------------

_fake_lock = threading.Lock()
_fake_servers: dict[str, Any] = {}  # reserved host name -> fakeredis.FakeServer
_fake_patch: dict[str, Any] = {}  # "original": the classmethod we replaced, "installed": ours
_fake_refcount = 0


def _fake_host_for(hosts: Any) -> Any:
    """The registered FakeServer when ``hosts`` is exactly one reserved host, else None."""
    try:
        entries = list(hosts or ())
    except TypeError:
        return None
    if len(entries) != 1:
        return None
    entry = entries[0]
    name = entry[0] if isinstance(entry, (tuple, list)) and entry else entry
    if not isinstance(name, str) or not name.startswith(FAKE_HOST_PREFIX):
        return None
    with _fake_lock:
        return _fake_servers.get(name)


def _install_fake_routing(fake_server: Any) -> str:
    """Register ``fake_server`` under a new reserved host name and make sure the patch is in place.

    The patch on ``StandardRedisClient._get_connection_list`` answers only for reserved names and
    delegates everything else to the original, so real hosts behave exactly as without rpctest.
    """
    global _fake_refcount
    from pysoa.common.transport.redis_gateway.backend.standard import StandardRedisClient

    import fakeredis

    name = f"{FAKE_HOST_PREFIX}{next(_ids)}"
    with _fake_lock:
        _fake_servers[name] = fake_server
        if _fake_refcount == 0:
            original = StandardRedisClient.__dict__["_get_connection_list"]

            def _get_connection_list(cls: type[Any], /, hosts: Any = None, **connection_kwargs: Any) -> list[Any]:
                server = _fake_host_for(hosts)
                if server is not None:
                    return [fakeredis.FakeStrictRedis(server=server, db=connection_kwargs.get("db", 0) or 0)]
                connections: list[Any] = original.__get__(None, cls)(hosts, **connection_kwargs)
                return connections

            installed = classmethod(_get_connection_list)
            _fake_patch.update(original=original, installed=installed)
            StandardRedisClient._get_connection_list = installed
        _fake_refcount += 1
    return name


def _uninstall_fake_routing(name: str) -> None:
    global _fake_refcount
    from pysoa.common.transport.redis_gateway.backend.standard import StandardRedisClient

    with _fake_lock:
        if _fake_servers.pop(name, None) is None:
            return
        _fake_refcount -= 1
        if _fake_refcount == 0:
            # Restore only if nobody patched over us meanwhile; otherwise our function stays below
            # theirs, harmless because no reserved name is registered any more.
            if StandardRedisClient.__dict__.get("_get_connection_list") is _fake_patch.get("installed"):
                StandardRedisClient._get_connection_list = _fake_patch["original"]
            _fake_patch.clear()


# -- neutral replies ----------------------------------------------------------------------------------


def client_transport_cores(client: Any) -> list[Any]:
    """The Redis transport cores of a ``pysoa.client.Client``'s handlers built so far."""
    cores = []
    for handler in getattr(client, "handlers", {}).values():
        core = getattr(handler.transport, "core", None)
        if core is not None:
            cores.append(core)
    return cores


def release_redis_connections(cores: Iterable[Any]) -> None:
    """Disconnect the Redis clients of these transport cores and drop them from PySOA's class-level
    cache (PySOA keeps them for the life of the process: an unclosed socket is a ResourceWarning)."""
    from pysoa.common.transport.redis_gateway.core import RedisTransportCore

    backends = [core._backend_layer for core in cores if getattr(core, "_backend_layer", None) is not None]
    cache = RedisTransportCore._backend_layer_cache
    for key, value in list(cache.items()):
        if any(value is backend for backend in backends):
            cache.pop(key, None)
    for backend in backends:
        for connection in getattr(backend, "_connection_list", ()):
            connection.connection_pool.disconnect()


def reply_from_job(job_response: Any, index: int = 0) -> Reply:
    """The neutral :class:`Reply` for action ``index`` of a PySOA ``JobResponse``.

    Job errors go to ``job_errors``; when the job stopped before that action (no action response),
    the reply has no body and only the job errors. ``meta["context"]`` is the response context.
    """
    job_errors = [from_wire(error) for error in (job_response.errors or ())]
    meta = {"context": dict(job_response.context or {})}
    actions = job_response.actions or []
    if index >= len(actions):
        return Reply(body=None, errors=[], job_errors=job_errors, meta=meta)
    action = actions[index]
    meta["action"] = action.action
    return Reply(
        body=action.body,
        errors=[from_wire(error) for error in (action.errors or ())],
        job_errors=job_errors,
        meta=meta,
    )


# -- the hosted service ------------------------------------------------------------------------------


class PySOAService(HostedService):
    """A PySOA server running in this process, and a ``pysoa.client.Client`` wired to it.

    Build it with :func:`serve`. ``client`` is PySOA's own Client (use it as the code under test
    would: ``client.call_action(service.service_name, ...)``); :meth:`call` is the neutral form.
    Not thread-safe over the local transport (PySOA's LocalClientTransport is not).
    """

    def __init__(
        self,
        *,
        server_class: type[Any],
        server: Any,
        client: Any,
        transport: Literal["local", "redis"],
        redis: "RedisTarget | None" = None,
        timeout: float = 5.0,
    ) -> None:
        self.server_class = server_class
        self.server = server
        self.client = client
        self.service_name: str = server_class.service_name
        self.transport = transport
        self.redis = redis
        self.timeout = timeout
        #: tell contract recorders about every :meth:`call` (set by ``serve(record=True)``)
        self.record = False
        #: ``call_actions`` keywords every :meth:`call` sends unless it gives its own (``context``,
        #: ``switches``: the CLI's ``--context``/``--switch``)
        self.job_headers: dict[str, Any] = {}
        if redis is None:
            self.address = None
        else:
            self.address = f"{redis.address}#service.{self.service_name}"
        #: the exception that stopped the Redis request loop, as ``Server.run`` would have exited on it
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._stopped = False
        self._stop_lock = threading.Lock()
        self._loop_thread: threading.Thread | None = None
        self._async_started = False
        self._fake_host: str | None = None
        self._wake_blob: bytes | None = None
        self._backends: list[Any] = []  # PySOA backend layers (StandardRedisClient) we created

    # -- calls ---------------------------------------------------------------------------------

    def call_actions(self, actions: Iterable[Any], **kwargs: Any) -> Any:
        """``client.call_actions`` on this service, returning PySOA's ``JobResponse`` unraised.

        ``kwargs`` are those of ``Client.call_actions`` (``continue_on_error``, ``context``,
        ``switches``, ``correlation_id``, ``control_extra``, ``timeout``); errors are returned in
        the response rather than raised unless ``raise_job_errors`` / ``raise_action_errors`` say so.
        """
        self._check_usable()
        kwargs.setdefault("raise_job_errors", False)
        kwargs.setdefault("raise_action_errors", False)
        if self.transport == "redis":
            kwargs.setdefault("timeout", self._whole_seconds(self.timeout))
        return self.client.call_actions(self.service_name, list(actions), **kwargs)

    def call(self, operation: str, body: Any = None, **meta: Any) -> Reply:
        """Call one action through the whole server stack; errors come back in the :class:`Reply`."""
        action: dict[str, Any] = {"action": operation}
        if body is not None:
            action["body"] = body
        reply = reply_from_job(self.call_actions([action], **{**self.job_headers, **meta}))
        if self.record:
            from rpctest.contracts.recorder import observe

            observe(Call("pysoa", self.service_name, operation, body), reply, source="local")
        return reply

    def _check_usable(self) -> None:
        if self._stopped:
            raise RuntimeError(f"{self!r} is stopped")
        if self.error is not None:
            raise RuntimeError(
                f"the {self.service_name!r} server loop stopped on an unhandled error (as Server.run would "
                f"exit): {self.error!r}"
            ) from self.error

    @property
    def alive(self) -> bool:
        """True while the service can answer (for Redis: while its request loop runs)."""
        if self._stopped:
            return False
        if self.transport == "redis":
            return self._loop_thread is not None and self._loop_thread.is_alive()
        return True

    @staticmethod
    def _whole_seconds(seconds: float) -> int:
        return max(1, int(math.ceil(seconds)))

    # -- the Redis request loop ------------------------------------------------------------------

    def _start_async_loop(self) -> None:
        thread = getattr(self.server, "_async_event_loop_thread", None)
        if thread is not None:
            thread.daemon = True
            thread.name = f"rpctest-pysoa-{self.service_name}-async"
            thread.start()
            self._async_started = True

    def _start_redis_loop(self) -> None:
        thread = threading.Thread(
            target=self._run_redis_loop, name=f"rpctest-pysoa-{self.service_name}-server", daemon=True
        )
        self._loop_thread = thread
        thread.start()

    def _run_redis_loop(self) -> None:
        from pysoa.common.transport.errors import TransientPySOATransportError

        server = self.server
        transient_failures = 0
        try:
            while not self._stopping.is_set():
                try:
                    server.handle_next_request()
                    transient_failures = 0
                except TransientPySOATransportError as exc:
                    # Server.run's policy: back off and retry, give up after a few in a row.
                    if self._stopping.is_set():
                        break
                    transient_failures += 1
                    if transient_failures > 5:
                        self.error = exc
                        _logger.error("too many transport errors in %s; stopping its loop", self.service_name)
                        break
                    self._stopping.wait(min(0.05 * 2**transient_failures, 1.0))
        except Exception as exc:  # what makes Server.run log "Unhandled server error; shutting down"
            self.error = exc
            _logger.exception("unhandled server error in %s; its loop stopped (as Server.run would)", self.service_name)
        finally:
            try:
                server.teardown()
            except Exception:  # pragma: no cover - user code
                _logger.exception("teardown of %s failed", self.service_name)

    def _wake_server(self) -> None:
        """Push a message the server drops unanswered (already expired) to end its blocked BLPOP."""
        if self._wake_blob is None:
            return
        try:
            queue_key = self._request_queue_key()
            self._server_connection(queue_key).rpush(queue_key, self._wake_blob)
        except Exception:  # the loop then ends at its receive timeout
            _logger.debug("could not wake %s", self.service_name, exc_info=True)

    def _request_queue_key(self) -> str:
        core = self.server.transport.core
        key: str = core.QUEUE_NAME_PREFIX + self.server.transport._receive_queue_name
        return key

    def _server_connection(self, queue_key: str) -> Any:
        return self.server.transport.core.backend_layer.get_connection(queue_key)

    # -- stopping --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server and release its threads, event loop and Redis connections (idempotent)."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
            self._stopping.set()
            try:
                if self.transport == "redis":
                    self._stop_redis_loop()
                else:
                    try:
                        self.server.teardown()
                    except Exception:  # pragma: no cover - user code
                        _logger.exception("teardown of %s failed", self.service_name)
            finally:
                try:
                    self._stop_async_loop()
                finally:
                    self._release_redis()

    def _stop_redis_loop(self) -> None:
        thread = self._loop_thread
        if thread is None:
            return
        receive_timeout = self.server.transport.core.receive_timeout_in_seconds
        deadline = time.monotonic() + receive_timeout + 5.0
        wait = 0.02
        while thread.is_alive() and time.monotonic() < deadline:
            # Another consumer of the same queue may take a wake message: push again until ours ends.
            self._wake_server()
            thread.join(wait)
            wait = min(wait * 2, 0.5)
        if thread.is_alive():  # pragma: no cover - a request handler that does not return
            _logger.warning("the %s server loop did not stop within %.1f s", self.service_name, receive_timeout + 5)
        # Wake messages nobody consumed are expired anyway; remove them so the queue is as found.
        if self._wake_blob is not None:
            try:
                queue_key = self._request_queue_key()
                self._server_connection(queue_key).lrem(queue_key, 0, self._wake_blob)
            except Exception:
                _logger.debug("could not clean the queue of %s", self.service_name, exc_info=True)

    def _stop_async_loop(self) -> None:
        thread = getattr(self.server, "_async_event_loop_thread", None)
        if thread is None:
            return
        if self._async_started:
            # Not pysoa's own join(): when the thread has not reached run_forever yet (a fast stop on a
            # loaded machine), it only warns "already not running" and then waits for the thread
            # forever. A stop scheduled thread-safely works before and after the loop starts; the
            # thread then finishes pending tasks and closes the loop itself.
            thread.loop.call_soon_threadsafe(thread.loop.stop)
            threading.Thread.join(thread, _LOOP_STOP_WAIT)
            if thread.is_alive():
                _logger.warning("the async event loop thread of %s did not stop within %ss", self.service_name, _LOOP_STOP_WAIT)
        else:
            close_idle_loop(self.server)

    def _release_redis(self) -> None:
        try:
            if self.transport == "redis":
                release_redis_connections([self.server.transport.core, *client_transport_cores(self.client)])
        finally:
            if self._fake_host is not None:
                _uninstall_fake_routing(self._fake_host)
                self._fake_host = None

    def __enter__(self) -> "PySOAService":
        return self

    def __repr__(self) -> str:
        where = self.address or "local transport"
        state = "stopped" if self._stopped else "running"
        return f"<PySOAService {self.service_name!r} via {where} ({state})>"


# -- building ----------------------------------------------------------------------------------------


def _service_client_config(client_settings: Mapping[str, Any] | None, transport: dict[str, Any]) -> dict[str, Any]:
    config = dict(client_settings or {})
    config["transport"] = transport
    return config


def _redis_transport_kwargs(
    target: "RedisTarget", host: str, port: int, role: str, service_name: str, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    kwargs = dict(extra or {})
    connection_kwargs = dict(kwargs.get("backend_layer_kwargs", {}).get("connection_kwargs", {}))
    if not target.is_fake:
        # A name of our own makes PySOA's backend cache key unique per service and role, so stopping
        # one hosted service never closes connections another one still uses.
        connection_kwargs["client_name"] = f"rpctest-{service_name}-{role}-{next(_ids)}"
        if target.password is not None:
            connection_kwargs.setdefault("password", target.password)
    else:
        connection_kwargs["rpctest_role"] = f"{role}-{next(_ids)}"  # cache key only; the fake ignores it
    kwargs["backend_type"] = "redis.standard"
    kwargs["backend_layer_kwargs"] = {
        "hosts": [(host, port)],
        "redis_db": target.db,
        "connection_kwargs": connection_kwargs,
    }
    return kwargs


def close_idle_loop(server: Any) -> None:
    """Close the event loop a pysoa ``Server`` built in its constructor and never started.

    Every ``Server`` makes an ``AsyncEventLoopThread`` with a fresh loop; over the local transport
    nothing starts it, and the unclosed loop warns (``ResourceWarning``) when it is collected.
    """
    thread = getattr(server, "_async_event_loop_thread", None)
    if thread is not None and not thread.is_alive() and not thread.loop.is_closed():
        thread.loop.close()


def close_idle_loops(handlers: Mapping[str, Any]) -> None:
    """:func:`close_idle_loop` for the server behind each local transport of a Client's ``handlers``."""
    for handler in list(handlers.values()):
        server = getattr(getattr(handler, "transport", None), "server", None)
        if server is not None:
            close_idle_loop(server)


def serve(
    server_class: type[Any],
    settings: Mapping[str, Any] | None = None,
    *,
    transport: Literal["local", "redis"] = "local",
    redis: "RedisTarget | None" = None,
    client_settings: Mapping[str, Any] | None = None,
    timeout: float = 5.0,
    record: bool = False,
) -> PySOAService:
    """Run ``server_class`` (a ``pysoa.server.Server`` subclass) in-process and return it, ready.

    ``settings`` are the server's settings (as for ``server_class.settings_class``; the transport is
    set here). ``client_settings`` are extra settings of the client for this service (middleware,
    and for Redis the transport ``kwargs`` such as ``default_serializer_config`` or
    ``protocol_version``); ``timeout`` bounds every Redis receive (whole seconds, at least 1).
    With ``transport="redis"`` and no ``redis``, a fresh in-memory fakeredis is used.
    ``record=True`` tells contract recorders about every :meth:`PySOAService.call`.
    """
    require_pysoa()
    from pysoa.client.client import Client
    from pysoa.server.server import Server

    if not (isinstance(server_class, type) and issubclass(server_class, Server)):
        raise TypeError(f"serve() needs a pysoa.server.Server subclass, not {server_class!r}")
    if not server_class.service_name:
        raise TypeError(f"{server_class.__name__} has no service_name")
    if transport not in ("local", "redis"):
        raise ValueError(f"transport must be 'local' or 'redis', not {transport!r}")
    if transport == "local" and redis is not None:
        raise ValueError("redis= applies to transport='redis' only")

    service_name = server_class.service_name
    server_settings = dict(settings or {})
    user_client = dict(client_settings or {})
    user_client_transport = user_client.pop("transport", None) or {}

    service: PySOAService | None
    if transport == "local":
        client = Client(
            {
                service_name: _service_client_config(
                    user_client,
                    {"path": _LOCAL_TRANSPORT, "kwargs": {"server_class": server_class, "server_settings": server_settings}},
                )
            }
        )
        # Build the handler now (PySOA builds it lazily), so the server exists, is set up and can be torn down.
        local = client._get_handler(service_name).transport
        service = PySOAService(server_class=server_class, server=local.server, client=client, transport="local", timeout=timeout)
        service.record = record
        try:
            service._start_async_loop()
        except BaseException:
            service.stop()
            raise
        return service

    from rpctest.redis_backend import fake as _fake_target

    target = redis if redis is not None else _fake_target()
    fake_host: str | None = None
    if target.is_fake:
        fake_host = _install_fake_routing(target.fake_server)
        host, port = fake_host, 0
    else:
        host, port = target.host, target.port

    service = None
    try:
        user_server_transport = server_settings.get("transport") or {}
        server_extra = dict(user_server_transport.get("kwargs", {})) if "redis_gateway" in str(
            user_server_transport.get("path", "")
        ) else {}
        server_extra.setdefault("receive_timeout_in_seconds", 1)
        server_settings["transport"] = {
            "path": _REDIS_SERVER_TRANSPORT,
            "kwargs": _redis_transport_kwargs(target, host, port, "server", service_name, server_extra),
        }
        client_extra = dict(user_client_transport.get("kwargs", {}))
        client_extra.setdefault("receive_timeout_in_seconds", PySOAService._whole_seconds(timeout))
        client = Client(
            {
                service_name: _service_client_config(
                    user_client,
                    {
                        "path": _REDIS_CLIENT_TRANSPORT,
                        "kwargs": _redis_transport_kwargs(target, host, port, "client", service_name, client_extra),
                    },
                )
            }
        )
        server = server_class(server_class.settings_class(server_settings))
        service = PySOAService(
            server_class=server_class, server=server, client=client, transport="redis", redis=target, timeout=timeout
        )
        service.record = record
        service._fake_host, fake_host = fake_host, None
        service._wake_blob = _wake_message(server.transport.core)
        server.setup()
        # Connect now, in the caller's thread: a wrong host or a down Redis fails here, clearly.
        queue_key = service._request_queue_key()
        try:
            service._server_connection(queue_key).ping()
        except Exception as exc:
            from rpctest.redis_backend import RedisUnavailable

            raise RedisUnavailable(f"cannot reach Redis at {target.address} for {service_name!r}: {exc}") from exc
        client._get_handler(service_name)
        service._start_async_loop()
        service._start_redis_loop()
        return service
    except BaseException:
        if service is not None:
            service.stop()
        elif fake_host is not None:
            _uninstall_fake_routing(fake_host)
        raise


def _wake_message(core: Any) -> bytes:
    """A valid request frame, already expired: PySOA's Redis core drops it and the server idles."""
    from pysoa.common.transport.redis_gateway.constants import ProtocolVersion

    serializer = core.default_serializer
    envelope = {
        "request_id": 0,
        "meta": {"__expiry__": 1.0, "rpctest_wake": uuid.uuid4().hex},
        "body": {},
    }
    header = "content-type:{};".format(serializer.mime_type).encode("ascii")
    message: bytes = ProtocolVersion.VERSION_3.prefix + header + serializer.dict_to_blob(envelope)
    return message
