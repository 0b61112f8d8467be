"""The provider's tests: the real calculator hosted by rpctest (needs AsyncAPY: not on PyPI)."""

import pytest

from examples.asyncapy.consumer import add, share
from rpctest.stacks import get_adapter

UNAVAILABLE = get_adapter("asyncapy").host.unavailable_reason()
pytestmark = pytest.mark.skipif(UNAVAILABLE is not None, reason=f"the provider side needs AsyncAPY: {UNAVAILABLE}")


@pytest.fixture(params=["tcp", "local"])
def calc(request, asyncapy_service):
    from examples.asyncapy.service import build_server

    return asyncapy_service(build_server(), transport=request.param)


def test_consumer_against_the_real_service(asyncapy_service):
    from examples.asyncapy.service import build_server

    calc = asyncapy_service(build_server())  # 127.0.0.1:<free port>
    assert add(calc.address, 2, "-5") == -3
    assert share(calc.address, 10, 3) == "3 each, 1 left over"
    assert share(calc.address, 10, 0) == "cannot share 10: DIVISION_BY_ZERO"


def test_replies_and_silences_in_neutral_terms(calc):
    assert calc.call("add", {"action": "add", "a": 2, "b": 3}).body == {"status": "ok", "sum": 5}
    assert [e.code for e in calc.call("divide", {"action": "divide", "a": 1, "b": 0}).errors] == ["DIVISION_BY_ZERO"]
    silent = calc.call("add", {"action": "add", "a": "two", "b": 3})
    assert [(e.code, e.kind.value) for e in silent.errors] == [("CLOSED_WITHOUT_REPLY", "transport")]
    assert calc.leaked_sessions() == 0


def test_fuzz_every_handler(tmp_path):
    from examples.asyncapy.service import build_server
    from rpctest.fuzz.engine import fuzz
    from rpctest.fuzz.target import open_target

    with open_target("asyncapy", provider=build_server()) as target:
        report = fuzz(target, max_examples=30, seed=0, replay_dir=tmp_path)
    assert report.ok, report.render()
