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
