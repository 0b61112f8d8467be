"""Consumer contracts from a Pact Broker: ``--broker URL --broker-provider NAME`` for verify, serve and
diff, tested against a recording HTTP double of the broker (no real broker can run here): the double
checks what rpctest asked (paths, the selectors body, the credentials) and serves rpctest contracts
and Pact V4 files."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from rpctest._version import __version__
from rpctest.cli import main
from broker_double import PACT_V4, BrokerDouble, running_broker
from served_calc import served_add

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = str(ROOT / "contracts/providers")
USERS = json.loads((ROOT / "contracts/consumers/rpctest-examples--pysoa--users.json").read_text())


@pytest.fixture()
def broker() -> Iterator[BrokerDouble]:
    with running_broker(BrokerDouble(pacts={"web": USERS})) as double:
        yield double


def _broken(contract: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(contract))
    for item in data["interactions"]:
        if item["operation"] == "get_user" and "body" in item["response"]:
            item["response"]["body"]["user"]["id"] = "one"
    return data


def test_verify_asks_the_broker_for_the_providers_pacts_with_the_selectors_and_token(
    broker: BrokerDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["contracts", "verify", PROVIDERS, "--broker", broker.url, "--broker-provider", "users",
                 "--consumer-version-selectors", '{"mainBranch": true}',
                 "--consumer-version-selectors", '[{"deployedOrReleased": true}]', "--broker-token", "s3cret"])
    captured = capsys.readouterr()
    assert code == 0, captured
    assert "0 finding(s) in 5 interaction(s) of 1 consumer contract(s)" in captured.out
    assert "rpctest: broker: Pact between web and users -> rpctest-examples--users.json" in captured.err
    assert [(r.method, r.path) for r in broker.requests] == [
        ("GET", "/"), ("POST", "/pacts/provider/users/for-verification"), ("GET", "/pacts/provider/users/consumer/web/pact-version/1")]
    assert broker.requests[1].body == {"consumerVersionSelectors": [{"mainBranch": True}, {"deployedOrReleased": True}]}
    assert broker.requests[1].headers["content-type"] == "application/json"
    assert all(r.headers["authorization"] == "Bearer s3cret" for r in broker.requests)
    assert all("hal+json" in r.headers["accept"] for r in broker.requests)


def test_a_broken_pact_fails_verify_naming_the_broker(broker: BrokerDouble, capsys: pytest.CaptureFixture[str]) -> None:
    broker.pacts["web"] = _broken(USERS)
    assert main(["contracts", "verify", PROVIDERS, "--broker", broker.url, "--broker-provider", "users"]) == 1
    out = capsys.readouterr().out
    host = broker.url.split("://", 1)[1]
    assert f"ERROR [response_schema] {host}/pacts/provider/users/rpctest-examples--users.json interaction #" in out
    assert "consumerVersionSelectors" not in (broker.requests[1].body or {})  # none given: the broker's default


def test_a_pending_pacts_errors_are_warnings_and_results_are_published_as_they_are(
    broker: BrokerDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    broker.pacts = {"web": _broken(USERS), "app": USERS}
    broker.pending = {"web"}
    code = main(["contracts", "verify", PROVIDERS, "--broker", broker.url, "--broker-provider", "users", "--include-pending",
                 "--publish-verification-results", "--provider-app-version", "f00d", "--provider-version-branch", "main"])
    captured = capsys.readouterr()
    assert code == 0, captured.out
    assert "WARNING [response_schema]" in captured.out and "(a pending pact: reported, does not fail the build)" in captured.out
    results = {r.path.split("/consumer/")[1].split("/")[0]: r.body for r in broker.requests if r.path.endswith("/verification-results")}
    verified_by = {"implementation": "rpctest", "version": __version__}
    assert results == {
        "app": {"success": True, "providerApplicationVersion": "f00d", "providerVersionBranch": "main", "verifiedBy": verified_by},
        "web": {"success": False, "providerApplicationVersion": "f00d", "providerVersionBranch": "main", "verifiedBy": verified_by},
    }
    # the same broken pact, no longer pending, fails the build
    broker.pending = set()
    broker.requests.clear()
    assert main(["contracts", "verify", PROVIDERS, "--broker", broker.url, "--broker-provider", "users"]) == 1
    assert not [r for r in broker.requests if r.path.endswith("/verification-results")]  # not asked to publish


def test_publishing_results_needs_a_broker_and_a_provider_version(broker: BrokerDouble, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "verify", PROVIDERS, "--broker", broker.url, "--broker-provider", "users",
                 "--publish-verification-results"]) == 2
    assert "give --broker-provider NAME and --provider-app-version VERSION" in capsys.readouterr().err
    assert broker.requests == []


def test_the_pact_cli_environment_variables_give_url_and_basic_auth(
    broker: BrokerDouble, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PACT_BROKER_BASE_URL", broker.url + "/")
    monkeypatch.setenv("PACT_BROKER_USERNAME", "ci")
    monkeypatch.setenv("PACT_BROKER_PASSWORD", "pw")
    assert main(["contracts", "verify", PROVIDERS, "--broker-provider", "users", "--include-pending",
                 "--provider-version-branch", "main"]) == 0
    expected = "Basic " + base64.b64encode(b"ci:pw").decode()
    assert all(r.headers["authorization"] == expected for r in broker.requests)
    assert broker.requests[1].body == {"includePendingStatus": True, "providerVersionBranch": "main"}
    # PACT_BROKER_BASE_URL alone asks for nothing: the broker is used when a provider is named
    broker.requests.clear()
    assert main(["contracts", "verify", PROVIDERS]) == 0
    assert broker.requests == []


def test_credentials_stay_with_the_brokers_own_origin(broker: BrokerDouble) -> None:
    broker.pact_base = broker.url.replace("127.0.0.1", "localhost")  # a link to another origin
    assert main(["contracts", "verify", PROVIDERS, "--broker", broker.url, "--broker-provider", "users", "--broker-token", "t"]) == 0
    assert [r.headers.get("authorization") for r in broker.requests] == ["Bearer t", "Bearer t", None]


@pytest.mark.parametrize(
    ("setup", "argv", "message"),
    [
        ({"refuse": 401}, ["--broker-provider", "users"], "the broker answered 401 Unauthorized for GET http://{host}; give --broker-token"),
        ({"for_verification": False}, ["--broker-provider", "users"], "offers no pb:provider-pacts-for-verification link"),
        ({}, ["--broker-provider", "users", "--consumer-version-selectors", "mainBranch"], "--consumer-version-selectors 'mainBranch' is not JSON"),
        ({}, ["--broker-provider", "users", "--consumer-version-selectors", "[1]"], "each selector is a non-empty JSON object"),
        ({}, ["--consumer-version-selectors", "{}"], "add --broker-provider NAME"),
    ],
)
def test_broker_problems_are_usage_errors_that_say_what_to_do(
    broker: BrokerDouble, setup: dict[str, Any], argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in setup.items():
        setattr(broker, key, value)
    assert main(["contracts", "verify", PROVIDERS, "--broker", broker.url, *argv]) == 2
    err = capsys.readouterr().err
    assert message.format(host=broker.url.split("://", 1)[1]) in err, err
    assert "Traceback" not in err


def test_a_pact_that_is_no_contract_is_named_as_the_broker_serves_it(broker: BrokerDouble, capsys: pytest.CaptureFixture[str]) -> None:
    broker.pacts = {"web": {"consumer": "web", "provider": "users"}}
    assert main(["contracts", "verify", PROVIDERS, "--broker", broker.url, "--broker-provider", "users"]) == 2
    err = capsys.readouterr().err
    host = broker.url.split("://", 1)[1]
    assert f"rpctest: error: {host}/pacts/provider/users/web--users.json: not an rpctest contract" in err, err
    assert f"(a pact from the broker at {broker.url})" in err


def test_an_unreachable_broker_and_a_missing_url_are_usage_errors(capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PACT_BROKER_BASE_URL", raising=False)
    assert main(["contracts", "verify", PROVIDERS, "--broker-provider", "users"]) == 2
    assert "give --broker URL or set PACT_BROKER_BASE_URL" in capsys.readouterr().err
    assert main(["contracts", "verify", PROVIDERS, "--broker", "http://127.0.0.1:9", "--broker-provider", "users"]) == 2
    assert "cannot fetch the broker's index: cannot reach http://127.0.0.1:9" in capsys.readouterr().err


def test_diff_takes_its_consumers_from_the_broker(broker: BrokerDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = ROOT / "contracts/providers/pysoa--users.json"
    new = json.loads(old.read_text())
    new["operations"]["get_user"]["errors"] = [*new["operations"]["get_user"].get("errors", []), "GONE"]
    (tmp_path / "new.json").write_text(json.dumps(new))
    code = main(["contracts", "diff", str(old), str(tmp_path / "new.json"), "--broker", broker.url, "--broker-provider", "users"])
    out = capsys.readouterr().out
    assert code == 1, out
    host = broker.url.split("://", 1)[1]
    assert (f"breaks 2 recorded interaction(s): rpctest-examples interaction #2 ({host}/pacts/provider/users/"
            "rpctest-examples--users.json)") in out


def test_serve_answers_from_the_brokers_pacts(broker: BrokerDouble) -> None:
    """A real ``rpctest serve`` process stubs the provider from the pacts the broker selects."""
    broker.pacts = {"calc-web": json.loads((ROOT / "contracts/consumers/rpctest-examples--asyncapy--calc.json").read_text())}
    assert served_add("--broker", broker.url, "--broker-provider", "calc") == {"status": "ok", "sum": 5}
    assert [(r.method, r.path) for r in broker.requests][:2] == [("GET", "/"), ("POST", "/pacts/provider/calc/for-verification")]


def test_serve_needs_contracts_or_a_broker(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--stack", "pysoa"]) == 2
    assert "rpctest serve needs consumer contracts: CONTRACT paths, or --broker-provider NAME" in capsys.readouterr().err


def test_a_pact_v4_file_from_the_broker_is_verified(broker: BrokerDouble, capsys: pytest.CaptureFixture[str]) -> None:
    broker.pacts = {"web": PACT_V4}
    assert main(["contracts", "verify", PROVIDERS, "--broker", broker.url, "--broker-provider", "users"]) == 0
    assert "0 finding(s) in 1 interaction(s) of 1 consumer contract(s)" in capsys.readouterr().out
