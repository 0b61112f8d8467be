"""ZeroJSON through the adapter: stubs, hosting, contracts from declarations and introspect, fuzzing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dogfood import assert_consumer_current, assert_provider_current, serving_contract

from examples.zerojson.service import ORDERS, Shop
from rpctest import stub_action
from rpctest.cli import main
from rpctest.contracts.export import export
from rpctest.exceptions import StackUnavailable, StubUsageError
from rpctest.fuzz.engine import fuzz, fuzz_operation
from rpctest.fuzz.target import open_target
from rpctest.model import ErrorKind
from rpctest.stacks import get_adapter
from rpctest.stacks.zerojson.errors import RemoteError
from rpctest.stacks.zerojson.service import Service, check_argument, interface, method

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
CONSUMER = CONTRACTS / "consumers/rpctest-examples--zerojson--com.example.shop.json"
PROVIDER = CONTRACTS / "providers/zerojson--com.example.shop.json"


@pytest.fixture(autouse=True)
def _orders() -> Any:
    ORDERS.reset()
    yield
    ORDERS.reset()


# -- the adapter ---------------------------------------------------------------------------------------


def test_codes_classify_as_pycoms_meanings_say() -> None:
    """1 unknown (a server failure), 2 method not found, 3 service not found, 4 bad request, 5 access
    denied, 6 session expired (the caller must start over), any other code passed through from a handler."""
    adapter = get_adapter("zerojson")
    assert [adapter.classify(c) for c in (1, 2, 3, 4, 5, 6, 42)] == [
        ErrorKind.SERVER_ERROR, ErrorKind.NOT_FOUND, ErrorKind.NOT_FOUND, ErrorKind.CALLER_ERROR,
        ErrorKind.UNAUTHORIZED, ErrorKind.CALLER_ERROR, ErrorKind.CALLER_ERROR,
    ]
    assert adapter.normalize_error("BAD_REQUEST").code == 4
    assert adapter.normalize_error(RemoteError("nope", code=5)).kind is ErrorKind.UNAUTHORIZED


def test_stub_usage_errors_say_what_zerojson_accepts() -> None:
    for bad, match in ((["x"], "integers"), ([0], "positive"), ([{"code": 4, "field": "a"}], "no field")):
        with pytest.raises(StubUsageError, match=match):
            stub_action("svc", "m", stack="zerojson", errors=bad)
    with pytest.raises(StubUsageError, match="attachment="):
        stub_action("svc", "m", stack="zerojson", body=b"raw")
    with pytest.raises(StubUsageError, match="unknown option"):
        stub_action("svc", "m", stack="zerojson", items=[1])


def test_a_pycom_declared_class_gets_a_clear_reason() -> None:
    class PycomStyle:  # what pycom.interface leaves on a class
        __interface__ = object()

    with pytest.raises(StackUnavailable, match="cannot be imported here"):
        get_adapter("zerojson").host.serve(PycomStyle)


@pytest.mark.rpctest(strict=False)  # the near miss is the point
def test_the_stub_server_answers_with_stubs_and_pycom_codes(zerojson_stub_server: Any) -> None:
    from rpctest.stacks.zerojson.client import ZeroJSONClient

    with stub_action("com.example.shop", "price", stack="zerojson", body=3, match={"sku": "apple"}) as price, \
            stub_action("com.example.shop", "receipt", stack="zerojson", body={"lines": 1}, attachment=b"r"), \
            ZeroJSONClient(zerojson_stub_server.address, timeout=2) as client:
        assert client.call("com.example.shop", "price", {"sku": "apple"}).body == 3
        near = client.call("com.example.shop", "price", {"sku": "pear"})
        assert near.errors[0].code == 4 and "Nearest stub" in near.errors[0].message
        assert client.call("com.example.shop", "refund", {}).errors[0].code == 2
        receipt = client.call("com.example.shop", "receipt", {"order_id": 1})
        assert (receipt.body, receipt.attachment) == ({"lines": 1}, b"r")
    assert price.call_count == 1
    assert any("sku" in line for line in zerojson_stub_server.diagnostics)


# -- contracts -----------------------------------------------------------------------------------------


def test_export_from_declarations_has_names_types_and_codes() -> None:
    contract = export("zerojson", provider=Shop)
    assert contract.service == "com.example.shop"
    order = contract.operations["order"]
    assert order.request["required"] == ["sku"]
    assert order.request["properties"]["sku"] == {"enum": ["apple", "pear"]}
    assert order.request["properties"]["quantity"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert order.request["additionalProperties"] is True  # PyCOM ignores extra keys
    assert sorted(order.response["properties"]) == ["order_id", "total"]
    assert contract.operations["receipt"].errors == [4]  # raise BadRequest in its source
    assert any("attachment" in n["note"] for n in contract.operations["receipt"].notes)
    strict = export("zerojson", provider=Shop, strict=True)
    assert strict.operations["order"].request["additionalProperties"] is False


def test_check_argument_types_follow_pycoms_isinstance() -> None:
    from rpctest.schema.validate import compile_schema

    @interface("com.example.typed")
    class Typed(Service):
        @method
        @check_argument("n", int)
        @check_argument("x", float)
        def go(self, request, n, x):
            return n

    op = export("zerojson", provider=Typed).operations["go"]
    schema = compile_schema(op.request)
    assert schema.is_valid({"n": True, "x": 1.5})  # isinstance(True, int)
    assert not schema.is_valid({"n": 1, "x": 1})  # isinstance(1, float) is false


def test_export_from_a_running_service_has_the_names(zerojson_service: Any) -> None:
    server = zerojson_service(Shop)
    live = export("zerojson", address=server.address, service="com.example.shop")
    local = export("zerojson", provider=Shop)
    assert sorted(live.operations) == sorted(local.operations)
    for name, op in live.operations.items():
        assert op.request.get("required") == local.operations[name].request.get("required")
        # introspect has no types: every argument accepts anything
        assert all(prop == {} for prop in op.request.get("properties", {}).values())
    assert main(["contracts", "export", "--stack", "zerojson", "--address", server.address]) == 2  # no --service


def test_dogfood_provider_contract_is_current(tmp_path: Path) -> None:
    assert_provider_current("zerojson", "examples.zerojson.service:Shop", PROVIDER, tmp_path)


def test_dogfood_consumer_contract_is_current(tmp_path: Path) -> None:
    """Re-record the example consumer's stubs: the committed file must come out byte for byte."""
    assert_consumer_current("examples/zerojson/test_consumer.py", CONSUMER, tmp_path)


@pytest.mark.parametrize("target", ["provider", "address"])
def test_live_verify(target: str, zerojson_service: Any, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--provider", "examples.zerojson.service:Shop"] if target == "provider" else ["--address", zerojson_service(Shop).address]
    code = main(["contracts", "verify", str(CONSUMER), str(PROVIDER), "--live", "--stack", "zerojson", *where,
                 "--setup", "examples.zerojson.service:provider_state"])
    assert code == 0, capsys.readouterr().out
    ORDERS.reset()  # the hook placed order 7 in this process's shop
    code = main(["contracts", "verify", str(CONSUMER), str(PROVIDER), "--live", "--stack", "zerojson", *where])
    out = capsys.readouterr().out
    assert code == 1 and "live_unexpected_error" in out and "(receipt)" in out  # no order 7 without the provider state


# -- fuzzing -------------------------------------------------------------------------------------------


@interface("com.example.buggy")
class Buggy(Service):
    """Each method breaks one check."""

    @method
    def crash(self, request, a: int):
        return 10 // a  # code 1 for a == 0

    @method
    @check_argument("a", int)
    def wrong(self, request, a: int) -> str:
        return a  # an int where a string is declared

    @method
    def careful(self, request, a: str, b: int = 0) -> int:
        if not isinstance(a, str) or not isinstance(b, int) or isinstance(b, bool):
            raise RemoteError("bad arguments", code=4)
        return b


@pytest.fixture(scope="module")
def buggy() -> Any:
    with open_target("zerojson", provider=Buggy) as target:
        yield target


@pytest.mark.parametrize(("operation", "mode", "check"), [
    ("crash", "positive", "not_a_server_error"),
    ("crash", "negative", "not_a_server_error"),  # a wrong type is not checked: code 1, not 4
    ("wrong", "positive", "response_conforms"),
])
def test_each_check_catches_its_bug(buggy: Any, tmp_path: Path, operation: str, mode: str, check: str) -> None:
    result = fuzz_operation(buggy, operation, mode=mode, max_examples=200, replay_dir=tmp_path)
    assert not result.ok and result.failure is not None
    assert result.failure.check == check, result.failure.render()


def test_a_careful_method_and_the_unknown_method_pass(buggy: Any, tmp_path: Path) -> None:
    assert fuzz_operation(buggy, "careful", mode="all", max_examples=150, replay_dir=tmp_path).ok


def test_extra_keys_are_findings_only_when_the_contract_is_strict(tmp_path: Path) -> None:
    from rpctest.contracts.format import ProviderContract

    strict = ProviderContract.from_export("zerojson", get_adapter("zerojson").host.export_schema(Buggy, strict=True))
    with open_target("zerojson", provider=Buggy, contract=strict) as target:
        result = fuzz_operation(target, "careful", mode="negative", max_examples=300, replay_dir=tmp_path)
    assert not result.ok and "unexpected_key" in result.failure.render()


def test_the_example_passes_over_the_wire_and_cli_exit_codes(zerojson_service: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open_target("zerojson", provider=Shop) as target:
        report = fuzz(target, max_examples=30, replay_dir=tmp_path)
    assert report.ok, report.render()
    address = zerojson_service(Shop).address
    assert main(["fuzz", "--stack", "zerojson", "--address", address, "--contract", str(PROVIDER),
                 "--max-examples", "20", "--replay-dir", str(tmp_path)]) == 0
    code = main(["fuzz", "--stack", "zerojson", "--provider", "stack_zerojson.test_contracts_zerojson:Buggy",
                 "--operation", "crash", "--mode", "positive", "--max-examples", "200", "--replay-dir", str(tmp_path)])
    assert code == 1 and "FAILED zerojson:com.example.buggy.crash" in capsys.readouterr().out


def test_rpctest_serve_answers_from_the_consumer_contract() -> None:
    """``rpctest serve --stack zerojson``: the recorded answers on a real socket, from another process."""
    from examples.zerojson.consumer import checkout

    with serving_contract("zerojson", CONSUMER) as address:
        assert address.startswith("tcp://")
        assert checkout(address, "apple", 2) == "order 7: 6 due; receipt '2 x apple'"
        assert checkout(address, "kiwi", 1) == "refused (4: Validation failed for argument 'sku')"


def test_cli_framing_fuzz(zerojson_service: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--framing``: PyCOM's answers to malformed frames; its own weaknesses fail only with --strict."""
    import json

    address = zerojson_service(Shop).address
    common = ["fuzz", "--stack", "zerojson", "--address", address, "--contract", str(PROVIDER), "--max-examples", "5",
              "--operation", "price", "--replay-dir", str(tmp_path), "--framing"]
    assert main([*common, "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml")]) == 0
    out = capsys.readouterr().out
    import xml.etree.ElementTree as ET

    suites = ET.parse(tmp_path / "r.xml").getroot().findall("testsuite")
    assert len(suites) == 2  # the argument-level suite and the framing suite, in one document
    assert "WEAKNESS  json-array-body" in out and "rpctest fuzz framing passed" in out
    arguments, framing = json.loads((tmp_path / "r.json").read_text())
    assert arguments["ok"] and framing["ok"] and len(framing["results"]) >= 25
    assert main([*common, "--strict"]) == 1
    capsys.readouterr()
    assert main(["fuzz", "--stack", "zerojson", "--provider", "examples.zerojson.service:Shop", "--max-examples", "5",
                 "--operation", "price", "--replay-dir", str(tmp_path), "--framing"]) == 0  # hosted on a socket for it


# -- a names-only contract (introspect) has no valid input (issue 16, item 3.4) ------------------------


@interface("com.example.checked")
class Checked(Service):
    """Argument checks introspect cannot show: every rejection of a wrong type is PyCOM's code 4."""

    @method
    @check_argument("n", int)
    def double(self, request, n):
        return 2 * n

    @method
    def echo(self, request, value):
        return value


def test_a_names_only_contract_skips_the_checks_that_need_valid_input(zerojson_service: Any, tmp_path: Path) -> None:
    """Before: every code 4 from ``check_argument`` for a drawn value was "a valid input rejected",
    though introspect says nothing of types. Now the check that needs a valid input is skipped, the
    result says so, and the checks that need no schema still run (and still find what they find)."""
    address = zerojson_service(Checked).address
    contract = export("zerojson", address=address, service="com.example.checked")
    with open_target("zerojson", address=address, contract=contract) as target:
        report = fuzz(target, max_examples=60, replay_dir=tmp_path)
    assert report.ok, report.render()
    double = next(r for r in report.results if r.operation == "double")
    assert double.examples > 0
    assert "valid_input_is_not_rejected" in double.note and "names only" in double.note
    assert "not_a_server_error" in double.note  # what still ran is said too
    unknown = next(r for r in report.results if r.operation == "rpctest_no_such_operation")
    assert unknown.ok and unknown.examples == 1


@interface("com.example.crashy")
class Crashy(Service):
    @method
    def half(self, request, n):
        return n / 2  # a string crashes it: code 1, a finding even without types


def test_a_names_only_contract_still_finds_server_errors(zerojson_service: Any, tmp_path: Path) -> None:
    address = zerojson_service(Crashy).address
    contract = export("zerojson", address=address, service="com.example.crashy")
    with open_target("zerojson", address=address, contract=contract) as target:
        result = fuzz_operation(target, "half", mode="positive", max_examples=100, replay_dir=tmp_path)
    assert not result.ok and result.failure is not None and result.failure.check == "not_a_server_error", result.failure


@interface("com.example.refusing")
class Refusing(Service):
    @method
    def refuse(self, request, reason):
        raise RemoteError(f"refused: {reason}", code=42)


def test_an_introspect_contract_does_not_know_the_codes_a_method_raises(zerojson_service: Any, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Found against the real PyCOM (issue 16): introspect lists no error codes, yet verify called a
    stubbed code 42, which the real method does raise, one it "can produce" not. A names-only export
    leaves the codes open; an in-process export still lists them (and closes them)."""
    import json

    from rpctest.contracts.format import ConsumerContract, RecordedInteraction
    from rpctest.model import RpcError

    address = zerojson_service(Refusing).address
    provider = tmp_path / "provider.json"
    assert main(["contracts", "export", "--stack", "zerojson", "--address", address, "--service", "com.example.refusing", "-o", str(provider)]) == 0
    assert json.loads(provider.read_text())["operations"]["refuse"].get("errors_open") is True
    consumer = ConsumerContract("c", "zerojson", "com.example.refusing", [
        RecordedInteraction("refuse", {"reason": "x"}, errors=[RpcError(42, "refused: x", kind=ErrorKind.CALLER_ERROR)])])
    consumer_file = tmp_path / "consumer.json"
    consumer_file.write_text(json.dumps(consumer.to_dict()))
    capsys.readouterr()
    assert main(["contracts", "verify", str(consumer_file), str(provider), "--live", "--stack", "zerojson", "--address", address]) == 0, capsys.readouterr().out
    local = export("zerojson", provider=Refusing).operations["refuse"]
    assert local.errors == [42] and not local.errors_open


@interface("com.example.files")
class Files(Service):
    @method(attachments=("blob", None))
    def upload(self, request, blob):
        return {"size": len(blob) if blob is not None else None}

    @method(results=("size", "blob"), attachments=(None, "blob"))
    def download(self, request, size: int):
        return size, b"x" * size


def test_a_request_attachment_is_recorded_served_and_replayed(zerojson_service: Any, tmp_path: Path) -> None:
    """Found against the real PyCOM (issue 16): two uploads that differ only in their attachment were
    recorded as one request, so ``rpctest serve`` answered both alike and live verify sent none."""
    import contextlib

    from rpctest.contracts.format import ConsumerContract
    from rpctest.contracts.live import verify_live
    from rpctest.contracts.recorder import Recorder
    from rpctest.contracts.serve import router_from_contracts
    from rpctest.stacks.zerojson.client import ZeroJSONClient

    @contextlib.contextmanager
    def running(server: Any) -> Any:
        try:
            yield server
        finally:
            server.stop()

    adapter = get_adapter("zerojson")
    recorder = Recorder("c").start()
    try:
        with running(adapter.wire.stub_server(recorder.router)) as stubs, contextlib.closing(ZeroJSONClient(stubs.address)) as client:
            for blob, size in ((b"abcde", 5), (b"", 0)):
                with stub_action("com.example.files", "upload", stack="zerojson", body={"size": size}):
                    assert client.call("com.example.files", "upload", {}, attachment=blob).body == {"size": size}
            with stub_action("com.example.files", "download", stack="zerojson", body={"size": 2}, attachment=b"xx"):
                assert client.call("com.example.files", "download", {"size": 2}).attachment == b"xx"
    finally:
        recorder.stop()
    (recorded,) = recorder.contracts()
    contract = ConsumerContract.from_dict(recorded.to_dict())  # what the file keeps
    assert sorted(i.request_attachment for i in contract.interactions if i.operation == "upload") == [b"", b"abcde"]
    served = adapter.wire.stub_server(router_from_contracts([contract], "zerojson"))
    with running(served), contextlib.closing(ZeroJSONClient(served.address)) as client:
        assert client.call("com.example.files", "upload", {}, attachment=b"abcde").body == {"size": 5}
        assert client.call("com.example.files", "upload", {}, attachment=b"").body == {"size": 0}
    real = zerojson_service(Files)
    report = verify_live([contract], real.send_call, exact=True)
    assert report.ok, [f.message for f in report.findings]
    contract.interactions[0].attachment = b"yy"  # download's stubbed attachment is not what the provider sends
    report = verify_live([contract], real.send_call, exact=True)
    assert [f.check for f in report.findings] == ["live_attachment"], [f.message for f in report.findings]
