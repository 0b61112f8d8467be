"""A Kyoukai stub's ``status=`` and ``headers=`` survive recording (issue 16, item 2.3): the contract
keeps them, ``rpctest serve``'s stub server answers with them, and live verification against the
real app compares the status (and that the recorded headers are there)."""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from rpctest import stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.live import verify_live
from rpctest.contracts.serve import router_from_contracts
from rpctest.stacks.kyoukai.stub_server import serve_stubs
from matcher_helpers import record as record_while
from stack_kyoukai.kyk_apps import make_status_app

BASE = "http://odd.test"


def record(*stubs: stub_action, requests: list[str]) -> fmt.ConsumerContract:
    """What ``pytest --rpctest-record`` writes for ``requests`` (GET paths) made by an httpx client
    of the stubbed service, read back from the file text."""

    def run() -> None:
        with httpx.Client(base_url=BASE, timeout=5) as client:
            for path in requests:
                client.get(path)

    return record_while(*stubs, run=run)


@pytest.fixture
def contract() -> fmt.ConsumerContract:
    return record(
        stub_action("odd", "GET /status/<int:code>", stack="kyoukai", base_url=BASE, status=422, body={"status": 422},
                    headers={"X-Reason": "invalid"}),
        requests=["/status/422"],
    )


def test_status_and_headers_are_recorded(contract: fmt.ConsumerContract) -> None:
    [item] = contract.interactions
    assert item.to_dict()["response"] == {"body": {"status": 422}, "meta": {"headers": {"X-Reason": "invalid"}, "status": 422}}


def test_a_default_status_is_not_recorded() -> None:
    contract = record(stub_action("odd", "GET /status/<int:code>", stack="kyoukai", base_url=BASE, body={"status": 200}),
                      requests=["/status/200"])
    assert contract.interactions[0].to_dict()["response"] == {"body": {"status": 200}}


def test_serve_answers_the_recorded_status_and_headers(contract: fmt.ConsumerContract, odd_app: Any) -> None:
    with serve_stubs(router_from_contracts([contract], "kyoukai")) as server:
        response = httpx.get(f"{server.address}/status/422", timeout=5)
    real = httpx.get(f"{odd_app.address}/status/422", timeout=5)
    assert response.status_code == real.status_code == 422
    assert response.json() == real.json() == {"status": 422}
    assert response.headers["X-Reason"] == "invalid"  # what the consumer's stub added


@pytest.fixture
def odd_app(kyoukai_service: Any) -> Iterator[Any]:
    yield kyoukai_service(make_status_app)


def test_live_verify_passes_an_app_answering_the_recorded_status(contract: fmt.ConsumerContract, odd_app: Any) -> None:
    unheadered = fmt.ConsumerContract("web", "kyoukai", "odd", [
        fmt.RecordedInteraction(item.operation, item.request, body=item.body, meta={"status": 422}) for item in contract.interactions
    ])
    report = verify_live([unheadered], odd_app.send_call)
    assert report.interactions == 1 and report.findings == [], [(f.check, f.expected, f.actual) for f in report.findings]


def test_live_verify_reports_another_status_and_a_missing_header(odd_app: Any) -> None:
    contract = record(
        stub_action("odd", "GET /status/<int:code>", stack="kyoukai", base_url=BASE, status=201, body={"status": 201},
                    headers={"X-Reason": "made"}),
        requests=["/status/200"],
    )
    report = verify_live([contract], odd_app.send_call)
    assert sorted((f.check, f.pointer, f.expected, f.actual) for f in report.findings) == [
        ("live_headers", "/interactions/0/response/meta/headers", "X-Reason", "missing"),
        ("live_status", "/interactions/0/response/meta/status", "201", "200"),
    ]


def test_serve_answers_a_recorded_request_only_to_that_very_request() -> None:
    """Item 2.6: ``GET /status/422?x=1`` is not the recorded ``GET /status/422``; a recorded query
    value from rpctest's own client (an int) is the text the wire carries."""
    contract = fmt.ConsumerContract("web", "kyoukai", "odd", [
        fmt.RecordedInteraction("GET /status/<int:code>", {"path": {"code": "422"}, "query": {"n": 5}}, body={"status": 422}),
    ])
    with serve_stubs(router_from_contracts([contract], "kyoukai")) as server:
        assert httpx.get(f"{server.address}/status/422?n=5", timeout=5).json() == {"status": 422}
        other = httpx.get(f"{server.address}/status/422?n=5&x=1", timeout=5)
        assert other.status_code == 404
        assert "'query.x'='1', which is not in the recorded request" in other.text
        assert "Nearest stub" in "\n".join(server.diagnostics)


def test_the_cli_serves_the_recorded_status_and_live_verifies_it(contract: fmt.ConsumerContract, odd_app: Any, tmp_path: Any, capsys: Any) -> None:
    """``rpctest serve --stack kyoukai FILE`` (another process) answers 422 with the recorded header;
    ``rpctest contracts verify FILE --live --address`` finds the real app's 422 as recorded."""
    from dogfood import serving_contract

    from rpctest.cli import main

    path = fmt.write(contract, tmp_path / "web--kyoukai--odd.json")
    with serving_contract("kyoukai", path) as address:
        response = httpx.get(f"{address}/status/422", timeout=5)
    assert (response.status_code, response.headers.get("X-Reason"), response.json()) == (422, "invalid", {"status": 422})
    code = main(["contracts", "verify", str(path), "--live", "--stack", "kyoukai", "--address", odd_app.address, "--service", "odd"])
    out = capsys.readouterr().out
    # no provider contract: the schema half's one finding; the live half found the recorded status,
    # and the one header the app does not send
    assert "[unknown_service]" in out and "[live_status]" not in out and "[live_unexpected_error]" not in out, out
    assert "[live_headers]" in out and "X-Reason" in out, out


def test_schema_verify_takes_a_recorded_error_status_as_that_error() -> None:
    """A stub answering ``status=422`` with a body is the route's declared 422, not a 2xx body that
    breaks the route's response schema; an undeclared status is the error_code finding."""
    from examples.kyoukai.service import make_app
    from rpctest.contracts.export import export
    from rpctest.contracts.verify import verify

    provider = export("kyoukai", provider=make_app)
    refused = {"body": {"sku": "pear", "quantity": 0}}
    consumer = fmt.ConsumerContract("web", "kyoukai", "shop", [
        fmt.RecordedInteraction("POST /orders", refused, body={"detail": "quantity"}, meta={"status": 422}),
        fmt.RecordedInteraction("POST /orders", refused, body={"detail": "quantity"}, meta={"status": 418}),
    ])
    findings = verify([provider, consumer]).findings
    assert [(f.check, f.interaction, f.pointer) for f in findings] == [("error_code", 1, "/interactions/1/response/meta/status")], [
        f.message for f in findings]
