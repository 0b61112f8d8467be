"""rpctest's fixtures, registered by the plugin when pytest configures it (not when it imports it).

They live apart from the hooks in :mod:`rpctest.pytest_plugin` so that ``-p no:rpctest`` really turns
them off: pytest replays plugin registrations to its fixture manager, so fixtures defined in the
plugin module itself would stay usable (the autouse strict-stub check included) after a ``-p rpctest``
in ``addopts`` was cancelled by ``-p no:rpctest`` on the command line. This module is registered from
``pytest_configure``, which pytest only calls on plugins still registered.

Importing it stays cheap, like the plugin: everything heavy is imported inside the fixture that needs it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Iterator, cast

import pytest

from rpctest.pytest_plugin import call_failed

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.config import RpctestConfig
    from rpctest.redis_backend import RedisTarget
    from rpctest.stacks.pysoa.host import PySOAService
    from rpctest.stubs.handle import StubHandle


def _strict_for(node: pytest.Item) -> bool:
    marker = node.get_closest_marker("rpctest")
    if marker is not None and "strict" in marker.kwargs:
        return bool(marker.kwargs["strict"])
    from rpctest import config as rpc_config

    return rpc_config.current().strict


def _marker_states(node: pytest.Item) -> list[Any]:
    """The provider states of the closest ``rpctest`` marker that names any (a test's own marker
    wins over its class's and module's)."""
    from rpctest.stubs.states import marker_states

    for marker in node.iter_markers("rpctest"):
        if "state" in marker.kwargs or "state_params" in marker.kwargs:
            return marker_states(marker.kwargs)
    return []


@pytest.fixture
def provider_state() -> Callable[..., Any]:
    """Name a provider state the test assumes: ``provider_state("user 1 exists", id=1)``.

    Every interaction the test records from then on carries it (as with
    ``@pytest.mark.rpctest(state=...)``, for a state a fixture or the test itself decides); the
    provider's ``@rpctest.provider_state`` handler sets it up in live verification.
    """
    from rpctest.stubs.states import given

    return given


@pytest.fixture(autouse=True)
def _rpctest_stub_scope(request: pytest.FixtureRequest) -> Iterator[None]:
    """Watch the test's stubs; in strict mode, fail it if a stub went uncalled or a call went unmatched."""
    from rpctest.exceptions import StrictStubError
    from rpctest.stubs import states
    from rpctest.stubs.router import router

    states.set_test_states(_marker_states(request.node))
    try:
        with router.scope() as scope:
            yield
    finally:
        states.clear_test_states()
    if request.node.stash.get(call_failed, False) or not _strict_for(request.node):
        return
    problems = [f"stub {stub!r} was never called" for stub in scope.never_called()]
    problems += [message.splitlines()[0] for _, message in scope.unmatched]
    if problems:
        raise StrictStubError(
            "rpctest strict stubs:\n  - "
            + "\n  - ".join(problems)
            + "\n(relax with @pytest.mark.rpctest(strict=False), or rpctest_strict = false for the suite)"
        )


@pytest.fixture
def rpc_stub() -> Iterator[Callable[..., "StubHandle"]]:
    """Create stubs inside a test: ``rpc_stub(service, action, body=..., errors=..., stack=...)``.

    Every stub made through it stops at teardown; strict mode then checks it was called.
    """
    from rpctest.stubs.api import started_stubs

    with started_stubs() as make:
        yield make


@pytest.fixture
def rpctest_providers() -> Iterator[Callable[..., None]]:
    """Check this test's stubs against provider contracts: ``rpctest_providers("contracts/providers")``.

    A stub whose body or errors break a given provider's contract then fails when it starts
    (as with the ``rpctest_providers`` ini option, which applies to every test).
    """
    import contextlib

    from rpctest.contracts.drift import use_providers

    with contextlib.ExitStack() as stack:
        yield lambda *contracts: stack.enter_context(use_providers(*contracts))


@pytest.fixture(scope="session")
def rpctest_config() -> "RpctestConfig":
    """The effective rpctest configuration ([tool.rpctest], then ini options, then the command line)."""
    from rpctest import config as rpc_config

    return rpc_config.current()


@pytest.fixture(scope="session")
def rpctest_redis(rpctest_config: "RpctestConfig") -> Iterator["RedisTarget"]:
    """A real Redis server: ``--rpctest-redis-url``/``RPCTEST_REDIS_URL``, else a ``redis-server`` we start.

    Skips when neither exists, unless ``RPCTEST_REQUIRE_REDIS=1`` (CI), where it fails instead.
    """
    from rpctest import redis_backend

    target = redis_backend.real(rpctest_config.redis_url)
    if target is not None:
        yield target
        return
    if redis_backend.find_redis_server_binary() is None:
        reason = "no real Redis: set RPCTEST_REDIS_URL or install redis-server (apt-get install redis-server)"
        if os.environ.get("RPCTEST_REQUIRE_REDIS") == "1":
            pytest.fail(reason + "; RPCTEST_REQUIRE_REDIS=1 requires it", pytrace=False)
        pytest.skip(reason)
    process = redis_backend.RedisServerProcess()
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.fixture
def pysoa_service(request: pytest.FixtureRequest) -> Iterator[Callable[..., "PySOAService"]]:
    """Run a real PySOA ``Server`` subclass in-process and get a configured ``pysoa.client.Client``.

    ``svc = pysoa_service(MyServer, settings, transport="local")`` runs it through the local transport
    (no sockets); ``transport="redis"`` runs its request loop in a thread behind the real Redis
    gateway, on embedded fakeredis (``redis="fake"``, the default) or a real server (``redis="real"``).
    ``svc.client`` is the ``Client``; every server stops at teardown.
    """
    from rpctest.stacks import get_adapter

    def serve(server_class: Any, settings: dict[str, Any] | None = None, *, transport: str = "local", redis: Any = "fake", **kw: Any) -> "PySOAService":
        target = _redis_target(request, redis) if transport == "redis" else None
        return cast("PySOAService", get_adapter("pysoa").host.serve(server_class, settings=settings, transport=transport, redis=target, **kw))  # pysoa's host serves a PySOAService

    yield from _hosted(serve)


@pytest.fixture
def pykern_service() -> Iterator[Callable[..., Any]]:
    """Run real pykern.api ``api_classes`` in-process: ``svc = pykern_service(MyAPI, transport="websocket")``.

    The server runs on a background thread's event loop (so it works in sync and async tests and
    under fixtures of any scope); ``svc.address`` is its ``ws://127.0.0.1:PORT/api``, ``svc.call``
    calls through its whole stack, ``transport="local"`` skips the socket. For a server on an
    async test's own loop use ``async with rpctest.stacks.pykern.serve_async(MyAPI)``. Every
    server stops at teardown.
    """
    from rpctest.stacks import get_adapter

    yield from _hosted(lambda provider, **options: get_adapter("pykern").host.serve(provider, **options))


@pytest.fixture
def pykern_stub_server() -> Iterator[Any]:
    """A pykern.api stub server (127.0.0.1, a free port) answering from the test's ``stub_action`` stubs.

    Point the code under test at ``pykern_stub_server.address`` (``ws://127.0.0.1:PORT/api``): a
    real ``pykern.api.client.Client`` then talks to it over a real WebSocket, in this process or
    another. It runs on its own thread, so sync and async tests can use it; stubs started after it
    count. ``.diagnostics`` says what it could not answer and why.
    """
    yield from _stub_server("pykern")


@pytest.fixture
def zerojson_service() -> Iterator[Callable[..., Any]]:
    """Host ZeroJSON services declared with ``rpctest.stacks.zerojson.service``: ``zerojson_service(Calc)``.

    A ROUTER server on ``tcp://127.0.0.1:<free port>`` by default (``address="inproc://name"`` or
    ``"ipc://path"`` too), answering with PyCOM's check order and codes; ``.address``, ``.call(method,
    args, interface=...)``, ``.diagnostics``. Every server stops at teardown.
    """
    from rpctest.stacks import get_adapter

    yield from _hosted(lambda *services, **options: get_adapter("zerojson").host.serve(list(services), **options))


@pytest.fixture
def zerojson_stub_server() -> Iterator[Any]:
    """A ZeroJSON ROUTER server answering from the test's ``stub_action(..., stack="zerojson")`` stubs.

    Point the code under test at ``zerojson_stub_server.address`` (``tcp://127.0.0.1:PORT``); stubs
    started after it count. A method with no stub gets PyCOM's code 2; a stub whose ``match=``
    differs gets code 4 naming it; ``.diagnostics`` keeps what it could not answer.
    """
    yield from _stub_server("zerojson")


@pytest.fixture
def asyncapy_service() -> Iterator[Callable[..., Any]]:
    """Host a real AsyncAPY server in-process: ``svc = asyncapy_service(server, transport="local")``.

    ``server`` is an ``asyncapy.Server`` (build it with ``rpctest.stacks.asyncapy.isolated_server``
    so handlers do not leak between servers), a function returning one, or ``"module:object"``. It
    runs under trio on its own thread, on 127.0.0.1 port 0 (``svc.address``) or without a socket
    (``transport="local"``); ``svc.call(name, packet)`` reports a leaked session as a server error.
    Needs AsyncAPY (not on PyPI: docs/stacks/asyncapy.md). Every server stops at teardown.
    """
    from rpctest.stacks import get_adapter

    yield from _hosted(lambda provider, **options: get_adapter("asyncapy").host.serve(provider, **options))


@pytest.fixture
def asyncapy_stub_server() -> Iterator[Any]:
    """An AsyncAProto stub server (127.0.0.1, a free port) answering from the test's asyncapy stubs.

    ``.address`` is ``asyncapy://127.0.0.1:PORT``; AsyncAPY routes by packet fields, so stubs name
    the fields they match (``match={"action": "^ping$"}``); a packet no stub matches is closed
    silently, as AsyncAPY's server does, and ``.diagnostics`` names the nearest stub.
    """
    yield from _stub_server("asyncapy")


@pytest.fixture
def kyoukai_service() -> Iterator[Callable[..., Any]]:
    """Run real Kyoukai apps in-process: ``shop = kyoukai_service(make_app, transport="local")``.

    Give a factory (built on the serving loop: Kyoukai binds the loop it is built on), an app, or
    ``"module:object"``. By default on 127.0.0.1, a free port, on a background thread's loop;
    ``transport="local"`` drives the app's real HTTP backend without a socket. ``.client`` is an
    ``httpx.Client`` of the app, ``.call("GET /items/5")`` answers in neutral terms. Every app stops
    at teardown. In an async test use ``async with rpctest.stacks.kyoukai.serve_async(make_app)``.
    """
    from rpctest.stacks import get_adapter

    yield from _hosted(lambda provider, **options: get_adapter("kyoukai").host.serve(provider, **options))


@pytest.fixture
def kyoukai_stub_server() -> Iterator[Any]:
    """An HTTP/1.1 stub server (``http://127.0.0.1:PORT``) answering from the test's Kyoukai stubs.

    For consumer code on any HTTP client (urllib, requests, another process); httpx clients are
    answered in-process by the same stubs at httpx's transport. A request no stub matches gets 404 (405
    when only other methods are stubbed for the path) and a line in ``.diagnostics``.
    """
    yield from _stub_server("kyoukai")


def _hosted(serve: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """A factory fixture's body: ``serve`` services on demand, stop them all (newest first) at teardown."""
    started: list[Any] = []

    def make(*args: Any, **options: Any) -> Any:
        service = serve(*args, **options)
        started.append(service)
        return service

    yield make
    for service in reversed(started):
        service.stop()


def _stub_server(stack: str) -> Iterator[Any]:
    """A stub server fixture's body: ``stack``'s stub server on the default router, stopped at teardown."""
    from rpctest.stacks import get_adapter
    from rpctest.stubs.router import router

    server = get_adapter(stack).wire.stub_server(router)
    try:
        yield server
    finally:
        server.stop()


def _redis_target(request: pytest.FixtureRequest, redis: Any) -> "RedisTarget":
    from rpctest import redis_backend

    if redis == "fake":
        return redis_backend.fake()
    if redis == "real":
        real: RedisTarget = request.getfixturevalue("rpctest_redis")
        return real
    if isinstance(redis, redis_backend.RedisTarget):
        return redis
    from rpctest.exceptions import ConfigError

    raise ConfigError(f"redis= must be 'fake', 'real' or a RedisTarget, not {redis!r}")
