"""A pact written by pact-python's own consumer DSL (synchronous messages) is read, verified and served
by rpctest, and so is rpctest's own export (``rpctest serve`` over AsyncAPY's real wire protocol,
whose stub server and client need no stack library).

pact-python writes the file in a child process: its FFI keeps global state (a log and mock server
registry) that the test process need not share.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from rpctest.cli import main
from rpctest.contracts import format as fmt
from rpctest.model import Call
from rpctest.stacks import get_adapter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dogfood import serving_contract  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = ROOT / "contracts" / "providers"

DSL = textwrap.dedent('''
    import json, sys
    from pact import Pact, match

    pact = Pact("calc-web", "calc").with_specification("V4")
    (pact.upon_receiving("add two numbers", "Sync")
        .given("calculator up", mode="fast")
        .with_body(json.dumps({"action": "add", "a": 2, "b": 3}), "application/json")
        .with_metadata({"rpctest": json.dumps({"stack": "asyncapy", "operation": "add"})})
        .will_respond_with()
        .with_body({"body": {"status": "ok", "sum": match.int(SUM)}}))
    (pact.upon_receiving("divide by zero", "Sync")
        .with_body(json.dumps({"action": "divide", "a": 10, "b": 0}), "application/json")
        .with_metadata({"operation": "divide", "stack": "asyncapy"})
        .will_respond_with()
        .with_body({"errors": [{"code": "DIVISION_BY_ZERO", "kind": "caller_error"}]}))
    pact.write_file(sys.argv[1], overwrite=True)
''')


def _write_dsl_pact(directory: Path, sum_example: str = "5") -> Path:
    result = subprocess.run([sys.executable, "-c", DSL.replace("SUM", sum_example), str(directory)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    [written] = directory.glob("*.json")
    return written


def test_a_pact_python_dsl_pact_is_read_as_the_consumer_contract_it_says(tmp_path: Path) -> None:
    path = _write_dsl_pact(tmp_path)
    contract = fmt.load(path)
    assert isinstance(contract, fmt.ConsumerContract)
    assert (contract.consumer, contract.stack, contract.service) == ("calc-web", "asyncapy", "calc")
    add = next(i for i in contract.interactions if i.operation == "add")
    assert add.request == {"action": "add", "a": 2, "b": 3}
    assert add.body == {"status": "ok", "sum": 5}
    assert [(s.name, dict(s.params)) for s in add.states] == [("calculator up", {"mode": "fast"})]
    assert add.rules("response") == {"/body/sum": {"match": "integer"}}
    divide = next(i for i in contract.interactions if i.operation == "divide")
    assert [(e.code, str(e.kind)) for e in divide.errors] == [("DIVISION_BY_ZERO", "caller_error")]


def test_rpctest_verifies_a_pact_python_dsl_pact(tmp_path: Path, capsys: object) -> None:
    good = _write_dsl_pact(tmp_path / "good")
    assert main(["contracts", "verify", str(good), str(PROVIDERS / "asyncapy--calc.json")]) == 0
    # the provider's schema says sum is an integer: a consumer relying on a decimal is a finding
    bad = _write_dsl_pact(tmp_path / "bad", sum_example="5.5")
    assert main(["contracts", "verify", str(bad), str(PROVIDERS / "asyncapy--calc.json")]) == 1


def test_rpctest_serve_answers_from_a_pact_file(tmp_path: Path) -> None:
    path = _write_dsl_pact(tmp_path)
    adapter = get_adapter("asyncapy")
    with serving_contract("asyncapy", path) as address:
        client = adapter.wire.client(address, service="calc", timeout=5.0)
        try:
            reply = client.call(Call("asyncapy", "calc", "add", {"action": "add", "a": 2, "b": 3}))
            assert reply.ok and reply.body == {"status": "ok", "sum": 5}
            failed = client.call(Call("asyncapy", "calc", "divide", {"action": "divide", "a": 10, "b": 0}))
            assert [e.code for e in failed.errors] == ["DIVISION_BY_ZERO"]
        finally:
            client.close()


def test_rpctest_serve_answers_from_its_own_pact_export_as_from_the_recording(tmp_path: Path) -> None:
    consumer = ROOT / "contracts" / "consumers" / "rpctest-examples--asyncapy--calc.json"
    assert main(["contracts", "export", "--format", "pact", "--consumers", str(consumer), "-o", str(tmp_path)]) == 0
    [exported] = tmp_path.glob("*.json")
    assert json.loads(exported.read_text())["metadata"]["pactSpecification"]["version"] == "4.0"
    adapter = get_adapter("asyncapy")
    calls = [Call("asyncapy", "calc", "add", {"action": "add", "a": 2, "b": 3}),
             Call("asyncapy", "calc", "divide", {"action": "divide", "a": 10, "b": 0}),
             Call("asyncapy", "calc", "divide", {"action": "divide", "a": 10, "b": 3})]
    answers = []
    for source in (consumer, exported):
        with serving_contract("asyncapy", source) as address:
            client = adapter.wire.client(address, service="calc", timeout=5.0)
            try:
                answers.append([(r.body, [e.code for e in r.errors]) for r in map(client.call, calls)])
            finally:
                client.close()
    assert answers[0] == answers[1]
    assert answers[0][0] == ({"status": "ok", "sum": 5}, [])
