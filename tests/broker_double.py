"""A Pact Broker double: a real HTTP server on loopback that answers the broker API rpctest and the
pact CLI use, from pacts the test gives it, and records every request (method, path, headers, body).

No Pact Broker can run on the machines this suite runs on, so the broker paths are tested against
this double; what it answers follows the Pact Broker's HAL API (the index's relations,
``pb:provider-pacts-for-verification``, ``pb:publish-contracts``).
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator


#: the users consumer's get_user interaction as a Pact V4 file (the agreed mapping, docs/pact.md)
PACT_V4: dict[str, Any] = {
    "consumer": {"name": "web"},
    "provider": {"name": "users"},
    "interactions": [{
        "type": "Synchronous/Messages",
        "description": "get_user {\"id\": 1}",
        "key": "get_user-1",
        "pending": False,
        "providerStates": [],
        "request": {
            "contents": {"contentType": "application/json", "encoded": False, "content": {"id": 1}},
            "metadata": {"rpctest": {"stack": "pysoa", "service": "users", "operation": "get_user"}},
        },
        "response": [{
            "contents": {"contentType": "application/json", "encoded": False,
                         "content": {"body": {"user": {"id": 1, "name": "Ann", "email": "ann@example.com", "tags": ["admin"]}}}},
            "matchingRules": {"body": {"$.body": {"combine": "AND", "matchers": [{"match": "type"}]}}},
        }],
    }],
    "metadata": {"pactSpecification": {"version": "4.0"}, "rpctest": {"stack": "pysoa", "service": "users", "contract": 2}},
}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class BrokerDouble:
    """What the double serves (``pacts``: name -> document) and what it was asked (``requests``)."""

    pacts: dict[str, Any] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    #: a status every request gets instead (401 for a broker that wants credentials)
    refuse: int | None = None
    #: the index offers pacts-for-verification (an old broker does not)
    for_verification: bool = True
    #: where pact links point (another origin, to check credentials stay at the broker's)
    pact_base: str | None = None
    url: str = ""

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if self.refuse is not None:
            return self.refuse, {"error": "refused"}
        base = self.url
        if method == "GET" and path == "/":
            links: dict[str, Any] = {"self": {"href": base}}
            if self.for_verification:
                links["pb:provider-pacts-for-verification"] = {
                    "href": f"{base}/pacts/provider/{{provider}}/for-verification", "templated": True}
            links["pb:publish-contracts"] = {"href": f"{base}/contracts/publish"}
            return 200, {"_links": links}
        if method == "GET" and path.endswith("/for-verification"):  # pact verifier reads the resource before it POSTs
            return 200, {"_links": {"self": {"href": base + path}}}
        if method == "POST" and path.endswith("/for-verification"):
            provider = path.split("/")[3]
            pacts_base = self.pact_base or base
            return 200, {"_embedded": {"pacts": [
                {"shortDescription": f"latest pact of {name}",
                 "verificationProperties": {"pending": name in self.pending, "notices": []},
                 "_links": {"self": {"href": f"{pacts_base}/pacts/provider/{provider}/consumer/{name}/pact-version/1",
                                     "name": f"Pact between {name} and {provider}"}}}
                for name in sorted(self.pacts)
            ]}}
        if method == "GET" and "/consumer/" in path:
            name = path.split("/consumer/", 1)[1].split("/", 1)[0]
            if name in self.pacts:  # as a broker answers: the pact, with its HAL links beside its own keys
                return 200, {**self.pacts[name], "_links": {"pb:publish-verification-results": {
                    "href": f"{base}{path.split('/pact-version/')[0]}/pact-version/1/verification-results"}}}
        if method == "POST" and path.endswith("/verification-results"):
            return 201, {"success": (body or {}).get("success")}
        if method == "POST" and path == "/contracts/publish":
            return 200, {"notices": [{"type": "success", "text": "published"}],
                         "_links": {"pb:contracts": [{"href": f"{base}/pacts/provider/{c.get('providerName')}/consumer/"
                                                              f"{c.get('consumerName')}/version/1", "name": "published"} for c in (body or {}).get("contracts", [])]}}
        return 404, {"error": f"no {method} {path}"}


@contextlib.contextmanager
def running_broker(double: BrokerDouble) -> Iterator[BrokerDouble]:
    """Serve ``double`` on a loopback port (``double.url``) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            double.requests.append(Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, answer = double.answer(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/hal+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="broker-double", daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
