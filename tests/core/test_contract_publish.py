"""``rpctest contracts publish``: Pact files published with the real ``pact broker publish`` (pact-python-cli)
to a recording HTTP double of a Pact Broker (no real broker can run here)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Iterator

import pytest

from rpctest.cli import main
from rpctest.contracts.publish import pact_command
from rpctest.exceptions import ConfigError
from broker_double import PACT_V4 as PACT
from broker_double import BrokerDouble, running_broker

ROOT = Path(__file__).resolve().parents[2]
def _pact_installed() -> bool:
    try:
        pact_command()
    except ConfigError:
        return False
    return True


needs_pact = pytest.mark.skipif(
    not _pact_installed() and os.environ.get("RPCTEST_REQUIRE_PACT") != "1",
    reason="the pact command (pact-python-cli, rpctest[pact]) is not installed; the core nox session installs it",
)


@pytest.fixture()
def broker() -> Iterator[BrokerDouble]:
    with running_broker(BrokerDouble()) as double:
        yield double


@needs_pact
def test_publish_runs_pact_broker_publish_with_version_branch_tags_and_token(
    broker: BrokerDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PACT_BROKER_TOKEN", raising=False)
    (tmp_path / "pacts").mkdir()
    (tmp_path / "pacts" / "web-users.json").write_text(json.dumps(PACT))
    code = main(["contracts", "publish", str(tmp_path / "pacts"), "--consumer-app-version", "abc123", "--branch", "main",
                 "--tag", "prod", "--broker", broker.url, "--broker-token", "tok"])
    assert code == 0, capsys.readouterr()
    published = [r for r in broker.requests if r.method == "POST"]
    assert [r.path for r in published] == ["/contracts/publish"]
    body = published[0].body
    assert (body["pacticipantName"], body["pacticipantVersionNumber"], body["branch"], body["tags"]) == ("web", "abc123", "main", ["prod"])
    [contract] = body["contracts"]
    assert (contract["consumerName"], contract["providerName"], contract["specification"]) == ("web", "users", "pact")
    sent = json.loads(base64.b64decode(contract["content"]))  # the pact CLI normalises the file it reads
    assert (sent["consumer"], sent["provider"]) == (PACT["consumer"], PACT["provider"])
    assert [i["request"]["contents"]["content"] for i in sent["interactions"]] == [{"id": 1}]
    assert all(r.headers["authorization"] == "Bearer tok" for r in broker.requests)


@needs_pact
def test_a_broker_that_refuses_the_publication_is_exit_1(broker: BrokerDouble, tmp_path: Path) -> None:
    broker.refuse = 401
    (tmp_path / "web-users.json").write_text(json.dumps(PACT))
    assert main(["contracts", "publish", str(tmp_path), "--consumer-app-version", "1", "--broker", broker.url]) == 1


def test_rpctest_contract_files_are_refused_with_the_way_to_pact_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "publish", str(ROOT / "contracts/consumers"), "--consumer-app-version", "1", "--broker", "http://b"]) == 2
    err = capsys.readouterr().err
    assert "an rpctest contract, not a Pact file" in err and "rpctest contracts export --format pact" in err


def test_publish_without_the_pact_command_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    (tmp_path / "web-users.json").write_text(json.dumps(PACT))
    assert main(["contracts", "publish", str(tmp_path), "--consumer-app-version", "1", "--broker", "http://b"]) == 2
    assert "pip install 'rpctest[pact]'" in capsys.readouterr().err


class _NotABroker:
    """A web server that is not a Pact Broker: a login page (HTML, 200) or a failing one (500)."""

    def __init__(self, status: int) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                page = b"<html><body>Sign in</body></html>"
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="not-a-broker", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.mark.parametrize(("status", "says"), [(200, "did not answer JSON"), (500, "the broker answered 500")])
def test_a_url_that_is_not_a_broker_is_a_usage_error_at_once(
    status: int, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pact broker publish`` retried a 500 for a minute and then exited 1 (the code for a broker that
    refused the pacts); a URL that is no Pact Broker is the caller's mistake: exit 2 within seconds,
    saying what answered."""
    import time

    (tmp_path / "web-users.json").write_text(json.dumps(PACT))
    server = _NotABroker(status)
    try:
        started = time.monotonic()
        code = main(["contracts", "publish", str(tmp_path), "--consumer-app-version", "1", "--broker", server.url])
        took = time.monotonic() - started
    finally:
        server.close()
    err = capsys.readouterr().err
    assert code == 2, err
    assert says in err and server.url in err, err
    assert took < 10
