"""Provider states (issue 18, item 1) in the neutral layers, on the toy stack: what a consumer names
is recorded (format 2, format 1 still read and migrated), the provider's handlers set it up for
live verification, ``serve`` answers per state, and the fuzzer resets through a handler."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

import toystack
from toystack import ask
from rpctest import Call, ProviderState, Reply, RpcError, provider_state, stub_action
from rpctest.contracts import format as fmt
from rpctest.contracts.live import verify_live
from rpctest.contracts.migrate import migrate
from rpctest.contracts.recorder import Recorder
from rpctest.contracts.serve import router_from_contracts
from rpctest.contracts.states import StateHandlers, registry
from rpctest.exceptions import ConfigError, StubUsageError
from rpctest.stubs.router import StubRouter

TESTS_DIR = str(Path(__file__).resolve().parent.parent)


@pytest.fixture(autouse=True)
def toy() -> Iterator[toystack.ToyAdapter]:
    adapter = toystack.register()
    yield adapter
    toystack.unregister()


@pytest.fixture
def handlers() -> Iterator[StateHandlers]:
    """The process registry, with whatever a test registers removed again after it."""
    before = set(registry.names())
    yield registry
    for name in set(registry.names()) - before:
        registry.unregister(name)


def recorded(*stubs: stub_action, calls: list[tuple[str, Any]]) -> fmt.ConsumerContract:
    router = StubRouter(intercept=False)
    recorder = Recorder("web", router=router).start()
    try:
        for stub in stubs:
            stub.router = router
            stub.start()
        for operation, body in calls:
            ask(router, operation, body)
    finally:
        recorder.stop()
        for stub in stubs:
            stub.stop()
    [contract] = recorder.contracts()
    return fmt.parse(json.loads(fmt.dump(contract)))


def consumer(*interactions: dict[str, Any], version: int = 2) -> fmt.ConsumerContract:
    return fmt.parse({"rpctest_contract": version, "kind": "consumer", "consumer": "web", "stack": "toy", "service": "users",
                      "interactions": list(interactions)})


USER_1 = {"name": "user exists", "params": {"id": 1}}
GET_1 = {"operation": "get", "request": {"id": 1}, "response": {"body": {"id": 1, "name": "Ann"}}, "states": [USER_1]}


# -- recording ---------------------------------------------------------------------------------------


def test_a_stubs_state_is_recorded_with_its_params_and_format_2() -> None:
    contract = recorded(
        stub_action("users", "get", stack="toy", body={"id": 1}, state="user exists", state_params={"id": 1}),
        calls=[("get", {"id": 1})],
    )
    [item] = contract.interactions
    assert item.states == [ProviderState("user exists", {"id": 1})]
    data = json.loads(fmt.dump(contract))
    assert data["rpctest_contract"] == 2
    assert data["interactions"][0]["states"] == [{"name": "user exists", "params": {"id": 1}}]


def test_one_request_under_two_states_is_two_interactions() -> None:
    contract = recorded(
        stub_action("users", "get", stack="toy", body={"id": 1}, state="user exists", match={"v": 1}),
        stub_action("users", "get", stack="toy", errors=["NOPE"], state="no users", match={"v": 2}),
        calls=[("get", {"v": 1}), ("get", {"v": 2})],
    )
    assert sorted(s.name for item in contract.interactions for s in item.states) == ["no users", "user exists"]


def test_a_stateless_recording_has_no_states_key() -> None:
    contract = recorded(stub_action("users", "get", stack="toy", body=1), calls=[("get", {})])
    assert "states" not in json.loads(fmt.dump(contract))["interactions"][0]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"state": ""}, "non-empty str naming the provider state"),
        ({"state": 3}, "non-empty str naming the provider state"),
        ({"state": "x", "state_params": [1]}, "dict with str keys"),
        ({"state": "x", "state_params": {1: 2}}, "dict with str keys"),
        ({"state": "x", "state_params": {"a": object()}}, "cannot be recorded in a contract"),
        ({"state_params": {"a": 1}}, "state_params= without state="),
    ],
)
def test_a_bad_state_is_a_usage_error_saying_what_to_pass(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(StubUsageError, match=expected):
        stub_action("users", "get", stack="toy", body=1, **kwargs)


CONSUMER_TESTS = """
import pytest
from rpctest import stub_action
from toystack import toy_call

@pytest.mark.rpctest(state="user exists", state_params={"id": 1})
@stub_action("users", "get", stack="toy", body={"id": 1})
def test_marker(stub):
    toy_call("users", "get", {"id": 1})

@stub_action("users", "get", stack="toy", body={"id": 2})
def test_fixture(stub, provider_state):
    provider_state("user exists", id=2)
    toy_call("users", "get", {"id": 2})

@pytest.mark.rpctest(state="user exists", state_params={"id": 9})
@stub_action("users", "get", stack="toy", body={"id": 3}, state="user exists", state_params={"id": 3})
def test_the_stubs_own_params_win(stub):
    toy_call("users", "get", {"id": 3})

@pytest.mark.rpctest(state=["user exists", "billing up"], state_params={"user exists": {"id": 4}})
@stub_action("users", "get", stack="toy", body={"id": 4})
def test_several(stub):
    toy_call("users", "get", {"id": 4})

@stub_action("users", "get", stack="toy", body={"id": 5})
def test_none(stub):
    toy_call("users", "get", {"id": 5})
"""


def test_the_marker_and_the_fixture_record_the_tests_states(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", TESTS_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    pytester.makeconftest("import toystack\ntoystack.register()\n")
    pytester.makepyfile(test_consumer=CONSUMER_TESTS)
    result = pytester.runpytest_subprocess("-p", "rpctest", "-p", "no:cacheprovider", "--rpctest-record",
                                           "--rpctest-consumer", "web", "--rpctest-contracts-dir", "out", "-n", "2")
    result.assert_outcomes(passed=5)
    contract = fmt.load(pytester.path / "out/consumers/web--toy--users.json")
    states = {item.request["id"]: [(s.name, dict(s.params)) for s in item.states] for item in contract.interactions}
    assert states == {
        1: [("user exists", {"id": 1})],
        2: [("user exists", {"id": 2})],
        3: [("user exists", {"id": 3})],
        4: [("user exists", {"id": 4}), ("billing up", {})],
        5: [],
    }


# -- the format: version 1 still reads, migrate rewrites it --------------------------------------------


def test_a_format_1_file_still_loads_and_is_written_back_as_format_2(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"rpctest_contract": 1, "kind": "consumer", "consumer": "web", "stack": "toy", "service": "users",
                                "interactions": [{"operation": "get", "request": {}, "response": {"body": 1}}]}))
    contract = fmt.load(path)
    assert contract.interactions[0].states == []
    assert json.loads(fmt.dump(contract))["rpctest_contract"] == 2


def test_a_format_1_file_cannot_carry_states() -> None:
    with pytest.raises(fmt.ContractError, match="provider states need contract format 2"):
        consumer(GET_1, version=1)


def test_migrate_rewrites_old_files_only_and_check_rewrites_nothing(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"rpctest_contract": 1, "kind": "consumer", "consumer": "web", "stack": "toy", "service": "users",
                               "interactions": [{"operation": "get", "request": {}, "response": {"body": 1}}]}))
    current = fmt.write(consumer(GET_1), tmp_path / "new.json")
    before = current.read_text()
    checked = migrate([tmp_path], check=True)
    assert [(p.name, v) for p, v in checked.changed] == [("old.json", 1)]
    assert json.loads(old.read_text())["rpctest_contract"] == 1
    done = migrate([tmp_path])
    assert [p.name for p, _ in done.changed] == ["old.json"] and [p.name for p in done.current] == ["new.json"]
    assert json.loads(old.read_text())["rpctest_contract"] == 2
    assert current.read_text() == before
    assert fmt.load(old).interactions[0].body == 1


# -- the provider's handlers -----------------------------------------------------------------------------


def test_live_verification_sets_each_state_up_and_tears_it_down(handlers: StateHandlers) -> None:
    users: dict[int, str] = {}
    log: list[str] = []

    @provider_state("user exists")
    def user_exists(id: int) -> Iterator[None]:
        users[id] = "Ann"
        log.append(f"setup {id}")
        yield
        del users[id]
        log.append(f"teardown {id}")

    def provider(call: Call) -> Reply:
        log.append("call")
        uid = call.body["id"]
        return Reply(body={"id": uid, "name": users[uid]}) if uid in users else Reply(errors=[RpcError("NOPE")])

    report = verify_live([consumer(GET_1)], provider)
    assert report.findings == [] and report.interactions == 1
    assert log == ["setup 1", "call", "teardown 1"] and users == {}


def test_async_handlers_and_a_teardown_argument(handlers: StateHandlers) -> None:
    log: list[str] = []

    async def cleanup(id: int) -> None:
        log.append(f"async teardown {id}")

    @provider_state("user exists", teardown=cleanup)
    async def user_exists(id: int) -> None:
        log.append(f"async setup {id}")

    @provider_state("billing up")
    async def billing() -> Any:
        log.append("agen setup")
        yield
        log.append("agen teardown")

    item = {**GET_1, "states": [USER_1, {"name": "billing up"}]}
    report = verify_live([consumer(item)], lambda call: Reply(body={"id": 1, "name": "x"}))
    assert report.findings == []
    assert log == ["async setup 1", "agen setup", "agen teardown", "async teardown 1"]


def test_a_recorded_state_with_no_handler_is_a_finding_naming_it(handlers: StateHandlers) -> None:
    sent: list[Call] = []
    report = verify_live([consumer(GET_1)], lambda call: sent.append(call) or Reply(body={"id": 1, "name": "x"}))
    [finding] = report.findings
    assert finding.check == "live_missing_state"
    assert "'user exists'" in finding.message and "@rpctest.provider_state('user exists')" in finding.message
    assert finding.expected == "'user exists' (id=1)" and finding.pointer == "/interactions/0/states"
    assert sent == []  # not replayed: a reply outside the state proves nothing


def test_a_handler_that_raises_is_a_finding_and_earlier_states_are_torn_down(handlers: StateHandlers) -> None:
    log: list[str] = []

    @provider_state("billing up")
    def billing() -> Iterator[None]:
        log.append("setup billing")
        yield
        log.append("teardown billing")

    @provider_state("user exists")
    def user_exists(id: int) -> None:
        raise LookupError(f"no table for {id}")

    item = {**GET_1, "states": [{"name": "billing up"}, USER_1]}
    [finding] = verify_live([consumer(item)], lambda call: Reply(body={})).findings
    assert finding.check == "live_state_failed"
    assert "setup of provider state 'user exists' (id=1) failed: LookupError: no table for 1" in finding.message
    assert log == ["setup billing", "teardown billing"]


def test_the_setup_hook_keeps_working_beside_states(handlers: StateHandlers) -> None:
    seen: list[tuple[str, Any]] = []
    provider_state("user exists")(lambda id: None)
    report = verify_live([consumer(GET_1)], lambda call: Reply(body={"id": 1, "name": "x"}), setup=lambda op, req: seen.append((op, req)))
    assert report.findings == [] and seen == [("get", {"id": 1})]


def test_two_handlers_for_one_state_are_refused(handlers: StateHandlers) -> None:
    provider_state("user exists")(lambda id: None)
    with pytest.raises(ConfigError, match="two handlers for provider state 'user exists'"):
        provider_state("user exists")(lambda id: 1)


def test_a_state_module_that_cannot_be_imported_is_named(handlers: StateHandlers) -> None:
    from rpctest.contracts.states import load_state_modules

    with pytest.raises(ConfigError, match="cannot import state handler module 'no_such_states_module'"):
        load_state_modules(["no_such_states_module"])


# -- serve: a state selects among recorded replies ----------------------------------------------------------


def test_serve_answers_per_the_state_it_is_started_in() -> None:
    contracts = [consumer(
        {"operation": "get", "request": {"id": 1}, "response": {"body": {"id": 1}}, "states": [USER_1]},
        {"operation": "get", "request": {"id": 1}, "response": {"errors": [{"code": "NOPE"}]}, "states": [{"name": "no users"}]},
        {"operation": "ping", "request": {}, "response": {"body": "pong"}},
    )]
    in_user = router_from_contracts(contracts, "toy", states=["user exists"])
    assert ask(in_user, "get", {"id": 1}).body == {"id": 1}
    assert ask(in_user, "ping", {}).body == "pong"  # recorded under no state: always served
    in_none = router_from_contracts(contracts, "toy", states=["no users"])
    assert [e.code for e in ask(in_none, "get", {"id": 1}).errors] == ["NOPE"]
    with pytest.raises(ConfigError, match="no interaction was recorded under provider state 'nope'.*'no users', 'user exists'"):
        router_from_contracts(contracts, "toy", states=["nope"])


def test_serve_without_a_state_prefers_the_stateless_recording() -> None:
    contracts = [consumer(
        {"operation": "get", "request": {"id": 1}, "response": {"body": "plain"}},
        {"operation": "get", "request": {"id": 1}, "response": {"body": "in state"}, "states": [USER_1]},
    )]
    assert ask(router_from_contracts(contracts, "toy"), "get", {"id": 1}).body == "plain"


# -- the fuzzer: a per-example reset ------------------------------------------------------------------------


def test_the_fuzzer_resets_through_a_state_handler_before_every_example(handlers: StateHandlers) -> None:
    from rpctest.fuzz.engine import Target, fuzz

    store: list[int] = []
    resets: list[int] = []

    @provider_state("empty store")
    def empty() -> Iterator[None]:
        store.clear()
        resets.append(1)
        yield

    def send(call: Call) -> Reply:
        store.append(1)
        return Reply(body={"count": len(store)})

    contract = fmt.ProviderContract("toy", "users", {"add": fmt.OperationSpec(
        "add", request={"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
        response={"type": "object", "properties": {"count": {"const": 1}}, "required": ["count"]})})
    target = Target("toy", contract, send)
    report = fuzz(target, mode="positive", max_examples=20, unknown_operation=False, states=[ProviderState("empty store")])
    [result] = report.results
    assert result.failure is None, result.failure
    assert len(resets) == result.examples >= 1  # every example started from an empty store
    with pytest.raises(ConfigError, match="no provider state handler for 'missing'"):
        fuzz(target, mode="positive", max_examples=1, unknown_operation=False, states=[ProviderState("missing")])


# -- configuration: [tool.rpctest.services.X] states = [...] -------------------------------------------------


def test_a_services_states_modules_are_imported_for_it(tmp_path: Path, handlers: StateHandlers, monkeypatch: pytest.MonkeyPatch) -> None:
    from rpctest import config
    from rpctest.cli import _state_handlers

    (tmp_path / "users_states_for_config.py").write_text(
        "import rpctest\n\n@rpctest.provider_state('configured state')\ndef handler():\n    pass\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.rpctest.services.users]\nstack = "pysoa"\nstates = ["users_states_for_config"]\n', encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = config.load(tmp_path)
    assert loaded.services["users"].states == ("users_states_for_config",)
    monkeypatch.setattr(config, "current", lambda: loaded)
    assert "configured state" not in registry
    _state_handlers(None, "users")
    assert "configured state" in registry


def test_a_states_entry_that_is_no_module_name_is_a_config_error(tmp_path: Path) -> None:
    from rpctest import config

    (tmp_path / "pyproject.toml").write_text('[tool.rpctest.services.users]\nstack = "pysoa"\nstates = ["my-states.py"]\n', encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"tool\.rpctest\.services\.users\.states\[0\]"):
        config.load(tmp_path)


def test_the_migrate_command_checks_then_rewrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rpctest.cli import main

    old = tmp_path / "old.json"
    old.write_text(json.dumps({"rpctest_contract": 1, "kind": "consumer", "consumer": "web", "stack": "toy", "service": "users",
                               "interactions": [{"operation": "get", "request": {}, "response": {"body": 1}}]}))
    assert main(["contracts", "migrate", "--check", str(tmp_path)]) == 1
    assert f"{old}: format 1 (needs migrating)" in capsys.readouterr().out
    assert main(["contracts", "migrate", str(tmp_path)]) == 0
    assert "migrated 1 file(s) to format 2" in capsys.readouterr().err
    assert main(["contracts", "migrate", "--check", str(tmp_path)]) == 0
    old.write_text('{"rpctest_contract": 1, "kind": ')
    assert main(["contracts", "migrate", str(tmp_path)]) == 2
    assert "old.json: not valid JSON" in capsys.readouterr().err


def test_a_fuzz_reset_handler_that_raises_stops_the_run_naming_the_state(handlers: StateHandlers) -> None:
    from rpctest.contracts.states import StateFailed
    from rpctest.fuzz.engine import Target, fuzz

    @provider_state("broken reset")
    def broken() -> None:
        raise OSError("database is down")

    contract = fmt.ProviderContract("toy", "users", {"add": fmt.OperationSpec("add", request={"type": "object"}, response={})})
    target = Target("toy", contract, lambda call: Reply(body={}))
    with pytest.raises(StateFailed, match="setup of provider state 'broken reset' failed: OSError: database is down"):
        fuzz(target, mode="positive", max_examples=3, unknown_operation=False, states=[ProviderState("broken reset")])


def test_states_without_live_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rpctest.cli import main

    fmt.write(consumer(GET_1), tmp_path / "c.json")
    assert main(["contracts", "verify", str(tmp_path), "--states", "some.module"]) == 2
    assert "--states/--setup set the provider up for --live verification" in capsys.readouterr().err
