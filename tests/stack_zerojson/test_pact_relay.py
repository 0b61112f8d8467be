"""The real ``pact verifier`` verifies the example ZeroJSON provider through ``rpctest pact-relay``
(issue 19, item 3): the example consumer's pact (a reply with an attachment frame, a code 4)
passes, a planted break fails naming the field, and a provider state is set up through the relay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pact_support import consumer, example_pact, outcome, relay, verify, write_pact

__all__ = ["relay"]

EXAMPLE = "rpctest-examples--zerojson--com.example.shop"
SETUP = ["--setup", "examples.zerojson.service:provider_state"]


def test_the_example_provider_passes_the_example_consumers_pact(relay: Any, tmp_path: Path) -> None:
    running = relay("--stack", "zerojson", "--provider", "examples.zerojson.service:Shop", *SETUP)
    result = verify(example_pact(EXAMPLE, tmp_path), "com.example.shop", running)
    assert result.returncode == 0, outcome(result)
    assert result.stdout.count("has a matching body (OK)") == 3, outcome(result)


def test_without_the_setup_hook_the_receipt_of_a_missing_order_fails(relay: Any, tmp_path: Path) -> None:
    running = relay("--stack", "zerojson", "--provider", "examples.zerojson.service:Shop")
    result = verify(example_pact(EXAMPLE, tmp_path), "com.example.shop", running)
    assert result.returncode == 1, outcome(result)
    assert "com.example.shop.receipt: errors 4 (caller_error)" in running.stop()


def test_a_planted_break_fails_the_verifier_naming_the_field(relay: Any, tmp_path: Path) -> None:
    running = relay("--stack", "zerojson", "--provider", "stack_zerojson.pact_planted:PlantedShop", *SETUP)
    result = verify(example_pact(EXAMPLE, tmp_path), "com.example.shop", running)
    assert result.returncode == 1, outcome(result)
    assert "$.body.total -> Expected '6' (String) to be the same type as 6 (Integer)" in result.stdout, outcome(result)


def test_a_provider_state_is_set_up_through_the_relay(relay: Any, tmp_path: Path) -> None:
    pact = write_pact(consumer("zerojson", "com.example.shop", [
        {"operation": "receipt", "request": {"order_id": 41},
         "states": [{"name": "order exists", "params": {"order_id": 41, "sku": "pear", "quantity": 3}}],
         "response": {"body": {"lines": 1}, "attachment": {"$bytes": "MyB4IHBlYXIK"}}},
    ]), tmp_path)
    running = relay("--stack", "zerojson", "--provider", "examples.zerojson.service:Shop", "--states", "stack_zerojson.zerojson_states")
    result = verify(pact, "com.example.shop", running)
    assert result.returncode == 0, outcome(result)
    assert "Given order exists" in result.stdout
