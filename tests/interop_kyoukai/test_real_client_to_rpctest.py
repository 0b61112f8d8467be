"""Direction B: a consumer's tests stub the library (rpctest's Kyoukai stub server, called over real
HTTP with httpx), run with ``pytest --rpctest-record``; ``rpctest serve`` answers from the recorded
contract in another process; httpx sends each request to it and to the real Kyoukai app hosting
:mod:`kyk_services`, and must get the same status, body and headers. The recording is then verified
live against the real app (``rpctest contracts verify --live --address``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from interop_helpers import record_consumer, rpctest_serve, tally
from interop_kyoukai.kyk_services import SHELF_STORE
from rpctest.cli import main

#: the consumer's tests: each stub answers what the real library answers (kyk_services.make_library)
CONSUMER_TESTS = '''
import httpx
from rpctest import stub_action

DUNE = {"id": 1, "title": "Dune", "year": 1965}
EMMA = {"id": 2, "title": "Emma", "year": 1815}


def _get(server, target, **options):
    with httpx.Client(base_url=server.address, timeout=5.0) as client:
        return client.request(options.pop("method", "GET"), target, **options)


def test_books(kyoukai_stub_server):
    with stub_action("library", "GET /books/1", stack="kyoukai", body=DUNE):
        assert _get(kyoukai_stub_server, "/books/1").json() == DUNE
    with stub_action("library", "GET /books/99", stack="kyoukai", errors=404):
        assert _get(kyoukai_stub_server, "/books/99").status_code == 404
    with stub_action("library", "GET /books", stack="kyoukai", body={"books": [DUNE, EMMA], "filters": {"year": ["1965", "1815"]}}):
        assert len(_get(kyoukai_stub_server, "/books?year=1965&year=1815").json()["books"]) == 2
    with stub_action("library", "GET /tags/old", stack="kyoukai", body={"kind": "old", "ids": [2]}):
        assert _get(kyoukai_stub_server, "/tags/old").json()["ids"] == [2]
    with stub_action("library", "GET /health", stack="kyoukai", body={"ok": True, "args": ["c"]}):
        assert _get(kyoukai_stub_server, "/health?c=0&c=0").json()["ok"] is True
    with stub_action("library", "DELETE /books/1", stack="kyoukai", body=None):
        assert _get(kyoukai_stub_server, "/books/1", method="DELETE").status_code == 204


def test_statuses(kyoukai_stub_server):
    ubik = {"id": 3, "title": "Ubik", "year": 1969}
    with stub_action("library", "POST /books", stack="kyoukai", status=201, headers={"Location": "/books/3"}, body=ubik):
        created = _get(kyoukai_stub_server, "/books", method="POST", json={"title": "Ubik", "year": 1969})
        assert created.status_code == 201 and created.headers["location"] == "/books/3"
    with stub_action("library", "PUT /books/2", stack="kyoukai", status=422, body={"error": "the body is {year: 1450 to 2100}"}):
        assert _get(kyoukai_stub_server, "/books/2", method="PUT", json={"year": 99}).status_code == 422
'''

#: (method, target, JSON body): the requests the consumer made, and one nobody recorded
PLAIN = [
    ("GET", "/books/1", None),
    ("GET", "/books/99", None),
    ("GET", "/books?year=1965&year=1815", None),
    ("GET", "/tags/old", None),
    ("GET", "/health?c=0&c=0", None),
    ("DELETE", "/books/1", None),
    ("GET", "/books/7", None),  # not recorded: the stub server's 404, the real app's own 404
]
STATUSES = [
    ("POST", "/books", {"title": "Ubik", "year": 1969}),
    ("PUT", "/books/2", {"year": 99}),
]
HEADERS = ("content-type", "location")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The consumer's contract directory, recorded by a pytest run of CONSUMER_TESTS in a child process."""
    return record_consumer(tmp_path_factory.mktemp("consumer"), CONSUMER_TESTS)


@pytest.fixture(scope="module")
def library() -> Any:
    from rpctest.stacks.kyoukai import serve

    with serve("interop_kyoukai.kyk_services:make_library") as service:
        yield service


def _answer(address: str, method: str, target: str, body: Any) -> tuple[int, dict[str, str], Any]:
    """Status, the compared headers and the body (JSON decoded; for an error, only the status: Kyoukai's
    page is werkzeug's HTML, the stub's the message as text, and neither is what a client reads)."""
    import httpx

    with httpx.Client(base_url=address, timeout=5.0) as client:
        response = client.request(method, target, json=body) if body is not None else client.request(method, target)
    if response.status_code >= 400 and not response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, {}, None
    headers = {name: response.headers[name] for name in HEADERS if name in response.headers}
    content = response.json() if response.headers.get("content-type", "").startswith("application/json") else response.text
    return response.status_code, headers, content


def _compare(cases: list[tuple[str, str, Any]], served: str, real: str) -> list[Any]:
    differed = []
    for method, target, body in cases:
        SHELF_STORE.reset()
        want, got = _answer(real, method, target, body), _answer(served, method, target, body)
        if want != got:
            differed.append((method, target, want, got))
    return differed


def test_httpx_gets_from_rpctest_serve_what_the_real_app_answers(recorded: Path, library: Any) -> None:
    with rpctest_serve(recorded, "kyoukai") as served:
        differed = _compare(PLAIN, served, library.address)
    tally("kyoukai", "B (httpx: rpctest serve vs real app, plain replies)", len(PLAIN), len(differed))
    assert not differed, differed


def test_statuses_and_headers_survive_the_recording(recorded: Path, library: Any) -> None:
    with rpctest_serve(recorded, "kyoukai") as served:
        differed = _compare(STATUSES, served, library.address)
    tally("kyoukai", "B (httpx: rpctest serve vs real app, statuses and headers)", len(STATUSES), len(differed))
    assert not differed, differed


def test_the_recorded_contract_verifies_live_against_the_real_app(recorded: Path, library: Any, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    chosen = tmp_path / "verify"
    chosen.mkdir()
    for path in recorded.rglob("*.json"):
        data = json.loads(path.read_text())
        data["interactions"] = [item for item in data["interactions"] if any(test.endswith("test_books") for test in item["tests"])]
        (chosen / path.name).write_text(json.dumps(data))
    assert main(["contracts", "export", "--stack", "kyoukai", "--provider", "interop_kyoukai.kyk_services:make_library",
                 "-o", str(chosen / "provider-library.json")]) == 0
    capsys.readouterr()
    code = main(["contracts", "verify", str(chosen), "--live", "--stack", "kyoukai", "--address", library.address, "--service", "library",
                 "--setup", "interop_kyoukai.kyk_services:reset_shelf"])
    output = capsys.readouterr()
    found = re.search(r"in (\d+) interaction", output.out + output.err)
    tally("kyoukai", "A (verify --live --address)", int(found.group(1)) if found else 0, 0 if code == 0 else 1)
    assert code == 0, output.out + output.err
