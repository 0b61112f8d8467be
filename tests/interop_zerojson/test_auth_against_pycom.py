"""``--token`` against the real PyCOM's own authentication: the secured interface's server locates
``org.pycom.authenticator`` through its nameserver and validates the ``org.pycom.auth`` extension
there. rpctest's export (introspect), fuzz and live verification reach it with the token; without
it, export is a usage error naming ``--token`` and every fuzz case is a finding."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rpctest.cli import main
from rpctest.contracts import format as fmt
from rpctest.contracts.format import ConsumerContract, RecordedInteraction

VAULT = "org.rpctest.interop.vault"
#: the token pycom_authenticator.py accepts (not imported from it: importing a PyCOM service module
#: registers its interface in this process, which only the launcher's process may do)
TOKEN = "pycom-interop-token-51e2"


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from interop_zerojson.pycom_peer import pycom_launcher

    log: Path = tmp_path_factory.mktemp("pycom-auth") / "launcher.log"
    with pycom_launcher(log, "pycom_authenticator") as nameserver:
        with pycom_launcher(log, "pycom_vault", nameserver=nameserver, ready=VAULT) as address:
            yield address


def test_export_fuzz_and_verify_with_the_token(vault: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    contract = tmp_path / "vault.json"
    target = ["--stack", "zerojson", "--address", vault, "--service", VAULT]
    assert main(["contracts", "export", *target, "--token", TOKEN, "-o", str(contract)]) == 0, capsys.readouterr().err
    assert set(json.loads(contract.read_text())["operations"]) >= {"whoami", "double"}
    code = main(["fuzz", *target, "--token", TOKEN, "--contract", str(contract), "--max-examples", "10",
                 "--replay-dir", str(tmp_path / "replays")])
    captured = capsys.readouterr()
    assert code == 0, captured.out
    assert f"zerojson:{VAULT}.double" in captured.out and TOKEN not in captured.out + captured.err
    consumer = tmp_path / "consumer.json"
    fmt.write(ConsumerContract("app", "zerojson", VAULT, [
        RecordedInteraction("whoami", None, body={"user": "ci"}),
        RecordedInteraction("double", {"x": 21}, body=42),
    ]), consumer)
    code = main(["contracts", "verify", str(consumer), str(contract), "--live", "--exact", *target, "--token", TOKEN])
    assert code == 0, capsys.readouterr().out


def test_without_the_token_pycom_refuses_and_rpctest_says_so(vault: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = ["--stack", "zerojson", "--address", vault, "--service", VAULT]
    assert main(["contracts", "export", *target, "-o", str(tmp_path / "vault.json")]) == 2
    err = capsys.readouterr().err
    assert "requires its authenticator's token (5: Authentication required)" in err and "--token" in err
    assert main(["contracts", "export", *target, "--token", "not-the-token-8812", "-o", str(tmp_path / "vault.json")]) == 2
    err = capsys.readouterr().err
    assert "refused the token sent (5: invalid token)" in err and "not-the-token-8812" not in err
    assert main(["contracts", "export", *target, "--token", TOKEN, "-o", str(tmp_path / "vault.json")]) == 0
    code = main(["fuzz", *target, "--contract", str(tmp_path / "vault.json"), "--mode", "positive", "--max-examples", "3",
                 "--replay-dir", str(tmp_path / "replays")])
    out = capsys.readouterr().out
    assert code == 1 and "refused the request as unauthorized: 5 (unauthorized): Authentication required" in out
