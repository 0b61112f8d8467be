"""Contracts and fuzzing on pykern.api: schemas from declarations, dogfood files, live verify, fuzz."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pykern.quest
import pykern.util
import pytest
from dogfood import assert_consumer_current, assert_provider_current, serving_contract
from pykern.api.util import subscription

from rpctest import stub_action
from rpctest.cli import main
from rpctest.contracts.drift import ContractDrift, use_providers
from rpctest.contracts.export import export
from rpctest.exceptions import ConfigError
from rpctest.fuzz import fuzz_tests
from rpctest.fuzz.engine import fuzz, fuzz_operation
from rpctest.fuzz.target import open_target
from rpctest.model import ErrorKind
from rpctest.stacks.pykern import api_schema, close_client

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
CONSUMER = CONTRACTS / "consumers/rpctest-examples--pykern--wallet.json"
PROVIDER = CONTRACTS / "providers/pykern--wallet.json"


class Refused(pykern.util.APIError):
    pass


class Outage(pykern.util.APIError):
    pass


@dataclass
class Point:
    x: int
    y: int = 0


class Shape(TypedDict):
    name: str


class DeclaredAPI(pykern.quest.API):
    """Every way to declare a schema."""

    @api_schema(request={"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
                result={"type": "object"}, caller_errors=[Refused], server_errors=["Outage"])
    async def api_search(self, api_args: Any) -> Any:
        return {}

    async def api_move(self, api_args: Point) -> Shape:
        """Move a point."""
        if api_args["x"] < 0:
            raise Refused("x={}", api_args["x"])
        return {"name": "p"}

    async def api_anything(self, api_args):  # noqa: ANN001 - no declaration at all, on purpose
        return api_args

    @subscription
    async def api_feed(self, api_args: Shape) -> Point:
        self.subscription.result_put({"x": 1, "y": 2})


def test_export_reads_decorators_annotations_and_source() -> None:
    contract = export("pykern", provider=DeclaredAPI)
    assert contract.service == "declared"
    ops = contract.operations
    assert sorted(ops) == ["anything", "feed", "move", "search"]  # never authenticate_connection
    assert ops["search"].request["required"] == ["q"]
    assert ops["search"].errors == ["Outage", "Refused"]
    assert ops["move"].request["properties"]["x"] == {"type": "integer"}
    assert ops["move"].request["required"] == ["x"]
    assert ops["move"].response["title"] == "Shape"
    assert ops["move"].errors == ["Refused"]  # found in the source
    assert ops["move"].description == "Move a point."
    assert ops["feed"].kind == "subscription" and ops["feed"].response["type"] == "array"
    assert ops["feed"].response["items"]["title"] == "Point"
    assert ops["anything"].request == {} and {n["pointer"] for n in ops["anything"].notes} == {"/request", "/response"}


def test_a_mapping_overrides_and_unknown_names_are_refused() -> None:
    contract = export("pykern", provider=DeclaredAPI, schemas={"anything": {"request": Shape, "result": {"type": "string"}}})
    assert contract.operations["anything"].request["title"] == "Shape"
    assert contract.operations["anything"].notes == []
    with pytest.raises(ConfigError, match="'nope'"):
        export("pykern", provider=DeclaredAPI, schemas={"nope": {}})


def test_declared_server_errors_are_server_errors() -> None:
    from rpctest.stacks import get_adapter

    assert get_adapter("pykern").classify("Outage") is ErrorKind.SERVER_ERROR
    assert get_adapter("pykern").classify("Refused") is ErrorKind.CALLER_ERROR
    with pytest.raises(ConfigError, match="both"):
        api_schema(caller_errors=["X"], server_errors=["X"])


# -- the dogfood contracts ---------------------------------------------------------------------------


def test_dogfood_provider_contract_is_current(tmp_path: Path) -> None:
    assert_provider_current("pykern", "examples.pykern.service:WalletAPI", PROVIDER, tmp_path)


def test_dogfood_consumer_contract_is_current(tmp_path: Path) -> None:
    """Re-record the example consumer's stubs: the committed file must come out byte for byte."""
    assert_consumer_current("examples/pykern/test_consumer.py", CONSUMER, tmp_path)


def test_live_verify_replays_the_consumer_contract_on_the_real_api(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contracts", "verify", str(CONSUMER), str(PROVIDER), "--live", "--stack", "pykern",
                 "--provider", "examples.pykern.service:WalletAPI"])
    out = capsys.readouterr().out
    # the stubbed NotEnoughCredit for bob says balance=3, the real one says balance=0: same code, so it passes
    assert code == 0, out


@pytest.mark.rpctest(strict=False)
def test_a_drifted_pykern_stub_fails_when_it_starts() -> None:
    with use_providers(PROVIDER):
        with pytest.raises(ContractDrift, match="balance"):
            with stub_action("wallet", "transfer", stack="pykern", body={"account": "ann"}):
                pass
        with stub_action("wallet", "transfer", stack="pykern", errors="NotEnoughCredit"):
            pass


# -- fuzzing -----------------------------------------------------------------------------------------


class BuggyAPI(pykern.quest.API):
    """Each operation breaks one check."""

    async def api_crash(self, api_args: Point) -> Shape:
        return {"name": str(10 // api_args["x"])}  # ZeroDivisionError -> APICallError for x == 0

    async def api_lenient(self, api_args: Point) -> Shape:
        return {"name": "anything goes"}  # accepts what its schema forbids

    async def api_wrong(self, api_args: Point) -> Shape:
        return {"name": 5}  # breaks its result schema

    async def api_careful(self, api_args: Point) -> Shape:
        if not isinstance(api_args, dict) or set(api_args) - {"x", "y"} or not isinstance(api_args.get("x"), int) \
                or isinstance(api_args.get("x"), bool) or not isinstance(api_args.get("y", 0), int) or isinstance(api_args.get("y"), bool):
            raise Refused("bad args")
        return {"name": "ok"}


@pytest.fixture(scope="module")
def buggy() -> Any:
    with open_target("pykern", provider=BuggyAPI) as target:
        yield target


@pytest.mark.parametrize(
    ("operation", "mode", "check"),
    [
        ("crash", "positive", "not_a_server_error"),
        ("lenient", "negative", "caller_error_for_invalid_input"),
        ("wrong", "positive", "response_conforms"),
    ],
)
def test_each_check_catches_its_bug(buggy: Any, tmp_path: Path, operation: str, mode: str, check: str) -> None:
    result = fuzz_operation(buggy, operation, mode=mode, max_examples=200, replay_dir=tmp_path)
    assert not result.ok and result.failure is not None
    assert result.failure.check == check, result.failure.render()
    assert list(tmp_path.iterdir())  # a replay file


def test_a_careful_api_passes_every_check(buggy: Any, tmp_path: Path) -> None:
    result = fuzz_operation(buggy, "careful", mode="all", max_examples=150, replay_dir=tmp_path)
    assert result.ok, result.failure.render() if result.failure else ""


def test_the_example_service_passes_and_unknown_apis_are_not_found(tmp_path: Path) -> None:
    with open_target("pykern", provider="examples.pykern.service:WalletAPI") as target:
        report = fuzz(target, max_examples=40, replay_dir=tmp_path)
    assert report.ok, report.render()
    assert [r.operation for r in report.results] == ["echo", "ticks", "transfer", "rpctest_no_such_operation"]


def test_cli_fuzz_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--stack", "pykern", "--provider", "examples.pykern.service:WalletAPI", "--max-examples", "20",
                 "--replay-dir", str(tmp_path)]) == 0
    code = main(["fuzz", "--stack", "pykern", "--provider", "stack_pykern.test_contracts_pykern:BuggyAPI", "--operation", "crash",
                 "--mode", "positive", "--max-examples", "200", "--replay-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "FAILED pykern:buggy.crash" in out and "rpctest replay " in out


# -- against a running endpoint ----------------------------------------------------------------------


def test_cli_against_a_running_pykern_service(pykern_service: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """fuzz and live verify over the wire (rpctest's own client), the contract given as a file."""
    from examples.pykern.service import ACCOUNTS, WalletAPI

    wallet = pykern_service(WalletAPI)
    code = main(["fuzz", "--stack", "pykern", "--address", wallet.address, "--contract", str(PROVIDER),
                 "--max-examples", "20", "--replay-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "pykern:wallet.ticks" in out  # the subscription went out as SUBSCRIBE, over the wire
    ACCOUNTS.reset()
    code = main(["contracts", "verify", str(CONSUMER), str(PROVIDER), "--live", "--stack", "pykern", "--address", wallet.address])
    assert code == 0, capsys.readouterr().out


def test_a_running_pykern_service_cannot_be_exported(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contracts", "export", "--stack", "pykern", "--address", "ws://127.0.0.1:9/api"])
    assert code == 2
    assert "no introspection" in capsys.readouterr().err


def test_rpctest_serve_answers_a_real_pykern_client_from_the_consumer_contract() -> None:
    """``rpctest serve --stack pykern``: the recorded answers, to pykern's own client, from another process."""
    import asyncio

    from pykern.api.client import Client
    from pykern.pkcollections import PKDict

    with serving_contract("pykern", CONSUMER) as address:
        assert address.startswith("ws://")
        port = int(address.rsplit(":", 1)[1].split("/")[0])

        async def use() -> tuple[Any, str]:
            client = Client(PKDict(tcp_ip="127.0.0.1", tcp_port=port, api_uri="/api"))
            try:
                await client.connect()
                paid = await client.call_api("transfer", {"account": "ann", "amount": 30, "currency": "EUR"})
                try:
                    await client.call_api("transfer", {"account": "bob", "amount": 30, "currency": "EUR"})
                    refused = "no error"
                except pykern.util.APIError as exc:
                    refused = str(exc)
                return paid, refused
            finally:
                await close_client(client)

        paid, refused = asyncio.run(use())
        assert paid == {"account": "ann", "balance": 70}
        assert refused == "NotEnoughCredit: balance=3"


# -- fuzz items against a module-scoped server (a background-thread loop outlives each test's loop) ----


@pytest.fixture(scope="module")
def wallet_module() -> Any:
    from examples.pykern.service import WalletAPI
    from rpctest.stacks.pykern import serve

    with serve(WalletAPI) as wallet:
        yield wallet


test_fuzz_module_scoped = pytest.mark.rpc_fuzz(max_examples=15)(
    fuzz_tests("pykern", contract=PROVIDER, target_fixture="wallet_module")
)
