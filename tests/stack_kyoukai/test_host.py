"""The host half against the real Kyoukai: in the test's loop, on a thread, over a socket and without one."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from typing import Any

import httpx
import pytest

from rpctest.exceptions import ConfigError
from rpctest.model import ErrorKind
from rpctest.stacks import get_adapter
from rpctest.stacks.kyoukai import LocalSyncTransport, LocalTransport, serve, serve_async
from rpctest.stacks.kyoukai.errors import CRITICAL_PAGE_MESSAGE, classify
from stack_kyoukai.kyk_apps import EVENTS, make_status_app, make_vec_app

pytestmark = pytest.mark.filterwarnings("ignore:Explicitly passing the parent context:DeprecationWarning")


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(params=["http", "local"])
def vec(request: pytest.FixtureRequest) -> Any:
    service = serve(make_vec_app, transport=request.param, timeout=3.0)
    yield service
    service.stop()


def test_the_status_table() -> None:
    assert [classify(s) for s in (404, 405, 410, 401, 403, 407)] == [ErrorKind.NOT_FOUND] * 3 + [ErrorKind.UNAUTHORIZED] * 3
    assert [classify(s) for s in (400, 409, 418, 422, 307)] == [ErrorKind.CALLER_ERROR] * 5
    assert [classify(s) for s in (500, 503, "502")] == [ErrorKind.SERVER_ERROR] * 3
    assert classify(99) is classify(600) is classify("teapot") is ErrorKind.TRANSPORT
    adapter = get_adapter("kyoukai")
    assert adapter.make_error(404).kind is ErrorKind.NOT_FOUND and adapter.make_error("503").code == 503


def test_calls_in_neutral_terms(vec: Any) -> None:
    item = vec.call("GET /items/5?q=x")
    assert item.ok and item.body == {"id": 5, "q": "x"} and item.meta["status"] == 200
    assert ("Server", "Kyoukai/2.2.1.post1") in item.meta["headers"]
    assert vec.call("vec.get_item", params={"item_id": 7}).body == {"id": 7, "q": None}
    assert vec.call("get_item", params={"item_id": 8}).body == {"id": 8, "q": None}
    assert vec.call("echo", {"a": [1, 2]}).body == {"received": {"a": [1, 2]}}  # POST: its only method
    assert vec.call("POST /echo").body == {"received": None}
    assert vec.call("GET /dict").body == "{'a': 1}"  # text/plain
    none = vec.call("GET /none")
    assert none.ok and none.body is None and none.meta["status"] == 204
    options = vec.call("OPTIONS /items/5")
    assert options.ok and {v for k, v in options.meta["headers"] if k == "Allow"} <= {"GET,HEAD", "HEAD,GET"}


def test_the_published_bug_comes_back_as_a_server_error(vec: Any) -> None:
    for operation in ("GET /nothere", "DELETE /items/5", "GET /teapot", "GET /boom", "GET /secure", "GET /api/v1/bperr"):
        reply = vec.call(operation)
        (error,) = reply.errors
        assert (error.code, error.kind, error.message) == (500, ErrorKind.SERVER_ERROR, CRITICAL_PAGE_MESSAGE), operation
        assert error.details["critical_page"] is True and reply.meta["http_version"] == "HTTP/1.0"
    handled = vec.call("GET /svc/boom")  # a handler that changes the code survives the bug
    assert [(e.code, e.message, e.kind) for e in handled.errors] == [(503, "SERVICE UNAVAILABLE", ErrorKind.SERVER_ERROR)]
    assert handled.body == {"err": "unavailable"} and "critical_page" not in handled.errors[0].details
    redirect = vec.call("GET /dir")
    assert [(e.code, e.kind) for e in redirect.errors] == [(307, ErrorKind.CALLER_ERROR)]


@pytest.mark.parametrize("transport", ["http", "local"])
def test_statuses_a_view_returns_map_to_kinds(transport: str) -> None:
    with serve(make_status_app, transport=transport) as odd:
        kinds = {code: [(e.code, e.kind) for e in odd.call(f"GET /status/{code}").errors] for code in (200, 401, 403, 404, 409, 503)}
    assert kinds == {
        200: [],
        401: [(401, ErrorKind.UNAUTHORIZED)],
        403: [(403, ErrorKind.UNAUTHORIZED)],
        404: [(404, ErrorKind.NOT_FOUND)],
        409: [(409, ErrorKind.CALLER_ERROR)],
        503: [(503, ErrorKind.SERVER_ERROR)],
    }


def test_operation_names_are_checked(vec: Any) -> None:
    with pytest.raises(ConfigError, match="no route endpoint 'nope'.*vec.get_item"):
        vec.call("nope")
    with pytest.raises(ConfigError, match="cannot build a URL"):
        vec.call("get_item")  # item_id missing
    with pytest.raises(ConfigError, match="already a path"):
        vec.call("GET /items/5", params={"item_id": 5})
    with serve(make_status_app, transport="local") as odd:
        with pytest.raises(ConfigError, match="POST, PUT: say which with method="):
            odd.call("both")
        assert odd.call("both", method="PUT").body == "PUT"


def test_slow_calls_time_out_and_the_service_stays_usable() -> None:
    with serve(make_status_app) as odd:
        reply = odd.call("GET /slow?s=5", timeout=0.2)
        assert [(e.code, e.kind) for e in reply.errors] == [("TRANSPORT", ErrorKind.TRANSPORT)]
        assert "within 0.2s" in reply.errors[0].message
        assert odd.call("GET /slow?s=0").body == "slept"


def test_stop_leaves_no_thread_socket_or_loop_even_with_requests_in_flight() -> None:
    threads, fds = threading.active_count(), _fds()
    service = serve(make_status_app, timeout=2.0)
    assert any(t.name.startswith("rpctest-kyoukai-") for t in threading.enumerate())
    assert service.client.get("/status/200").status_code == 200  # the sync httpx client
    hanging = socket.create_connection(("127.0.0.1", service.port))  # a request the server is still working on
    hanging.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    idle = socket.create_connection(("127.0.0.1", service.port))  # a connection that sent nothing
    time.sleep(0.1)
    started = time.monotonic()
    service.stop()
    service.stop()  # idempotent
    assert time.monotonic() - started < 2.0
    assert service.loop.is_closed() and threading.active_count() == threads
    assert hanging.recv(1 << 16) == b"" and idle.recv(1 << 16) == b""  # the server closed both, unanswered
    hanging.close()
    idle.close()
    assert _fds() == fds
    with pytest.raises(RuntimeError, match="stopped"):
        service.call("GET /status/200")


@pytest.mark.asyncio
async def test_in_the_tests_own_loop() -> None:
    loop = asyncio.get_running_loop()
    fds = _fds()
    async with serve_async(make_vec_app) as service:
        assert service.loop is loop and service.address == f"http://127.0.0.1:{service.port}"
        assert isinstance(service.client, httpx.AsyncClient)
        assert (await service.client.get("/items/1")).json() == {"id": 1, "q": None}
        assert (await service.acall("GET /text")).body == "plain"
        with pytest.raises(RuntimeError, match="await service.acall"):
            service.call("GET /text")
    assert service.client is None and _fds() == fds
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


@pytest.mark.asyncio
async def test_in_the_tests_own_loop_without_a_socket() -> None:
    fds = _fds()
    async with serve_async(make_vec_app, transport="local") as service:
        assert service.address is None and service.port is None
        assert (await service.client.get("/items/2")).json() == {"id": 2, "q": None}
        assert (await service.acall("GET /nothere")).errors[0].details["critical_page"] is True
    assert _fds() == fds


# -- the event-loop binding trap: Kyoukai(...) binds the loop current when it is built -----------------


def test_an_app_bound_to_another_loop_is_rebound_while_served_and_restored() -> None:
    other = asyncio.new_event_loop()
    try:
        app = make_status_app("bound-elsewhere", loop=other)
        assert app.loop is other
        with serve(app) as service:
            assert app.loop is service.loop
            assert service.call("GET /loop").body == {"app_loop_is_running_loop": True}
        assert app.loop is other
        with serve(app, transport="local") as service:  # local: protocols run on the serving loop
            assert service.call("GET /status/200").ok
    finally:
        other.close()


@pytest.mark.asyncio
async def test_a_factory_builds_the_app_on_the_serving_loop() -> None:
    built = []

    def factory() -> Any:
        built.append(asyncio.get_running_loop())
        return make_status_app("factory-built")

    async with serve_async(factory) as service:
        assert built == [asyncio.get_running_loop()] and service.app.loop is built[0]
        assert (await service.acall("GET /loop")).body == {"app_loop_is_running_loop": True}
    with serve("stack_kyoukai.kyk_apps:make_vec_app") as threaded:
        assert threaded.call("GET /text").body == "plain" and threaded.app.loop is threaded.loop


def test_one_app_object_is_served_by_one_server_at_a_time() -> None:
    other = asyncio.new_event_loop()
    try:
        app = make_status_app("once", loop=other)
        with serve(app):
            with pytest.raises(ConfigError, match="already served"):
                serve(app)
        with serve(app) as again:  # once stopped, it may be served again
            assert again.call("GET /status/200").ok
    finally:
        other.close()


def test_events_fire_over_both_transports() -> None:
    expected = [("route_matched", "/status/200"), ("route_invoked", "/status/200"), ("route_completed", "/status/200")]
    for transport in ("http", "local"):
        with serve(lambda name=f"ev-{transport}": make_status_app(name), transport=transport) as service:
            assert service.call("GET /status/200").ok
            deadline = time.monotonic() + 2
            while len(EVENTS[f"ev-{transport}"]) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert sorted(EVENTS[f"ev-{transport}"]) == sorted(expected), transport


# -- the httpx transports on their own ---------------------------------------------------------------------


def test_the_sync_local_transport_runs_its_own_loop_and_close_joins_it() -> None:
    threads = threading.active_count()
    other = asyncio.new_event_loop()
    try:
        app = make_vec_app(loop=other)
        transport = LocalSyncTransport(app)
        with httpx.Client(transport=transport, base_url="http://app") as client:
            assert client.get("/items/4").json() == {"id": 4, "q": None}
            assert client.post("/echo", json={"x": 1}).json() == {"received": {"x": 1}}
            assert client.get("/nothere").status_code == 500
            assert threading.active_count() == threads + 1
            own_loop = transport._own_loop
        assert threading.active_count() == threads and own_loop is not None and own_loop.is_closed()
        with pytest.raises(RuntimeError, match="closed"):
            transport.handle_request(httpx.Request("GET", "http://app/items/1"))
    finally:
        other.close()


@pytest.mark.asyncio
async def test_the_async_local_transport_times_out_a_slow_view() -> None:
    app = make_status_app("slow-local")
    async with httpx.AsyncClient(transport=LocalTransport(app), base_url="http://app", timeout=0.2) as client:
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")
        assert asyncio.get_running_loop().time() - started < 2
        assert (await client.get("/slow?s=0")).text == "slept"
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


def test_bad_options_are_config_errors() -> None:
    threads = threading.active_count()
    with pytest.raises(ConfigError, match="transport"):
        serve(make_vec_app, transport="carrier-pigeon")
    with pytest.raises(ConfigError, match="timeout"):
        serve(make_vec_app, timeout=0)
    with pytest.raises(ConfigError, match="a Kyoukai provider is"):
        serve(42)
    with pytest.raises(ConfigError, match="returned 'x', not a kyoukai.Kyoukai app"):
        serve(lambda: "x")
    with pytest.raises(ConfigError, match="has no attribute"):
        serve("stack_kyoukai.kyk_apps:nothing")
    assert threading.active_count() == threads  # a factory failing on the serving thread leaves none


def test_record_reports_each_call_to_the_recorders() -> None:
    from rpctest.stubs.router import router

    seen: list[Any] = []
    stop = router.add_listener(seen.append)
    try:
        with serve(make_vec_app, record=True, transport="local") as recording:
            recording.call("get_item", params={"item_id": 3})
            recording.call("GET /teapot")
        with serve(make_vec_app, transport="local") as quiet:
            quiet.call("GET /text")
    finally:
        stop()
    assert [(i.call.stack, i.call.service, i.call.operation, i.call.meta, i.source) for i in seen] == [
        ("kyoukai", "vec", "get_item", {"params": {"item_id": 3}}, "local"),
        ("kyoukai", "vec", "GET /teapot", {}, "local"),
    ]
    assert seen[0].reply.body == {"id": 3, "q": None} and seen[1].reply.errors[0].code == 500


def test_the_in_process_host_binds_loopback_only() -> None:
    from rpctest.exceptions import ConfigError
    from rpctest.stacks.kyoukai import serve

    with pytest.raises(ConfigError, match="the in-process Kyoukai host binds loopback addresses only .* not '0.0.0.0'"):
        serve("examples.kyoukai.service:make_app", host="0.0.0.0")
