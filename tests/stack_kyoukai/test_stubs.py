"""Kyoukai consumer stubs: answered at httpx's transport, the HTTP/1.1 stub server for any client."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import httpx
import pytest

from examples.kyoukai.service import make_app
from rpctest import stub_action
from rpctest.contracts import use_providers
from rpctest.contracts.export import export
from rpctest.exceptions import StubUsageError, UnmatchedCall
from rpctest.stubs.router import StubRouter
from rpctest.stacks.kyoukai.stub_server import KyoukaiStubServer

SHOP = "http://shop.test"
ITEM = "GET /items/<string(maxlength=16):sku>"


def _urlopen(url: str, data: bytes | None = None, method: str | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


def test_httpx_client_is_answered_by_the_stub_and_records_the_envelope() -> None:
    with stub_action("shop", ITEM, stack="kyoukai", body={"sku": "pear", "price": 4}) as stub:
        with httpx.Client(base_url=SHOP, timeout=5) as client:
            response = client.get("/items/pear", params={"currency": "EUR"})
    assert (response.status_code, response.json()) == (200, {"sku": "pear", "price": 4})
    assert response.headers["content-type"] == "application/json"
    assert stub.call_body == {"path": {"sku": "pear"}, "query": {"currency": "EUR"}}


def test_async_client_errors_status_and_headers() -> None:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=SHOP, timeout=5) as client:
            return [await client.post("/orders", json={"sku": "x"}), await client.get("/items/kiwi")]

    with stub_action("shop", "POST /orders", stack="kyoukai", status=201, headers={"X-Id": "7"}, body={"id": 7}), \
            stub_action("shop", ITEM, stack="kyoukai", errors={"code": 404, "message": "no kiwi"}):
        created, missing = asyncio.run(run())
    assert (created.status_code, created.headers["x-id"], created.json()) == (201, "7", {"id": 7})
    assert (missing.status_code, missing.text) == (404, "no kiwi")


@pytest.mark.rpctest(strict=False)  # the unmatched requests are the point
def test_match_narrows_and_an_unmatched_request_names_the_nearest_stub() -> None:
    with stub_action("shop", "POST /orders", stack="kyoukai", body={"id": 1}, match={"body": {"sku": "apple"}}):
        with httpx.Client(base_url=SHOP, timeout=5) as client:
            assert client.post("/orders", json={"sku": "apple", "quantity": 1}).json() == {"id": 1}
            with pytest.raises(UnmatchedCall, match="Nearest stub.*POST /orders.*sku"):
                client.post("/orders", json={"sku": "pear", "quantity": 1})
            with pytest.raises(UnmatchedCall, match="GET /nowhere"):
                client.get("/nowhere")


def test_side_effects_a_raising_stub_is_a_500_and_an_httpx_error_propagates() -> None:
    effects = [ValueError("db down"), httpx.ConnectError("refused"), {"id": 3}]
    with stub_action("shop", "POST /orders", stack="kyoukai", side_effect=effects) as stub:
        with httpx.Client(base_url=SHOP, timeout=5) as client:
            failed = client.post("/orders", json={})
            assert (failed.status_code, failed.text) == (500, "ValueError: db down")
            with pytest.raises(httpx.ConnectError):
                client.post("/orders", json={})
            assert client.post("/orders", json={}).json() == {"id": 3}
    assert stub.call_count == 3


@pytest.mark.rpctest(strict=False)  # the second stub cannot be resolved: never called, on purpose
def test_a_stub_may_name_the_endpoint_when_the_contract_is_known() -> None:
    contract = export("kyoukai", provider=make_app)
    with use_providers(contract):
        with stub_action("shop", "get_item", stack="kyoukai", body={"sku": "fig", "price": 9}) as stub:
            with httpx.Client(base_url=SHOP, timeout=5) as client:
                assert client.get("/items/fig").json()["price"] == 9
    assert stub.call_body == {"path": {"sku": "fig"}}
    with stub_action("shop", "get_item", stack="kyoukai", body={}):
        with httpx.Client(base_url=SHOP, timeout=5) as client, pytest.raises(StubUsageError, match="provider contract"):
            client.get("/items/fig")


def test_requests_for_other_services_and_real_apps_pass_through(kyoukai_service: Any) -> None:
    real = kyoukai_service(make_app)
    with stub_action("shop", "GET /orders", stack="kyoukai", body={"orders": ["stubbed"]}, base_url=SHOP):
        with httpx.Client(timeout=5) as client:
            assert client.get(SHOP + "/orders").json() == {"orders": ["stubbed"]}
            assert client.get(real.address + "/orders").json() == {"orders": []}  # the real app


def test_a_users_respx_routes_answer_beside_the_stubs_and_a_reply_stays_fresh() -> None:
    """rpctest answers at httpx's transport; a request for another host reaches the transport that
    was there before, so a user's own respx mock (sync and async) still answers it. Each reply is a
    fresh object: mutating one changes neither the next reply nor the recorded call."""
    respx = pytest.importorskip("respx")

    async def other_async() -> Any:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get("http://weather.test/today")).json()

    with respx.mock(assert_all_called=True) as users:
        today = users.get("http://weather.test/today").respond(json={"sky": "clear"})
        with stub_action("shop", ITEM, stack="kyoukai", body={"sku": "pear", "tags": ["fresh"]}, base_url=SHOP) as stub:
            with httpx.Client(timeout=5) as client:
                first = client.get(SHOP + "/items/pear").json()
                first["tags"].append("mutated")
                assert client.get("http://weather.test/today").json() == {"sky": "clear"}
                assert client.get(SHOP + "/items/pear").json() == {"sku": "pear", "tags": ["fresh"]}
            assert asyncio.run(other_async()) == {"sky": "clear"}
        assert (stub.call_count, today.call_count) == (2, 2)
    assert stub.call_body == {"path": {"sku": "pear"}}


def test_a_stubbed_response_reads_as_a_transports_does_streamed_sized_and_decoded() -> None:
    """The stub answers with a stream whose content is already known: a streaming read, the length
    header and an encoded body the stub declares (httpx decodes it) all behave as over a socket."""
    import gzip

    packed = gzip.compress(b'{"sku": "fig"}')
    with stub_action("shop", ITEM, stack="kyoukai", body={"sku": "pear", "price": 4}), \
            stub_action("shop", "GET /packed", stack="kyoukai", body=packed, headers={"Content-Encoding": "gzip"}):
        with httpx.Client(base_url=SHOP, timeout=5) as client:
            with client.stream("GET", "/items/pear") as streamed:
                chunks = list(streamed.iter_bytes())
                length = streamed.headers["content-length"]
            unpacked = client.get("/packed")
    assert json.loads(b"".join(chunks)) == {"sku": "pear", "price": 4} and int(length) == len(b"".join(chunks))
    assert unpacked.json() == {"sku": "fig"}


def test_stub_server_answers_urllib_with_404_405_and_diagnostics(kyoukai_stub_server: Any) -> None:
    address = kyoukai_stub_server.address
    with stub_action("shop", "POST /orders", stack="kyoukai", body={"id": 5}) as stub:
        status, _headers, body = _urlopen(address + "/orders", json.dumps({"sku": "apple"}).encode(), "POST",
                                          {"Content-Type": "application/json"})
        assert (status, json.loads(body)) == (200, {"id": 5})
        assert stub.call_body == {"body": {"sku": "apple"}}
        status, headers, _ = _urlopen(address + "/orders", method="DELETE")
        assert status == 405 and set(headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
        status, _headers, body = _urlopen(address + "/elsewhere")
        assert status == 404 and b"No stub matches" in body
    assert len(kyoukai_stub_server.diagnostics) == 2
    with stub_action("shop", "GET /orders", stack="kyoukai", body=None):
        assert _urlopen(address + "/orders")[0] == 204


def test_stub_server_keeps_connections_alive_and_stops_cleanly() -> None:
    router = StubRouter(intercept=False)
    server = KyoukaiStubServer(router, service="shop").start()
    try:
        with stub_action("shop", "GET /ping", stack="kyoukai", body="pong", router=router):
            with httpx.Client(base_url=server.address, timeout=5) as client:
                assert [client.get("/ping").text for _ in range(3)] == ["pong"] * 3
            assert server.call("GET /ping").body == "pong"
    finally:
        server.stop()
    assert not server.listening
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.address + "/ping", timeout=2)


def test_bad_stub_arguments_say_what_kyoukai_accepts() -> None:
    with pytest.raises(StubUsageError, match="HTTP status"):
        stub_action("shop", "GET /x", stack="kyoukai", errors="NOPE")
    with pytest.raises(StubUsageError, match="unknown option"):
        stub_action("shop", "GET /x", stack="kyoukai", items=[1])
    with pytest.raises(StubUsageError, match="JSON"):
        stub_action("shop", "GET /x", stack="kyoukai", body={1, 2})


def test_a_call_to_an_endpoint_that_never_answers_ends_within_its_timeout() -> None:
    """A peer that accepts TCP and sends nothing (not a kyoukai server, or a stuck one) never hangs a call."""
    from silent import call_against_silence

    outcome, seconds = call_against_silence("kyoukai", "http://127.0.0.1:{port}", "GET /x", body={})
    assert getattr(outcome, "errors", None) and outcome.errors[0].kind.value == "transport", outcome
    assert seconds < 1.0 + 5  # the call's own 1 s timeout, with a wide margin for a loaded machine: a bound, not a speed


def test_the_stub_server_binds_loopback_only() -> None:
    """A test double on 0.0.0.0 would answer anyone on the network: refused, with the way out named."""
    from silent import assert_stub_server_refuses_public_addresses

    assert_stub_server_refuses_public_addresses("kyoukai")


def test_rpctest_serve_may_serve_other_machines_with_a_warning() -> None:
    from silent import serve_publicly

    first, err = serve_publicly("kyoukai", "contracts/consumers/rpctest-examples--kyoukai--shop.json", "http://0.0.0.0:0")
    assert first.startswith("rpctest serve: kyoukai stub provider at "), (first, err)
    assert "WARNING serving on 0.0.0.0, which is not loopback: other machines can reach this server" in err



@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"[" * 3000 + b"]" * 3000, id="json-nested-3000"),
        pytest.param(b'{"n": ' + b"1" * 5000 + b"}", id="json-integer-of-5000-digits"),
    ],
)
def test_a_json_body_that_cannot_be_read_reaches_the_stub_as_text(content: bytes) -> None:
    """A body the stub server cannot read as JSON is the stub's text, however it fails (issue 15: a
    RecursionError was the stub raising, answered 500), and the server answers the next request."""
    router = StubRouter(intercept=False)
    server = KyoukaiStubServer(router, service="shop").start()
    try:
        with stub_action("shop", "POST /orders", stack="kyoukai", router=router,
                         side_effect=lambda envelope: {"body_type": type(envelope.get("body")).__name__}):
            with httpx.Client(base_url=server.address, timeout=5) as client:
                response = client.post("/orders", content=content, headers={"Content-Type": "application/json"})
                assert (response.status_code, response.json()) == (200, {"body_type": "str"}), response.text
                assert client.post("/orders", json={"sku": "apple"}).json() == {"body_type": "dict"}
    finally:
        server.stop()
    assert not [d for d in server.diagnostics if "raised" in d], server.diagnostics


def test_a_stub_without_a_body_answers_204_with_the_content_type_kyoukai_sends() -> None:
    # found by the differential suite (tests/interop_kyoukai): Kyoukai answers a falsy view result with
    # 204 and Content-Type: text/plain; charset=utf-8 (the golden vector "returns None -> 204")
    from rpctest.model import Reply
    from rpctest.stacks.kyoukai.wire import response_parts

    status, headers, content = response_parts(Reply(body=None))
    assert (status, content) == (204, b"")
    assert ("Content-Type", "text/plain; charset=utf-8") in headers
    _, headers, _ = response_parts(Reply(body=None), headers={"Content-Type": "application/json"})
    assert [value for name, value in headers if name.lower() == "content-type"] == ["application/json"]
