"""The fuzzer's in-thread path writes each request itself (no httpx request and response objects,
no h11 per request) and reads the reply with :mod:`.plain_http`'s reader: the app's protocol must
get the very bytes the httpx path gave it (URL encoding, query string, body, header order), and the
reply must be the same neutral reply."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpctest.stacks.kyoukai import serve
from rpctest.stacks.kyoukai.host import reply_from_response
from rpctest.stacks.kyoukai.transport import InlineSender, MemoryConnection, inline_request_bytes, serialize_request
from stack_kyoukai.kyk_apps import make_status_app, make_vec_app

pytestmark = pytest.mark.filterwarnings("ignore:Explicitly passing the parent context:DeprecationWarning")

JSON = {"Content-Type": "application/json"}
#: (method, target, headers, content): what wire.request_parts gives, and targets httpx re-encodes
REQUESTS: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("GET", "/items/5?q=x", {}, None),
    ("GET", "/items/5?q=%C3%A9+x&r=%2F&s=a.b", {}, None),
    ("GET", "/items/a b?q=é", {}, None),  # httpx percent-encodes these
    ("GET", "/items/./5/../6", {}, None),  # and removes dot segments
    ("GET", "/none", {}, None),
    ("HEAD", "/text", {}, None),
    ("POST", "/echo", JSON, b'{"a": [1, 2]}'),
    ("POST", "/echo", {}, None),  # Content-Length: 0, as httpx sends for a POST without a body
    ("POST", "/echo", JSON, b""),
    ("GET", "/nope", {}, None),
    ("DELETE", "/text", {}, None),
    ("GET", "/boom", {}, None),  # Kyoukai's canned HTTP/1.0 500
    ("GET", "/api/v1/things/x", {}, None),
]


def _httpx_bytes(method: str, target: str, headers: dict[str, str], content: bytes | None) -> bytes:
    """What the httpx path (InlineSender.request) writes for these parts."""
    request = httpx.Request(method, "http://app" + target, content=content, headers=headers)
    return serialize_request(method.encode("ascii"), request.url.raw_path, list(request.headers.raw), request.read())[0]


@pytest.mark.parametrize("method,target,headers,content", REQUESTS)
def test_the_request_bytes_are_httpx_bytes(method: str, target: str, headers: dict[str, str], content: bytes | None) -> None:
    assert inline_request_bytes(method, target, headers, content) == _httpx_bytes(method, target, headers, content)


@settings(max_examples=300, database=None, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]),
    path=st.text(alphabet="/.?%aZ09-_~!$&'()*+,;=:@ é\"<>{}|^`", max_size=16),
    body=st.none() | st.binary(max_size=8),
    typed=st.booleans(),
)
def test_any_target_is_written_as_httpx_writes_it(method: str, path: str, body: bytes | None, typed: bool) -> None:
    headers = dict(JSON) if typed else {}
    assert inline_request_bytes(method, "/" + path, headers, body) == _httpx_bytes(method, "/" + path, headers, body)


@pytest.mark.parametrize("headers", [{"X-A": "é"}, {"X-A": "a\x00b"}, {"X-A": " a"}, {"X A": "1"}, {"X-A": "a\r\nX-B: b"}])
def test_a_header_httpx_cannot_send_is_refused_as_it_was(headers: dict[str, str]) -> None:
    with pytest.raises(Exception):  # the httpx path: a UnicodeEncodeError, or h11's LocalProtocolError
        _httpx_bytes("GET", "/items/5", headers, None)
    with pytest.raises(ValueError, match="cannot be sent"):
        inline_request_bytes("GET", "/items/5", headers, None)


@settings(max_examples=300, database=None, deadline=None)
@given(value=st.text(alphabet="aZ09 \t-;=\"\x7f\x01\x00\x0b\x1fé\r\n", max_size=6))
def test_a_header_value_is_sent_where_httpx_sends_it(value: str) -> None:
    try:
        expected = _httpx_bytes("GET", "/items/5", {"X-A": value}, None)
    except Exception:  # noqa: BLE001 - httpx or h11 refuses it: so does the sender
        with pytest.raises(ValueError):
            inline_request_bytes("GET", "/items/5", {"X-A": value}, None)
    else:
        assert inline_request_bytes("GET", "/items/5", {"X-A": value}, None) == expected


def test_the_same_case_reaches_the_protocol_as_the_same_bytes_and_gets_the_same_reply(monkeypatch: Any) -> None:
    fed: list[bytes] = []
    original = MemoryConnection.send

    async def recording(self: MemoryConnection, data: bytes, **kwargs: Any) -> None:
        fed.append(bytes(data))
        await original(self, data, **kwargs)

    monkeypatch.setattr(MemoryConnection, "send", recording)
    with serve(make_vec_app, transport="local") as hosted:
        sender = InlineSender(getattr(hosted, "app"), timeout=5)  # the local transport's app
        try:
            for method, target, headers, content in REQUESTS:
                old = reply_from_response(sender.request(method, target, content=content, headers=headers, timeout=5))
                new = sender.send(method, target, headers, content, 5)
                assert fed[-1] == fed[-2], (method, target)
                assert (new.body, new.errors, new.meta) == (old.body, old.errors, old.meta), (method, target)
        finally:
            sender.close()
    assert len(fed) == 2 * len(REQUESTS)


def test_a_case_the_app_does_not_answer_in_time_is_a_transport_error_as_before() -> None:
    with serve(make_status_app, transport="local") as hosted:
        sender = InlineSender(getattr(hosted, "app"), timeout=5)  # the local transport's app
        try:
            new = sender.send("GET", "/slow?s=5", {}, None, 0.2)
            with pytest.raises(httpx.ReadTimeout):
                sender.request("GET", "/slow?s=5", timeout=0.2)
        finally:
            sender.close()
    assert new.errors and new.errors[0].code == "TRANSPORT"
    assert new.errors[0].message == "no reply to GET /slow?s=5 within 0.2s"
