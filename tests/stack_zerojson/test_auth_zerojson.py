"""``--token`` against a ZeroJSON service that requires its authenticator's token: the token travels as
PyCOM's ``org.pycom.auth`` extension, validated over the wire by a separate authenticator service
(PyCOM's flow: the secured server calls ``org.pycom.authenticator.validate``). Export (introspect is
behind the same policy), fuzz and live verify reach the service with it; without it every call is
refused with code 5, which the reports say, and the token is never printed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stack_zerojson.vecservices import Authenticator

from rpctest.cli import main
from rpctest.stacks.zerojson.server import ZeroJSONServer
from rpctest.stacks.zerojson.service import Request, Service, interface, method

TOKEN = "tok-alice"
VAULT = "com.example.vault"


@interface(VAULT, authentication="required")
class Vault(Service):
    """A secured service: every method, introspect included, needs a valid token."""

    @method(results=("user",))
    def whoami(self, request: Request) -> Any:
        return request.user_info()["name"]

    @method
    def double(self, request: Request, x: int) -> Any:
        if not isinstance(x, int) or isinstance(x, bool):
            from rpctest.stacks.zerojson.errors import BadRequest

            raise BadRequest("x must be an integer")
        return 2 * x


#: the vault with an authenticator on the same server, for --provider (in-process) runs
VAULT_WITH_AUTHENTICATOR = [Vault, Authenticator]


@pytest.fixture
def vault() -> Iterator[ZeroJSONServer]:
    with ZeroJSONServer([Authenticator], address="tcp://127.0.0.1:0") as auth:
        with ZeroJSONServer([Vault], address="tcp://127.0.0.1:0", authenticator=auth.address) as server:
            yield server


def _export(address: str, tmp_path: Path, *extra: str) -> int:
    return main(["contracts", "export", "--stack", "zerojson", "--address", address, "--service", VAULT,
                 "-o", str(tmp_path / "vault.json"), *extra])


def test_export_and_fuzz_with_the_token(vault: ZeroJSONServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _export(vault.address, tmp_path, "--token", TOKEN) == 0, capsys.readouterr().err
    assert set(json.loads((tmp_path / "vault.json").read_text())["operations"]) >= {"whoami", "double"}
    code = main(["fuzz", "--stack", "zerojson", "--address", vault.address, "--service", VAULT, "--token", TOKEN,
                 "--contract", str(tmp_path / "vault.json"), "--max-examples", "10", "--replay-dir", str(tmp_path / "replays"),
                 "--json", str(tmp_path / "report.json")])
    captured = capsys.readouterr()
    assert code == 0, captured.out
    assert "zerojson:com.example.vault.double" in captured.out
    assert TOKEN not in captured.out + captured.err + (tmp_path / "report.json").read_text()


def test_without_the_token_introspect_and_every_call_are_refused(vault: ZeroJSONServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _export(vault.address, tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and "Authentication required" in err and "--token" in err
    assert _export(vault.address, tmp_path, "--token", TOKEN) == 0
    capsys.readouterr()
    code = main(["fuzz", "--stack", "zerojson", "--address", vault.address, "--service", VAULT, "--contract", str(tmp_path / "vault.json"),
                 "--mode", "positive", "--max-examples", "5", "--replay-dir", str(tmp_path / "replays")])
    out = capsys.readouterr().out
    assert code == 1
    assert "Authentication required" in out
    # the replay file says a token is needed by failing again without it, and passes with it
    replay_file = next((tmp_path / "replays").glob("*.json"))
    assert main(["replay", str(replay_file)]) == 1
    assert capsys.readouterr().out.startswith("STILL FAILING: not_refused_as_unauthorized")
    assert main(["replay", str(replay_file), "--token", TOKEN]) == 0
    assert capsys.readouterr().out.startswith("FIXED: ")


def test_a_wrong_token_is_masked_in_the_report_and_the_replay_file(vault: ZeroJSONServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The authenticator refuses it; a service that echoed it would not get it into CI's logs."""
    assert _export(vault.address, tmp_path, "--token", TOKEN) == 0
    wrong = "tok-mallory-0042"
    code = main(["fuzz", "--stack", "zerojson", "--address", vault.address, "--service", VAULT, "--token", wrong,
                 "--contract", str(tmp_path / "vault.json"), "--mode", "positive", "--max-examples", "3",
                 "--replay-dir", str(tmp_path / "replays"), "--junit", str(tmp_path / "junit.xml")])
    captured = capsys.readouterr()
    assert code == 1 and "invalid token" in captured.out
    written = [p.read_text() for p in (tmp_path / "replays").glob("*.json")] + [(tmp_path / "junit.xml").read_text()]
    assert written[:-1], "a failure writes a replay file"
    assert all(wrong not in text for text in [captured.out, captured.err, *written])
    assert all(json.loads(text)["target"]["credentials"] == ["token"] for text in written[:-1])


def test_an_in_process_provider_is_called_with_the_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rpctest.contracts import format as fmt
    from rpctest.contracts.export import export

    fmt.write(export("zerojson", provider=Vault), tmp_path / "vault.json")  # the list serves; its contract is Vault's
    args = ["fuzz", "--stack", "zerojson", "--provider", "stack_zerojson.test_auth_zerojson:VAULT_WITH_AUTHENTICATOR",
            "--contract", str(tmp_path / "vault.json"), "--mode", "positive", "--max-examples", "5", "--replay-dir", str(tmp_path)]
    assert main([*args, "--token", TOKEN]) == 0, capsys.readouterr().out
    capsys.readouterr()
    assert main(args) == 1
    assert "refused the request as unauthorized: 5 (unauthorized): Authentication required" in capsys.readouterr().out
