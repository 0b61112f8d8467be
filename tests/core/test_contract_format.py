"""Contract files (rpctest.contracts.format): loading names the file and the problem; writing is
deterministic and atomic."""

from __future__ import annotations

import datetime
import decimal
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from rpctest.contracts import format as fmt
from rpctest.contracts.format import (
    FORMAT_VERSION,
    MAX_TESTS_PER_INTERACTION,
    ConsumerContract,
    ContractError,
    OperationSpec,
    ProviderContract,
    RecordedInteraction,
)
from rpctest.exceptions import RpctestError
from rpctest.model import Call, ErrorKind, Interaction, Reply, RpcError


def provider_data(**extra: Any) -> dict[str, Any]:
    data = {
        "rpctest_contract": 1,
        "kind": "provider",
        "stack": "toy",
        "service": "users",
        "operations": {
            "get": {
                "request": {"type": "object", "properties": {"id": {"type": "integer"}}},
                "response": {"type": "object"},
                "errors": ["NOT_FOUND", 404],
            }
        },
    }
    data.update(extra)
    return data


def consumer_data(**extra: Any) -> dict[str, Any]:
    data = {
        "rpctest_contract": 1,
        "kind": "consumer",
        "consumer": "web",
        "stack": "toy",
        "service": "users",
        "interactions": [
            {"operation": "get", "request": {"id": 1}, "response": {"body": {"seen": {"$date": "2024-05-01"}}}, "source": "stub"}
        ],
    }
    data.update(extra)
    return data


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def load_error(path: Path) -> ContractError:
    with pytest.raises(ContractError) as info:
        fmt.load(path)
    error = info.value
    assert str(error).startswith(f"{path}: "), str(error)  # every problem names the file first
    assert error.path == path
    return error


def sample_consumer(order: int = 1) -> ConsumerContract:
    """The same interactions, in an order that depends on ``order``."""
    items = [
        RecordedInteraction(
            "get",
            {"id": 1},
            {"name": "Ann", "seen": datetime.date(2024, 5, 1), "roles": {"admin", "dev", "ops"}},
            tests=["t.py::test_b"],
        ),
        RecordedInteraction("list", {"page": 2}, [{"total": decimal.Decimal("1.50")}], tests=["t.py::test_c"]),
        RecordedInteraction(
            "get",
            {"id": -1},
            errors=[RpcError("INVALID", "bad id", field="id", kind=ErrorKind.CALLER_ERROR, details={"is_caller_error": True})],
            tests=["t.py::test_d"],
        ),
        RecordedInteraction("get", {"id": 1}, {"name": "Ann", "seen": datetime.date(2024, 5, 1), "roles": {"ops", "dev", "admin"}}, tests=["t.py::test_a"]),
        RecordedInteraction("by_key", {1: "a", 2: "b"}, None),
    ]
    if order < 0:
        items.reverse()
    return ConsumerContract("web", "toy", "users", items)


# -- loading: every problem names the file -------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    error = load_error(tmp_path / "nope.json")
    assert error.problem == "no such file"


@pytest.mark.parametrize("text", ["", "   \n\t\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.json"
    path.write_text(text, encoding="utf-8")
    assert "empty" in load_error(path).problem


def test_truncated_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(consumer_data(), indent=2)[:-40], encoding="utf-8")
    problem = load_error(path).problem
    assert "not valid JSON" in problem
    assert "line " in problem and "column " in problem
    assert "truncated" in problem


def test_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe{}")
    assert "cannot read" in load_error(path).problem


def test_directory_given_as_a_file(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    assert "cannot read" in load_error(tmp_path / "dir.json").problem


@pytest.mark.parametrize("data, word", [([], "list"), ("text", "str"), (3, "int"), (None, "NoneType")])
def test_top_level_not_an_object(tmp_path: Path, data: Any, word: str) -> None:
    problem = load_error(write_json(tmp_path / "top.json", data)).problem
    assert "not a contract" in problem
    assert word in problem


def test_missing_version(tmp_path: Path) -> None:
    data = provider_data()
    del data["rpctest_contract"]
    problem = load_error(write_json(tmp_path / "v.json", data)).problem
    assert "rpctest_contract" in problem
    assert "version" in problem


def test_newer_version_says_upgrade(tmp_path: Path) -> None:
    newer = FORMAT_VERSION + 1
    problem = load_error(write_json(tmp_path / "v.json", provider_data(rpctest_contract=newer))).problem
    assert f"version {newer}" in problem
    assert "upgrade rpctest" in problem
    assert f"reads 1, {FORMAT_VERSION}" in problem


@pytest.mark.parametrize("version", [0, -1, "1", "one"])
def test_older_or_odd_version_says_re_record(tmp_path: Path, version: Any) -> None:
    problem = load_error(write_json(tmp_path / "v.json", provider_data(rpctest_contract=version))).problem
    assert repr(version) in problem
    assert "upgrade" not in problem
    assert "re-record or re-export" in problem


def test_boolean_version_is_not_version_one(tmp_path: Path) -> None:
    problem = load_error(write_json(tmp_path / "v.json", provider_data(rpctest_contract=True))).problem
    assert "/rpctest_contract" in problem


@pytest.mark.parametrize(
    "mutate, pointer, words",
    [
        (lambda d: d.pop("kind"), "/", "'kind' is a required property"),
        (lambda d: d.update(kind="other"), "/kind", "kind"),
        (lambda d: d.update(stack=""), "/stack", ""),
        (lambda d: d["interactions"][0].pop("operation"), "/interactions/0", "'operation' is a required property"),
        # the wording of minProperties differs between jsonschema versions; the pointer does not
        (lambda d: d["interactions"][0].update(response={}), "/interactions/0/response", "{}"),
        (lambda d: d["interactions"][0].update(source="recorded"), "/interactions/0/source", "recorded"),
        (lambda d: d["interactions"][0].update(extra=1), "/interactions/0", "extra"),
        (lambda d: d["interactions"][0].update(response={"errors": [{"code": True}]}), "/interactions/0/response/errors/0/code", "True"),
        (lambda d: d["interactions"][0].update(response={"errors": [{"code": "X", "kind": "oops"}]}), "/interactions/0/response/errors/0/kind", "oops"),
        (lambda d: d.update(interactions={}), "/interactions", "array"),
    ],
)
def test_consumer_schema_violations_name_the_pointer(tmp_path: Path, mutate: Any, pointer: str, words: str) -> None:
    data = consumer_data()
    mutate(data)
    problem = load_error(write_json(tmp_path / "c.json", data)).problem
    assert f"does not match the contract schema at {pointer}:" in problem
    assert words in problem


@pytest.mark.parametrize(
    "mutate, pointer, words",
    [
        (lambda d: d["operations"]["get"].pop("response"), "/operations/get", "'response' is a required property"),
        (lambda d: d["operations"]["get"].update(request=[1]), "/operations/get/request", "object"),
        (lambda d: d["operations"]["get"].update(errors=[1.5]), "/operations/get/errors/0", "1.5"),
        (lambda d: d["operations"]["get"].update(notes=[{"pointer": "/x"}]), "/operations/get/notes/0", "'note'"),
        (lambda d: d.update(operations=[]), "/operations", "object"),
    ],
)
def test_provider_schema_violations_name_the_pointer(tmp_path: Path, mutate: Any, pointer: str, words: str) -> None:
    data = provider_data()
    mutate(data)
    problem = load_error(write_json(tmp_path / "p.json", data)).problem
    assert f"does not match the contract schema at {pointer}:" in problem
    assert words in problem


def test_provider_file_checked_as_provider_and_consumer_as_consumer(tmp_path: Path) -> None:
    # a consumer body under a provider kind: told what a provider needs, not a vague oneOf failure
    mixed = consumer_data(kind="provider")
    problem = load_error(write_json(tmp_path / "a.json", mixed)).problem
    assert "'operations' is a required property" in problem
    mixed = provider_data(kind="consumer")
    problem = load_error(write_json(tmp_path / "b.json", mixed)).problem
    assert "'consumer' is a required property" in problem
    assert "not valid under any" not in problem


def test_contract_error_is_a_value_error_and_an_rpctest_error(tmp_path: Path) -> None:
    error = load_error(tmp_path / "missing.json")
    assert isinstance(error, ValueError)
    assert isinstance(error, RpctestError)
    assert str(ContractError(None, "just the problem")) == "just the problem"


def test_load_each_kind(tmp_path: Path) -> None:
    provider = fmt.load(write_json(tmp_path / "p.json", provider_data()))
    assert isinstance(provider, ProviderContract)
    assert provider.kind == "provider"
    assert provider.path == tmp_path / "p.json"
    assert provider.key == ("toy", "users")
    assert provider.operations["get"].errors == ["NOT_FOUND", 404]
    consumer = fmt.load(write_json(tmp_path / "c.json", consumer_data()))
    assert isinstance(consumer, ConsumerContract)
    assert consumer.kind == "consumer"
    assert consumer.path == tmp_path / "c.json"
    [item] = consumer.interactions
    assert item.body == {"seen": datetime.date(2024, 5, 1)}  # tagged values decoded
    assert item.ok


def test_load_accepts_str_paths(tmp_path: Path) -> None:
    path = write_json(tmp_path / "p.json", provider_data())
    assert fmt.load(str(path)).path == path


def test_parse_without_a_path_says_just_the_problem() -> None:
    with pytest.raises(ContractError) as info:
        fmt.parse([])
    assert info.value.path is None
    assert str(info.value).startswith("not a contract")


# -- round trips ---------------------------------------------------------------------------------------


def test_consumer_round_trip_keeps_values_errors_and_text(tmp_path: Path) -> None:
    contract = sample_consumer()
    path = fmt.write(contract, tmp_path / "c.json")
    loaded = fmt.load(path)
    assert isinstance(loaded, ConsumerContract)
    assert fmt.dump(loaded) == path.read_text(encoding="utf-8")
    by_request = {fmt.values.canonical(fmt.values.encode(i.request)): i for i in loaded.interactions}
    ann = by_request['{"id":1}']
    assert ann.body["roles"] == {"admin", "dev", "ops"}
    assert ann.body["seen"] == datetime.date(2024, 5, 1)
    assert ann.tests == ["t.py::test_a", "t.py::test_b"]
    [error] = by_request['{"id":-1}'].errors
    assert error == RpcError("INVALID", "bad id", field="id", kind=ErrorKind.CALLER_ERROR)
    assert error.details == {"is_caller_error": True}
    [listing] = [i for i in loaded.interactions if i.operation == "list"]
    assert listing.body[0]["total"].as_tuple().exponent == -2
    [by_key] = [i for i in loaded.interactions if i.operation == "by_key"]
    assert by_key.request == {1: "a", 2: "b"}


def test_provider_round_trip(tmp_path: Path) -> None:
    contract = ProviderContract(
        "toy",
        "users",
        {
            "list": OperationSpec("list", {"type": "object"}, {"type": "array"}, errors=[], description="all"),
            "get": OperationSpec("get", True, False, errors=["NOT_FOUND"], notes=[{"pointer": "/x", "note": "lossy"}]),
        },
        source={"provider": "svc:Server"},
        notes=["exported"],
    )
    path = fmt.write(contract, tmp_path / "providers" / "users.json")
    loaded = fmt.load(path)
    assert isinstance(loaded, ProviderContract)
    assert loaded.operations["get"].request is True
    assert loaded.operations["get"].notes == [{"pointer": "/x", "note": "lossy"}]
    assert loaded.operations["list"].description == "all"
    assert loaded.source == {"provider": "svc:Server"}
    assert fmt.dump(loaded) == fmt.dump(contract)
    assert list(json.loads(path.read_text())["operations"]) == ["get", "list"]


def test_recorded_interaction_from_interaction_and_back() -> None:
    interaction = Interaction(Call("toy", "users", "get", {"id": 1}), Reply(body={"x": (1, 2)}), source="client")
    item = RecordedInteraction.from_interaction(interaction, "t::x")
    assert (item.operation, item.request, item.body, item.source, item.tests) == ("get", {"id": 1}, {"x": (1, 2)}, "client", ["t::x"])
    assert item.as_call("toy", "users") == interaction.call
    assert item.as_reply().body == {"x": (1, 2)}
    assert RecordedInteraction.from_interaction(interaction).tests == []


def test_volatile_error_details_are_not_written() -> None:
    item = RecordedInteraction("get", errors=[RpcError("X", details={"traceback": "...", "variables": {}, "keep": 1, "none": None})])
    assert item.to_dict()["response"]["errors"] == [{"code": "X", "details": {"keep": 1}}]


def test_plain_names_keep_their_file_name() -> None:
    for consumer, service in [("web", "users"), ("rpctest-examples", "com.example.shop"), ("Web_2", "users_v1"), ("a.b-c", "x")]:
        assert ConsumerContract(consumer, "toy", service).file_name() == f"consumers/{consumer}--toy--{service}.json"


@pytest.mark.parametrize("name", ["web app", "org/users:v1", "", "-x", ".hidden", "a--b", "trailing-", "é", "x" * 65, "a~b"])
def test_other_names_are_spelled_with_a_hash(name: str) -> None:
    stem = ConsumerContract(name, "toy", "users").file_name()[len("consumers/"):-len("--toy--users.json")]
    assert re.fullmatch(r"[A-Za-z0-9_.]{0,40}~[0-9a-f]{10}", stem), stem
    assert not stem.startswith(".")


#: names built from what makes spellings collide: separators, the escape character, case, length
collision_prone = st.text(alphabet="aA_-./: ~é", max_size=8) | st.sampled_from(["a--b", "a-", "-b", "a", "b", "x" * 64, "x" * 65])


@settings(max_examples=400, deadline=None)
@given(first=st.tuples(collision_prone, collision_prone), second=st.tuples(collision_prone, collision_prone))
def test_file_names_are_injective_short_and_safe(first: tuple[str, str], second: tuple[str, str]) -> None:
    one = ConsumerContract(first[0], "toy", first[1]).file_name()
    two = ConsumerContract(second[0], "toy", second[1]).file_name()
    assert (one == two) == (first == second), (first, second, one)
    # distinct files on a case-insensitive file system too, unless the names are plain and differ in case alone
    if first != second and one.lower() == two.lower():
        assert first[0].lower() == second[0].lower() and first[1].lower() == second[1].lower()
    assert re.fullmatch(r"consumers/[A-Za-z0-9_.~-]+\.json", one) and len(one) <= 220


# -- dump is deterministic -----------------------------------------------------------------------------


def test_same_contract_built_in_different_orders_dumps_identically() -> None:
    assert fmt.dump(sample_consumer(1)) == fmt.dump(sample_consumer(-1))


def test_dump_format_is_sorted_indented_with_final_newline() -> None:
    text = fmt.dump(sample_consumer())
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    operations = [item["operation"] for item in json.loads(text)["interactions"]]
    assert operations == sorted(operations)


def test_non_string_key_maps_dump_the_same_whatever_the_insertion_order() -> None:
    one = ConsumerContract("web", "toy", "s", [RecordedInteraction("op", {2: "b", 1: "a"}, {"k": {3: 0, 1: 0}})])
    two = ConsumerContract("web", "toy", "s", [RecordedInteraction("op", {1: "a", 2: "b"}, {"k": {1: 0, 3: 0}})])
    assert fmt.dump(one) == fmt.dump(two)
    both = ConsumerContract("web", "toy", "s", one.interactions + two.interactions)
    assert len(both.to_dict()["interactions"]) == 1  # equal requests are one interaction


def test_dedup_merges_test_ids() -> None:
    text = fmt.dump(sample_consumer())
    gets = [item for item in json.loads(text)["interactions"] if item["request"] == {"id": 1}]
    assert len(gets) == 1
    assert gets[0]["tests"] == ["t.py::test_a", "t.py::test_b"]
    assert len(json.loads(text)["interactions"]) == 4


def test_dedup_does_not_modify_the_original() -> None:
    contract = sample_consumer()
    deduplicated = contract.deduplicated()
    assert len(contract.interactions) == 5
    assert len(deduplicated.interactions) == 4
    assert contract.interactions[0].tests == ["t.py::test_b"]


def test_dedup_of_the_same_interaction_from_two_sources_is_order_independent() -> None:
    def contract(*sources: str) -> ConsumerContract:
        return ConsumerContract("web", "toy", "s", [RecordedInteraction("op", {"a": 1}, 1, source=s, tests=[s]) for s in sources])

    assert fmt.dump(contract("stub", "client")) == fmt.dump(contract("client", "stub"))


def test_different_responses_are_different_interactions() -> None:
    contract = ConsumerContract(
        "web", "toy", "s", [RecordedInteraction("op", {"a": 1}, 1), RecordedInteraction("op", {"a": 1}, 2), RecordedInteraction("op", {"a": 1}, errors=[RpcError("E")])]
    )
    assert len(contract.to_dict()["interactions"]) == 3


def test_test_ids_are_capped() -> None:
    tests = [f"t.py::test_{n:02d}" for n in range(MAX_TESTS_PER_INTERACTION + 15)]
    items = [RecordedInteraction("op", {"a": 1}, 1, tests=[name]) for name in reversed(tests)]
    [written] = ConsumerContract("web", "toy", "s", items).to_dict()["interactions"]
    assert written["tests"] == sorted(tests)[:MAX_TESTS_PER_INTERACTION]
    assert len(written["tests"]) == MAX_TESTS_PER_INTERACTION


def test_no_tests_key_without_tests() -> None:
    [written] = ConsumerContract("web", "toy", "s", [RecordedInteraction("op")]).to_dict()["interactions"]
    assert "tests" not in written
    assert written["response"] == {"body": None}


# -- write is atomic ---------------------------------------------------------------------------------


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp") or p.name.startswith("."))


def test_write_creates_parents_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c.json"
    assert fmt.write(sample_consumer(), target) == target
    assert target.read_text(encoding="utf-8") == fmt.dump(sample_consumer())
    assert leftovers(target.parent) == []
    fmt.write(sample_consumer(), str(target))  # and over an existing file
    assert leftovers(target.parent) == []


def test_written_file_has_the_mode_of_any_new_file(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text("{}", encoding="utf-8")
    written = fmt.write(sample_consumer(), tmp_path / "written.json")
    assert stat.S_IMODE(written.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_rewriting_keeps_the_existing_mode(tmp_path: Path) -> None:
    target = fmt.write(sample_consumer(), tmp_path / "c.json")
    target.chmod(0o640)
    fmt.write(sample_consumer(-1), target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failure_during_write_keeps_the_old_file_and_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "c.json"
    target.write_text("OLD CONTENT", encoding="utf-8")
    seen: list[str] = []

    def boom(*args: Any) -> None:
        seen.extend(str(a) for a in args)
        raise OSError("disk on fire")

    monkeypatch.setattr(fmt.os, failing, boom)
    with pytest.raises(OSError, match="disk on fire"):
        fmt.write(sample_consumer(), target)
    monkeypatch.undo()
    assert seen  # the failure really happened inside write
    assert target.read_text(encoding="utf-8") == "OLD CONTENT"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json"]


def test_interrupt_during_write_also_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "c.json"

    def interrupt(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fmt.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        fmt.write(sample_consumer(), target)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_temp_file_is_in_the_target_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moves: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        moves.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(fmt.os, "replace", spy)
    target = fmt.write(sample_consumer(), tmp_path / "c.json")
    [(src, dst)] = moves
    assert Path(src).parent == target.parent  # same filesystem: the rename is atomic
    assert Path(src).name.startswith(".c.json.")
    assert dst == str(target)


def test_write_refuses_an_unserializable_contract_without_touching_the_file(tmp_path: Path) -> None:
    target = tmp_path / "p.json"
    target.write_text("OLD", encoding="utf-8")
    bad = ProviderContract("toy", "users", {"get": OperationSpec("get", {"default": datetime.date(2024, 1, 1)})})
    with pytest.raises(TypeError):
        fmt.write(bad, target)
    assert target.read_text(encoding="utf-8") == "OLD"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_write_refuses_a_contract_that_would_not_load_back(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "c.json"
    with pytest.raises(ContractError) as info:
        fmt.write(ConsumerContract("", "toy", "users"), target)
    assert info.value.path == target
    assert "/consumer" in info.value.problem
    assert not target.parent.exists()  # not even the directory was created
    with pytest.raises(ContractError):
        fmt.write(ProviderContract("toy", "users", {"get": OperationSpec("get", errors=[1.5])}), target)
    assert not target.parent.exists()


# -- many files --------------------------------------------------------------------------------------


def test_load_many_recurses_and_sorts(tmp_path: Path) -> None:
    write_json(tmp_path / "z.json", provider_data(service="z"))
    write_json(tmp_path / "b" / "deep" / "x.json", provider_data(service="bx"))
    write_json(tmp_path / "a" / "y.json", consumer_data(service="ay"))
    (tmp_path / "a" / "notes.txt").write_text("not a contract", encoding="utf-8")
    (tmp_path / "a" / "README.md").write_text("# no", encoding="utf-8")
    loaded = fmt.load_many([tmp_path])
    assert [c.service for c in loaded] == ["ay", "bx", "z"]
    assert [c.path for c in loaded] == [tmp_path / "a" / "y.json", tmp_path / "b" / "deep" / "x.json", tmp_path / "z.json"]


def test_load_many_mixes_files_and_directories_in_the_given_order(tmp_path: Path) -> None:
    single = write_json(tmp_path / "single.json", provider_data(service="single"))
    write_json(tmp_path / "dir" / "b.json", provider_data(service="b"))
    write_json(tmp_path / "dir" / "a.json", provider_data(service="a"))
    assert [c.service for c in fmt.load_many([single, tmp_path / "dir"])] == ["single", "a", "b"]
    assert [c.service for c in fmt.load_many([str(tmp_path / "dir"), str(single)])] == ["a", "b", "single"]


def test_load_many_names_the_bad_file(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", provider_data())
    bad = tmp_path / "sub" / "b.json"
    bad.parent.mkdir()
    bad.write_text('{"rpctest_contract": 1, "kind": ', encoding="utf-8")
    with pytest.raises(ContractError) as info:
        fmt.load_many([tmp_path])
    assert info.value.path == bad


def test_load_many_of_an_empty_directory_is_empty(tmp_path: Path) -> None:
    assert fmt.load_many([tmp_path]) == []


def test_iter_contract_files_on_a_missing_path_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ContractError) as info:
        list(fmt.iter_contract_files([missing]))
    assert info.value.path == missing
    assert "no such file or directory" in str(info.value)
    with pytest.raises(ContractError):
        fmt.load_many([missing])


def test_iter_contract_files_skips_directories_named_like_json(tmp_path: Path) -> None:
    (tmp_path / "odd.json").mkdir()
    write_json(tmp_path / "odd.json" / "inner.json", provider_data())
    assert list(fmt.iter_contract_files([tmp_path])) == [tmp_path / "odd.json" / "inner.json"]


# -- the published schema --------------------------------------------------------------------------


def test_published_schema_is_valid_and_accepts_what_dump_writes() -> None:
    import jsonschema

    schema = fmt.file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(json.loads(fmt.dump(sample_consumer())))
    validator.validate(provider_data())
    assert not validator.is_valid({**provider_data(), "kind": "consumer"})
    schema_path = Path(fmt.__file__).resolve().parent.parent / "schemas" / "contract.schema.json"
    versions = json.loads(schema_path.read_text(encoding="utf-8"))["properties"]["rpctest_contract"]["enum"]
    assert versions == list(fmt.READABLE_VERSIONS) and max(versions) == FORMAT_VERSION


def test_provider_from_export_drops_empty_source_values() -> None:
    contract = ProviderContract.from_export(
        "toy", {"service": "users", "operations": {"get": {"request": {}, "response": {}}}, "notes": ["n"]}, provider="m:o", address=None
    )
    assert contract.source == {"provider": "m:o"}
    assert contract.notes == ["n"]
    assert contract.operations["get"].name == "get"


def test_an_attachment_survives_the_file() -> None:
    from rpctest.contracts.format import ConsumerContract, RecordedInteraction, parse

    item = RecordedInteraction("receipt", {"order_id": 1}, body={"lines": 1}, attachment=b"\x00text\n")
    data = ConsumerContract("c", "zerojson", "com.example.shop", [item]).to_dict()
    assert data["interactions"][0]["response"]["attachment"] == {"$bytes": "AHRleHQK"}
    (back,) = parse(data).interactions
    assert back.attachment == b"\x00text\n" and back.as_reply().attachment == b"\x00text\n"


def test_valid_files_are_checked_without_jsonschema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """jsonschema explains a bad file; a good one is passed by the compiled check of the file schema
    alone (walking jsonschema's validator over each of 5,000 files took most of a verify run)."""

    def unused(kind: Any) -> Any:
        raise AssertionError("jsonschema asked about a valid file")

    good = [write_json(tmp_path / "p.json", provider_data()), write_json(tmp_path / "c.json", consumer_data())]
    bad = write_json(tmp_path / "bad.json", consumer_data(interactions={}))
    monkeypatch.setattr(fmt, "_file_validator", unused)
    assert [c.kind for c in map(fmt.load, good)] == ["provider", "consumer"]
    monkeypatch.undo()
    assert "does not match the contract schema at /interactions" in load_error(bad).problem
