"""rpctest's plain HTTP path on a raw socket (issue 21: it writes requests itself and reads replies
with httptools instead of http.client): the request bytes are http.client's, and the replies it reads
from scripted servers (chunked, HTTP/1.0, ``Connection: close``, HEAD, a body ended by the close,
an interim 100) are the replies httpx reads from the same bytes."""

from __future__ import annotations

import http.client
import socket
import threading
from typing import Iterator

import httpx
import pytest

from rpctest.model import ErrorKind, Reply
from rpctest.stacks.kyoukai.plain_http import PlainHTTP
from rpctest.stacks.kyoukai.host import reply_from_response


class Scripted:
    """A TCP server on 127.0.0.1 that answers each request with the next canned response (and
    closes the connection after it when told), recording the bytes of every request."""

    def __init__(self, responses: list[tuple[bytes, bool]]) -> None:
        self.responses = list(responses)
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.responses:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(5)
                pending = b""
                while self.responses:
                    while b"\r\n\r\n" not in pending:
                        more = conn.recv(65536)
                        if not more:
                            break
                        pending += more
                    if b"\r\n\r\n" not in pending:
                        break
                    head, _, rest = pending.partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
                    while len(rest) < length:
                        rest += conn.recv(65536)
                    self.requests.append(head + b"\r\n\r\n" + rest[:length])
                    pending = rest[length:]
                    data, close = self.responses.pop(0)
                    conn.sendall(data)
                    if close:
                        break

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def scripted() -> Iterator[type[Scripted]]:
    made: list[Scripted] = []

    def make(responses: list[tuple[bytes, bool]]) -> Scripted:
        made.append(Scripted(responses))
        return made[-1]

    yield make  # type: ignore[misc]
    for server in made:
        server.close()


REQUESTS = [
    ("GET", "/items/a b?q=é", {}, None),
    ("POST", "/orders", {"Content-Type": "application/json"}, b'{"sku": "fig"}'),
    ("PUT", "/orders", {}, None),
    ("DELETE", "/orders/1", {"Content-Type": "application/json"}, b"{}"),
    ("HEAD", "/items/a", {}, None),
]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_the_request_bytes_are_what_http_client_writes(scripted: type[Scripted]) -> None:
    from urllib.parse import quote

    headers = {"X-Team": "shop", "Authorization": "Bearer t"}
    ours_server, theirs_server = scripted([(OK, False)] * len(REQUESTS)), scripted([(OK, False)] * len(REQUESTS))
    plain = PlainHTTP(ours_server.address, headers, None)
    try:
        assert all(plain.send(method, target, extra, content, 5.0).ok for method, target, extra, content in REQUESTS)
    finally:
        plain.close()
    connection = http.client.HTTPConnection("127.0.0.1", int(theirs_server.address.rsplit(":", 1)[1]), timeout=5)
    try:
        for method, target, extra, content in REQUESTS:
            connection.request(method, quote(target, safe="!#$%&'()*+,/:;=?@[]~"), body=content, headers={"Accept": "*/*", **headers, **extra})
            connection.getresponse().read()
    finally:
        connection.close()
    def port_free(server: Scripted) -> list[bytes]:  # the two servers listen on different ports
        return [data.replace(b"Host: " + server.address[7:].encode(), b"Host: HOST") for data in server.requests]

    assert port_free(ours_server) == port_free(theirs_server) and len(ours_server.requests) == len(REQUESTS)
    assert all(b"Host: HOST\r\n" in data for data in port_free(ours_server))


@pytest.mark.parametrize("responses, method", [
    pytest.param([(b"HTTP/1.1 200 \r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"4\r\n{\"a\"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n", False)], "GET", id="chunked"),
    pytest.param([(b"HTTP/1.0 500 INTERNAL SERVER ERROR\r\nContent-Length: 4\r\nX-HTTP-Backend: httptools\r\n\r\nboom\n", True)], "GET",
                 id="http-1.0-with-a-stray-byte"),
    pytest.param([(b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nno such item", True)], "GET",
                 id="body-until-close"),
    pytest.param([(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n", False)], "HEAD", id="head"),
    pytest.param([(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}", False)], "POST", id="interim-100"),
    pytest.param([(b"HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\n\r\n", False)], "DELETE", id="no-content"),
])
def test_each_reply_is_the_reply_httpx_reads_from_the_same_bytes(scripted: type[Scripted], responses: list[tuple[bytes, bool]], method: str) -> None:
    ours_server, httpx_server = scripted(responses), scripted(responses)
    plain = PlainHTTP(ours_server.address, {}, None)
    try:
        ours = plain.send(method, "/x", {}, None, 5.0)
    finally:
        plain.close()
    with httpx.Client(base_url=httpx_server.address, timeout=5) as client:
        theirs: Reply = reply_from_response(client.request(method, "/x"))
    assert (ours.body, ours.errors) == (theirs.body, theirs.errors)
    for key in ("status", "reason", "http_version"):
        assert ours.meta[key] == theirs.meta[key], key
    assert [(k.lower(), v) for k, v in ours.meta["headers"]] == [(k.lower(), v) for k, v in theirs.meta["headers"]]


def test_a_closed_reply_connection_is_opened_again_for_the_next_request(scripted: type[Scripted]) -> None:
    server = scripted([(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na", True), (OK, False), (OK, False)])
    plain = PlainHTTP(server.address, {}, None)
    try:
        bodies = [plain.send("GET", "/x", {}, None, 5.0).body for _ in range(3)]
    finally:
        plain.close()
    assert bodies == ["a", "ok", "ok"] and server.connections == 2


@pytest.mark.parametrize("response", [
    pytest.param(b"", id="closed-without-a-reply"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", id="closed-mid-body"),
    pytest.param(b"NOT HTTP AT ALL\r\n\r\n", id="not-http"),
])
def test_a_broken_reply_is_a_transport_error_and_the_next_call_connects_again(scripted: type[Scripted], response: bytes) -> None:
    server = scripted([(response, True), (OK, False)])
    plain = PlainHTTP(server.address, {}, None)
    try:
        broken = plain.send("GET", "/x", {}, None, 5.0)
        assert broken.errors and broken.errors[0].kind is ErrorKind.TRANSPORT, broken
        assert plain.send("GET", "/x", {}, None, 5.0).body == "ok"
    finally:
        plain.close()
