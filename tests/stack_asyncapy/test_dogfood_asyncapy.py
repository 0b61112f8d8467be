"""The calculator example's committed contracts (contracts/) are what the example produces today."""

from pathlib import Path

from dogfood import CONTRACTS, assert_consumer_current, assert_provider_current
from stack_asyncapy.aap_real import needs_asyncapy


def test_the_committed_consumer_contract_is_current(tmp_path: Path) -> None:
    """Recorded from the stubs of examples/asyncapy/test_consumer.py: no AsyncAPY needed."""
    assert_consumer_current("examples/asyncapy/test_consumer.py", CONTRACTS / "consumers" / "rpctest-examples--asyncapy--calc.json", tmp_path)


@needs_asyncapy
def test_the_committed_provider_contract_is_current(tmp_path: Path) -> None:
    assert_provider_current("asyncapy", "examples.asyncapy.service:build_server", CONTRACTS / "providers" / "asyncapy--calc.json", tmp_path)


def test_rpctest_serve_answers_the_recorded_contract_to_the_consumer() -> None:
    """What ``rpctest serve --stack asyncapy CONTRACT`` runs: recorded packets become exact Fields patterns."""
    from examples.asyncapy.consumer import add, request, share
    from rpctest.contracts import format as fmt
    from rpctest.contracts.serve import router_from_contracts
    from rpctest.stacks.asyncapy import serve_stubs

    contracts = fmt.load_many([CONTRACTS / "consumers" / "rpctest-examples--asyncapy--calc.json"])
    with serve_stubs(router_from_contracts(contracts, "asyncapy"), timeout=2) as server:
        assert add(server.address, 2, 3) == 5
        assert share(server.address, 10, 3) == "3 each, 1 left over"
        assert share(server.address, 10, 0) == "cannot share 10: DIVISION_BY_ZERO"
        assert request(server.address, {"action": "add", "a": 2, "b": 4}) == []  # not recorded: AsyncAPY's silent close
    assert any("no AsyncAPY stub matches" in text for text in server.diagnostics)
