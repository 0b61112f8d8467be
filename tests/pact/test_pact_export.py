"""Consumer contracts exported as Pact V4 files: each passes rpctest's V4 schema and Pact's own
parser (``pactffi_parse_pact_json``), reads back as the contract it came from, and verifies alike.

Runs in the ``pact`` nox session (``rpctest[pact]``, no stack library).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rpctest.cli import main
from rpctest.contracts import format as fmt
from rpctest.contracts.pact import from_pact, pact_path, pointer_of, schema_problem, to_pact
from rpctest.contracts.pact_ffi_check import ffi_problem
from rpctest.contracts.recorder import Recorder
from rpctest.contracts.verify import verify

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = ROOT / "contracts" / "consumers"
PROVIDERS = ROOT / "contracts" / "providers"
EXAMPLES = sorted(CONSUMERS.glob("*.json"))


def _contract(data: dict[str, Any]) -> fmt.ConsumerContract:
    contract = fmt.parse(data)
    assert isinstance(contract, fmt.ConsumerContract)
    return contract


def _findings(paths: list[Path]) -> list[tuple[str, str, str]]:
    """What verify says of the consumer contracts in ``paths`` against the example providers."""
    contracts = fmt.load_many([*paths, PROVIDERS])
    report = verify(contracts)
    return sorted((f.check, f.severity, f.message) for f in report.findings)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_each_example_exports_to_a_pact_file_that_both_checks_accept_and_that_reads_back_alike(path: Path) -> None:
    contract = fmt.load(path)
    assert isinstance(contract, fmt.ConsumerContract)
    document = to_pact(contract)
    assert document["metadata"]["pactSpecification"]["version"] == "4.0"
    assert schema_problem(document) is None
    assert ffi_problem(json.dumps(document)) is None
    expected_type = "Synchronous/HTTP" if contract.stack == "kyoukai" else "Synchronous/Messages"
    assert {item["type"] for item in document["interactions"]} == {expected_type}
    back = from_pact(json.loads(json.dumps(document)), source="exported.json")
    assert back.to_dict() == contract.to_dict()


def test_export_then_import_verifies_as_the_original_does(tmp_path: Path) -> None:
    """record -> export -> import -> verify: the same verdict as verifying the recorded files."""
    out = tmp_path / "pacts"
    assert main(["contracts", "export", "--format", "pact", "--consumers", str(CONSUMERS), "-o", str(out)]) == 0
    written = sorted(out.glob("*.json"))
    assert len(written) == len(EXAMPLES)
    assert _findings([out]) == _findings([CONSUMERS])
    assert main(["contracts", "verify", str(out), str(PROVIDERS)]) == 0
    # a planted mismatch in the Pact file is found as in an rpctest file: the stubbed body breaks the schema
    users = json.loads((out / "rpctest-examples-users.json").read_text())
    get_user = next(i for i in users["interactions"] if i["request"]["metadata"]["rpctest"]["operation"] == "get_user"
                    and "body" in i["response"][0]["contents"]["content"])
    get_user["response"][0]["contents"]["content"]["body"]["user"]["id"] = "one"
    (out / "rpctest-examples-users.json").write_text(json.dumps(users))
    found = _findings([out])
    assert any(check == "response_schema" and "'one'" in message for check, _, message in found), found


def test_message_mapping_carries_states_matchers_streams_and_attachments() -> None:
    contract = _contract({
        "rpctest_contract": 2, "kind": "consumer", "consumer": "web", "stack": "pykern", "service": "wallet",
        "interactions": [
            {"operation": "ticks", "request": {"n": 2}, "response": {"items": [{"i": 0}, {"i": 1}]}, "source": "stub"},
            {"operation": "get", "request": {"id": 7}, "source": "stub", "tests": ["t.py::test_get"],
             "states": [{"name": "user exists", "params": {"id": 7}}],
             "response": {"body": {"user": {"id": 7, "tags": ["a"], "at": "2024-05-01"}}},
             "matchers": {"request": {"/id": {"match": "integer"}},
                          "response": {"/body/user/tags": {"match": "type", "min": 0},
                                       "/body/user/tags/*": {"match": "regex", "regex": "[a-z]+"},
                                       "/body/user/at": {"match": "datetime", "format": "yyyy-MM-dd"}}}},
            {"operation": "get", "request": {"id": 8}, "source": "stub",
             "response": {"errors": [{"code": "NotFound", "field": "id", "kind": "not_found", "message": "no 8"}]}},
        ],
    })
    document = to_pact(contract)
    assert schema_problem(document) is None and ffi_problem(json.dumps(document)) is None
    by_operation = {(i["request"]["metadata"]["rpctest"]["operation"], json.dumps(i["request"]["contents"]["content"])): i
                    for i in document["interactions"]}
    stream = by_operation[("ticks", '{"n": 2}')]
    assert stream["request"]["metadata"]["rpctest"] == {"stack": "pykern", "service": "wallet", "operation": "ticks", "subscribe": True}
    assert stream["response"][0]["contents"]["content"] == {"items": [{"i": 0}, {"i": 1}]}
    got = by_operation[("get", '{"id": 7}')]
    assert got["providerStates"] == [{"name": "user exists", "params": {"id": 7}}]
    assert got["comments"]["testname"] == "t.py::test_get"
    assert got["request"]["matchingRules"] == {"body": {"$.id": {"combine": "AND", "matchers": [{"match": "integer"}]}}}
    rules = got["response"][0]["matchingRules"]["body"]
    assert rules["$.body"] == {"combine": "AND", "matchers": [{"match": "type"}]}  # rpctest's default: the shape
    assert rules["$.body.user.tags[*]"]["matchers"] == [{"match": "regex", "regex": "[a-z]+"}]
    assert rules["$.body.user.at"]["matchers"] == [{"match": "datetime", "format": "yyyy-MM-dd"}]
    failed = by_operation[("get", '{"id": 8}')]["response"][0]
    assert failed["contents"]["content"]["errors"][0]["code"] == "NotFound"
    assert failed["matchingRules"]["body"]["$.errors[*].code"]["matchers"] == [{"match": "equality"}]
    assert failed["matchingRules"]["body"]["$.errors[*].field"]["matchers"] == [{"match": "equality"}]
    assert from_pact(document).to_dict() == contract.to_dict()
    exact = to_pact(contract, exact=True)
    assert "$.body" not in next(i for i in exact["interactions"] if i["description"] == got["description"])["response"][0]["matchingRules"]["body"]
    assert from_pact(exact).to_dict() == contract.to_dict()


def test_a_zerojson_attachment_is_kept_in_comments_and_read_back() -> None:
    contract = fmt.load(CONSUMERS / "rpctest-examples--zerojson--com.example.shop.json")
    assert isinstance(contract, fmt.ConsumerContract)
    document = to_pact(contract)
    receipt = next(i for i in document["interactions"] if i["request"]["metadata"]["rpctest"]["operation"] == "receipt")
    assert receipt["response"][0]["contents"]["content"] == {"body": {"lines": 1}}
    assert receipt["comments"]["rpctest"]["reply"]["attachment"] == {"$bytes": "MiB4IGFwcGxlCg=="}
    # never in the reply's metadata: the real verifier compares each expected metadata key with the provider's
    assert set(receipt["response"][0]["metadata"]) == {"contentType"}
    back = from_pact(document)
    assert next(i for i in back.interactions if i.operation == "receipt").attachment == b"2 x apple\n"


def test_kyoukai_interactions_are_real_http_requests_and_responses() -> None:
    contract = fmt.load(CONSUMERS / "rpctest-examples--kyoukai--shop.json")
    assert isinstance(contract, fmt.ConsumerContract)
    document = to_pact(contract)
    requests = {(i["request"]["method"], i["request"]["path"], json.dumps(i["request"].get("query"))): i for i in document["interactions"]}
    assert requests[("GET", "/items/apple", "null")]["response"]["status"] == 200
    assert requests[("GET", "/items/kiwi", "null")]["response"] == {"status": 404}
    assert requests[("GET", "/orders", '{"limit": ["5"]}')]["response"]["body"]["content"]["orders"][0]["sku"] == "apple"
    created = [i for i in document["interactions"] if i["request"]["method"] == "POST" and i["response"]["status"] == 201]
    assert created and created[0]["request"]["body"]["content"] == {"quantity": 2, "sku": "pear"}


@pytest.mark.parametrize(("pointer", "path"), [
    ("", "$"), ("/body/user/id", "$.body.user.id"), ("/items/*/i", "$.items[*].i"), ("/errors/0/message", "$.errors[0].message"),
    ("/body/a.b/c d", "$.body['a.b']['c d']"), ("/body/it's", "$.body['it\\'s']"), ("/body/a~1b", "$.body['a/b']"),
])
def test_pointers_and_pact_paths_convert_both_ways(pointer: str, path: str) -> None:
    assert pact_path(pointer) == path
    assert pointer_of(path) == pointer


# -- what Pact's parser takes and the schema refuses ------------------------------------------------------


def _example_pact() -> dict[str, Any]:
    contract = fmt.load(CONSUMERS / "rpctest-examples--pysoa--users.json")
    assert isinstance(contract, fmt.ConsumerContract)
    return to_pact(contract)


def _without_consumer(d: dict[str, Any]) -> None:
    del d["consumer"]


def _unknown_matcher(d: dict[str, Any]) -> None:
    d["interactions"][0]["response"][0]["matchingRules"]["body"]["$.x"] = {"combine": "AND", "matchers": [{"match": "bogus"}]}


def _interactions_as_object(d: dict[str, Any]) -> None:
    d["interactions"] = {"0": d["interactions"][0]}


def _bad_base64(d: dict[str, Any]) -> None:
    d["interactions"][0]["request"]["contents"] = {"content": "not base64!", "contentType": "application/octet-stream", "encoded": "base64"}


@pytest.mark.parametrize("mistake", [_without_consumer, _unknown_matcher, _interactions_as_object, _bad_base64])
def test_the_schema_refuses_mistakes_pacts_parser_accepts(mistake: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = copy.deepcopy(_example_pact())
    mistake(document)
    assert ffi_problem(json.dumps(document)) is None  # Pact's parser takes it...
    assert schema_problem(document) is not None  # ...the schema does not
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    assert main(["contracts", "verify", str(path), str(PROVIDERS)]) == 2
    err = capsys.readouterr().err
    assert "broken.json" in err and "not a valid Pact V4 file at /" in err, err


@pytest.mark.parametrize(("change", "said"), [
    (lambda d: d["interactions"][0]["request"].pop("metadata"), "names no operation"),
    (lambda d: d["interactions"][0].update(type="Asynchronous/Messages", contents={"content": 1}), "interaction type"),
    (lambda d: d["metadata"]["pactSpecification"].update(version="3.0.0"), "rpctest reads Pact V4 files"),
    (lambda d: d["interactions"][0]["response"].append(d["interactions"][0]["response"][0]), "exactly one message"),
])
def test_a_pact_rpctest_cannot_read_is_a_usage_error_saying_why(change: Any, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = _example_pact()
    change(document)
    path = tmp_path / "pact.json"
    path.write_text(json.dumps(document))
    assert main(["contracts", "verify", str(path), str(PROVIDERS)]) == 2
    err = capsys.readouterr().err
    assert said in err and "pact.json" in err and "Traceback" not in err, err


def test_pacts_parser_refuses_what_it_refuses() -> None:
    """The ffi check is live: a message interaction without its request is refused, with Pact's reason."""
    document = _example_pact()
    del document["interactions"][0]["request"]
    problem = ffi_problem(json.dumps(document))
    assert problem is not None and "request" in problem


# -- the command and recording ----------------------------------------------------------------------------


def test_export_format_pact_is_for_consumer_contracts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "export", "--format", "pact", "--provider", "x:Y", "-o", str(tmp_path)]) == 2
    assert "--format pact exports consumer contracts" in capsys.readouterr().err
    assert main(["contracts", "export", "--format", "pact", "--consumers", str(tmp_path / "none"), "-o", str(tmp_path)]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    # -o FILE.json: the one contract's file; with several contracts, a usage error naming them
    one = tmp_path / "wallet.json"
    assert main(["contracts", "export", "--format", "pact", "--consumers", str(EXAMPLES[2]), "-o", str(one)]) == 0
    assert json.loads(one.read_text())["provider"]["name"] == "wallet"
    assert main(["contracts", "export", "--format", "pact", "--consumers", str(CONSUMERS), "-o", str(tmp_path / "all.json")]) == 2
    assert "5 consumer contracts were found" in capsys.readouterr().err
    assert not (tmp_path / "all.json").exists()


def test_recording_in_pact_format_writes_pact_files_that_merge(tmp_path: Path) -> None:
    first = fmt.load(CONSUMERS / "rpctest-examples--pykern--wallet.json")
    assert isinstance(first, fmt.ConsumerContract)
    recorder = Recorder("rpctest-examples")
    recorder._contracts[("pykern", "wallet")] = fmt.ConsumerContract("rpctest-examples", "pykern", "wallet", first.interactions[:1])
    [written] = recorder.write(tmp_path, format="pact")
    data = json.loads(written.read_text())
    assert data["metadata"]["pactSpecification"]["version"] == "4.0" and len(data["interactions"]) == 1
    recorder._contracts[("pykern", "wallet")] = fmt.ConsumerContract("rpctest-examples", "pykern", "wallet", first.interactions[1:])
    [again] = recorder.write(tmp_path, mode="merge", format="pact")
    merged = fmt.load(again)
    assert isinstance(merged, fmt.ConsumerContract)
    assert merged.to_dict()["interactions"] == first.to_dict()["interactions"]


def test_pytest_records_pact_files_with_the_format_option(tmp_path: Path) -> None:
    test = tmp_path / "test_pay.py"
    test.write_text(
        "from rpctest import stub_action\n"
        "from rpctest.stubs.router import router\n"
        "from rpctest.model import Call\n"
        "@stub_action('calc', 'add', stack='asyncapy', body={'sum': 5})\n"
        "def test_add(stub):\n"
        "    call = Call('asyncapy', 'calc', 'add', {'a': 2})\n"
        "    assert router.respond(router.match(call), call).body == {'sum': 5}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "rpctest", "-p", "no:cacheprovider", "-q", str(test), "--rpctest-record",
         "--rpctest-format", "pact", "--rpctest-contracts-dir", str(tmp_path / "contracts"), "--rpctest-consumer", "web"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [written] = (tmp_path / "contracts" / "consumers").glob("*.json")
    data = json.loads(written.read_text())
    assert data["metadata"]["pactSpecification"]["version"] == "4.0"
    assert data["interactions"][0]["request"]["metadata"]["rpctest"]["operation"] == "add"


def test_kyoukai_rules_go_to_the_body_and_query_and_a_path_variables_rule_to_comments() -> None:
    contract = _contract({
        "rpctest_contract": 2, "kind": "consumer", "consumer": "web", "stack": "kyoukai", "service": "shop",
        "interactions": [
            {"operation": "POST /items/<sku>/orders", "source": "stub",
             "request": {"path": {"sku": "apple"}, "query": {"limit": "5"}, "body": {"quantity": 2}},
             "response": {"body": {"id": 7}, "meta": {"status": 201, "headers": {"Location": "/orders/7"}}},
             "matchers": {"request": {"/path/sku": {"match": "regex", "regex": "[a-z]+"},
                                      "/query/limit": {"match": "regex", "regex": "\\d+"},
                                      "/body/quantity": {"match": "integer"}},
                          "response": {"/body/id": {"match": "integer"}}}},
        ],
    })
    document = to_pact(contract)
    assert schema_problem(document) is None and ffi_problem(json.dumps(document)) is None
    [interaction] = document["interactions"]
    request, response = interaction["request"], interaction["response"]
    assert (request["method"], request["path"], request["query"]) == ("POST", "/items/apple/orders", {"limit": ["5"]})
    assert request["body"]["content"] == {"quantity": 2}
    assert request["matchingRules"]["query"]["limit"]["matchers"] == [{"match": "regex", "regex": "\\d+"}]
    assert request["matchingRules"]["body"]["$.quantity"]["matchers"] == [{"match": "integer"}]
    assert (response["status"], response["headers"]) == (201, {"Location": ["/orders/7"]})
    assert response["matchingRules"]["body"]["$.id"]["matchers"] == [{"match": "integer"}]
    assert interaction["comments"]["rpctest"]["matchers"] == {"request": {"/path/sku": {"match": "regex", "regex": "[a-z]+"}}}
    assert from_pact(document).to_dict() == contract.to_dict()


def test_a_foreign_http_pact_reads_as_a_literal_route_with_its_status_as_the_error() -> None:
    document = {
        "consumer": {"name": "web"}, "provider": {"name": "shop"},
        "metadata": {"pactSpecification": {"version": "4.0"}},
        "interactions": [
            {"type": "Synchronous/HTTP", "description": "no kiwi",
             "request": {"method": "GET", "path": "/items/kiwi"}, "response": {"status": 404}},
            {"type": "Synchronous/HTTP", "description": "apple",
             "request": {"method": "GET", "path": "/items/apple", "query": {"full": ["1"]}},
             "response": {"status": 200, "body": {"content": {"sku": "apple"}, "contentType": "application/json"}}},
        ],
    }
    contract = from_pact(document)
    by_request = {json.dumps(i.request, sort_keys=True): i for i in contract.interactions}
    missing = by_request["{}"]
    assert (contract.stack, missing.operation, [e.code for e in missing.errors]) == ("kyoukai", "GET /items/kiwi", [404])
    found = by_request['{"query": {"full": "1"}}']
    assert (found.operation, found.body, found.meta) == ("GET /items/apple", {"sku": "apple"}, {})


def test_a_consumers_own_rule_where_the_default_one_would_go_is_kept_as_the_consumers() -> None:
    """like() of a whole body is the very rule the export adds by default; it must still read back."""
    for stack, pointer in (("pysoa", "/body"), ("kyoukai", "/body"), ("pysoa", "/errors/0")):
        response = {"errors": [{"code": 404 if stack == "kyoukai" else "NOT_FOUND"}]} if "errors" in pointer else {"body": {"id": 1}}
        contract = _contract({
            "rpctest_contract": 2, "kind": "consumer", "consumer": "web", "stack": stack, "service": "s",
            "interactions": [{"operation": "GET /x" if stack == "kyoukai" else "get", "request": {}, "source": "stub",
                              "response": response, "matchers": {"response": {pointer: {"match": "type"}}}}],
        })
        document = to_pact(contract)
        assert schema_problem(document) is None
        assert from_pact(document).to_dict() == contract.to_dict(), (stack, pointer)


def test_migrate_leaves_pact_files_as_they_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Pact file has no rpctest format version to migrate: it is current, and never rewritten."""
    assert main(["contracts", "export", "--format", "pact", "--consumers", str(CONSUMERS), "-o", str(tmp_path)]) == 0
    before = {path: path.read_bytes() for path in tmp_path.glob("*.json")}
    assert main(["contracts", "migrate", str(tmp_path), "--check"]) == 0
    assert main(["contracts", "migrate", str(tmp_path)]) == 0
    assert "0 file(s) to format 2; 5 already current" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in tmp_path.glob("*.json")} == before


def test_diff_names_the_interactions_of_pact_files_a_breaking_change_breaks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``contracts diff --consumers`` reads Pact files: its verdict is the recorded files' verdict."""
    provider = json.loads((PROVIDERS / "pysoa--users.json").read_text())
    del provider["operations"]["get_user"]
    new = tmp_path / "users-new.json"
    new.write_text(json.dumps(provider))
    pacts = tmp_path / "pacts"
    assert main(["contracts", "export", "--format", "pact", "--consumers", str(CONSUMERS), "-o", str(pacts)]) == 0
    capsys.readouterr()
    verdicts = []
    for consumers in (CONSUMERS, pacts):
        code = main(["contracts", "diff", str(PROVIDERS / "pysoa--users.json"), str(new), "--consumers", str(consumers), "--format", "json"])
        report = json.loads(capsys.readouterr().out)
        verdicts.append((code, sorted((f["check"], f.get("severity"), f.get("operation")) for f in report["findings"])))
    assert verdicts[0] == verdicts[1] and verdicts[0][0] == 1, verdicts
