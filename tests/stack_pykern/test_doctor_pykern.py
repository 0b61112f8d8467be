"""The real pykern install this session makes (--no-deps, light) is what the doctor calls usable."""

from __future__ import annotations

from typing import Any

import pytest

from rpctest.cli import main
from rpctest.contracts.recorder import Recorder


def test_doctor_finds_the_light_pykern_install_usable(capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor"])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("pykern"))
    assert line.split()[1] == "usable", line
    assert "tornado" in line and "msgpack 1." in line


def test_hosted_calls_are_recorded_when_asked(pykern_service: Any) -> None:
    from examples.pykern.service import WalletAPI

    recorder = Recorder("me").start()
    try:
        pykern_service(WalletAPI, transport="local").call("echo", {"a": 1})
        assert recorder.contracts() == []
        wallet = pykern_service(WalletAPI, record=True)
        wallet.call("echo", {"a": 1})
        wallet.call("ticks", {"n": 1})
    finally:
        recorder.stop()
    (contract,) = recorder.contracts()
    assert (contract.stack, contract.service) == ("pykern", "wallet")
    assert [(i.operation, i.source) for i in contract.interactions] == [("echo", "local"), ("ticks", "local")]
    assert contract.interactions[1].body == [{"i": 0}]
    from rpctest.contracts.format import parse

    parse(contract.to_dict())  # what it would write passes the contract file schema
