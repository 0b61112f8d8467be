"""Direction A: rpctest against the real PyCOM server (its launcher, in a child process).

rpctest's wire client must get what PyCOM's own ``zerojson.Client`` gets; ``rpctest contracts
export --address`` must read PyCOM's introspection; ``rpctest fuzz --address`` must pass the
correct services (PyCOM's silences to malformed frames reported as weaknesses) and find, shrink and
replay each planted bug.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from interop_zerojson.interop_cases import CALC, CASES, FILES, NOTES, PROTOCOL_CASES
from interop_zerojson.pycom_peer import pycom_answer, rpctest_answer
from rpctest.cli import main

BUGGY = "org.rpctest.interop.buggy"


def test_rpctest_client_gets_what_pycoms_client_gets(pycom_address: str) -> None:
    """Every case, through both clients: the same result, code, message and attachment."""
    compared, differing = 0, []
    for case in [*CASES, *PROTOCOL_CASES]:
        theirs = pycom_answer(pycom_address, case.interface, case.method, case.args, case.attachment)
        ours = rpctest_answer(pycom_address, case.interface, case.method, case.args, case.attachment)
        compared += 1
        if ours != theirs or theirs != case.answer:
            differing.append(f"{case.id}: PyCOM's client {theirs!r}, rpctest's {ours!r}, expected {case.answer!r}")
    print(f"zerojson A (wire client vs zerojson.Client): {compared} compared, {len(differing)} differed")
    assert not differing, "\n".join(differing)


def test_export_from_the_address_reads_pycoms_introspect(pycom_address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "calc.json"
    assert main(["contracts", "export", "--stack", "zerojson", "--address", pycom_address, "--service", CALC, "-o", str(out)]) == 0
    contract = json.loads(out.read_text())
    operations = contract["operations"]
    assert contract["service"] == CALC and sorted(operations) == ["add", "divmod", "introspect", "refuse", "scale"]
    assert operations["add"]["request"]["required"] == ["a", "b"]
    assert operations["scale"]["request"]["required"] == ["x"] and "factor" in operations["scale"]["request"]["properties"]
    assert operations["divmod"]["response"]["required"] == ["quotient", "remainder"]
    files = tmp_path / "files.json"
    assert main(["contracts", "export", "--stack", "zerojson", "--address", pycom_address, "--service", FILES, "-o", str(files)]) == 0
    download = json.loads(files.read_text())["operations"]["download"]
    assert any("attachment frame" in note["note"] for note in download["notes"])  # the outgoing blob is frame 2
    capsys.readouterr()
    # a class not derived from pycom.Service has no introspect: a clear usage error, no traceback
    code = main(["contracts", "export", "--stack", "zerojson", "--address", pycom_address, "--service", "org.rpctest.interop.plain"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "introspect" in err, err


@pytest.mark.parametrize("interface", [CALC, NOTES, FILES])
def test_fuzz_passes_the_correct_services(pycom_address: str, interface: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The contract comes from introspect (names only): no false positive for PyCOM's argument checks."""
    code = main(["fuzz", "--stack", "zerojson", "--address", pycom_address, "--service", interface, "--max-examples", "40",
                 "--seed", "1", "--replay-dir", str(tmp_path), "--json", str(tmp_path / "report.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    results = json.loads((tmp_path / "report.json").read_text())["results"]
    cases = sum(r["examples"] for r in results)
    print(f"zerojson A (fuzz {interface}): {cases} cases, 0 failing")
    assert cases > 40 and all(r["ok"] for r in results)


def test_framing_fuzz_reports_pycoms_silences_as_weaknesses(pycom_address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fuzz", "--stack", "zerojson", "--address", pycom_address, "--service", NOTES, "--operation", "echo",
                 "--max-examples", "5", "--replay-dir", str(tmp_path), "--framing", "--timeout", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "WEAKNESS  json-array-body" in out and "rpctest fuzz framing passed" in out


@pytest.mark.parametrize(("operation", "minimal"), [
    ("ratio", {"n": 0}),  # shrunk to the smallest int breaking it, or to a non-number
    ("pair", {"a": []}),
    ("lookup", None),
])
def test_fuzz_finds_shrinks_and_replays_each_planted_bug(pycom_address: str, operation: str, minimal: Any, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fuzz", "--stack", "zerojson", "--address", pycom_address, "--service", BUGGY, "--operation", operation,
                 "--max-examples", "200", "--seed", "2", "--replay-dir", str(tmp_path), "--json", str(tmp_path / "report.json")])
    out = capsys.readouterr().out
    assert code == 1, out
    failure = json.loads((tmp_path / "report.json").read_text())["results"][0]["failure"]
    assert failure["check"] == "not_a_server_error", failure
    assert failure["reply"]["errors"][0]["code"] == 1
    request = failure["request"]
    if operation == "ratio":
        assert list(request) == ["n"] and request["n"] in (0, None, False, "", [], {}), request
    else:
        assert request == minimal, request
    replay = Path(failure["replay_file"])
    assert main(["replay", str(replay)]) == 1  # reproduced against the same address
    assert "not_a_server_error" in capsys.readouterr().out
