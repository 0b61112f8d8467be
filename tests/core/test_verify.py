"""``rpctest contracts verify`` on hand-written contracts: each check, findings, CLI exit codes, drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

import toystack
from rpctest import Call, Reply, RpcError, stub_action
from rpctest.cli import main
from rpctest.contracts import format as fmt
from rpctest.contracts.drift import ContractDrift, use_providers
from rpctest.contracts.live import shape_differences, verify_live
from rpctest.contracts.serve import router_from_contracts
from rpctest.contracts.verify import verify

PROVIDER = {
    "rpctest_contract": 1,
    "kind": "provider",
    "stack": "toy",
    "service": "users",
    "operations": {
        "get_user": {
            "request": {
                "type": "object",
                "properties": {"id": {"type": "integer", "exclusiveMinimum": 0}},
                "required": ["id"],
                "additionalProperties": False,
            },
            "response": {
                "type": "object",
                "properties": {
                    "user": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "name": {"type": "string", "maxLength": 5},
                            "born": {"type": "string", "format": "date", "x-rpctest-type": "date"},
                        },
                        "required": ["id", "name"],
                        "additionalProperties": False,
                    }
                },
                "required": ["user"],
                "additionalProperties": False,
            },
            "errors": ["NOT_FOUND"],
        },
        "list_users": {"request": {"type": "object"}, "response": {"type": "object"}, "errors": []},
    },
}


def consumer(*interactions: dict[str, Any], service: str = "users") -> dict[str, Any]:
    return {
        "rpctest_contract": 1,
        "kind": "consumer",
        "consumer": "web",
        "stack": "toy",
        "service": service,
        "interactions": list(interactions),
    }


GOOD = {"operation": "get_user", "request": {"id": 1}, "response": {"body": {"user": {"id": 1, "name": "Ann", "born": {"$date": "1990-01-02"}}}}}


@pytest.fixture(autouse=True)
def toy() -> Iterator[toystack.ToyAdapter]:
    adapter = toystack.register()
    yield adapter
    toystack.unregister()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "providers").mkdir()
    (tmp_path / "consumers").mkdir()
    (tmp_path / "providers/users.json").write_text(json.dumps(PROVIDER))
    return tmp_path


def write_consumer(tree: Path, *interactions: dict[str, Any], name: str = "web--toy--users.json", **kw: Any) -> Path:
    path = tree / "consumers" / name
    path.write_text(json.dumps(consumer(*interactions, **kw)))
    return path


def run(tree: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["contracts", "verify", str(tree), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_matching_contract_passes(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_consumer(tree, GOOD, {"operation": "get_user", "request": {"id": 9}, "response": {"errors": [{"code": "NOT_FOUND", "field": "id"}]}})
    code, out, _ = run(tree, capsys)
    assert code == 0, out
    assert "passed: 0 finding(s) in 2 interaction(s) of 1 consumer contract(s) against 1 provider contract(s)" in out


@pytest.mark.parametrize(
    ("interaction", "check", "pointer", "needle"),
    [
        ({**GOOD, "request": {"id": 0}}, "request_schema", "/interactions/0/request/id", "less than or equal to the minimum of 0"),
        ({**GOOD, "request": {}}, "request_schema", "/interactions/0/request/id", "required key 'id' is missing"),
        ({**GOOD, "request": {"id": 1, "ids": [1]}}, "request_schema", "/interactions/0/request", "unexpected key(s) 'ids'"),
        (
            {**GOOD, "response": {"body": {"user": {"id": 1, "name": "Ann", "born": "1990-01-02"}}}},
            "response_schema",
            "/interactions/0/response/body/user/born",
            "is not a date",
        ),
        (
            {**GOOD, "response": {"body": {"user": {"id": 1, "name": "Annabel"}}}},
            "response_schema",
            "/interactions/0/response/body/user/name",
            "is too long",
        ),
        (
            {**GOOD, "response": {"errors": [{"code": "NOT_FUOND"}]}},
            "error_code",
            "/interactions/0/response/errors/0/code",
            "'NOT_FUOND' is not one users.get_user can produce",
        ),
        ({**GOOD, "operation": "get_usr"}, "unknown_operation", "/interactions/0/operation", "users has no operation 'get_usr'"),
    ],
)
def test_each_finding_names_file_interaction_pointer_expected_actual(
    tree: Path, capsys: pytest.CaptureFixture[str], interaction: dict[str, Any], check: str, pointer: str, needle: str
) -> None:
    path = write_consumer(tree, interaction)
    code, out, _ = run(tree, capsys, "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert not report["ok"]
    (finding,) = report["findings"]
    assert finding["check"] == check
    assert finding["contract"] == str(path)
    assert finding["pointer"] == pointer
    assert needle in finding["message"]
    assert finding["expected"] and finding["actual"]


def test_nearest_match_for_unknown_operation_and_code(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_consumer(tree, {**GOOD, "operation": "get_usr"}, {**GOOD, "response": {"errors": [{"code": "NOT_FUOND"}]}})
    code, out, _ = run(tree, capsys)
    assert code == 1
    assert "nearest:  get_user" in out and "nearest:  NOT_FOUND" in out
    assert "FAILED: 2 finding(s)" in out


def test_unknown_service_is_a_finding_with_the_nearest_provider(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_consumer(tree, GOOD, service="user", name="web--toy--user.json")
    code, out, _ = run(tree, capsys, "--format", "json")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["check"] == "unknown_service" and finding["nearest"] == "toy:users"


def test_stack_standard_codes_are_allowed_and_field_warnings_do_not_fail(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_consumer(tree, {**GOOD, "response": {"errors": [{"code": "BAD", "field": "idd", "kind": "caller_error"}]}})
    code, out, _ = run(tree, capsys, "--format", "json")
    assert code == 0
    (finding,) = json.loads(out)["findings"]
    assert finding["check"] == "error_field" and finding["severity"] == "warning" and finding["nearest"] == "id"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"rpctest_contract": 1, "kind": "consumer", "stack": "toy", "service": "users", "consumer": "web", "interac', "not valid JSON"),
        ("", "the file is empty"),
        ('{"rpctest_contract": 7, "kind": "consumer"}', "version 7 is not supported"),
        ('{"rpctest_contract": 1, "kind": "consumer", "stack": "toy", "service": "users", "consumer": "web"}', "'interactions' is a required property"),
    ],
)
def test_a_corrupt_file_is_a_usage_error_naming_the_file(tree: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str) -> None:
    bad = tree / "consumers/bad.json"
    bad.write_text(content)
    code, out, err = run(tree, capsys)
    assert code == 2
    assert str(bad) in err and needle in err
    assert "Traceback" not in err


def test_output_formats_and_output_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_consumer(tree, {**GOOD, "request": {"id": 0}})
    target = tree / "report.xml"
    code, out, err = run(tree, capsys, "--format", "junit", "-o", str(target))
    assert code == 1 and out == "" and "FAILED: 1 finding(s)" in err
    assert "<failure" in target.read_text()
    code, out, _ = run(tree, capsys, "--format", "github")
    assert code == 1 and out.startswith("::error file=")


def test_default_paths_come_from_the_configured_contracts_dir(tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    write_consumer(tree, GOOD)
    (tree / "rpctest.toml").write_text('contracts_dir = "."\n')
    monkeypatch.chdir(tree)
    from rpctest import config

    config.set_current(None)
    try:
        assert main(["contracts", "verify"]) == 0
    finally:
        config.set_current(None)
    assert "1 interaction(s)" in capsys.readouterr().out


def test_verify_is_importable_for_a_providers_own_suite(tree: Path) -> None:
    write_consumer(tree, GOOD, {**GOOD, "request": {"id": "1"}})
    report = verify(fmt.load_many([tree]))
    assert not report.ok and [f.check for f in report.findings] == ["request_schema"]
    assert report.findings[0].tests == [] and "interaction #1 (get_user)" in report.findings[0].where


def test_two_providers_for_one_service_is_a_usage_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "providers/copy.json").write_text(json.dumps(PROVIDER))
    code, _, err = run(tree, capsys)
    assert code == 2 and "a second provider contract for toy:users" in err


# -- drift at stub time ----------------------------------------------------------------------------


def start(*args: Any, **kwargs: Any) -> None:
    """Start and stop a stub at once: drift is checked when a stub starts."""
    with stub_action(*args, **kwargs):
        pass


@pytest.mark.rpctest(strict=False)  # the stubs here are started, never called
def test_a_stub_that_breaks_a_known_provider_fails_when_it_starts(tree: Path) -> None:
    decorated = stub_action("users", "get_user", stack="toy", errors=["GONE"])  # applying it checks nothing yet
    with use_providers(tree / "providers/users.json"):
        start("users", "get_user", stack="toy", body={"user": {"id": 1, "name": "Ann"}})
        with pytest.raises(ContractDrift, match=r"body /user/name: .* is too long"):
            start("users", "get_user", stack="toy", body={"user": {"id": 1, "name": "Annabel"}})
        with pytest.raises(ContractDrift, match=r"error code 'GONE' is not one users.get_user can produce"):
            decorated.start()
        with pytest.raises(ContractDrift, match=r"no operation 'get_usr'; did you mean 'get_user'"):
            start("users", "get_usr", stack="toy", body={})
        with pytest.raises(ContractDrift, match="unexpected key"):
            start("users", "get_user", stack="toy", side_effect=[{"user": {"id": 1, "name": "A"}}, {"x": 1}])
        start("orders", "anything", stack="toy", body={"x": 1})  # no contract: no check
    start("users", "get_usr", stack="toy", body={})  # outside the block: unknown provider again


@pytest.mark.rpctest(strict=False)  # the stubs here are started, never called
def test_open_codes_are_taken_on_trust_by_verify_and_at_stub_time(tree: Path) -> None:
    """An export that cannot list an operation's codes (PyCOM's or PySOA's introspection) leaves them
    open: a stubbed code is then neither a verify finding nor drift; the schemas are still checked."""
    contract = json.loads(json.dumps(PROVIDER))
    contract["operations"]["get_user"]["errors_open"] = True
    (tree / "providers/users.json").write_text(json.dumps(contract))
    assert fmt.load(tree / "providers/users.json").operations["get_user"].errors_open
    write_consumer(tree, {"operation": "get_user", "request": {"id": 1}, "response": {"errors": [{"code": "GONE"}]}})
    report = verify(fmt.load_many([tree]))
    assert report.ok, [f.message for f in report.findings]
    with use_providers(tree / "providers/users.json"):
        start("users", "get_user", stack="toy", errors=["GONE"])
        with pytest.raises(ContractDrift, match=r"body /user/name: .* is too long"):
            start("users", "get_user", stack="toy", body={"user": {"id": 1, "name": "Annabel"}})


def test_configured_providers_are_checked(tree: Path) -> None:
    from rpctest import config

    config.set_current(config.merge(config.load(tree), providers=[str(tree / "providers")]))
    try:
        with pytest.raises(ContractDrift):
            start("users", "get_user", stack="toy", errors=["GONE"])
    finally:
        config.set_current(None)


# -- live verification and serving from contracts --------------------------------------------------


def test_shape_differences() -> None:
    recorded = {"user": {"id": 1, "tags": ["a"], "name": "Ann"}}
    assert list(shape_differences(recorded, {"user": {"id": 2, "tags": ["b", "c"], "name": "Bo", "extra": 1}})) == []
    assert list(shape_differences(recorded, {"user": {"id": "2", "tags": [], "name": None}})) == [("/user/id", "number", 'string "2"')]
    assert list(shape_differences(recorded, {"user": {"id": 2, "tags": [3]}})) == [
        ("/user/tags/0", "string", "number 3"),
        ("/user/name", "present (string)", "missing"),
    ]


def test_verify_live_compares_errors_and_shapes(tree: Path) -> None:
    contract = fmt.parse(
        consumer(
            GOOD,
            {"operation": "get_user", "request": {"id": 9}, "response": {"errors": [{"code": "NOT_FOUND", "field": "id"}]}},
            {"operation": "list_users", "request": {}, "response": {"body": {"users": []}}},
        )
    )

    def provider(call: Call) -> Reply:  # stands in for the real provider the consumer called
        if call.operation == "list_users":
            return Reply(errors=[RpcError("BOOM")])
        if call.body["id"] == 9:
            return Reply(errors=[RpcError("NOT_FOUND", field="id")])
        return Reply(body={"user": {"id": "1", "name": "Ann", "born": None}})

    report = verify_live([contract], provider)
    assert [(f.check, f.interaction, f.pointer) for f in report.findings] == [
        ("live_shape", 0, "/interactions/0/response/body/user/id"),
        ("live_unexpected_error", 2, "/interactions/2/response"),
    ]
    exact = verify_live([contract], lambda call: Reply(body={"user": {"id": 1, "name": "Ann"}}) if call.body == {"id": 1} else Reply(errors=[RpcError("NOT_FOUND", field="id")]), exact=True)
    assert [f.check for f in exact.findings] == ["live_body", "live_unexpected_error"]


def test_router_from_contracts_answers_each_recorded_request_exactly(tree: Path) -> None:
    contract = fmt.parse(
        consumer(
            {"operation": "list_users", "request": {}, "response": {"body": {"n": "any"}}},
            {"operation": "list_users", "request": {"page": 2}, "response": {"body": {"n": "page 2"}}},
            {"operation": "get_user", "request": {"id": 9}, "response": {"errors": [{"code": "NOT_FOUND", "field": "id"}]}},
        )
    )
    router = router_from_contracts([contract], "toy")
    assert not toystack.register().host.active  # a serving router never patches an in-process client

    def answer(operation: str, body: Any) -> Reply:
        call = Call("toy", "users", operation, body)
        stub = router.match(call)
        assert stub is not None, router.explain_unmatched(call)
        return router.respond(stub, call)

    assert answer("list_users", {"page": 2}).body == {"n": "page 2"}
    assert answer("list_users", {}).body == {"n": "any"}
    assert router.match(Call("toy", "users", "list_users", {"page": 3})) is None  # recorded for no request
    assert [e.code for e in answer("get_user", {"id": 9}).errors] == ["NOT_FOUND"]
    assert router.match(Call("toy", "users", "get_user", {"id": 1})) is None
    assert "Nearest stub: stub_action('users', 'get_user'" in router.explain_unmatched(Call("toy", "users", "get_user", {"id": 1}))


def test_a_served_contract_counts_calls_but_keeps_no_history(tree: Path) -> None:
    """``rpctest serve`` runs for hours over thousands of interactions: a MagicMock handle per
    interaction cost most of its start-up and kept every request it ever answered."""
    from unittest import mock

    router = router_from_contracts([fmt.parse(consumer(GOOD))], "toy")
    call = Call("toy", "users", "get_user", {"id": 1})
    for _ in range(3):
        stub = router.match(call)
        assert stub is not None and router.respond(stub, call).body["user"]["name"] == "Ann"
    assert stub.handle.call_count == 3
    assert not isinstance(stub.handle, mock.Mock)


def test_the_fixture_and_the_ini_option_check_decorated_stubs(pytester: pytest.Pytester, tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(toystack.__file__).parent))
    pytester.makeconftest("import toystack\ntoystack.register()\n")
    pytester.makepyfile(
        f"""
        import pytest
        from rpctest import stub_action
        from rpctest.model import CallFailed
        from toystack import toy_call

        @stub_action("users", "get_user", stack="toy", errors=["GONE"])
        def test_drifted(stub):
            with pytest.raises(CallFailed):
                toy_call("users", "get_user", {{"id": 1}})

        def test_fixture(rpctest_providers):
            rpctest_providers({str(tree / "providers")!r})
            with stub_action("users", "get_user", stack="toy", errors=["GONE"]):
                pass
        """
    )
    plain = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider")
    plain.assert_outcomes(passed=1, failed=1)  # no provider configured: test_drifted's stub is not checked
    plain.stdout.fnmatch_lines(["*_ test_fixture _*", "E *ContractDrift: stub_action('users', 'get_user'*", "E *error code 'GONE' is not one*"])
    configured = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", "--rpctest-providers", str(tree / "providers"))
    configured.assert_outcomes(failed=2)
    configured.stdout.fnmatch_lines(["*_ test_drifted _*", "E *ContractDrift: *", "E *error code 'GONE'*"])


def test_a_bad_request_stubbed_as_a_caller_error_is_consistent(tmp_path: Path) -> None:
    """A consumer testing how it handles the provider's rejection sends what the schema refuses."""
    from rpctest.contracts.format import ConsumerContract, OperationSpec, ProviderContract, RecordedInteraction

    provider = ProviderContract("toy", "svc", {"op": OperationSpec("op", request={"type": "object", "properties": {"n": {"type": "integer"}}}, errors=["BAD"])})

    def consumer(errors: list) -> ConsumerContract:
        item = RecordedInteraction("op", {"n": "x"}, body=None if errors else {}, errors=errors)
        return ConsumerContract("c", "toy", "svc", [item])

    caller = RpcError("BAD", "n is not an integer", kind="caller_error")
    server = RpcError("BAD", "boom", kind="server_error")
    assert [f.check for f in verify([provider, consumer([caller])]).errors] == []
    assert [f.check for f in verify([provider, consumer([])]).errors] == ["request_schema"]
    assert [f.check for f in verify([provider, consumer([server])]).errors] == ["request_schema"]


def test_verify_live_counts_what_it_replayed(tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The static checks look at every consumer contract; --live replays one provider's interactions
    only, and the summary says how many it replayed (it said 19 when it replayed 5)."""
    import contextlib

    from rpctest.contracts import live

    write_consumer(tree, GOOD, GOOD)
    write_consumer(tree, GOOD, GOOD, GOOD, service="others", name="web--toy--others.json")
    (tree / "providers/others.json").write_text(json.dumps({**PROVIDER, "service": "others"}))

    @contextlib.contextmanager
    def sender(stack: str, **kwargs: Any) -> Iterator[Any]:
        import datetime

        yield lambda call: Reply(body={"user": {"id": 1, "name": "Ann", "born": datetime.date(1990, 1, 2)}})

    monkeypatch.setattr(live, "open_sender", sender)
    code, out, _ = run(tree, capsys, "--live", "--stack", "toy", "--address", "toy://x", "--service", "users")
    assert code == 0, out
    assert ("passed: 0 finding(s) in 5 interaction(s) of 2 consumer contract(s) against 2 provider contract(s); "
            "replayed 2 interaction(s) of 1 consumer contract(s) against the live provider toy:users") in out
    code, out, _ = run(tree, capsys, "--live", "--stack", "toy", "--address", "toy://x", "--service", "nobody")
    assert "replayed 0 interaction(s) of 0 consumer contract(s) against the live provider toy:nobody" in out
    code, out, _ = run(tree, capsys, "--format", "json", "--live", "--stack", "toy", "--address", "toy://x", "--service", "users")
    assert json.loads(out)["summary"]["replayed"] == {"interactions": 2, "consumer_contracts": 1, "provider": "toy:users"}


def test_a_provider_that_cannot_be_imported_is_named_without_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``--provider mod:Typo`` without --stack: the import error, not "give --stack"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mysvc.py").write_text("class Server:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["contracts", "export", "--provider", "mysvc:Servr"]) == 2
    err = capsys.readouterr().err
    assert "provider 'mysvc:Servr': mysvc has no attribute 'Servr'; did you mean 'Server'?" in err
    assert "give --stack" not in err
    assert main(["fuzz", "--provider", "no_such_module_here:Server"]) == 2
    err = capsys.readouterr().err
    assert "cannot import 'no_such_module_here' for provider 'no_such_module_here:Server': ModuleNotFoundError: No module named 'no_such_module_here'" in err
    assert "run rpctest from the directory" in err
    (tmp_path / "broken.py").write_text("import no_such_dependency_either\n")
    assert main(["contracts", "verify", str(tmp_path), "--live", "--provider", "broken:Server"]) == 2
    assert "cannot import 'broken' for provider 'broken:Server': ModuleNotFoundError: No module named 'no_such_dependency_either'" in capsys.readouterr().err
    assert main(["contracts", "export", "--provider", "mysvc:Server"]) == 2  # imports, but names no stack
    assert "give --stack" in capsys.readouterr().err


def test_a_report_path_under_a_file_is_refused_before_verifying(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``-o`` naming a path under a regular file is a usage error naming both, before any contract is read
    or provider called (a live verification would otherwise run to the end and then fail to write)."""
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    out = tmp_path / "notes.txt" / "report.md"
    assert main(["contracts", "verify", str(tmp_path / "absent"), "--format", "markdown", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"rpctest: error: cannot write {out}: {tmp_path / 'notes.txt'} is a file, not a directory" in err, err
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
