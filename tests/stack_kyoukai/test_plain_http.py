"""rpctest's Kyoukai client calls rpctest's own servers over plain http.client (issue 21, item 3):
the same replies as through httpx, keep-alive that survives a server closing, a timeout that is a
TRANSPORT error, and every other address still carried by httpx."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any, Callable, Iterator

import httpx
import pytest

from rpctest import stub_action
from rpctest.model import Call, ErrorKind
from rpctest.stacks.kyoukai.stub_server import serve_stubs
from rpctest.stacks.kyoukai.wire import KyoukaiClient, send
from rpctest.stubs.router import StubRouter


@pytest.fixture
def server() -> Iterator[object]:
    router = StubRouter(intercept=False)
    stub_action("shop", "GET /items/<sku>", stack="kyoukai", router=router, body={"sku": "pear", "price": 4}).start()
    stub_action("shop", "POST /items", stack="kyoukai", router=router, errors=[{"code": 409, "message": "taken"}]).start()
    with serve_stubs(router) as running:
        yield running


@pytest.mark.parametrize("operation, body", [
    ("GET /items/<sku>", {"path": {"sku": "pear"}, "query": {"q": "é x"}}),
    ("POST /items", {"body": {"sku": "pear"}}),
    ("GET /nothing", None),
])
def test_the_plain_path_answers_what_httpx_answers(server: object, operation: str, body: object) -> None:
    call = Call("kyoukai", "shop", operation, body)
    address = server.address  # type: ignore[attr-defined]
    with KyoukaiClient(address) as client, httpx.Client(base_url=address, timeout=5) as plain_httpx:
        assert client._plain is not None
        fast, slow = client.call(call), send(plain_httpx, call, 5)
    assert (fast.body, fast.errors) == (slow.body, slow.errors)
    for key in ("status", "reason", "http_version", "request"):
        assert fast.meta[key] == slow.meta[key]
    assert dict(fast.meta["headers"]) == dict(slow.meta["headers"])


def test_a_server_closing_the_kept_alive_connection_is_reconnected(server: object) -> None:
    call = Call("kyoukai", "shop", "GET /items/<sku>", {"path": {"sku": "pear"}})
    with KyoukaiClient(server.address) as client:  # type: ignore[attr-defined]
        assert client.call(call).body == {"sku": "pear", "price": 4}
        assert client._plain is not None and client._plain._sock is not None
        sock = client._plain._sock
        assert sock is not None
        for connection in list(server._connections):  # type: ignore[attr-defined]
            server._loop.call_soon_threadsafe(connection.close)  # type: ignore[attr-defined]
        _wait_readable(sock)
        assert client.call(call).body == {"sku": "pear", "price": 4}


def _wait_readable(sock: Any) -> None:  # a socket or what has its fileno()
    import select

    assert select.select([sock], [], [], 5)[0], "the server did not close the connection"


@contextlib.contextmanager
def _own_endpoint(serve: Callable[[socket.socket], object]) -> Iterator[str]:
    """The address of a listener registered as one of rpctest's own servers (so the client takes
    its plain path), whose one connection ``serve`` handles on a thread (and closes)."""
    from rpctest.stacks.kyoukai import stubbing

    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        with listener.accept()[0] as sock:
            serve(sock)

    thread = threading.Thread(target=accept)
    thread.start()
    address = f"http://127.0.0.1:{listener.getsockname()[1]}"
    stubbing.register_endpoint(address)
    try:
        yield address
    finally:
        stubbing.unregister_endpoint(address)
        thread.join(5)
        listener.close()


def test_no_reply_within_the_timeout_is_a_transport_error() -> None:
    done = threading.Event()
    try:
        with _own_endpoint(lambda sock: done.wait(5)) as address, KyoukaiClient(address, timeout=0.2) as client:
            reply = client.call(Call("kyoukai", "shop", "GET /items/pear", None))
            done.set()
    finally:
        done.set()
    assert reply.errors[0].kind is ErrorKind.TRANSPORT
    assert "within 0.2s" in reply.errors[0].message


def test_a_reply_still_arriving_when_the_timeout_ends_is_a_transport_error() -> None:
    """The timeout bounds the whole reply, not each read: a server that sends its reply a byte
    at a time, each well within the timeout, and all of it well past it, does not get it through."""
    stop = threading.Event()

    def dribble(sock: socket.socket) -> None:
        sock.recv(65536)
        sock.sendall(b"HTTP/1.1 200 \r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n")
        for byte in b"[" + b"1," * 19 + b"1]":  # 40 bytes, one each 0.05 s: 2 s in all
            if stop.wait(0.05):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # the client gave up and closed
                return

    try:
        with _own_endpoint(dribble) as address, KyoukaiClient(address, timeout=0.3) as client:
            reply = client.call(Call("kyoukai", "shop", "GET /items/pear", None))
            stop.set()
    finally:
        stop.set()
    assert reply.errors and reply.errors[0].kind is ErrorKind.TRANSPORT, reply
    assert "within 0.3s" in reply.errors[0].message


def test_other_addresses_stay_with_httpx_so_in_process_stubs_answer() -> None:
    with stub_action("shop", "GET /items/<sku>", stack="kyoukai", body={"sku": "fig"}):
        with KyoukaiClient("http://127.0.0.1:9") as client:
            reply = client.call(Call("kyoukai", "shop", "GET /items/<sku>", {"path": {"sku": "fig"}}))
    assert reply.body == {"sku": "fig"}


def test_a_route_is_parsed_once_and_bad_ones_still_fail_every_time() -> None:
    from rpctest.exceptions import ConfigError
    from rpctest.stacks.kyoukai.routes import RouteTemplate

    assert RouteTemplate.parse("/items/<int:item_id>") is RouteTemplate.parse("/items/<int:item_id>")
    for _ in range(2):
        with pytest.raises(ConfigError, match="names <a> twice"):
            RouteTemplate.parse("/x/<a>/<a>")
        with pytest.raises(ConfigError, match="starts with '/'"):
            RouteTemplate.parse(["/items"])  # type: ignore[arg-type]


def test_threads_sharing_one_client_each_get_their_own_reply(server: object) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with KyoukaiClient(server.address) as client:  # type: ignore[attr-defined]
        def one(index: int) -> tuple[object, object, object]:
            reply = client.call(Call("kyoukai", "shop", "GET /items/<sku>", {"path": {"sku": f"s{index}"}}))
            return list(reply.errors), reply.body, reply.meta.get("request")

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(one, range(40)))
    assert answers == [([], {"sku": "pear", "price": 4}, f"GET /items/s{index}") for index in range(40)]
