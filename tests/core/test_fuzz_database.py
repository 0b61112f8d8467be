"""The fuzz engine and Hypothesis' example database: a run draws with a seed (or derandomized), so
Hypothesis neither replays nor stores examples, even with a database in the settings. The engine
relies on it: it does not make Hypothesis key the run by a digest of its source (work for a
database that is never used, and a key that would be one for every operation)."""

from __future__ import annotations

from typing import Any

from rpctest.contracts import format as fmt
from rpctest.model import Call, Reply, RpcError

from toystack import toy  # noqa: F401  (a fixture)

REQUEST = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def _fuzz(database: Any, seed: int | None, derandomize: bool = False) -> Any:
    from hypothesis import settings

    from rpctest.fuzz.engine import Target, fuzz

    def send(call: Call) -> Reply:
        if call.body["n"] > 5:
            return Reply(errors=[RpcError("BOOM", "too many", kind="server_error")])
        return Reply(body={})

    contract = fmt.ProviderContract("toy", "users", {
        name: fmt.OperationSpec(name, request=REQUEST, response={}, errors=[]) for name in ("add", "remove")
    })
    chosen = settings(settings.default, database=None, derandomize=True) if derandomize else \
        settings(settings.default, database=database, derandomize=False)
    return fuzz(Target("toy", contract, send), mode="positive", max_examples=50, unknown_operation=False, seed=seed,
                settings=chosen)


def test_a_seeded_run_leaves_the_example_database_alone(toy: Any) -> None:
    from hypothesis.database import InMemoryExampleDatabase

    database = InMemoryExampleDatabase()
    report = _fuzz(database, 7)
    assert [r.failure.body["n"] for r in report.results if r.failure is not None] == [6, 6]  # found and shrunk
    assert database.data == {}
    again = _fuzz(database, None)  # a seed of its own
    assert again.seed is not None and not again.ok
    assert database.data == {}


def test_a_derandomized_run_finds_and_shrinks_as_before(toy: Any) -> None:
    first = _fuzz(None, None, derandomize=True)
    second = _fuzz(None, None, derandomize=True)
    assert first.seed is None
    assert [r.failure.body for r in first.results if r.failure is not None] == [{"n": 6}, {"n": 6}]
    assert [r.examples for r in first.results] == [r.examples for r in second.results]
