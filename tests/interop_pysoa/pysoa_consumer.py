"""A consumer's tests, recorded into a consumer contract by the PySOA differential suite (direction B):
PySOA's own ``Client({})`` calls ``ledger``, each call answered by a stub with what the real server
answers it (``interop_cases``). Run by ``test_pysoa_client_to_rpctest`` with ``pytest --rpctest-record``;
not collected on its own (its name does not start with ``test_``)."""

from __future__ import annotations

import pytest
from pysoa.client.client import Client

from interop_pysoa.interop_cases import CASES, Case
from interop_pysoa.pysoa_peer import pysoa_answer
from rpctest import stub_action


def _stub(case: Case) -> stub_action:
    kind, answer = case.answer
    if kind == "ok":
        return stub_action("ledger", case.action, body=answer, match=case.body)
    errors = [{"code": code, "field": field, "message": message, "is_caller_error": caller} for code, field, message, caller in answer]
    return stub_action("ledger", case.action, errors=errors, match=case.body)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_consumer_call(case: Case) -> None:
    with _stub(case) as stub:
        assert pysoa_answer(Client({}), "ledger", case.action, case.body) == case.answer
    assert stub.call_count == 1
