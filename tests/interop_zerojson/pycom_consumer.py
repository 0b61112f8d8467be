"""A consumer's tests, recorded into consumer contracts by the differential suite (direction B):
PyCOM's own ``zerojson.Client`` calls rpctest's ZeroJSON stub server, each stub answering what the
real PyCOM answers the same call (``interop_cases``). Run by ``test_pycom_client_to_rpctest`` with
``pytest --rpctest-record``; not collected on its own (its name does not start with ``test_``).
"""

from __future__ import annotations

import pytest

from interop_zerojson.interop_cases import CASES, Case
from interop_zerojson.pycom_peer import pycom_answer
from rpctest import stub_action


def _stub(case: Case) -> stub_action:
    kind, *answer = case.answer
    if kind == "ok":
        result, attachment = answer
        return stub_action(case.interface, case.method, stack="zerojson", body=result, attachment=attachment, match=case.args)
    code, message = answer
    return stub_action(case.interface, case.method, stack="zerojson", errors={"code": code, "message": message}, match=case.args)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_consumer_call(zerojson_stub_server, case: Case) -> None:
    with _stub(case) as stub:
        assert pycom_answer(zerojson_stub_server.address, case.interface, case.method, case.args, case.attachment) == case.answer
    assert stub.call_count == 1
