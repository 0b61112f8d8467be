"""``rpctest pact-relay``'s HTTP side with no stack library (issue 19, item 3): what the verifier
sends becomes the rpctest call, the reply goes back as the rpctest response object with its
``Pact-Message-Metadata``, provider states run through the handlers in order, and every bad request
gets a 4xx saying what is wrong (never a 5xx, which pact verifier retries for minutes). The real
verifier against real providers is in each stack's ``test_pact_relay.py``."""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path
from typing import Any, Iterator
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from rpctest.cli import main
from rpctest.contracts.pact_relay import PactRelay
from rpctest.contracts.states import StateHandlers
from rpctest.exceptions import CallTimeout
from rpctest.model import Call, Reply, RpcError


def post(url: str, payload: Any) -> tuple[int, dict[str, str], Any]:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    try:
        with urlopen(Request(url, data=data, headers={"Content-Type": "application/json"}), timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), json.loads(exc.read())


def message(operation: str | None, content: Any, **details: Any) -> dict[str, Any]:
    rpctest = {"stack": "zerojson", "service": "shop", **details}
    if operation is not None:
        rpctest["operation"] = operation
    return {"description": "an interaction", "providerStates": [],
            "request": {"contents": {"contentType": "application/json", "encoded": False, "content": content},
                        "metadata": {"rpctest": rpctest}}}


class Provider:
    """What the relay forwards to: it keeps the calls, and answers ``replies`` (or raises them)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.replies: list[Reply | Exception] = []

    def __call__(self, call: Call) -> Reply:
        self.calls.append(call)
        answer = self.replies.pop(0) if self.replies else Reply(body={"order_id": 7})
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def handlers() -> StateHandlers:
    return StateHandlers()


@pytest.fixture
def relay(provider: Provider, handlers: StateHandlers) -> Iterator[PactRelay]:
    with PactRelay("zerojson", provider, handlers=handlers, service="shop") as running:
        yield running


def test_a_message_is_forwarded_as_the_call_and_answered_with_the_response_object(relay: PactRelay, provider: Provider) -> None:
    assert relay.message_url is not None
    status, headers, body = post(relay.message_url, message("order", {"sku": "apple", "quantity": 2}))
    assert (status, body) == (200, {"body": {"order_id": 7}})
    [call] = provider.calls
    assert (call.stack, call.service, call.operation, call.body) == ("zerojson", "shop", "order", {"sku": "apple", "quantity": 2})
    assert headers["Content-Type"] == "application/json"
    metadata = json.loads(base64.b64decode(headers["Pact-Message-Metadata"]))
    assert metadata == {"contentType": "application/json", "rpctest": {"stack": "zerojson", "service": "shop", "operation": "order"}}


def test_errors_streams_and_attachments_go_back_as_a_recording_holds_them(relay: PactRelay, provider: Provider) -> None:
    assert relay.message_url is not None
    provider.replies = [Reply(errors=[RpcError(4, "bad sku", kind="caller_error")]),
                        Reply(items=[{"i": 0}, {"i": 1}]),
                        Reply(body={"lines": 1}, attachment=b"2 x apple\n")]
    assert post(relay.message_url, message("order", {"sku": "kiwi"}))[2] == {"errors": [{"code": 4, "kind": "caller_error", "message": "bad sku"}]}
    assert post(relay.message_url, message("ticks", {"n": 2}, subscribe=True))[2] == {"items": [{"i": 0}, {"i": 1}]}
    assert post(relay.message_url, message("receipt", {"order_id": 7}, attachment={"$bytes": "AAE="}))[2] == {
        "body": {"lines": 1}, "attachment": {"$bytes": "MiB4IGFwcGxlCg=="}}
    assert provider.calls[1].meta == {"kind": "subscribe"} and provider.calls[2].attachment == b"\x00\x01"


def test_a_provider_that_does_not_answer_is_a_transport_error_in_the_reply(relay: PactRelay, provider: Provider) -> None:
    assert relay.message_url is not None
    provider.replies = [CallTimeout("no reply from shop.order within 0.2s")]
    status, _, body = post(relay.message_url, message("order", {}))
    assert status == 200 and body["errors"][0]["code"] == "TRANSPORT" and body["errors"][0]["kind"] == "transport"


@pytest.mark.parametrize(("payload", "status", "says"), [
    (b"{not json", 400, "the request body is not JSON"),
    ({"description": "x"}, 400, "has no request object"),
    (message(None, {}), 400, "has no metadata.rpctest.operation"),
    (message("order", {}, stack="pysoa"), 400, "the pact is for the pysoa stack; this relay forwards to a zerojson provider"),
    (message("order", {}, service="bank"), 400, "the pact is for service 'bank'; this relay forwards to 'shop'"),
])
def test_a_bad_message_is_a_4xx_saying_what_is_wrong(relay: PactRelay, provider: Provider, payload: Any, status: int, says: str) -> None:
    assert relay.message_url is not None
    code, _, body = post(relay.message_url, payload)
    assert code == status and says in body["error"], body
    assert provider.calls == []


def test_unknown_endpoints_and_methods_name_the_right_ones(relay: PactRelay) -> None:
    code, _, body = post(relay.base_url + "/messages", {})
    assert code == 404 and "messages go to /pact/message, provider states to /pact/state" in body["error"]
    with pytest.raises(HTTPError) as refused:
        urlopen(relay.state_url, timeout=10)
    with refused.value:
        assert refused.value.code == 405


def test_states_are_set_up_in_order_and_torn_down_by_the_handlers(relay: PactRelay, handlers: StateHandlers) -> None:
    steps: list[str] = []

    def account(name: str, balance: int) -> Iterator[None]:
        steps.append(f"setup {name}={balance}")
        yield
        steps.append(f"teardown {name}")

    handlers.register("account exists", account)
    assert relay.message_url is not None
    state = {"state": "account exists", "params": {"name": "ann", "balance": 3}}
    assert post(relay.state_url, {"action": "setup", **state})[0] == 200
    post(relay.message_url, message("order", {}))
    assert post(relay.state_url, {"action": "teardown", **state})[0] == 200
    assert steps == ["setup ann=3", "teardown ann"]
    # without --state-change-teardown the verifier sends no teardown: the next interaction's setup does it
    post(relay.state_url, {"action": "setup", **state})
    post(relay.message_url, message("order", {}))
    post(relay.state_url, {"action": "setup", "state": "", "params": {}})  # an interaction with no state
    assert steps[2:] == ["setup ann=3", "teardown ann"]
    post(relay.state_url, {"action": "setup", **state})
    relay.stop()  # and stopping tears down what is left
    assert steps[4:] == ["setup ann=3", "teardown ann"]


def test_a_state_without_a_handler_or_whose_handler_fails_is_a_4xx_naming_it(relay: PactRelay, handlers: StateHandlers) -> None:
    code, _, body = post(relay.state_url, {"action": "setup", "state": "user exists", "params": {"id": 2}})
    assert code == 400 and "no provider state handler for 'user exists' (id=2)" in body["error"]
    assert "@rpctest.provider_state('user exists')" in body["error"]

    def broken() -> None:
        raise KeyError("users")

    handlers.register("broken", broken)
    code, _, body = post(relay.state_url, {"action": "setup", "state": "broken"})
    assert code == 400 and "the setup of provider state 'broken' failed: KeyError" in body["error"]
    code, _, body = post(relay.state_url, {"action": "rollback", "state": "broken"})
    assert code == 400 and '"action": "setup" or "teardown"' in body["error"]


def test_an_http_provider_gets_a_relay_of_states_only(handlers: StateHandlers) -> None:
    steps: list[str] = []

    def shelf(item: str) -> Iterator[None]:
        steps.append(f"stock {item}")
        yield
        steps.append(f"clear {item}")

    handlers.register("stocked", shelf)
    with PactRelay("kyoukai", None, handlers=handlers) as relay:
        # no message passes through: without teardowns, the next interaction is known by its setups alone
        for state in ("apple", "pear", "", "kiwi"):
            post(relay.state_url, {"action": "setup", "state": state and "stocked", "params": {"item": state} if state else {}})
        assert steps == ["stock apple", "clear apple", "stock pear", "clear pear", "stock kiwi"]
        assert relay.message_url is None
        assert relay.verifier_arguments("http://127.0.0.1:8123") == [
            "--hostname", "127.0.0.1", "--port", "8123", "--state-change-url", relay.state_url, "--state-change-teardown"]
        code, _, body = post(relay.base_url + "/pact/message", message("GET /items", {}))
        assert code == 404 and "Synchronous/HTTP: pact verifier calls the provider directly" in body["error"]


def test_stopping_releases_the_thread_and_the_port(provider: Provider, handlers: StateHandlers) -> None:
    relay = PactRelay("zerojson", provider, handlers=handlers).start()
    url = relay.state_url
    relay.stop()
    assert not [t for t in threading.enumerate() if t.name == "rpctest-pact-relay"]
    with pytest.raises(OSError):
        urlopen(Request(url, data=b"{}"), timeout=5)


@pytest.mark.parametrize(("args", "says"), [
    (["--stack", "zerojson"], "pact-relay needs the provider: --provider MODULE:OBJECT"),
    (["--stack", "zerojson", "--address", "tcp://127.0.0.1:1", "--port", "70000"], "--port must be 0 (any free port) to 65535"),
    (["--stack", "zerojson", "--provider", "no_such_module:App"], "cannot import 'no_such_module'"),
])
def test_usage_errors_exit_2_with_what_to_do(args: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pact-relay", *args]) == 2
    assert says in capsys.readouterr().err


def test_the_guides_pact_file_is_the_one_the_export_writes(tmp_path: Path) -> None:
    """docs/pact-relay.md's step 2 runs ``pact verifier -f FILE`` on the example consumer's pact: FILE
    must be what ``rpctest contracts export --format pact`` names it (the guide said
    ``rpctest-examples-users.pact.json``; the export writes ``rpctest-examples-users.json``)."""
    repo = Path(__file__).resolve().parents[2]
    guide = (repo / "docs" / "pact-relay.md").read_text(encoding="utf-8")
    shown = {Path(name) for name in re.findall(r"pact verifier -f (\S+)", guide) if name != "PACT.json"}
    assert shown, "the guide runs pact verifier on a file"
    assert main(["contracts", "export", "--format", "pact", "--consumers", str(repo / "contracts" / "consumers"),
                 "-o", str(tmp_path / "pacts")]) == 0
    written = {p.relative_to(tmp_path) for p in (tmp_path / "pacts").iterdir()}
    assert shown <= written, (shown, written)


def test_the_docs_give_the_verifier_the_paths_the_relay_serves() -> None:
    """docs/pact-broker.md's CI snippet sent the verifier to /pact/messages and /pact/states (calling them
    "examples"), which the relay answers with 404: every relay path the docs show is one it serves."""
    from rpctest.contracts.pact_relay import MESSAGE_PATH, STATE_PATH

    docs = Path(__file__).resolve().parents[2] / "docs"
    shown = {(page.name, path) for page in docs.glob("*.md")
             for path in re.findall(r"(?:message:\d+|:\d+)(/pact/[A-Za-z_-]+)", page.read_text(encoding="utf-8"))}
    assert shown, "the docs show the relay's paths"
    assert {(page, path) for page, path in shown if path not in (MESSAGE_PATH, STATE_PATH)} == set()
