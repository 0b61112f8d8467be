"""The real ``pact verifier`` verifies the example pykern.api provider through ``rpctest pact-relay``
(issue 19, item 3): the example consumer's pact (a call, a caller error, a subscription's stream)
passes in-process and at a running server's address, a planted break fails naming the field, and an
async provider state handler is set up and torn down through the relay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pact_support import consumer, example_pact, outcome, relay, verify, write_pact

__all__ = ["relay"]

EXAMPLE = "rpctest-examples--pykern--wallet"


def test_the_example_provider_passes_the_example_consumers_pact(relay: Any, tmp_path: Path) -> None:
    pact = example_pact(EXAMPLE, tmp_path)
    running = relay("--stack", "pykern", "--provider", "examples.pykern.service:WalletAPI")
    result = verify(pact, "wallet", running)
    assert result.returncode == 0, outcome(result)
    assert result.stdout.count("has a matching body (OK)") == 3, outcome(result)
    assert "wallet.ticks: a stream" in running.stop()  # subscribed to, as the consumer did


def test_a_running_server_is_verified_at_its_address(relay: Any, tmp_path: Path, pykern_service: Any) -> None:
    from examples.pykern.service import WalletAPI

    wallet = pykern_service(WalletAPI)
    running = relay("--stack", "pykern", "--address", wallet.address, "--service", "wallet")
    result = verify(example_pact(EXAMPLE, tmp_path), "wallet", running)
    assert result.returncode == 0, outcome(result)


def test_a_planted_break_fails_the_verifier_naming_the_field(relay: Any, tmp_path: Path) -> None:
    running = relay("--stack", "pykern", "--provider", "stack_pykern.pact_planted:PlantedWalletAPI")
    result = verify(example_pact(EXAMPLE, tmp_path), "wallet", running)
    assert result.returncode == 1, outcome(result)
    assert "$.body -> Actual map is missing the following keys: account" in result.stdout, outcome(result)
    assert result.stdout.count("has a matching body (FAILED)") == 1, outcome(result)


def test_an_async_provider_state_is_set_up_and_torn_down_through_the_relay(relay: Any, tmp_path: Path) -> None:
    """carol can pay 500 only while "account has credit" gives her 900; after its teardown she is gone."""
    pact = write_pact(consumer("pykern", "wallet", [
        {"operation": "transfer", "request": {"account": "carol", "amount": 500, "currency": "EUR"},
         "states": [{"name": "account has credit", "params": {"account": "carol", "balance": 900}}],
         "response": {"body": {"account": "carol", "balance": 400}}},
        {"operation": "transfer", "request": {"account": "carol", "amount": 500, "currency": "EUR"},
         "response": {"errors": [{"code": "InvalidRequest", "kind": "caller_error"}]}},
    ]), tmp_path)
    running = relay("--stack", "pykern", "--provider", "examples.pykern.service:WalletAPI", "--states", "stack_pykern.pykern_states")
    result = verify(pact, "wallet", running)
    assert result.returncode == 0, outcome(result)
    assert "Given account has credit" in result.stdout
    log = running.stop()
    assert "state 'account has credit' (account='carol', balance=900) torn down" in log
