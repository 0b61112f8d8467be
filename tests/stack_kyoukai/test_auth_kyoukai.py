"""A protected Kyoukai route (401 without credentials) reached by ``fuzz --address`` and
``contracts verify --live --address`` with ``--header``, ``--auth`` (HTTP basic) or ``--token``
(bearer); without them the fuzz run fails naming the refusal, and what the route echoes of a
wrong credential is masked in every report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stack_kyoukai.kyk_auth_app import API_KEY, PASSWORD, TOKEN, USER, make_vault_app

from rpctest.cli import main
from rpctest.contracts import format as fmt
from rpctest.contracts.export import export
from rpctest.contracts.format import ConsumerContract, RecordedInteraction


@pytest.fixture
def vault(kyoukai_service: Any, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    contract = tmp_path / "vault.json"
    fmt.write(export("kyoukai", provider=make_vault_app), contract)
    yield kyoukai_service(make_vault_app).address, contract


def _fuzz(vault: tuple[str, Path], tmp_path: Path, *extra: str) -> int:
    address, contract = vault
    return main(["fuzz", "--stack", "kyoukai", "--address", address, "--contract", str(contract), "--max-examples", "10",
                 "--replay-dir", str(tmp_path / "replays"), "--json", str(tmp_path / "report.json"), *extra])


@pytest.mark.parametrize("credentials", [
    ["--header", f"X-Api-Key: {API_KEY}"],
    ["--auth", f"{USER}:{PASSWORD}"],
    ["--token", TOKEN],
], ids=["header", "basic", "bearer"])
def test_the_protected_route_is_fuzzed_with_credentials(vault: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], credentials: list[str]) -> None:
    code = _fuzz(vault, tmp_path, *credentials)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "kyoukai:vault.GET /vault/<string(maxlength=16):name>" in out


def test_without_credentials_every_request_is_a_401_finding(vault: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _fuzz(vault, tmp_path, "--mode", "positive")
    out = capsys.readouterr().out
    assert code == 1
    assert "refused the request as unauthorized: 401" in out


def test_a_wrong_credential_the_route_echoes_is_masked(
    vault: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RPCTEST_STATE_DIR", str(tmp_path / "state"))  # the run kept for `rpctest report` too
    wrong = "not-the-vault-key-4411"
    code = _fuzz(vault, tmp_path, "--mode", "positive", "--header", f"X-Api-Key:{wrong}", "--auth", f"{USER}:also-wrong-5522")
    captured = capsys.readouterr()
    assert code == 1 and "refused the request as unauthorized: 401" in captured.out, captured.out
    written = [p.read_text() for p in (tmp_path / "replays").glob("*.json")]
    assert written and all("who are you? you sent X-Api-Key=*** Authorization=Basic ***" in text for text in written)
    stored = (tmp_path / "state" / "last" / "fuzz.json").read_text()
    assert "who are you? you sent X-Api-Key=***" in stored
    for text in [captured.out, captured.err, (tmp_path / "report.json").read_text(), stored, *written]:
        assert wrong not in text and "also-wrong-5522" not in text


def test_live_verification_with_credentials(vault: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    address, provider = vault
    consumer = tmp_path / "consumer.json"
    fmt.write(ConsumerContract("app", "kyoukai", "vault", [
        RecordedInteraction("GET /vault/alpha", None, body={"name": "alpha", "value": "a"}),
        RecordedInteraction("GET /vault/beta", None, body={"name": "beta", "value": "b"}),
    ]), consumer)
    args = ["contracts", "verify", str(consumer), str(provider), "--live", "--stack", "kyoukai", "--address", address, "--service", "vault"]
    assert main([*args, "--auth", f"{USER}:{PASSWORD}"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    assert main(args) == 1
    assert "401" in capsys.readouterr().out


def test_an_in_process_app_gets_the_credentials(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["fuzz", "--stack", "kyoukai", "--provider", "stack_kyoukai.kyk_auth_app:make_vault_app", "--mode", "positive",
            "--max-examples", "10", "--replay-dir", str(tmp_path)]
    assert main([*args, "--token", TOKEN]) == 0, capsys.readouterr().out
    assert main([*args, "--auth", f"{USER}:{PASSWORD}"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    assert main(args) == 1
    assert "refused the request as unauthorized: 401" in capsys.readouterr().out


def test_a_token_http_cannot_carry_is_a_usage_error(vault: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--token`` goes to Kyoukai as ``Authorization: Bearer``: a non-ASCII token crashed the HTTP client
    with a UnicodeEncodeError (exit 3); it is refused before any request, saying where, not what."""
    code = _fuzz(vault, tmp_path, "--token", "t\u00f6ken")
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--token (sent as Authorization: Bearer): the value holds a character outside printable ASCII" in err, err
    assert "Traceback" not in err and "t\u00f6ken" not in err
