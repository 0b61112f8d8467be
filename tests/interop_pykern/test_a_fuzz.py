"""Direction A, fuzzing: ``rpctest fuzz --address`` against pykern's real server.

On the correct service every check passes; on the planted bugs each bug is found, shrunk, and
reproduced by ``rpctest replay`` from the file the fuzz run wrote. Fuzzing in-process
(``--provider``) and over the wire (``--address``) must reach the same verdicts.

Issue 16 item 2.1: the fuzzer sent ``null`` as ``api_args`` to APIs without a schema; pykern's
server answers that with ``APIProtocolError`` and closes the connection, and rpctest's wire client
stayed disconnected, so every later check failed, all falsely.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from rpctest.cli import main
from rpctest.contracts.format import load
from rpctest.fuzz.engine import Target, fuzz_operation
from rpctest.model import Call, Reply

EXAMPLES = 40


def _verdicts(output: str) -> dict[str, str]:
    """``{operation: "ok" | "FAILED <check>"}`` from the fuzz command's text report."""
    verdicts: dict[str, str] = {}
    current = None
    for line in output.splitlines():
        match = re.match(r"^(ok|FAILED)\s+pykern:\w+\.(\w+)", line)
        if match:
            current = match.group(2)
            verdicts[current] = match.group(1)
            continue
        check = re.match(r"^\s+check (\w+) failed", line)
        if check and current is not None:
            verdicts[current] += f" {check.group(1)}"
    return verdicts


def _fuzz_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["fuzz", "--stack", "pykern", "--max-examples", str(EXAMPLES), "--seed", "16", *args])
    return code, capsys.readouterr().out


def test_fuzz_over_the_wire_passes_on_a_correct_service(
    shop: Any, shop_contract: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tally: Callable[..., None]
) -> None:
    code, out = _fuzz_cli(capsys, "--address", shop.address, "--contract", str(shop_contract), "--replay-dir", str(tmp_path))
    verdicts = _verdicts(out)
    cases = int(re.search(r"(\d+) case\(s\) in", out).group(1))  # type: ignore[union-attr]
    tally("A fuzz --address (correct service)", cases, sum(v != "ok" for v in verdicts.values()))
    assert code == 0, out
    assert set(verdicts) == {"add", "count", "countdown", "echo", "vault", "rpctest_no_such_operation"}, out
    assert not list(tmp_path.iterdir()), "no failure, so no replay file"


def test_in_process_and_wire_fuzzing_agree(
    shop: Any, shop_contract: Path, buggy_shop: Any, buggy_contract: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], tally: Callable[..., None],
) -> None:
    compared = differed = 0
    for provider, hosted, contract in (("ShopAPI", shop, shop_contract), ("BuggyShopAPI", buggy_shop, buggy_contract)):
        _code, local = _fuzz_cli(capsys, "--provider", f"interop_pykern.services:{provider}", "--replay-dir", str(tmp_path / "p"))
        _code, wire = _fuzz_cli(capsys, "--address", hosted.address, "--contract", str(contract), "--replay-dir", str(tmp_path / "w"))
        local_verdicts, wire_verdicts = _verdicts(local), _verdicts(wire)
        compared += len(local_verdicts)
        differed += sum(local_verdicts.get(name) != verdict for name, verdict in wire_verdicts.items())
        assert wire_verdicts == local_verdicts, f"--provider:\n{local}\n--address:\n{wire}"
    tally("A fuzz --provider vs --address (verdicts)", compared, differed)


def test_the_fuzzer_never_sends_a_null_api_args(shop_contract: Path) -> None:
    """pykern's server closes the connection on a nil ``api_args``: no case may carry one."""
    contract = load(shop_contract)
    sent: list[Any] = []

    def send(call: Call) -> Reply:
        sent.append(call.body)
        return Reply(body=call.body if call.operation == "echo" else {"calls": 1})

    target = Target("pykern", contract, send)  # type: ignore[arg-type]
    for operation in ("echo", "count", "vault"):  # the APIs without a request schema
        fuzz_operation(target, operation, mode="all", max_examples=100)
    assert sent and None not in sent


# -- planted bugs: found, shrunk, replayed ------------------------------------------------------------

PLANTED = {
    # operation: (the check that must fail, what the shrunk request must be)
    "divide": ("not_a_server_error", {"a": 0, "b": 0}),
    "label": ("response_conforms", {"a": -1, "b": 0}),
    "keys": ("not_a_server_error", None),  # any api_args that is not a map; shrinks to a scalar
}


def test_each_planted_bug_is_found_shrunk_and_replayed(
    buggy_shop: Any, buggy_contract: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tally: Callable[..., None]
) -> None:
    code, out = _fuzz_cli(capsys, "--address", buggy_shop.address, "--contract", str(buggy_contract),
                          "--mode", "positive", "--replay-dir", str(tmp_path))
    assert code == 1, out
    verdicts = _verdicts(out)
    tally("A fuzz --address (planted bugs found)", len(PLANTED), sum(verdicts.get(op) != f"FAILED {check}" for op, (check, _) in PLANTED.items()))
    assert verdicts == {**{op: f"FAILED {check}" for op, (check, _) in PLANTED.items()}, "rpctest_no_such_operation": "ok"}, out
    files = {json.loads(path.read_text())["operation"]: path for path in tmp_path.glob("*.json")}
    assert set(files) == set(PLANTED), out
    for operation, (check, shrunk) in PLANTED.items():
        data = json.loads(files[operation].read_text())
        assert data["check"] == check
        if shrunk is not None:
            assert data["request"] == shrunk, f"{operation} not shrunk: {data['request']}"
        else:
            assert not isinstance(data["request"], dict) and data["request"] is not None
        capsys.readouterr()
        assert main(["replay", str(files[operation])]) == 1, f"rpctest replay {files[operation]} did not reproduce"
        assert capsys.readouterr().out.startswith(f"STILL FAILING: {check}")
