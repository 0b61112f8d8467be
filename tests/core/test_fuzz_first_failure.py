"""A run without Hypothesis' shrink phase reports the first failing case as it was sent: no request
is sent again for it (Hypothesis replays a failing example to report it, which only a shrunk
example needs). With shrinking on, the failure is still shrunk and replayed as Hypothesis does."""

from __future__ import annotations

from typing import Any

from rpctest.contracts import format as fmt
from rpctest.model import Call, Reply, RpcError

from toystack import toy  # noqa: F401  (a fixture)

REQUEST = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def _fuzz(phases: Any, fails: Any) -> tuple[Any, list[Any]]:
    from hypothesis import settings

    from rpctest.fuzz.engine import Target, fuzz

    sent: list[Any] = []

    def send(call: Call) -> Reply:
        sent.append(call.body)
        if fails(call.body["n"]):
            return Reply(errors=[RpcError("BOOM", "broken", kind="server_error")])
        return Reply(body={})

    contract = fmt.ProviderContract("toy", "users", {"add": fmt.OperationSpec("add", request=REQUEST, response={}, errors=[])})
    chosen = settings(settings.default, database=None, phases=phases)
    report = fuzz(Target("toy", contract, send), mode="positive", max_examples=200, unknown_operation=False, seed=3,
                  settings=chosen)
    return report.results[0], sent


def test_without_shrinking_the_first_failing_case_is_not_sent_again(toy: Any) -> None:
    from hypothesis import Phase

    result, sent = _fuzz([Phase.generate], lambda n: True)  # the first case fails
    assert result.failure is not None and result.failure.check == "not_a_server_error"
    assert len(sent) == 1
    assert result.examples == 1
    assert result.failure.body == sent[0]
    assert not result.failure.flaky


def test_without_shrinking_the_failure_is_the_case_that_failed(toy: Any) -> None:
    from hypothesis import Phase

    result, sent = _fuzz([Phase.generate], lambda n: n > 1000)
    assert result.failure is not None
    assert result.failure.body == sent[-1] and sent[-1]["n"] > 1000
    assert [body for body in sent if body["n"] > 1000] == [sent[-1]]  # the run stopped at it
    assert result.examples == len(sent)


def test_with_shrinking_the_failure_is_still_shrunk(toy: Any) -> None:
    from hypothesis import Phase

    result, sent = _fuzz([Phase.generate, Phase.shrink], lambda n: n > 1000)
    assert result.failure is not None
    assert result.failure.body == {"n": 1001}
    assert sent[-1] == {"n": 1001}  # Hypothesis' replay of the minimal example
