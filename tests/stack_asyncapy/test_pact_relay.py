"""The real ``pact verifier`` verifies the example AsyncAPY provider through ``rpctest pact-relay``
(issue 19, item 3): the example consumer's pact passes, a planted break fails naming the field, and
a provider state is set up through the relay. Needs the AsyncAPY wheel (``RPCTEST_REQUIRE_ASYNCAPY=1``
fails instead of skipping)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pact_support import consumer, example_pact, outcome, relay, verify, write_pact

from stack_asyncapy.aap_real import needs_asyncapy

__all__ = ["relay"]

pytestmark = needs_asyncapy
EXAMPLE = "rpctest-examples--asyncapy--calc"


def test_the_example_provider_passes_the_example_consumers_pact(relay: Any, tmp_path: Path) -> None:
    running = relay("--stack", "asyncapy", "--provider", "examples.asyncapy.service:build_server", "--service", "calc")
    result = verify(example_pact(EXAMPLE, tmp_path), "calc", running)
    assert result.returncode == 0, outcome(result)
    assert result.stdout.count("has a matching body (OK)") == 3, outcome(result)
    assert "calc.divide: errors DIVISION_BY_ZERO (caller_error)" in running.stop()


def test_a_planted_break_fails_the_verifier_naming_the_field(relay: Any, tmp_path: Path) -> None:
    running = relay("--stack", "asyncapy", "--provider", "stack_asyncapy.pact_planted:build_planted_server", "--service", "calc")
    result = verify(example_pact(EXAMPLE, tmp_path), "calc", running)
    assert result.returncode == 1, outcome(result)
    assert "$.body.sum -> Expected '5' (String) to be the same type as 5 (Integer)" in result.stdout, outcome(result)
    assert result.stdout.count("has a matching body (FAILED)") == 1, outcome(result)


def test_a_provider_state_is_set_up_through_the_relay(relay: Any, tmp_path: Path) -> None:
    pact = write_pact(consumer("asyncapy", "ledger", [
        {"operation": "balance", "request": {"action": "balance", "account": "erin"},
         "states": [{"name": "account exists", "params": {"account": "erin", "balance": 12}}],
         "response": {"body": {"status": "ok", "balance": 12}}},
        {"operation": "balance", "request": {"action": "balance", "account": "erin"},
         "response": {"errors": [{"code": "NO_SUCH_ACCOUNT", "kind": "caller_error"}]}},
    ]), tmp_path)
    running = relay("--stack", "asyncapy", "--provider", "stack_asyncapy.aap_ledger:build_ledger", "--service", "ledger",
                    "--states", "stack_asyncapy.aap_ledger")
    result = verify(pact, "ledger", running)
    assert result.returncode == 0, outcome(result)
    assert "Given account exists" in result.stdout
