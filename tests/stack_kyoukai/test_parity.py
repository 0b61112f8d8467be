"""The socket and the local transport answer the same request with the same bytes.

Both run Kyoukai's real httptools protocol, so for the same request bytes the status line, every
header (in order) and the body are identical; nothing needs masking: Kyoukai sends no Date header,
its Server/X-Powered-By are constant, and the Allow header's order comes from a set that is the same
object on both sides (it varies only *between* processes). How the connection ended must agree
too. The requests cover success, 204, HEAD, OPTIONS, the 307 slash redirect, 404, 405, converter
rejections, abort, BadRequest, BadRequestKeyError, unhandled exceptions, error handlers keeping or
changing the code, the backend's parser errors, gzip/deflate bodies, the case-sensitive header
quirk, keep-alive after the canned 500, and pipelining.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import httpx
import pytest

from rpctest.stacks.kyoukai import LocalTransport, serve_async
from rpctest.stacks.kyoukai.transport import Endpoint
from stack_kyoukai.kyk_apps import make_vec_app
from stack_kyoukai.kyk_wire import memory_exchange, request, socket_exchange

pytestmark = pytest.mark.filterwarnings("ignore:Explicitly passing the parent context:DeprecationWarning")

JSON = [("Content-Type", "application/json")]
FORM = [("Content-Type", "application/x-www-form-urlencoded")]

CASES: dict[str, list[tuple[str, Any]]] = {
    "get-json": [("send", request("GET", "/items/5?q=x"))],
    "get-text": [("send", request("GET", "/text"))],
    "none-204": [("send", request("GET", "/none"))],
    "dict-repr": [("send", request("GET", "/dict"))],
    "tuple-201": [("send", request("GET", "/tuple"))],
    "blueprint": [("send", request("GET", "/api/v1/things/7"))],
    "blueprint-delete": [("send", request("DELETE", "/api/v1/things/7"))],
    "echo-json": [("send", request("POST", "/echo", JSON, b'{"a": [1, 2]}'))],
    "echo-empty": [("send", request("POST", "/echo", JSON))],
    "echo-not-json": [("send", request("POST", "/echo", JSON, b"nope"))],
    "echo-gzip": [("send", request("POST", "/echo", JSON + [("Content-Encoding", "gzip")], gzip.compress(b'{"z": 1}')))],
    "echo-bad-deflate": [("send", request("POST", "/echo", JSON + [("Content-Encoding", "deflate")], b"not deflate"))],
    "echo-bad-gzip": [("send", request("POST", "/echo", JSON + [("Content-Encoding", "gzip")], b"not gzip"))],
    # Kyoukai's deflate decoding calls decompressobj with compressobj's arguments: even a valid
    # deflate body is a TypeError, the canned 500 and a close (on both transports)
    "echo-deflate": [
        ("send", request("POST", "/echo", JSON + [("Content-Encoding", "deflate")], zlib.compress(b'{"d": 2}')[2:-4]))
    ],
    "echo-chunked": [
        ("send", request("POST", "/echo", JSON + [("Transfer-Encoding", "chunked")], b"7\r\n{\"c\": 3\r\n1\r\n}\r\n0\r\n\r\n"))
    ],
    "lowercase-content-type": [("send", request("POST", "/formkey", [("content-type", "application/x-www-form-urlencoded")], b"a=1"))],
    "form-key-400": [("send", request("POST", "/formkey", FORM, b"a=1"))],
    "head": [("send", request("HEAD", "/items/5"))],
    "options": [("send", request("OPTIONS", "/items/5"))],
    "options-post-route": [("send", request("OPTIONS", "/echo"))],
    "slash-redirect": [("send", request("GET", "/dir"))],
    "slash-redirect-no-host": [("send", b"GET /dir HTTP/1.1\r\n\r\n")],
    "not-found": [("send", request("GET", "/nothere"))],
    "method-not-allowed": [("send", request("DELETE", "/items/5"))],
    "converter-reject": [("send", request("GET", "/items/abc"))],
    "percent-encoded-path": [("send", request("GET", "/items/%35"))],
    "abort-418": [("send", request("GET", "/teapot"))],
    "auth-401": [("send", request("GET", "/secure"))],
    "auth-ok": [("send", request("GET", "/secure", [("X-Token", "t0k")]))],
    "unhandled": [("send", request("GET", "/boom"))],
    "handler-same-code": [("send", request("GET", "/api/v1/bperr"))],
    "handler-changes-code": [("send", request("GET", "/svc/boom"))],
    "http-1.0": [("send", b"GET /text HTTP/1.0\r\n\r\n")],
    "garbage-line": [("send", b"HELLO\r\n\r\n")],
    "bad-content-length": [("send", request("POST", "/echo", JSON + [("Content-Length", "abc")], b"{}"))],
    "unknown-method": [("send", b"BREW /items/5 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")],
    "keepalive-after-canned-500": [
        ("send", request("GET", "/boom")),
        ("pause", 0.2),
        ("send", request("GET", "/text")),
    ],
    "pipelined": [("send", request("GET", "/text") + request("GET", "/items/9"))],
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", list(CASES))
async def test_socket_and_local_transport_write_the_same_bytes(case: str) -> None:
    events = CASES[case]
    async with serve_async(make_vec_app) as service:
        over_socket = await socket_exchange(service.port, events, quiet=0.25)
        endpoint = Endpoint(service.app)
        in_memory = await memory_exchange(endpoint, events)
    assert over_socket.received, f"{case}: the server wrote nothing"
    assert in_memory.received == over_socket.received
    assert in_memory.closed is over_socket.closed


# -- through httpx: the same request from an httpx client over each transport --------------------------

HTTPX_CASES = [
    ("GET", "/items/5?q=x", None, {}),
    ("POST", "/echo", b'{"k": "v"}', {"Content-Type": "application/json"}),
    ("GET", "/none", None, {}),
    ("GET", "/tuple", None, {}),
    ("HEAD", "/items/5", None, {}),
    ("OPTIONS", "/items/5", None, {}),
    ("GET", "/dir", None, {}),
    ("GET", "/nothere", None, {}),
    ("DELETE", "/items/5", None, {}),
    ("GET", "/teapot", None, {}),
    ("GET", "/boom", None, {}),
    ("GET", "/api/v1/bperr", None, {}),
    ("GET", "/svc/boom", None, {}),
    ("GET", "/secure", None, {"X-Token": "t0k"}),
]


def _view(response: httpx.Response) -> tuple[Any, ...]:
    return (
        response.status_code,
        response.extensions["http_version"],
        response.extensions["reason_phrase"],
        list(response.headers.raw),
        response.content,
    )


@pytest.mark.asyncio
async def test_httpx_over_the_socket_and_over_local_transport_see_the_same_responses() -> None:
    seen = {}
    async with serve_async(make_vec_app) as service:
        local = httpx.AsyncClient(transport=LocalTransport(service.app), base_url="http://app")
        async with local:
            for method, path, body, headers in HTTPX_CASES:
                # the same Host on both sides: a redirect's Location is built from it
                sent = {"Host": "127.0.0.1", **headers}
                over_socket = await service.client.request(method, path, content=body, headers=sent)
                in_memory = await local.request(method, path, content=body, headers=sent)
                assert _view(in_memory) == _view(over_socket), f"{method} {path}"
                seen[method, path] = _view(in_memory)
    # what both transports show: the post1 bug turns a 404 route into the canned HTTP/1.0 500 ...
    assert seen["GET", "/nothere"][:3] == (500, b"HTTP/1.0", b"INTERNAL SERVER ERROR")
    # ... while a redirect, OPTIONS and a handler changing the code come through
    assert seen["GET", "/dir"][0] == 307 and (b"Location", b"http://127.0.0.1/dir/") in seen["GET", "/dir"][3]
    assert seen["OPTIONS", "/items/5"][0] == 204 and seen["GET", "/svc/boom"][0] == 503
    assert seen["HEAD", "/items/5"][4] == b"" and (b"Content-Length", b"20") in seen["HEAD", "/items/5"][3]


@pytest.mark.asyncio
async def test_local_transport_marks_the_canned_500_and_the_server_close() -> None:
    async with httpx.AsyncClient(transport=LocalTransport(make_vec_app()), base_url="http://app") as client:
        missing = await client.get("/nothere")
        teapot = await client.get("/teapot")
        fine = await client.get("/items/3")
    assert (missing.status_code, missing.extensions["http_version"]) == (500, b"HTTP/1.0")
    assert missing.extensions["rpctest_server_closed"] is True  # routing errors: canned page, then close
    assert teapot.extensions["rpctest_server_closed"] is False  # view errors: canned page, connection kept
    assert len(missing.content) == 310 and missing.extensions["rpctest_raw"].endswith(b"tracker.</a>\r")
    assert fine.json() == {"id": 3, "q": None} and fine.headers["server"] == "Kyoukai/2.2.1.post1"


INLINE_REQUESTS = [("GET", "/items/5?q=x", None), ("GET", "/none", None), ("POST", "/echo", b'{"a": [1, 2]}'), ("GET", "/nope", None),
                   ("DELETE", "/text", None), ("GET", "/boom", None)]


def test_the_in_thread_sender_answers_what_the_hosted_client_answers() -> None:
    """The fuzzer's path (a private loop in the calling thread, no thread hop) and the hosted client's
    (the service's own loop, through httpx.Client) get the same status, headers and body."""
    from rpctest.stacks.kyoukai import serve
    from rpctest.stacks.kyoukai.transport import InlineSender

    with serve(make_vec_app, transport="local") as hosted:
        sender = InlineSender(hosted.app, timeout=5)
        try:
            for method, target, content in INLINE_REQUESTS:
                headers = {"Content-Type": "application/json"} if content else {}
                inline = sender.request(method, target, content=content, headers=headers, timeout=5)
                hop = hosted.client.request(method, target, content=content, headers=headers)
                assert (inline.status_code, inline.headers.multi_items(), inline.content) == (
                    hop.status_code, hop.headers.multi_items(), hop.content), (method, target)
            assert hosted._sender() is hosted._inline_sender  # send_call takes it from a thread without a loop
        finally:
            sender.close()
