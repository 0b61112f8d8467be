"""``--token`` against a real pykern.api server that requires one (pykern's own ``AuthAPI.token``):
the token goes in pykern's ``authenticate_connection`` handshake; without it the run stops at once
with a usage error saying so, never a hang or a traceback, and the token is never printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pykern.api.auth_api import AuthAPI

from examples.pykern.service import WalletAPI
from rpctest.cli import main

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "contracts/providers/pykern--wallet.json"
CONSUMER = ROOT / "contracts/consumers/rpctest-examples--pykern--wallet.json"
TOKEN = "wallet-ci-secret-7f3a"


class WalletAuthAPI(AuthAPI):
    """The wallet's own authentication, as a pykern service writes it: one token."""

    def token(self) -> str:
        return TOKEN


#: the wallet behind its own AuthAPI, for --provider (in-process) runs
SECURED_WALLET = (WalletAPI, WalletAuthAPI)


@pytest.fixture
def wallet(pykern_service: Any) -> Any:
    from examples.pykern.service import ACCOUNTS, WalletAPI

    ACCOUNTS.reset()
    yield pykern_service(WalletAPI, token=TOKEN)
    ACCOUNTS.reset()


def test_fuzz_and_live_verify_reach_a_server_that_requires_a_token(wallet: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fuzz", "--stack", "pykern", "--address", wallet.address, "--token", TOKEN, "--contract", str(PROVIDER),
                 "--max-examples", "10", "--replay-dir", str(tmp_path), "--json", str(tmp_path / "report.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "pykern:wallet.transfer" in out
    from examples.pykern.service import ACCOUNTS

    ACCOUNTS.reset()
    code = main(["contracts", "verify", str(CONSUMER), str(PROVIDER), "--live", "--stack", "pykern",
                 "--address", wallet.address, "--token", TOKEN])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert TOKEN not in captured.out + captured.err + (tmp_path / "report.json").read_text()


@pytest.mark.parametrize("token", [None, "not-the-wallet-token"])
def test_without_the_right_token_the_run_stops_with_a_usage_error(wallet: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str | None) -> None:
    args = ["fuzz", "--stack", "pykern", "--address", wallet.address, "--contract", str(PROVIDER), "--timeout", "2",
            "--max-examples", "5", "--replay-dir", str(tmp_path)]
    code = main(args + (["--token", token] if token else []))
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    assert "APIForbidden" in captured.err and "--token" in captured.err
    assert "Traceback" not in captured.err
    if token:
        assert token not in captured.out + captured.err


def test_the_token_comes_from_the_services_configuration_with_an_environment_variable(
    wallet: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rpctest import config

    (tmp_path / "rpctest.toml").write_text(
        f'[services.wallet]\nstack = "pykern"\naddress = "{wallet.address}"\ntoken = "${{WALLET_TOKEN}}"\n', encoding="utf-8"
    )
    monkeypatch.delenv("WALLET_TOKEN", raising=False)
    monkeypatch.setattr(config, "_current", (None, config.load(tmp_path)))
    args = ["fuzz", "--address", wallet.address, "--contract", str(PROVIDER), "--max-examples", "5", "--replay-dir", str(tmp_path)]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and "WALLET_TOKEN is not set" in err and "[tool.rpctest.services.wallet] token" in err
    monkeypatch.setenv("WALLET_TOKEN", TOKEN)
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out


def test_an_in_process_provider_with_its_own_auth_api_is_reached_with_the_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--provider: the hosted server's own client sends the token; nothing is added to the provider."""
    from examples.pykern.service import ACCOUNTS

    args = ["fuzz", "--stack", "pykern", "--provider", "stack_pykern.test_auth_pykern:SECURED_WALLET", "--contract", str(PROVIDER),
            "--max-examples", "5", "--replay-dir", str(tmp_path)]
    ACCOUNTS.reset()
    code = main([*args, "--token", TOKEN])
    out = capsys.readouterr().out
    assert code == 0, out
    ACCOUNTS.reset()
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and "APIForbidden" in err and "--token" in err, err
    ACCOUNTS.reset()
