"""Hostile contract files (issue 15, item 3): what JSON allows to be deep or large, and what only
Python's json module accepts, is refused by ``load``, ``contracts verify`` and ``serve`` with exit 2,
the file named and, where the problem sits at one place, a JSON pointer to it; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

import toystack
from rpctest import config
from rpctest.cli import main
from rpctest.contracts import format as fmt
from rpctest.contracts.format import MAX_DEPTH, MAX_INT_DIGITS, ContractError
from rpctest.contracts.verify import verify

PROVIDER = {
    "rpctest_contract": 1,
    "kind": "provider",
    "stack": "toy",
    "service": "users",
    "operations": {"get": {"request": {"type": "object"}, "response": {"type": "object"}, "errors": []}},
}


def consumer_text(request: str = '{"id": 1}', *, consumer: str = '"web"', body: str = '{"name": "Ann"}') -> str:
    """A consumer contract with raw JSON text spliced in where each test puts its hostile value."""
    return (
        '{"rpctest_contract": 1, "kind": "consumer", "consumer": ' + consumer + ', "stack": "toy", "service": "users", '
        '"interactions": [{"operation": "get", "request": ' + request + ', "response": {"body": ' + body + "}}]}"
    )


@pytest.fixture(autouse=True)
def toy() -> Iterator[None]:
    toystack.register()
    yield
    toystack.unregister()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "providers").mkdir()
    (tmp_path / "consumers").mkdir()
    (tmp_path / "providers/users.json").write_text(json.dumps(PROVIDER), encoding="utf-8")
    return tmp_path


def refused(path: Path) -> str:
    with pytest.raises(ContractError) as info:
        fmt.load(path)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}: ")
    return info.value.problem


DEEP = 100_000
HOSTILE = {
    # name: (file text, words the problem must hold)
    "nested 100,000 deep": (consumer_text("[" * DEEP + "]" * DEEP), ["nested too deeply", f"at most {MAX_DEPTH} levels"]),
    "a 5,000-digit integer": (consumer_text('{"id": ' + "9" * 5000 + "}"), ["/interactions/0/request/id", "5000 digits", str(MAX_INT_DIGITS)]),
    "a negative 5,000-digit integer": (consumer_text('{"id": -' + "9" * 5000 + "}"), ["/interactions/0/request/id", "5000 digits"]),
    "NaN": (consumer_text('{"x": NaN}'), ["NaN", "/interactions/0/request/x", "strict JSON", '{"$float": "nan"}']),
    "Infinity": (consumer_text(body='{"total": [1, Infinity]}'), ["Infinity", "/interactions/0/response/body/total/1", "strict JSON"]),
    "-Infinity": (consumer_text('{"x": -Infinity}'), ["-Infinity", "/interactions/0/request/x"]),
    "1e999999": (consumer_text('{"x": 1e999999}'), ["1e999999", "/interactions/0/request/x", "out of range"]),
    "a lone surrogate in a value": (consumer_text('{"name": "ab\\ud800c"}'), ["lone surrogate", "\\ud800", "/interactions/0/request/name"]),
    "a lone low surrogate in a key": (consumer_text('{"n\\uDC00": 1}'), ["lone surrogate", "\\udc00", "/interactions/0/request/n\\udc00"]),
    "a lone surrogate in a name": (consumer_text(consumer='"w\\ud83d"'), ["lone surrogate", "/consumer"]),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_load_refuses_with_the_file_and_the_place(tmp_path: Path, name: str) -> None:
    text, words = HOSTILE[name]
    path = tmp_path / "hostile.json"
    path.write_text(text, encoding="utf-8")
    problem = refused(path)
    for word in words:
        assert word in problem, (word, problem)
    problem.encode("ascii")  # printable anywhere: a surrogate is shown escaped, never written raw


@pytest.mark.parametrize("name", list(HOSTILE))
def test_verify_and_serve_exit_2_naming_the_file(tree: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    text, words = HOSTILE[name]
    bad = tree / "consumers/web--toy--users.json"
    bad.write_text(text, encoding="utf-8")
    for argv in (["contracts", "verify", str(tree)], ["serve", "--stack", "toy", str(tree / "consumers")]):
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert err.startswith(f"rpctest: error: {bad}: "), err[:300]
        assert words[0] in err
        assert "Traceback" not in err and "internal error" not in err


def test_a_valid_surrogate_pair_is_one_character(tmp_path: Path) -> None:
    path = tmp_path / "emoji.json"
    path.write_text(consumer_text('{"name": "\\ud83d\\ude00 \\u00e9"}'), encoding="utf-8")
    [item] = fmt.load(path).interactions
    assert item.request == {"name": "\U0001f600 \u00e9"}


def test_large_but_allowed_numbers_load(tmp_path: Path) -> None:
    path = tmp_path / "numbers.json"
    big = "9" * MAX_INT_DIGITS
    path.write_text(consumer_text('{"id": ' + big + ', "f": 1.5e308, "g": -2.5e-300}'), encoding="utf-8")
    [item] = fmt.load(path).interactions
    assert item.request == {"id": int(big), "f": 1.5e308, "g": -2.5e-300}


def nest(levels: int, leaf: Any) -> Any:
    for _ in range(levels):
        leaf = [leaf]
    return leaf


def nested_schema(levels: int) -> dict[str, Any]:
    """An array schema ``levels`` deep whose innermost items are integers."""
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
    return schema


def test_a_file_at_the_depth_limit_loads_and_verifies_one_more_level_is_refused(tree: Path) -> None:
    # the top object, the interactions list and an interaction are three levels: a request of
    # MAX_DEPTH - 3 nested lists reaches the limit, as does a schema of MAX_DEPTH - 4 nested array
    # schemas under /operations/get/request. The innermost value breaks the schema, so that the
    # explanation (jsonschema, recursive) runs at the full depth as well as the fast check.
    deep_provider = {**PROVIDER, "operations": {"get": {"request": nested_schema(MAX_DEPTH - 4), "response": {"type": "object"}, "errors": []}}}
    (tree / "providers/users.json").write_text(json.dumps(deep_provider), encoding="utf-8")
    consumer = json.loads(consumer_text())
    consumer["interactions"][0]["request"] = nest(MAX_DEPTH - 3, "not an integer")
    path = tree / "consumers/web--toy--users.json"
    path.write_text(json.dumps(consumer), encoding="utf-8")
    report = verify(fmt.load_many([tree]))
    [finding] = report.errors
    assert finding.check == "request_schema"
    assert finding.pointer == "/interactions/0/request" + "/0" * (MAX_DEPTH - 4)
    consumer["interactions"][0]["request"] = nest(MAX_DEPTH - 2, 1)
    path.write_text(json.dumps(consumer), encoding="utf-8")
    problem = refused(path)
    assert f"nested more than {MAX_DEPTH} levels deep at /interactions/0/request/0/0/" in problem


def test_the_size_limit_is_configurable_and_says_how(tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tree / "consumers/web--toy--users.json"
    path.write_text(consumer_text(body=json.dumps({"blob": "x" * 5000})), encoding="utf-8")
    size = path.stat().st_size
    assert fmt.load(path).interactions  # under the default limit
    problem = fmt_problem(lambda: fmt.load(path, max_size=4096))
    assert f"{size} bytes" in problem and "over the limit of 4096 bytes" in problem
    assert "max_contract_size" in problem
    (tree / "rpctest.toml").write_text('contracts_dir = "."\nmax_contract_size = 4096\n', encoding="utf-8")
    monkeypatch.chdir(tree)
    config.set_current(None)
    try:
        assert main(["contracts", "verify"]) == 2
        assert "over the limit of 4096 bytes" in capsys.readouterr().err
        (tree / "rpctest.toml").write_text(f"max_contract_size = {size}\n", encoding="utf-8")
        config.set_current(None)
        assert main(["contracts", "verify", str(tree)]) == 0
    finally:
        config.set_current(None)


def fmt_problem(action: Any) -> str:
    with pytest.raises(ContractError) as info:
        action()
    return info.value.problem


@pytest.mark.parametrize("value", [0, -1, "1MB", 1.5, True])
def test_a_bad_size_limit_in_the_configuration_is_named(tmp_path: Path, value: Any) -> None:
    (tmp_path / "rpctest.toml").write_text(f"max_contract_size = {json.dumps(value)}\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match="max_contract_size"):
        config.load(tmp_path)


def test_the_default_size_limit_is_in_the_configuration(tmp_path: Path) -> None:
    assert config.load(tmp_path).max_contract_size == config.DEFAULT_MAX_CONTRACT_SIZE >= 16 * 1024 * 1024
