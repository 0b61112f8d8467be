"""A Kyoukai call in neutral terms and on the wire: the request envelope, HTTP requests and replies.

Kyoukai has no envelope of its own: a request is a method, a path (whose variables the route
converts), a query string and a body. rpctest's neutral **request envelope** for a Kyoukai
operation says all of it as one JSON value, so that contracts, stubs, recordings and the fuzzer
treat an HTTP request like any other stack's request body::

    {"path": {"item_id": "5"}, "query": {"q": "x"}, "body": {"sku": "A"}}

Every key is optional: ``path`` holds the route's variables in wire form (strings; present when the
operation is a template such as ``"GET /items/<int:item_id>"``), ``query`` the query arguments (a
list for a repeated name), ``body`` the JSON body (sent with ``Content-Type: application/json``;
absent means no body). A stub handle's ``call_body`` is this envelope.

This module needs neither Kyoukai nor werkzeug (the consumer side runs without them); httpx only
for :class:`KyoukaiClient`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import parse_qsl, urlencode

from rpctest.exceptions import ConfigError
from rpctest.model import Call, ErrorKind, Reply, RpcError
from rpctest.stacks.kyoukai.routes import RouteTemplate, split_operation
from rpctest.untrusted import Undecodable, decode_json

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stacks.kyoukai.plain_http import PlainHTTP

__all__ = [
    "ENVELOPE_KEYS",
    "KyoukaiClient",
    "envelope_from_request",
    "request_parts",
    "response_parts",
    "send",
    "send_plain",
    "wire_form",
]

ENVELOPE_KEYS = ("path", "query", "body")
_JSON = "application/json"


def _check_envelope(envelope: Any, operation: str) -> Mapping[str, Any]:
    if envelope is None:
        return {}
    if not isinstance(envelope, Mapping) or set(envelope) - set(ENVELOPE_KEYS):
        raise ConfigError(
            f"a Kyoukai request for {operation!r} is an envelope {{'path': {{...}}, 'query': {{...}}, 'body': ...}} "
            f"(every key optional), not {envelope!r}"
        )
    return envelope


def _query_text(query: Any) -> str:
    if not query:
        return ""
    if not isinstance(query, Mapping):
        raise ConfigError(f"the query of a Kyoukai request is a mapping of names to strings (or lists), not {query!r}")
    pairs = []
    for name, value in query.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((str(name), _scalar_text(item)))
    return urlencode(pairs)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def request_parts(operation: str, envelope: Any) -> tuple[str, str, dict[str, str], bytes | None]:
    """``(method, target, headers, content)`` for a neutral Kyoukai call.

    ``operation`` is ``"METHOD /template"`` (variables from ``envelope["path"]``), ``"METHOD /path"``,
    or any other name, sent as ``GET /<name>`` (how the fuzzer probes an unknown operation).
    """
    parts = split_operation(operation)
    method, path = parts if parts is not None else ("GET", "/" + str(operation).lstrip("/"))
    envelope = _check_envelope(envelope, operation)
    route = RouteTemplate.parse(path.split("?", 1)[0])
    target = route.build(envelope.get("path")) if route.is_template else path
    query = _query_text(envelope.get("query"))
    if query:
        target += ("&" if "?" in target else "?") + query
    headers: dict[str, str] = {}
    content = None
    if "body" in envelope:
        content = json.dumps(envelope["body"]).encode("utf-8")
        # Kyoukai matches header names case-sensitively: only this spelling is read
        headers["Content-Type"] = _JSON
    return method, target, headers, content


def _decoded_query(query_string: str) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name in query:
            previous = query[name]
            query[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            query[name] = value
    return query


def envelope_from_request(
    path: str, query_string: str, content: bytes, content_type: str | None = None, *, route: RouteTemplate | None = None,
    path_values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The envelope of a request a stub received (``route``: the stub's template, for ``path``;
    ``path_values``: what ``route.match(path)`` gave, when the caller has matched it already)."""
    envelope: dict[str, Any] = {}
    if route is not None and route.is_template:
        values = route.match(path) if path_values is None else path_values
        if values:
            envelope["path"] = values
    query = _decoded_query(query_string) if query_string else None
    if query:
        envelope["query"] = query
    if content:
        text = content.decode("utf-8", errors="replace")
        kind = (content_type or "").split(";")[0].strip().lower()
        try:
            envelope["body"] = decode_json(text) if kind in ("", _JSON) or kind.endswith("+json") else text
        except Undecodable:  # however it fails (nested too deeply, a 4300+ digit integer): the text
            envelope["body"] = text
    return envelope


def wire_form(envelope: Any) -> Any:
    """What the provider receives for ``envelope``: path and query values become text, the body goes
    through JSON. A generated defect that disappears here (an int ``5`` for a string variable is
    ``"5"`` on the wire) cannot be sent, so the fuzzer does not count it as invalid input."""
    if not isinstance(envelope, Mapping):
        return envelope
    out: dict[str, Any] = {}
    for key, value in envelope.items():
        if key == "path" and isinstance(value, Mapping):
            out[key] = {str(k): _scalar_text(v) for k, v in value.items()}
        elif key == "query" and isinstance(value, Mapping):
            decoded = _decoded_query(_query_text(value))  # the round trip: [] vanishes, ["a"] is "a"
            if decoded:
                out[key] = decoded
        elif key == "body":
            try:
                out[key] = json.loads(json.dumps(value))
            except (TypeError, ValueError):
                out[key] = value
        else:
            out[key] = value
    return out


def sendable(envelope: Any, operation: str) -> bool:
    """Whether an HTTP request for ``operation`` can carry ``envelope`` at all: an object with the
    known keys, ``query`` an object, ``path`` an object with a value for each variable of the route."""
    if not isinstance(envelope, Mapping) or set(envelope) - set(ENVELOPE_KEYS):
        return False
    if not all(isinstance(envelope.get(key, {}), Mapping) for key in ("path", "query")):
        return False
    parts = split_operation(operation)
    if parts is None:
        return True
    names = {param.name for param in RouteTemplate.parse(parts[1].split("?", 1)[0]).params}
    return names <= set(envelope.get("path", {}))


def response_parts(reply: Reply, *, status: int | None = None, headers: Mapping[str, str] | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, headers, content)`` a stub answers with for ``reply``.

    An error answers its status (the neutral code) with its message as text (``details["body"]``
    when a recording kept the page); a body of None is 204 (``text/plain``) as Kyoukai answers a falsy view result;
    ``str`` is ``text/plain``, ``bytes`` ``application/octet-stream``, anything else JSON.
    """
    extra = list((headers or {}).items())
    errors = reply.all_errors
    if errors:
        error = errors[0]
        code = error.code if isinstance(error.code, int) else int(str(error.code)) if str(error.code).isdigit() else 500
        text = error.details.get("body") if isinstance(error.details.get("body"), str) else error.message
        content = (text or "").encode("utf-8")
        return code, [("Content-Type", "text/plain; charset=utf-8"), *extra], content
    meta_status = (reply.meta or {}).get("status")
    body = reply.body
    names = {name.lower() for name, _ in extra}
    if body is None:  # Kyoukai's 204 for a falsy view result still says text/plain (werkzeug's default)
        head = extra if "content-type" in names else [("Content-Type", "text/plain; charset=utf-8"), *extra]
        return int(status or meta_status or 204), head, b""
    if isinstance(body, str):
        kind, content = "text/plain; charset=utf-8", body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray)):
        kind, content = "application/octet-stream", bytes(body)
    else:
        kind, content = _JSON, json.dumps(body).encode("utf-8")
    head = extra if "content-type" in names else [("Content-Type", kind), *extra]
    return int(status or meta_status or 200), head, content


def http_credentials(credentials: Any) -> tuple[dict[str, str], tuple[str, str] | None]:
    """(headers, basic auth) for a :class:`~rpctest.credentials.Credentials`: its headers, its token
    as ``Authorization: Bearer`` (an explicit ``Authorization`` header wins), its basic auth. The token,
    becoming a header value here, is checked as one (headers were checked where they were given)."""
    from rpctest.credentials import check_header_value

    headers = {}
    if credentials.token is not None:
        token = check_header_value(credentials.token, where="--token (sent as Authorization: Bearer)")
        headers["Authorization"] = f"Bearer {token}"
    headers.update(credentials.header_map())
    return headers, credentials.basic


def send(client: Any, call: Call, timeout: float) -> Reply:
    """Send a neutral call (envelope body) with a blocking ``httpx.Client``; the reply, never a raise
    for what the network or the app does (a timeout is a TRANSPORT error)."""
    import httpx

    from rpctest.stacks.kyoukai.host import reply_from_response

    method, target, headers, content = request_parts(call.operation, call.body)
    try:
        response = client.request(method, target, content=content, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return Reply(errors=[RpcError("TRANSPORT", f"no reply to {method} {target} within {timeout:g}s", kind=ErrorKind.TRANSPORT)])
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        return Reply(errors=[RpcError("TRANSPORT", f"{method} {target}: {type(exc).__name__}: {exc}", kind=ErrorKind.TRANSPORT)])
    return with_request(reply_from_response(response), method, target, content)


def send_plain(sender: Any, call: Call, timeout: float) -> Reply:
    """Send a neutral call (envelope body) through a sender that writes HTTP/1.1 itself and answers
    a neutral reply (``sender.send(method, target, headers, content, timeout)``: :class:`.plain_http.PlainHTTP`
    over a socket, :class:`.transport.InlineSender` in memory); what :func:`send` answers through httpx."""
    method, target, headers, content = request_parts(call.operation, call.body)
    reply: Reply = sender.send(method, target, headers, content, timeout)
    return reply if reply.errors and reply.errors[0].kind is ErrorKind.TRANSPORT else with_request(reply, method, target, content)


def with_request(reply: Reply, method: str, target: str, content: bytes | None) -> Reply:
    """``reply`` saying which request it answers (``meta["request"]``, what reports quote)."""
    reply.meta["request"] = f"{method} {target}" + (f" {content.decode('utf-8', 'replace')}" if content else "")
    return reply


def _base_of(address: str) -> str:
    from rpctest.stacks.kyoukai.stubbing import base_of

    return base_of(address)


def _over_wire() -> set[str]:
    """The base URLs of rpctest's own Kyoukai servers in this process (:data:`.stubbing.serving_over_wire`)."""
    from rpctest.stacks.kyoukai import stubbing

    return stubbing.serving_over_wire


class KyoukaiClient:
    """A blocking client of a running Kyoukai endpoint (``http://127.0.0.1:PORT``) in neutral terms.

    ``call(Call)`` sends the envelope as HTTP (see :func:`request_parts`) and turns the response into
    a :class:`~rpctest.model.Reply` (a non-2xx status is an error whose code is the status; Kyoukai
    2.2.1.post1's canned page is flagged ``critical_page``). Every call has a timeout; a timeout or
    a broken connection is a TRANSPORT error in the reply, never an exception or a hang. ``headers``
    go on every request (an envelope's own ``Content-Type`` wins); ``auth`` is (user, password) for
    HTTP basic auth.
    """

    def __init__(
        self,
        address: str,
        *,
        timeout: float = 5.0,
        transport: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        from rpctest.stacks.kyoukai.host import _require_httpx

        httpx = _require_httpx()
        if not isinstance(address, str) or not address.startswith(("http://", "https://")):
            raise ConfigError(f"a Kyoukai address is http://HOST:PORT, not {address!r}")
        if timeout is None or timeout <= 0:
            raise ConfigError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.address = address.rstrip("/")
        self.timeout = timeout
        options: dict[str, Any] = {"base_url": self.address, "timeout": timeout, "headers": dict(headers or {})}
        if auth is not None:
            options["auth"] = httpx.BasicAuth(*auth)
        if self.address.startswith("http://"):
            # plain HTTP: no CA store to load (httpx loads one per client otherwise, tens of
            # milliseconds: most of a stub server's start to its first reply, issue 21)
            options["verify"] = False
        if transport is not None:
            options["transport"] = transport
        self._client = httpx.Client(**options)
        #: rpctest's own servers (stub servers, hosted apps) are called over a plain socket: see
        #: :mod:`.plain_http`; None where httpx must carry every request (or httptools is missing)
        self._plain: PlainHTTP | None = None
        self._base = ""
        if transport is None and self.address.startswith("http://"):
            from rpctest.stacks.kyoukai.plain_http import PlainHTTP, available

            if available():
                self._plain = PlainHTTP(self.address, options["headers"], auth)
                self._base = _base_of(self.address)

    def call(self, call: Call, *, timeout: float | None = None) -> Reply:
        timeout = self.timeout if timeout is None else timeout
        if self._plain is not None and self._base in _over_wire():
            return send_plain(self._plain, call, timeout)
        return send(self._client, call, timeout)

    def call_many(self, calls: Any, *, timeout: float | None = None) -> list[Reply]:
        return [self.call(call, timeout=timeout) for call in calls]

    def close(self) -> None:
        if self._plain is not None:
            self._plain.close()
        self._client.close()

    def __enter__(self) -> "KyoukaiClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
