"""The Kyoukai stub server's HTTP/1.1 on a raw socket (issue 21: it parses with httptools, as
Kyoukai's own backend does, and writes each response head from a template).

Each test plays bytes to a real stub server over a real socket and reads what it writes back:
pipelined requests, a request arriving a byte at a time, a chunked body, keep-alive and its ends,
HEAD, and the requests it refuses (a malformed request line, an oversized head), which are answered
400 and closed without a traceback. The response bytes are compared with what h11 (the stub server's
writer before) writes for the same response, so a client sees the same bytes as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Iterator

import pytest

from rpctest import stub_action
from rpctest.stacks.kyoukai.stub_server import KyoukaiStubServer, serve_stubs
from rpctest.stubs.router import StubRouter
from stack_kyoukai.kyk_wire import Result, request, socket_exchange

ITEM = {"sku": "apple", "price": 3}


@pytest.fixture
def server() -> Iterator[KyoukaiStubServer]:
    router = StubRouter(intercept=False)
    stub_action("shop", "GET /items/<sku>", stack="kyoukai", router=router, body=ITEM).start()
    stub_action("shop", "POST /orders", stack="kyoukai", router=router, side_effect=lambda envelope: {"got": envelope}).start()
    stub_action("shop", "DELETE /orders", stack="kyoukai", router=router, body=None).start()
    stub_action("shop", "PUT /orders", stack="kyoukai", router=router, status=201, headers={"Location": "/orders/1"}, body="made").start()
    with serve_stubs(router, service="shop") as running:
        yield running


def _exchange(server: KyoukaiStubServer, *events: tuple[str, Any], quiet: float = 0.3) -> Result:
    return asyncio.run(socket_exchange(server.port, events, quiet=quiet))


def _header(response: dict[str, Any], name: str) -> str | None:
    return next((value for key, value in response["headers"] if key.lower() == name.lower()), None)


def test_pipelined_requests_are_answered_in_order_on_one_connection(server: KyoukaiStubServer) -> None:
    post = request("POST", "/orders", [("Content-Type", "application/json")], b'{"n": 1}')
    result = _exchange(server, ("send", request("GET", "/items/a") + post + request("GET", "/items/b")), ("pause", 0.05),
                       ("send", request("DELETE", "/orders")))
    responses = result.responses()
    assert [r["status"] for r in responses] == [200, 200, 200, 204]
    assert json.loads(responses[0]["body"]) == ITEM and json.loads(responses[2]["body"]) == ITEM
    assert json.loads(responses[1]["body"]) == {"got": {"body": {"n": 1}}}
    assert not result.closed  # still kept alive after four requests


def test_a_request_split_byte_by_byte_is_answered_once(server: KyoukaiStubServer) -> None:
    data = request("POST", "/orders", [("Content-Type", "application/json")], b'{"sku": "fig"}')
    events: list[tuple[str, Any]] = []
    for byte in data:
        events += [("send", bytes([byte])), ("pause", 0.001)]
    responses = _exchange(server, *events).responses()
    assert len(responses) == 1 and responses[0]["status"] == 200
    assert json.loads(responses[0]["body"]) == {"got": {"body": {"sku": "fig"}}}


def test_a_chunked_request_body_reaches_the_stub_whole(server: KyoukaiStubServer) -> None:
    head = request("POST", "/orders", [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
    result = _exchange(server, ("send", head + b'5\r\n{"sku\r\n'), ("pause", 0.02), ("send", b'9\r\n": "fig"}\r\n0\r\n\r\n'))
    responses = result.responses()
    assert len(responses) == 1 and json.loads(responses[0]["body"]) == {"got": {"body": {"sku": "fig"}}}
    assert not result.closed


@pytest.mark.parametrize("data", [
    pytest.param(b"G ET /items/a HTTP/1.1\r\nHost: x\r\n\r\n", id="space-in-method"),
    pytest.param(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32), id="tls-hello"),
    pytest.param(b"GET /items/a HTTP/9.9\r\nHost: x\r\n\r\n", id="bad-version"),
])
def test_a_malformed_request_is_answered_400_and_closed_without_a_traceback(
    server: KyoukaiStubServer, data: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="rpctest"):
        result = _exchange(server, ("send", data))
    responses = result.responses()
    assert [r["status"] for r in responses] == [400] and result.closed
    assert _header(responses[0], "Connection") == "close" and responses[0]["body"]
    assert [d for d in server.diagnostics if "not HTTP/1.1" in d and "answered 400" in d], server.diagnostics
    assert not [d for d in server.diagnostics if "internal error" in d], server.diagnostics
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert json.loads(_exchange(server, ("send", request("GET", "/items/a"))).responses()[0]["body"]) == ITEM


@pytest.mark.parametrize("split", [False, True], ids=["one-send", "trickled"])
def test_an_oversized_request_head_is_refused_400_and_closed(server: KyoukaiStubServer, split: bool) -> None:
    data = request("GET", "/items/a", [("X-Big", "v" * 70_000)])
    events: list[tuple[str, Any]] = [("send", data)] if not split else [("send", data[:40_000]), ("pause", 0.05), ("send", data[40_000:])]
    result = _exchange(server, *events)
    responses = result.responses()
    assert [r["status"] for r in responses] == [400] and result.closed
    assert not [d for d in server.diagnostics if "internal error" in d], server.diagnostics


def test_a_head_just_under_the_limit_is_answered(server: KyoukaiStubServer) -> None:
    result = _exchange(server, ("send", request("GET", "/items/a", [("X-Big", "v" * 12_000)])))
    assert [r["status"] for r in result.responses()] == [200]


@pytest.mark.parametrize("data", [
    pytest.param(request("GET", "/items/a", [("Connection", "close")]), id="connection-close"),
    pytest.param(b"GET /items/a HTTP/1.0\r\n\r\n", id="http-1.0"),
    pytest.param(b"GET /items/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", id="http-1.0-keep-alive"),
])
def test_the_connection_ends_after_a_request_that_asks_it_to(server: KyoukaiStubServer, data: bytes) -> None:
    result = _exchange(server, ("send", data + request("GET", "/items/b")))
    responses = result.responses()
    assert [r["status"] for r in responses] == [200] and result.closed
    assert _header(responses[0], "Connection") == "close"


def test_head_answers_the_length_without_the_body(server: KyoukaiStubServer) -> None:
    result = _exchange(server, ("send", request("HEAD", "/items/a") + request("GET", "/items/a")))
    received = result.received
    length = len(json.dumps(ITEM))
    assert received.count(b"Content-Length: %d\r\n" % length) == 2
    assert received.count(json.dumps(ITEM).encode()) == 1 and received.endswith(json.dumps(ITEM).encode())


def test_a_request_without_host_is_answered_as_kyoukai_answers_it(server: KyoukaiStubServer) -> None:
    """Kyoukai's backend (httptools) answers an HTTP/1.1 request that has no Host header
    (docs/stacks/kyoukai.md, Wire facts); the stub server does too (h11 refused it with 400)."""
    result = _exchange(server, ("send", b"GET /items/a HTTP/1.1\r\n\r\n"))
    responses = result.responses()
    assert [r["status"] for r in responses] == [200] and json.loads(responses[0]["body"]) == ITEM


def _h11_bytes(status: int, headers: list[tuple[str, str]], content: bytes, *, method: bytes = b"GET", close: bool = False) -> bytes:
    """What h11 writes for the response (the stub server's writer before issue 21)."""
    import h11

    conn = h11.Connection(h11.SERVER)
    conn.receive_data(b"%s / HTTP/1.1\r\nHost: x\r\n%s\r\n" % (method, b"Connection: close\r\n" if close else b""))
    conn.next_event(), conn.next_event()
    data = conn.send(h11.Response(status_code=status, headers=headers))
    if content and method != b"HEAD":
        data += conn.send(h11.Data(data=content))
    return data + conn.send(h11.EndOfMessage())


def test_the_response_bytes_are_what_h11_wrote(server: KyoukaiStubServer) -> None:
    pytest.importorskip("h11")
    item = json.dumps(ITEM).encode()
    server_name = ("Server", "rpctest-kyoukai-stub")
    cases = [
        (request("GET", "/items/a"), _h11_bytes(200, [("Content-Type", "application/json"), server_name, ("Content-Length", str(len(item)))], item)),
        (request("HEAD", "/items/a"), _h11_bytes(200, [("Content-Type", "application/json"), server_name, ("Content-Length", str(len(item)))], item,
                                                 method=b"HEAD")),
        (request("DELETE", "/orders"), _h11_bytes(204, [("Content-Type", "text/plain; charset=utf-8"), server_name], b"")),
        (request("PUT", "/orders"), _h11_bytes(201, [("Content-Type", "text/plain; charset=utf-8"), ("Location", "/orders/1"), server_name,
                                                     ("Content-Length", "4")], b"made")),
        (request("GET", "/items/a", [("Connection", "close")]),
         _h11_bytes(200, [("Content-Type", "application/json"), server_name, ("Content-Length", str(len(item)))], item, close=True)),
    ]
    for data, expected in cases:
        assert _exchange(server, ("send", data), quiet=0.2).received == expected, data


def test_without_httptools_the_stub_server_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from rpctest.exceptions import StackUnavailable

    monkeypatch.setitem(__import__("sys").modules, "httptools", None)  # import httptools raises ImportError
    with pytest.raises(StackUnavailable, match=r"httptools is not importable .*pip install 'rpctest\[kyoukai\]'"):
        KyoukaiStubServer(StubRouter(intercept=False), service="shop")


def test_a_stub_answered_from_its_kept_bytes_still_records_every_call_and_follows_its_handle() -> None:
    """The stub server keeps the bytes of a stub that answers every call alike (issue 21); every call
    is still recorded, and a reply the test sets on the handle later is what the next call gets."""
    router = StubRouter(intercept=False)
    handle = stub_action("shop", "GET /items/<sku>", stack="kyoukai", router=router, body=ITEM).start()
    with serve_stubs(router, service="shop") as running:
        first = [json.loads(r["body"]) for r in _exchange(running, ("send", request("GET", "/items/a") * 2)).responses()]
        handle.return_value = {"sku": "changed"}
        later = json.loads(_exchange(running, ("send", request("GET", "/items/b"))).responses()[0]["body"])
    assert first == [ITEM, ITEM] and later == {"sku": "changed"}
    assert handle.call_count == 3
