"""``rpctest pact-relay``: the real ``pact verifier`` verifies an rpctest provider of any stack.

The verifier verifies a message pact by POSTing each interaction's request message to an HTTP
endpoint and comparing the reply body with the pact's response message; it sets provider states up
by POSTing ``{"action": "setup"|"teardown", "state": NAME, "params": {...}}`` to a second URL. No
RPC stack here speaks that, so the relay stands between them:

* **messages** (PySOA, pykern.api, ZeroJSON, AsyncAPY: ``Synchronous/Messages``): the request
  message's content is the rpctest request body, ``request.metadata.rpctest`` names the operation
  (the agreed Pact mapping, ``docs/pact.md``); the relay sends that call to the real provider over
  its real transport (the same opened provider ``verify --live`` uses, :func:`~rpctest.contracts.live.open_provider`)
  and answers the rpctest response object the provider's reply is (``{"body": ...}``,
  ``{"errors": [...]}``, ``{"items": [...]}``), exactly what a recording of it would hold, which
  is what the exporter wrote into the pact;
* **provider states**: set up and torn down by the provider's ``@rpctest.provider_state`` handlers
  (:mod:`rpctest.contracts.states`, the one place that runs them);
* for a stack whose provider speaks HTTP itself (Kyoukai: ``Synchronous/HTTP``) the verifier calls
  the app directly, and the relay serves only the states.

One request is handled at a time, on the relay's one server thread: a state's setup, the message it
is for and its teardown run in order, and a handler's generator is resumed on the thread that started it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any, Callable, Mapping

from rpctest.exceptions import RpctestError, TransportError
from rpctest.model import Call, Interaction, ProviderState, Reply, RpcError

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.contracts.live import Sender
    from rpctest.contracts.states import StateHandlers

__all__ = ["PactRelay", "MESSAGE_PATH", "STATE_PATH", "RelayRefused", "call_from_message", "response_object"]

#: where the verifier sends request messages (``--transports message:PORT/pact/message``)
MESSAGE_PATH = "/pact/message"
#: where the verifier sends provider state changes (``-s http://HOST:PORT/pact/state``)
STATE_PATH = "/pact/state"
#: the largest request the relay reads: a pact interaction is a request body, not a bulk upload
MAX_REQUEST_BYTES = 16 * 1024 * 1024

log = logging.getLogger("rpctest.pact_relay")


class RelayRefused(RpctestError):
    """A request the relay cannot forward; ``status`` is the HTTP status it answers with: always a 4xx,
    never a 5xx, which pact verifier retries with back-off for minutes before it gives up."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _decoded_contents(contents: Any, where: str) -> Any:
    """The value a Pact V4 message's ``contents`` holds: ``{"contentType", "encoded", "content"}``
    (``encoded``: false, ``"base64"`` or ``"json"`` for JSON kept as text), or the value itself."""
    if not (isinstance(contents, Mapping) and "content" in contents):
        return contents
    content, encoded = contents.get("content"), contents.get("encoded", False)
    try:
        if encoded in (False, None):
            return content
        if encoded == "base64" and isinstance(content, str):
            return json.loads(base64.b64decode(content, validate=True))
        if encoded == "json" and isinstance(content, str):
            return json.loads(content)
    except ValueError as exc:
        raise RelayRefused(400, f"{where}: its content is not {encoded} JSON ({exc})") from None
    raise RelayRefused(400, f"{where}: content encoded as {encoded!r} is not JSON the relay can read (false, \"base64\" or \"json\")")


def call_from_message(stack: str, message: Any, *, service: str | None = None, description: str = "?") -> Call:
    """The rpctest call a verifier's request message stands for (the agreed mapping's anchors):
    ``request.contents`` holds the request body, ``request.metadata.rpctest`` the ``operation``,
    ``service`` and ``stack``, and what else the call carries on the stack's transport: ``meta``
    (merged into :attr:`Call.meta`), ``subscribe`` (true: a stream, as the exporter writes it), and
    ``attachment`` (the request's binary side payload, tagged as contract values are)."""
    from rpctest.schema import values

    where = f"interaction {description!r}"
    if not isinstance(message, Mapping) or not isinstance(message.get("request"), Mapping):
        raise RelayRefused(400, f"{where}: the verifier's message has no request object (is this pact verifier's message transport?)")
    request = message["request"]
    metadata = request.get("metadata")
    details = metadata.get("rpctest") if isinstance(metadata, Mapping) else None
    if not isinstance(details, Mapping) or not isinstance(details.get("operation"), str) or not details["operation"]:
        raise RelayRefused(
            400,
            f"{where}: the request message has no metadata.rpctest.operation, so the relay cannot tell which operation "
            f"to call; write the pact with `rpctest contracts export --format pact`, or add "
            f'"rpctest": {{"operation": ..., "service": ...}} to the request message\'s metadata',
        )
    if details.get("stack") not in (None, stack):
        raise RelayRefused(400, f"{where}: the pact is for the {details['stack']} stack; this relay forwards to a {stack} provider (--stack)")
    named = details.get("service")
    if service is not None and named not in (None, service):
        raise RelayRefused(400, f"{where}: the pact is for service {named!r}; this relay forwards to {service!r} (--service)")
    meta = dict(details["meta"]) if isinstance(details.get("meta"), Mapping) else {}
    if details.get("subscribe") is True:
        meta["kind"] = "subscribe"
    try:
        attachment = values.decode(details.get("attachment"))
    except (TypeError, ValueError) as exc:
        raise RelayRefused(400, f"{where}: metadata.rpctest.attachment: {exc}") from None
    body = _decoded_contents(request.get("contents"), where)
    return Call(stack=stack, service=str(named or service or ""), operation=details["operation"], body=body, meta=meta,
                attachment=bytes(attachment) if isinstance(attachment, (bytes, bytearray)) else None)


def response_object(call: Call, reply: Reply) -> dict[str, Any]:
    """The rpctest response object of ``reply``: what a consumer contract recording it would hold
    (and so what the exporter wrote as the pact's response message)."""
    from rpctest.contracts.format import RecordedInteraction
    from rpctest.stacks import get_adapter

    recorded = Reply(body=reply.body, errors=reply.errors, job_errors=reply.job_errors, attachment=reply.attachment,
                     items=reply.items, meta=get_adapter(call.stack).recorded_meta(reply))
    return RecordedInteraction.from_interaction(Interaction(call, recorded)).response_data()


def _describe(reply: Reply) -> str:
    if reply.ok:
        return "a stream" if reply.items is not None else "a success"
    return "errors " + ", ".join(f"{e.code}" + (f"@{e.field}" if e.field else "") + (f" ({e.kind.value})" if e.kind else "")
                                 for e in reply.all_errors)


@dataclass
class _Entered:
    state: ProviderState
    exit: contextlib.ExitStack


class PactRelay:
    """The verifier's message and provider-state endpoints in front of one real provider.

    ``send`` reaches the provider (None: a provider the verifier calls itself, over HTTP; only states
    are served). ``setup`` is ``verify --live``'s older hook, ``setup(operation, request)`` before
    each message. :meth:`start` binds ``host:port`` (0: a free port), :meth:`stop` tears down any
    state still set up and releases the thread and the socket.
    """

    def __init__(
        self,
        stack: str,
        send: "Sender | None",
        *,
        handlers: "StateHandlers | None" = None,
        service: str | None = None,
        setup: Callable[[str, Any], Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        from rpctest.contracts.states import registry

        self.stack = stack
        self.send = send
        self.handlers = handlers if handlers is not None else registry
        self.service = service
        self.setup = setup
        self._bind = (host, port)
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._entered: list[_Entered] = []
        self._answered_since_setup = False

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> "PactRelay":
        try:
            self._server = HTTPServer(self._bind, _handler_for(self))
        except OSError as exc:
            raise RpctestError(f"cannot listen on {self._bind[0]}:{self._bind[1]} for the pact relay: {exc}; "
                               f"choose another --port (0: any free one)") from None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="rpctest-pact-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._tear_down_all()

    def __enter__(self) -> "PactRelay":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RpctestError("the pact relay is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._bind[0]}:{self.port}"

    @property
    def state_url(self) -> str:
        return self.base_url + STATE_PATH

    @property
    def message_url(self) -> str | None:
        return self.base_url + MESSAGE_PATH if self.send is not None else None

    def verifier_arguments(self, provider_address: str | None = None) -> list[str]:
        """What to give ``pact verifier`` besides the pact and ``-n PROVIDER``: the relay's message
        transport, or the HTTP provider's host and port; and the state URL, with teardowns."""
        from urllib.parse import urlsplit

        if self.send is not None:
            where = ["--hostname", self._bind[0], "--transports", f"message:{self.port}{MESSAGE_PATH}"]
        else:
            split = urlsplit(provider_address or "")
            if not split.hostname or not split.port:
                raise RpctestError(f"the provider's address {provider_address!r} is not http://HOST:PORT")
            where = ["--hostname", split.hostname, "--port", str(split.port)]
        return [*where, "--state-change-url", self.state_url, "--state-change-teardown"]

    # -- provider states -----------------------------------------------------------------------------

    def change_state(self, payload: Any) -> dict[str, Any]:
        """Set a state up or tear it down, as the verifier asks. The verifier sends a teardown only with
        ``--state-change-teardown``: without it, the next interaction's first setup tears down the states
        the last one left (and :meth:`stop` whatever is left at the end). The next interaction is known
        by a setup after a forwarded message, of a state already set up, or of no state at all (the
        verifier's call for an interaction without states): an HTTP provider's interactions never pass
        through the relay, so the last two are all it sees of them."""
        from rpctest.contracts.states import StateFailed

        if not isinstance(payload, Mapping) or payload.get("action") not in ("setup", "teardown"):
            raise RelayRefused(400, 'a state change is {"action": "setup" or "teardown", "state": NAME, "params": {...}}, '
                                    f"not {json.dumps(payload)[:200]}")
        name, params = payload.get("state"), payload.get("params") or {}
        if not isinstance(name, str) or not isinstance(params, Mapping):
            raise RelayRefused(400, f"a state change names its state (a string) and params (an object): {json.dumps(payload)[:200]}")
        if not name:  # the verifier's call for an interaction with no provider state
            if payload["action"] == "setup":
                self._tear_down_all()
            return {}
        state = ProviderState(name, dict(params))
        if payload["action"] == "teardown":
            self._tear_down(state)
            return {}
        if self._answered_since_setup or any(entered.state.name == name for entered in self._entered):
            self._tear_down_all()
        if self.handlers.missing([state]):
            known = ", ".join(repr(n) for n in self.handlers.names()) or "none"
            raise RelayRefused(
                400, f"no provider state handler for {state.describe()}: register one with @rpctest.provider_state({name!r}) "
                     f"in a module given by --states MODULE (handlers registered: {known})")
        exit_stack = contextlib.ExitStack()
        try:
            exit_stack.enter_context(self.handlers.entered([state]))
        except StateFailed as exc:
            raise RelayRefused(400, str(exc)) from None
        self._entered.append(_Entered(state, exit_stack))
        log.info("state %s set up", state.describe())
        return {}

    def _tear_down(self, state: ProviderState) -> None:
        from rpctest.contracts.states import StateFailed

        for index in range(len(self._entered) - 1, -1, -1):
            entered = self._entered[index]
            if entered.state.name == state.name and dict(entered.state.params) == dict(state.params):
                del self._entered[index]
                try:
                    entered.exit.close()
                except StateFailed as exc:
                    raise RelayRefused(400, str(exc)) from None
                log.info("state %s torn down", state.describe())
                return

    def _tear_down_all(self) -> None:
        from rpctest.contracts.states import StateFailed

        self._answered_since_setup = False
        while self._entered:
            entered = self._entered.pop()
            try:
                entered.exit.close()
            except StateFailed as exc:  # nobody waits for this teardown: say so, and tear the rest down
                log.error("%s", exc)

    # -- messages ------------------------------------------------------------------------------------

    def answer(self, payload: Any) -> tuple[dict[str, Any], Call]:
        """The response object the real provider's reply to the verifier's message is."""
        if self.send is None:
            raise RelayRefused(404, f"{self.stack} interactions are Synchronous/HTTP: pact verifier calls the provider "
                                    f"directly (--hostname/--port); this relay serves only provider states at {STATE_PATH}")
        description = str(payload.get("description", "?")) if isinstance(payload, Mapping) else "?"
        call = call_from_message(self.stack, payload, service=self.service, description=description)
        if self.setup is not None:
            self.setup(call.operation, call.body)
        try:
            reply = self.send(call)
        except TransportError as exc:  # a timeout, a broken frame: the verifier shows it as the provider's answer
            reply = Reply(errors=[RpcError("TRANSPORT", str(exc), kind="transport")])
        self._answered_since_setup = True
        log.info("%s.%s: %s", call.service or self.stack, call.operation, _describe(reply))
        return response_object(call, reply), call


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True).encode("utf-8")


def _handler_for(relay: PactRelay) -> type[BaseHTTPRequestHandler]:
    """The request handler class of one relay (http.server builds one handler per request)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "rpctest-pact-relay"
        timeout = 30  # a client that stops sending mid-request does not hold the relay forever

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            try:
                payload = self._payload()
                if path == STATE_PATH:
                    self._reply(200, _json_bytes(relay.change_state(payload)))
                elif path == MESSAGE_PATH:
                    body, call = relay.answer(payload)
                    metadata = {"contentType": "application/json",
                                "rpctest": {"stack": call.stack, "service": call.service, "operation": call.operation}}
                    self._reply(200, _json_bytes(body), {"Pact-Message-Metadata": base64.b64encode(_json_bytes(metadata)).decode("ascii")})
                else:
                    raise RelayRefused(404, f"no such endpoint {path!r}: messages go to {MESSAGE_PATH}, provider states to {STATE_PATH}")
            except RelayRefused as exc:
                self._refuse(exc.status, str(exc))
            except RpctestError as exc:  # the provider could not be reached, a state hook's usage error
                self._refuse(400, f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # a setup hook that raised, a bug: the verifier sees it, the relay goes on
                log.exception("the relay failed on %s", path)
                self._refuse(400, f"the relay failed: {type(exc).__name__}: {exc}")

        def do_GET(self) -> None:  # noqa: N802
            self._refuse(405, f"the relay takes POST requests from pact verifier: messages at {MESSAGE_PATH}, states at {STATE_PATH}")

        def _payload(self) -> Any:
            from rpctest.untrusted import Undecodable, decode_json

            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise RelayRefused(400, "the request's Content-Length is not a number") from None
            if length > MAX_REQUEST_BYTES:
                raise RelayRefused(413, f"a request of {length} bytes is over the relay's limit of {MAX_REQUEST_BYTES}")
            data = self.rfile.read(length) if length > 0 else b""
            try:
                return decode_json(data)
            except Undecodable as exc:
                raise RelayRefused(400, f"the request body is not JSON: {exc}") from None

        def _refuse(self, status: int, message: str) -> None:
            log.warning("%s %s: %s", status, self.path, message)
            self._reply(status, _json_bytes({"error": message}))

        def _reply(self, status: int, content: bytes, headers: Mapping[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
            log.debug(format, *args)

    return Handler
