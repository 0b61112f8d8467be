"""Matchers (issue 18, item 2): consumers say which parts of a body are examples and which are rules.

The stub answers with the examples, the recording keeps examples and rules (Pact V4 matching rules by
JSON pointer), ``verify`` checks the rules against the provider's schema, live verification judges
replies by them, and ``rpctest serve`` takes any request that keeps them.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

import rpctest
import toystack
from toystack import ask
from matcher_helpers import record
from rpctest import Call, Reply, RpcError, stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.live import verify_live
from rpctest.contracts.serve import router_from_contracts
from rpctest.contracts.verify import verify
from rpctest.exceptions import StubUsageError
from rpctest.matchers import any_of, datetime, decimal, each_like, integer, like, regex, rule_differences, split
from rpctest.stubs.router import StubRouter


@pytest.fixture(autouse=True)
def toy() -> Iterator[toystack.ToyAdapter]:
    adapter = toystack.register()
    yield adapter
    toystack.unregister()


def recorded(*stubs: stub_action, calls: list[tuple[str, Any]]) -> fmt.ConsumerContract:
    """The consumer contract a recorder writes for ``calls`` (read back from its file text)."""
    router = StubRouter(intercept=False)
    return record(*stubs, run=lambda: [ask(router, operation, body) for operation, body in calls], router=router)


USER = {"id": integer(7), "name": like("Ada"), "email": regex(r"[^@]+@[^@]+", "ada@example.com"),
        "score": decimal(0.5), "born": datetime("yyyy-MM-dd"), "roles": each_like({"role": any_of("admin", "user")}, min=1),
        "state": any_of("active", "gone", 0)}
EXAMPLE = {"id": 7, "name": "Ada", "email": "ada@example.com", "score": 0.5, "born": "2000-01-02",
           "roles": [{"role": "admin"}], "state": "active"}


# -- the matchers themselves -------------------------------------------------------------------------


def test_the_matchers_are_exported_from_rpctest() -> None:
    assert (rpctest.like, rpctest.each_like, rpctest.regex, rpctest.integer, rpctest.decimal, rpctest.datetime,
            rpctest.any_of) == (like, each_like, regex, integer, decimal, datetime, any_of)


def test_split_gives_the_examples_and_pact_v4_rules_by_pointer() -> None:
    example, rules = split(USER, "/body")
    assert example == EXAMPLE
    assert rules == {
        "/body/id": {"match": "integer"},
        "/body/name": {"match": "type"},
        "/body/email": {"match": "regex", "regex": "[^@]+@[^@]+"},
        "/body/score": {"match": "decimal"},
        "/body/born": {"match": "datetime", "format": "yyyy-MM-dd"},
        "/body/roles": {"match": "type", "min": 1},
        "/body/roles/*/role": {"combine": "OR", "matchers": [{"match": "regex", "regex": "admin"}, {"match": "regex", "regex": "user"}]},
        "/body/state": {"combine": "OR", "matchers": [{"match": "regex", "regex": "active"}, {"match": "regex", "regex": "gone"},
                                                      {"match": "equality", "value": 0}]},
    }


def test_a_body_without_matchers_is_left_alone() -> None:
    body = {"a": [1, {"b": 2}]}
    assert split(body) == (body, {}) and split(body)[0] is body


# (rule, value, matches?): Pact V4 semantics
RULE_CASES = [
    (integer(), 5, True), (integer(), -5, True), (integer(), 5.5, False), (integer(), True, False), (integer(), "5", False),
    (decimal(), 5.5, True), (decimal(), 5, False), (decimal(), False, False),
    (like(1), 2.5, True), (like(1), "1", False), (like("a"), "", True), (like("a"), None, False), (like(None), None, True),
    (like({"a": 1}), {"a": 9, "b": "x"}, True), (like({"a": 1}), {"a": "9"}, False), (like({"a": 1}), {}, False),
    (like([1]), [2, 3], True), (like([1]), [2, "x"], False),
    (like({"a": integer(), "b": "x"}), {"a": 2, "b": "z"}, True), (like({"a": integer(), "b": "x"}), {"a": 1.5, "b": "z"}, False),
    (like({"a": integer(), "b": "x"}), {"a": 2, "b": 0}, False),
    (regex(r"\d+", "12"), "345", True), (regex(r"\d+", "12"), "3a", False), (regex(r"\d+", "12"), 345, True),
    (regex(r"\d+", "12"), None, False),
    (datetime("yyyy-MM-dd'T'HH:mm:ssXXX"), "2024-02-29T23:59:00+01:00", True),
    (datetime("yyyy-MM-dd'T'HH:mm:ssXXX"), "2024-02-29T23:59:00Z", True),
    (datetime("yyyy-MM-dd"), "2023-02-29", False), (datetime("yyyy-MM-dd"), "29.02.2024", False), (datetime("yyyy-MM-dd"), 20240229, False),
    (datetime("dd.MM.yyyy HH:mm:ss.SSS"), "29.02.2024 10:00:00.123", True),
    (datetime("yyyy-MM-dd HH:mm:ssZZZZZ"), "2020-05-21 16:44:32+10:00", True),  # Pact's own example
    (datetime("yyyy-MM-dd HH:mm:ssZZZZZ"), "2020-05-21 16:44:32", False),
    (datetime("HH:mm"), "24:00", False), (datetime("'at' HH:mm"), "at 23:59", True), (datetime("HH''mm"), "10'30", True),
    (each_like({"n": integer()}, min=2), [{"n": 1}, {"n": 2}], True), (each_like({"n": integer()}, min=2), [{"n": 1}], False),
    (each_like({"n": integer()}, min=0), [], True), (each_like({"n": integer()}), [{"n": 1}, {"n": "2"}], False),
    (each_like(1, max=2), [1, 2, 3], False), (each_like("a"), "a", False),
    (any_of("a", integer()), 3, True), (any_of("a", integer()), "b", False), (any_of("a.b"), "axb", False),
    (any_of(None, like("s")), None, True), (any_of(None, like("s")), "t", True), (any_of(None, like("s")), 1, False),
]


@pytest.mark.parametrize(("matcher", "value", "ok"), RULE_CASES, ids=[f"{m!r}-{v!r}" for m, v, _ in RULE_CASES])
def test_rule_semantics(matcher: Any, value: Any, ok: bool) -> None:
    example, rules = split({"v": matcher})
    found = rule_differences(rules, example, {"v": value})
    assert (found == []) is ok, found
    if not ok:
        assert found[0][0].startswith("/v")


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: regex("[a-z]+", "ABC"), "does not match"),
        (lambda: regex("(", "x"), "not a regular expression"),
        (lambda: integer(1.5), "must be an int"),
        (lambda: integer(True), "must be an int"),
        (lambda: decimal(1), "finite float"),
        (lambda: datetime("yyyy-MM-dd", "2024/01/01"), "format"),
        (lambda: datetime("yyyy-QQ"), "does not read the letter 'Q'"),
        (lambda: each_like(1, min=-1), "whole number"),
        (lambda: each_like(1, min=3, max=2), "below its min"),
        (lambda: any_of(), "at least one"),
        (lambda: any_of({"a": integer()}), "holds matchers"),
        (lambda: stub_action("users", "get", stack="toy", body={"id": integer}), r"integer is a matcher factory.*integer\(\.\.\.\)"),
    ],
)
def test_a_bad_matcher_is_a_clear_usage_error(make: Any, says: str) -> None:
    with pytest.raises(StubUsageError, match=says):
        make()


def test_a_pact_v3_date_rule_names_its_format_after_itself() -> None:
    rules = {"/d": {"match": "date", "date": "dd.MM.yyyy"}}
    assert rule_differences(rules, {"d": "01.02.2000"}, {"d": "29.02.2024"}) == []
    assert rule_differences(rules, {"d": "01.02.2000"}, {"d": "2024-02-29"}) == [
        ("/d", "date 'dd.MM.yyyy'", "'2024-02-29' is not in format 'dd.MM.yyyy'")]


def test_a_datetime_without_example_gets_one_in_its_format() -> None:
    assert datetime("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").example == "2000-01-02T03:04:05.006+00:00"


# -- stubs: the examples answer, the rules are recorded ------------------------------------------------


def test_the_stub_answers_with_the_examples_and_the_handle_records_the_request() -> None:
    router = StubRouter(intercept=False)
    with stub_action("users", "get", stack="toy", body=USER, router=router) as handle:
        reply = ask(router, "get", {"id": 7}, service="users")
    assert reply.body == EXAMPLE
    assert handle.call_body == {"id": 7}


def test_a_recording_keeps_examples_and_rules_and_reads_back() -> None:
    contract = recorded(stub_action("users", "get", stack="toy", body=USER, match={"id": integer(7)}), calls=[("get", {"id": 7})])
    [item] = contract.interactions
    data = item.to_dict()
    assert data["response"]["body"] == EXAMPLE
    assert data["matchers"]["request"] == {"/id": {"match": "integer"}}
    assert data["matchers"]["response"]["/body/born"] == {"match": "datetime", "format": "yyyy-MM-dd"}
    fmt.file_schema()  # the published schema holds the field
    import jsonschema

    jsonschema.validate(json.loads(fmt.dump(contract)), fmt.file_schema())


def test_a_stub_answering_from_a_side_effect_records_no_response_rules() -> None:
    contract = recorded(stub_action("users", "get", stack="toy", body={"id": integer(1)}, side_effect=lambda body: {"id": "x"},
                                    match={"id": integer(7)}), calls=[("get", {"id": 7})])
    assert contract.interactions[0].matchers == {"request": {"/id": {"match": "integer"}}}


def test_a_file_without_matchers_reads_as_before_and_writes_none() -> None:
    contract = recorded(stub_action("users", "get", stack="toy", body={"id": 1}), calls=[("get", {})])
    assert contract.interactions[0].matchers == {}
    assert "matchers" not in contract.interactions[0].to_dict()


def consumer(*interactions: dict[str, Any]) -> fmt.ConsumerContract:
    return fmt.parse({"rpctest_contract": fmt.FORMAT_VERSION, "kind": "consumer", "consumer": "web", "stack": "toy",
                      "service": "users", "interactions": list(interactions)})


@pytest.mark.parametrize(
    ("rules", "says"),
    [
        ({"response": {"/body/id": {"match": "bogus"}}}, "'bogus' is not one of"),
        ({"response": {"/body/id": {"match": "regex", "regex": "("}}}, "not a regular expression"),
        ({"response": {"/body/id": {"match": "datetime", "format": "QQ"}}}, "letter 'Q'"),
        ({"response": {"/body/id": {"match": "type", "min": -1}}}, "min"),
        ({"response": {"/body/id": {"combine": "OR", "matchers": [{"combine": "OR", "matchers": [{"match": "integer"}]}]}}}, "match"),
    ],
)
def test_a_recorded_rule_rpctest_cannot_apply_is_refused_with_its_pointer(rules: dict, says: str) -> None:
    with pytest.raises(fmt.ContractError) as raised:
        consumer({"operation": "get", "request": {}, "response": {"body": {"id": 1}}, "matchers": rules})
    assert says in str(raised.value)


# -- match= in a test's stubs and rpctest serve ---------------------------------------------------------


def test_match_takes_any_request_that_keeps_the_rules() -> None:
    router = StubRouter(intercept=False)
    with stub_action("users", "get", stack="toy", body={"ok": True}, match={"id": integer(7), "kind": "user"}, router=router):
        assert ask(router, "get", {"id": 12345, "kind": "user", "extra": 1}).body == {"ok": True}
        assert router.match(Call("toy", "users", "get", {"id": "12", "kind": "user"})) is None
        assert router.match(Call("toy", "users", "get", {"id": 12, "kind": "admin"})) is None
        explained = router.explain_unmatched(Call("toy", "users", "get", {"id": "12", "kind": "user"}))
    assert "/id must be integer" in explained


def test_serve_takes_a_request_keeping_the_rules_and_answers_the_examples() -> None:
    contract = recorded(
        stub_action("users", "find", stack="toy", body=USER, match={"name": regex("[A-Z][a-z]+", "Ada"), "limit": integer(10)}),
        calls=[("find", {"name": "Ada", "limit": 10})],
    )
    router = router_from_contracts([contract], "toy")
    assert ask(router, "find", {"name": "Grace", "limit": 3}).body == EXAMPLE
    # the recorded request is matched exactly where no rule is: an extra key is still another request
    assert router.match(Call("toy", "users", "find", {"name": "Grace", "limit": 3, "x": 1})) is None
    assert router.match(Call("toy", "users", "find", {"name": "grace", "limit": 3})) is None
    explained = router.explain_unmatched(Call("toy", "users", "find", {"name": "grace", "limit": 3}))
    assert "/name must be regex '[A-Z][a-z]+'" in explained


# -- live verification judges replies by the rules ------------------------------------------------------


def user_contract() -> fmt.ConsumerContract:
    return recorded(stub_action("users", "get", stack="toy", body=USER), calls=[("get", {"id": 7})])


GOOD = {"id": 99, "name": "Grace", "email": "g@h.org", "score": 2.25, "born": "1906-12-09",
        "roles": [{"role": "user"}, {"role": "admin"}, {"role": "user"}], "state": 0, "extra": "ignored"}


def test_a_provider_keeping_every_rule_passes_live_even_exactly() -> None:
    contract = user_contract()
    assert verify_live([contract], lambda call: Reply(body=dict(GOOD))).findings == []
    report = verify_live([contract], lambda call: Reply(body=dict(GOOD)), exact=True)
    assert [f.pointer for f in report.findings] == ["/interactions/0/response/body"]  # the extra key: exact is exact
    del GOOD["extra"]
    try:
        assert verify_live([contract], lambda call: Reply(body=dict(GOOD)), exact=True).findings == []
    finally:
        GOOD["extra"] = "ignored"


@pytest.mark.parametrize(
    ("change", "pointer", "rule"),
    [
        ({"id": "99"}, "/body/id", "integer"),
        ({"score": 2}, "/body/score", "decimal"),
        ({"email": "nobody"}, "/body/email", "regex '[^@]+@[^@]+'"),
        ({"born": "09.12.1906"}, "/body/born", "datetime 'yyyy-MM-dd'"),
        ({"roles": []}, "/body/roles", "type (min 1)"),
        ({"roles": [{"role": "user"}, {"role": "root"}]}, "/body/roles/1/role", "any of: regex 'admin' | regex 'user'"),
        ({"state": 1}, "/body/state", "any of: regex 'active' | regex 'gone' | equal to 0"),
        ({"name": 5}, "/body/name", "type"),
    ],
)
def test_a_provider_breaking_a_rule_is_a_precise_live_finding(change: dict, pointer: str, rule: str) -> None:
    report = verify_live([user_contract()], lambda call: Reply(body={**GOOD, **change}))
    assert [(f.check, f.pointer, f.expected) for f in report.findings] == [("live_matcher", "/interactions/0/response" + pointer, rule)]
    assert rule in report.findings[0].message


def test_unmarked_parts_are_still_compared_by_shape() -> None:
    contract = recorded(stub_action("users", "get", stack="toy", body={"id": integer(1), "name": "Ada"}), calls=[("get", {})])
    report = verify_live([contract], lambda call: Reply(body={"id": 2, "name": 3}))
    assert [(f.check, f.pointer) for f in report.findings] == [("live_shape", "/interactions/0/response/body/name")]


def test_error_fields_and_stream_items_keep_their_rules() -> None:
    errors = recorded(stub_action("users", "get", stack="toy", errors=[{"code": "NOPE", "message": regex("no user \\d+", "no user 7")}]),
                      calls=[("get", {"id": 7})])
    assert errors.interactions[0].errors[0].message == "no user 7"
    assert errors.interactions[0].matchers == {"response": {"/errors/0/message": {"match": "regex", "regex": "no user \\d+"}}}
    assert verify_live([errors], lambda call: Reply(errors=[RpcError("NOPE", "no user 12")])).findings == []
    [finding] = verify_live([errors], lambda call: Reply(errors=[RpcError("NOPE", "who?")])).findings
    assert (finding.check, finding.pointer) == ("live_matcher", "/interactions/0/response/errors/0/message")

    stream = recorded(stub_action("users", "watch", stack="toy", items=each_like({"n": integer()}, min=2)), calls=[("watch", {})])
    assert stream.interactions[0].items == [{"n": 42}, {"n": 42}]
    assert verify_live([stream], lambda call: Reply(items=[{"n": 1}, {"n": 2}, {"n": 3}])).findings == []
    [finding] = verify_live([stream], lambda call: Reply(items=[{"n": 1}, {"n": 2.5}])).findings
    assert (finding.pointer, finding.expected) == ("/interactions/0/response/items/1/n", "integer")


def test_an_rpc_error_message_may_be_a_matcher() -> None:
    contract = recorded(stub_action("users", "get", stack="toy", errors=RpcError("NOPE", regex("no .*", "no user"))), calls=[("get", {})])
    assert contract.interactions[0].rules("response") == {"/errors/0/message": {"match": "regex", "regex": "no .*"}}


# -- verify: the rules against the provider's schema ---------------------------------------------------


def provider(response: dict, request: dict | None = None) -> fmt.ProviderContract:
    return fmt.ProviderContract.from_dict({
        "stack": "toy", "service": "users",
        "operations": {"get": {"request": request or {"type": "object"}, "response": response, "errors": []},
                       "find": {"request": request or {"type": "object"}, "response": response, "errors": []}},
    })


def test_verify_finds_a_rule_the_provider_schema_cannot_keep() -> None:
    contract = recorded(stub_action("users", "get", stack="toy", body={"id": integer(1), "tags": each_like("a", min=3), "at": datetime()},
                                    match={"q": integer(1)}),
                        calls=[("get", {"q": 1})])
    schema = {"type": "object", "properties": {
        "id": {"type": ["integer", "string"]}, "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        "at": {"type": "string"}}}
    report = verify([contract, provider(schema, {"type": "object", "properties": {"q": {"type": "integer"}}})])
    # the provider may send a string id: the consumer's integer() may break, a warning
    assert [(f.check, f.pointer, f.actual, f.severity) for f in report.findings] == [
        ("matcher_schema", "/interactions/0/response/body/id", "also declares string", "warning")]
    assert report.ok
    schema["properties"]["id"] = {"type": "integer"}
    assert verify([contract, provider(schema, {"type": "object", "properties": {"q": {"type": "integer"}}})]).findings == []

    narrowed = {"type": "object", "properties": {
        "id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "at": {"type": "integer"}}}
    report = verify([contract, provider(narrowed, {"type": "object", "properties": {"q": {"type": "string"}}})])
    found = {(f.check, f.pointer, f.actual) for f in report.findings if f.check == "matcher_schema" and f.severity == "error"}
    assert found == {
        ("matcher_schema", "/interactions/0/response/body/id", "declares string"),
        ("matcher_schema", "/interactions/0/response/body/tags", "allows at most 2 item(s)"),
        ("matcher_schema", "/interactions/0/response/body/at", "declares integer"),
        ("matcher_schema", "/interactions/0/request/q", "declares string"),
    }


# -- the command line ---------------------------------------------------------------------------------


def test_contracts_verify_reports_a_rule_the_schema_cannot_keep_and_refuses_a_bad_rule(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from rpctest.cli import main

    contract = recorded(stub_action("users", "get", stack="toy", body={"id": integer(1)}), calls=[("get", {})])
    (tmp_path / "consumers").mkdir()
    (tmp_path / "providers").mkdir()
    consumer_file = tmp_path / "consumers" / "web--toy--users.json"
    consumer_file.write_text(fmt.dump(contract))
    (tmp_path / "providers" / "users.json").write_text(json.dumps(provider({"type": "object", "properties": {"id": {"type": "string"}}}).to_dict()))
    assert main(["contracts", "verify", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "[matcher_schema]" in out and "/interactions/0/response/body/id" in out and "integer" in out

    data = json.loads(consumer_file.read_text())
    data["interactions"][0]["matchers"]["response"]["/body/id"] = {"match": "regex", "regex": "("}
    consumer_file.write_text(json.dumps(data))
    assert main(["contracts", "verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "web--toy--users.json" in err and "matchers/response/body/id" in err and "not a regular expression" in err
