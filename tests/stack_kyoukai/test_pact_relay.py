"""The real ``pact verifier`` verifies the example Kyoukai app over HTTP directly (issue 19, item 3):
Kyoukai's pacts are ``Synchronous/HTTP``, so ``rpctest pact-relay`` serves the app on a real port
(rpctest's Kyoukai host) and only the provider-state URL itself. The example consumer's pact
passes, a planted break fails naming the field, and a provider state is set up through the relay."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import pytest

from pact_support import consumer, example_pact, outcome, relay, verify, write_pact

__all__ = ["relay"]

EXAMPLE = "rpctest-examples--kyoukai--shop"


def test_the_example_app_passes_the_example_consumers_pact(relay: Any, tmp_path: Path) -> None:
    running = relay("--stack", "kyoukai", "--provider", "examples.kyoukai.service:make_app", "--service", "shop")
    app = running.printed("kyoukai provider (Synchronous/HTTP, called by the verifier directly) at")
    assert app.startswith("http://127.0.0.1:")
    assert not any(line.startswith("rpctest pact-relay: messages at") for line in running.lines)
    arguments = running.verifier_arguments(tmp_path / "x.json")
    assert arguments[arguments.index("--port") + 1] == app.rsplit(":", 1)[1]  # the verifier goes to the app itself
    result = verify(example_pact(EXAMPLE, tmp_path), "shop", running)
    assert result.returncode == 0, outcome(result)
    assert result.stdout.count("has status code") == 5 and "FAILED" not in result.stdout, outcome(result)
    # a message sent to the relay anyway is refused with what to do instead
    with pytest.raises(Exception) as refused:
        urlopen(Request(running.printed("provider states at").replace("/pact/state", "/pact/message"), data=b"{}"), timeout=10)
    assert getattr(refused.value, "code", None) == 404
    assert b"Synchronous/HTTP: pact verifier calls the provider directly" in refused.value.read()  # type: ignore[attr-defined]


def test_a_planted_break_fails_the_verifier_naming_the_field(relay: Any, tmp_path: Path) -> None:
    running = relay("--stack", "kyoukai", "--provider", "stack_kyoukai.pact_planted:make_planted_app", "--service", "shop")
    result = verify(example_pact(EXAMPLE, tmp_path), "shop", running)
    assert result.returncode == 1, outcome(result)
    assert "$.price -> Expected '3' (String) to be the same type as 3 (Integer)" in result.stdout, outcome(result)


def test_a_provider_state_is_set_up_through_the_relay(relay: Any, tmp_path: Path) -> None:
    pact = write_pact(consumer("kyoukai", "shop", [
        {"operation": "GET /orders", "request": {"query": {"limit": "5"}},
         "states": [{"name": "orders placed", "params": {"orders": [["pear", 2], ["apple", 1]]}}],
         "response": {"body": {"orders": [{"id": 1, "sku": "pear", "quantity": 2, "total": 8},
                                          {"id": 2, "sku": "apple", "quantity": 1, "total": 3}]}}},
    ]), tmp_path, exact=True)  # the orders' values compared: only the state places them
    running = relay("--stack", "kyoukai", "--provider", "examples.kyoukai.service:make_app", "--service", "shop",
                    "--states", "stack_kyoukai.kyoukai_states")
    result = verify(pact, "shop", running)
    assert result.returncode == 0, outcome(result)
    assert "Given orders placed" in result.stdout
