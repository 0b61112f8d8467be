"""Kyoukai route contracts: the route table and declared schemas, OpenAPI 3.1, verify, serve, fuzz."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from dogfood import assert_consumer_current, assert_provider_current, serving_contract

from examples.kyoukai.consumer import ShopClient, latest_order_count
from examples.kyoukai.service import ORDERS, make_app, make_legacy_app
from rpctest.cli import main
from rpctest.contracts.export import export
from rpctest.contracts.format import ConsumerContract, RecordedInteraction
from rpctest.contracts.verify import verify
from rpctest.exceptions import ConfigError
from rpctest.fuzz.engine import fuzz
from rpctest.fuzz.target import open_target
from rpctest.model import ErrorKind, RpcError
from rpctest.stacks.kyoukai.schema import export_app
from stack_kyoukai.kyk_apps import make_vec_app

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
CONSUMER = CONTRACTS / "consumers/rpctest-examples--kyoukai--shop.json"
PROVIDER = CONTRACTS / "providers/kyoukai--shop.json"
ITEM = "GET /items/<string(maxlength=16):sku>"


@pytest.fixture(autouse=True)
def _orders() -> Any:
    ORDERS.reset()
    yield
    ORDERS.reset()


def test_the_route_table_of_the_vectors_app() -> None:
    """Every werkzeug rule with blueprint prefixes, methods (less HEAD/OPTIONS), endpoints, converters."""
    exported = export_app(make_vec_app)
    ops = exported["operations"]
    assert exported["service"] == "vec"
    assert ops["GET /items/<int:item_id>"]["route"] == {
        "method": "GET", "path": "/items/<int:item_id>", "endpoint": "vec.get_item", "params": {"item_id": {"converter": "int"}},
    }
    assert ops["GET /items/<int:item_id>"]["request"]["properties"]["path"]["properties"]["item_id"]["pattern"] == "^[0-9]+$"
    assert "POST /echo" in ops and "GET /echo" not in ops
    assert any(name.startswith("GET /api/v1/") for name in ops), sorted(ops)
    assert all("HEAD " not in name and "OPTIONS " not in name for name in ops)
    assert ops["POST /echo"]["notes"][0]["note"].startswith("no route_schema declared")


def test_declared_schemas_and_the_schemas_mapping() -> None:
    ops = export_app(make_app)["operations"]
    order = ops["POST /orders"]
    assert order["request"]["required"] == ["body"] and order["errors"] == [400, 422]
    assert order["route"]["invalid_status"] == [400, 422] and order["route"]["status"] == 201
    assert order["description"] == "Order a quantity of one item."
    override = export_app(make_app, schemas={"list_orders": {"response": {"type": "object"}, "errors": (503,)}})
    assert override["operations"]["GET /orders"]["response"] == {"type": "object"}
    assert override["operations"]["GET /orders"]["errors"] == [400, 503]  # merged over the decorator (invalid=400)
    with pytest.raises(ConfigError, match="no route of the app.*shop.get_item"):
        export_app(make_app, schemas={"nope": {}})


def test_openapi_31_document(tmp_path: Path) -> None:
    output = tmp_path / "shop.openapi.json"
    assert main(["contracts", "export", "--stack", "kyoukai", "--provider", "examples.kyoukai.service:make_app",
                 "--format", "openapi", "-o", str(output)]) == 0
    doc = json.loads(output.read_text())
    assert doc["openapi"] == "3.1.0" and doc["info"]["title"] == "shop"
    item = doc["paths"]["/items/{sku}"]["get"]
    assert item["operationId"] == "shop.get_item"
    assert item["parameters"][0] | {"schema": None} == {"name": "sku", "in": "path", "required": True, "schema": None}
    assert set(item["responses"]) == {"200", "404"}
    create = doc["paths"]["/orders"]["post"]
    assert create["requestBody"]["required"] is True and "201" in create["responses"]
    assert doc["paths"]["/orders"]["get"]["parameters"] == [
        {"name": "limit", "in": "query", "required": False, "schema": {"type": "string", "pattern": "^[0-9]{1,3}$"}}
    ]
    import jsonschema

    for path in doc["paths"].values():
        for operation in path.values():
            for response in operation["responses"].values():
                for content in response.get("content", {}).values():
                    jsonschema.Draft202012Validator.check_schema(content["schema"])
    assert main(["contracts", "export", "--stack", "pykern", "--provider", "x:y", "--format", "openapi"]) == 2


def test_dogfood_provider_contract_is_current(tmp_path: Path) -> None:
    assert_provider_current("kyoukai", "examples.kyoukai.service:make_app", PROVIDER, tmp_path)


def test_dogfood_consumer_contract_is_current(tmp_path: Path) -> None:
    assert_consumer_current("examples/kyoukai/test_consumer.py", CONSUMER, tmp_path)


def test_verify_resolves_concrete_paths_and_checks_the_envelope() -> None:
    provider = export("kyoukai", provider=make_app)
    consumer = ConsumerContract("app", "kyoukai", "shop", [
        RecordedInteraction("GET /items/apple", None, body={"sku": "apple", "price": 3}),
        RecordedInteraction("POST /orders", {"body": {"sku": "apple", "quantity": "two"}}, body={"id": 1, "sku": "apple", "quantity": 2, "total": 6}),
        RecordedInteraction("GET /items/apple", None, errors=[RpcError(409, kind=ErrorKind.CALLER_ERROR)]),
        RecordedInteraction("PUT /orders", {}, body={}),
    ])
    findings = verify([provider, consumer]).findings
    assert [(f.check, f.interaction) for f in findings] == [
        ("request_schema", 1), ("error_code", 2), ("unknown_operation", 3),
    ], [f.message for f in findings]


@pytest.mark.parametrize("target", ["provider", "address"])
def test_live_verify(target: str, kyoukai_service: Any, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--provider", "examples.kyoukai.service:make_app"] if target == "provider" else [
        "--address", kyoukai_service(make_app).address, "--service", "shop"]
    assert main(["contracts", "verify", str(CONSUMER), str(PROVIDER), "--live", "--stack", "kyoukai", *where]) == 0
    assert "0 finding(s) in 5 interaction(s)" in capsys.readouterr().out


def test_rpctest_serve_answers_from_the_consumer_contract() -> None:
    """``rpctest serve --stack kyoukai``: the recorded answers over HTTP, from another process."""
    with serving_contract("kyoukai", CONSUMER) as address:
        assert address.startswith("http://127.0.0.1:")
        assert latest_order_count(address, limit=5) == 1
        client = ShopClient(address)
        try:
            assert client.price("apple") == 3
            assert client.price("kiwi") is None
            assert client.order("pear", 2) == "order 7: 2 x pear = 8"
            assert client.order("pear", 0) == "rejected: quantity is an integer from 1 to 100"
        finally:
            client.close()


def test_fuzz_passes_the_shop_and_reports_the_post1_bug_on_the_legacy_app(tmp_path: Path) -> None:
    from hypothesis import settings

    with open_target("kyoukai", provider=make_app) as target:
        report = fuzz(target, max_examples=30, seed=0, settings=settings(database=None), replay_dir=tmp_path)
    assert report.ok, report.render()
    assert {r.operation for r in report.results} >= {ITEM, "POST /orders", "DELETE /orders", "rpctest_no_such_operation"}
    with open_target("kyoukai", provider=make_legacy_app) as target:
        report = fuzz(target, max_examples=30, seed=0, settings=settings(database=None), replay_dir=tmp_path)
    failures = [r.failure for r in report.results if r.failure is not None]
    assert len(failures) == 3  # the view's abort(404), the unknown path, the wrong method
    for failure in failures:
        error = failure.reply.errors[0]
        assert (error.code, error.details["critical_page"]) == (500, True)
        assert failure.reply.meta["http_version"] == "HTTP/1.0"
        assert failure.replay_file is not None and failure.replay_file.exists()
    assert main(["replay", str(failures[0].replay_file)]) == 1  # the reproducer still reproduces it


def test_cli_replay_prints_its_verdict_not_kyoukais_tracebacks(tmp_path: Path) -> None:
    """Kyoukai logs a traceback for every canned 500; `rpctest replay` reports the verdict alone."""
    import subprocess
    import sys

    from hypothesis import settings

    with open_target("kyoukai", provider=make_legacy_app) as target:
        report = fuzz(target, max_examples=5, seed=0, settings=settings(database=None), replay_dir=tmp_path)
    replay_file = next(r.failure.replay_file for r in report.results if r.failure is not None)
    rpctest = Path(sys.executable).parent / "rpctest"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([str(rpctest), "replay", str(replay_file)], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(root), "RPCTEST_STATE_DIR": str(tmp_path / ".rpctest")})
    assert done.returncode == 1 and done.stdout.startswith("STILL FAILING: "), done
    # Kyoukai's tracebacks are in the run's log file; stderr only says where
    [log] = (tmp_path / ".rpctest" / "logs").glob("replay-*.log")
    assert done.stderr.splitlines() == [f"rpctest: the stack's own logs ({len(log.read_text().splitlines())} line(s)) are in "
                                        f"{log.relative_to(tmp_path)}; -v shows them live"], done.stderr
    assert "Error in Kyoukai request handling!" in log.read_text() and "Traceback" in log.read_text()


def test_cli_fuzz_against_a_running_endpoint(kyoukai_service: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    legacy = kyoukai_service(make_legacy_app)
    contract = tmp_path / "legacy.json"
    assert main(["contracts", "export", "--stack", "kyoukai", "--provider", "examples.kyoukai.service:make_legacy_app", "-o", str(contract)]) == 0
    code = main(["fuzz", "--stack", "kyoukai", "--address", legacy.address, "--contract", str(contract), "--max-examples", "10",
                 "--seed", "0", "--replay-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "2.2.1.post1 error-handler bug" in out
    assert main(["fuzz", "--stack", "kyoukai", "--address", legacy.address]) == 2  # no contract, no introspection


def _no_schema_app(loop: Any) -> Any:
    from rpctest.stacks.kyoukai import require_kyoukai

    app = require_kyoukai().Kyoukai("plain", loop=loop)

    @app.route("/ping", methods=("GET",))
    async def ping(ctx):
        return "pong"

    return app


def test_any_query_passes_on_a_route_without_schema_repeated_names_included() -> None:
    # issue 16 item 3.3: ?c=0&c=0 (drawn as {"query": {"c": [0, 0]}}) was a wrong_type defect on a route
    # whose contract says any query passes; HTTP repeats a name to give it several values
    from rpctest.schema.validate import compile_schema
    from rpctest.stacks.kyoukai.wire import wire_form

    request = compile_schema(export_app(_no_schema_app)["operations"]["GET /ping"]["request"])
    assert request.is_valid(wire_form({"query": {"c": [0, 0]}})), request.violations(wire_form({"query": {"c": [0, 0]}}))
    assert request.is_valid(wire_form({"query": {"c": "0", "d": ["x", "", "y"]}}))
    with open_target("kyoukai", provider=_no_schema_app) as target:
        report = fuzz(target, max_examples=60, seed=2, unknown_operation=False)
    assert report.ok, report.render()
