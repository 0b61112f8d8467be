"""Consumer contracts from a Pact Broker (or PactFlow), through its HTTP API.

rpctest keeps no broker of its own: teams that run one publish their pacts there (``pact broker
publish``, or ``rpctest contracts publish``), and a provider's ``verify``, ``serve`` or ``diff`` asks
the broker which pacts to verify exactly as Pact's own verifier does: the index's
``pb:provider-pacts-for-verification`` relation, POSTed the consumer version selectors, then each
selected pact by its ``self`` link. The pacts are written into a directory of their own under the
cache and handed to the normal loader, so a pact is read like any contract file (an rpctest contract
published as the pact, or a Pact file where the loader knows the Pact format).

The standard library's ``urllib`` does the HTTP (rpctest adds no client dependency); every request
has a timeout. Credentials are sent to the broker's own origin only, never to a host a link names.
The settings follow the ``pact`` CLI's names and environment variables: ``PACT_BROKER_BASE_URL``,
``PACT_BROKER_TOKEN`` (a bearer token), ``PACT_BROKER_USERNAME`` / ``PACT_BROKER_PASSWORD``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from rpctest.exceptions import ConfigError

__all__ = ["BrokerQuery", "BrokerPact", "fetch_pacts", "post_json", "BROKER_TIMEOUT", "ENVIRONMENT"]

#: seconds for each request to the broker
BROKER_TIMEOUT = 30.0
#: the pact CLI's environment variables, by the setting they give
ENVIRONMENT = {
    "url": "PACT_BROKER_BASE_URL",
    "token": "PACT_BROKER_TOKEN",
    "username": "PACT_BROKER_USERNAME",
    "password": "PACT_BROKER_PASSWORD",
}
_HAL = "application/hal+json, application/json"
_FOR_VERIFICATION = "pb:provider-pacts-for-verification"
#: the relation in a fetched pact's ``_links`` where its verification results go
RESULTS = "pb:publish-verification-results"


@dataclass(frozen=True)
class BrokerPact:
    """One pact the broker selected: its file name among the fetched ones, and what the broker said
    of it (pending: its failures do not fail the build; where its verification results go)."""

    file_name: str
    name: str
    pending: bool
    results_href: str | None


@dataclass(frozen=True)
class BrokerQuery:
    """Which pacts to ask a broker for, and how to log in to it."""

    url: str
    provider: str
    selectors: list[dict[str, Any]] = field(default_factory=list)
    token: str | None = None
    username: str | None = None
    password: str | None = None
    include_pending: bool = False
    provider_branch: str | None = None
    timeout: float = BROKER_TIMEOUT

    @property
    def label(self) -> str:
        """How the fetched pacts are named in reports: the broker's host and the provider."""
        host = urllib.parse.urlsplit(self.url).netloc or self.url
        return f"{host}/pacts/provider/{self.provider}"

    def headers(self, url: str) -> dict[str, str]:
        """Accept, and the credentials when ``url`` is on the broker's own origin."""
        headers = {"Accept": _HAL}
        if _origin(url) != _origin(self.url):
            return headers
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.username is not None:
            pair = f"{self.username}:{self.password or ''}".encode("utf-8")
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return headers

    def request_body(self) -> dict[str, Any]:
        """The pacts-for-verification request: the selectors, and pending/branch where given."""
        body: dict[str, Any] = {}
        if self.selectors:
            body["consumerVersionSelectors"] = self.selectors
        if self.include_pending:
            body["includePendingStatus"] = True
        if self.provider_branch:
            body["providerVersionBranch"] = self.provider_branch
        return body


def parse_selectors(values: list[str] | None) -> list[dict[str, Any]]:
    """``--consumer-version-selectors`` values: each a JSON object or a JSON list of objects."""
    selectors: list[dict[str, Any]] = []
    for raw in values or []:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"--consumer-version-selectors {raw!r} is not JSON ({exc}); "
                              "give an object such as '{\"mainBranch\": true}' or a list of them") from None
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict) or not item:
                raise ConfigError(f"--consumer-version-selectors {raw!r}: each selector is a non-empty JSON object "
                                  "(e.g. {\"mainBranch\": true}, {\"deployedOrReleased\": true}, {\"branch\": \"main\"})")
            selectors.append(item)
    return selectors


@contextlib.contextmanager
def fetch_pacts(query: BrokerQuery, cache: Path) -> Iterator[tuple[Path, list[BrokerPact]]]:
    """A directory holding the pacts the broker selects for ``query.provider`` (removed afterwards:
    each run asks the broker again, since what it selects changes with every publication), and them."""
    pacts = _selected(query)
    (cache / "broker").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pacts-", dir=cache / "broker") as name:
        directory = Path(name)
        taken: set[str] = set()
        fetched = []
        for index, entry in enumerate(pacts):
            href = entry["href"]
            document = _get_json(query, href, what=f"the pact {entry['name'] or href}")
            results = _link(document, RESULTS)
            if isinstance(document, dict):
                document.pop("_links", None)  # the broker's HAL decoration, not part of the pact
            file_name = _file_name(document, query.provider, index, taken)
            (directory / file_name).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            fetched.append(BrokerPact(file_name, entry["name"] or href, entry["pending"], results["href"] if results else None))
            pending = " (pending)" if entry["pending"] else ""
            print(f"rpctest: broker: {entry['name'] or href}{pending} -> {file_name}", file=sys.stderr)
        if not pacts:
            print(f"rpctest: broker: {query.url} selected no pact for provider {query.provider}", file=sys.stderr)
        yield directory, fetched


def _selected(query: BrokerQuery) -> list[dict[str, Any]]:
    """The pacts-for-verification answer: ``[{"href", "name", "pending"}]``."""
    index = _get_json(query, query.url, what="the broker's index")
    link = _link(index, _FOR_VERIFICATION)
    if link is None:
        raise ConfigError(
            f"the broker at {query.url} offers no {_FOR_VERIFICATION} link in its index: is the URL the broker's "
            "base URL (e.g. https://broker.example.com), and the broker a Pact Broker 2.51 or newer (or PactFlow)?"
        )
    href = _expand(link, provider=query.provider)
    answer = _request_json(query, href, body=query.request_body(), what=f"the pacts for verification of {query.provider}")
    embedded = answer.get("_embedded") if isinstance(answer, dict) else None
    pacts = embedded.get("pacts") if isinstance(embedded, dict) else None
    if not isinstance(pacts, list):
        raise ConfigError(f"the broker's answer from {href} has no _embedded.pacts list; is {query.url} a Pact Broker?")
    selected = []
    for item in pacts:
        self_link = _link(item, "self") if isinstance(item, dict) else None
        if not self_link or not isinstance(self_link.get("href"), str):
            raise ConfigError(f"the broker's answer from {href} holds a pact without a _links.self.href")
        properties = item.get("verificationProperties") or {}
        selected.append({
            "href": self_link["href"],
            "name": self_link.get("name") or item.get("shortDescription") or "",
            "pending": bool(isinstance(properties, dict) and properties.get("pending")),
        })
    return selected


def _link(document: Any, relation: str) -> dict[str, Any] | None:
    links = document.get("_links") if isinstance(document, dict) else None
    link = links.get(relation) if isinstance(links, dict) else None
    if isinstance(link, list):
        link = link[0] if link else None
    return link if isinstance(link, dict) and isinstance(link.get("href"), str) else None


def _expand(link: Mapping[str, Any], **values: str) -> str:
    """A HAL link's href with its ``{name}`` template variables filled in (URL-quoted)."""
    href = str(link["href"])
    for name, value in values.items():
        href = href.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
    if re.search(r"\{[^}]*\}", href):
        raise ConfigError(f"the broker's link {href} has template variables rpctest cannot fill")
    return href


def _file_name(document: Any, provider: str, index: int, taken: set[str]) -> str:
    from rpctest.contracts.format import file_part

    consumer = ""
    if isinstance(document, dict):
        named = document.get("consumer")
        consumer = named.get("name", "") if isinstance(named, dict) else named if isinstance(named, str) else ""
    stem = f"{file_part(consumer or 'consumer')}--{file_part(provider)}"
    name = f"{stem}.json" if stem not in taken else f"{stem}--{index}.json"
    taken.add(stem)
    return name


class BrokerStatusError(ConfigError):
    """The broker answered an HTTP error status (``status``); the message says what to do."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def check_broker(query: BrokerQuery) -> None:
    """Ask the broker's index once, so that a URL that is no Pact Broker (an HTML page, a 5xx, nothing
    listening) is a usage error within seconds. Pact's own client, given one, retries for a minute and
    exits as if the broker had refused the pacts. A 401 or 403 is a broker wanting other credentials:
    left for the command that follows to report as its refusal."""
    try:
        index = _get_json(query, query.url, what="the broker's index")
    except BrokerStatusError as exc:
        if exc.status in (401, 403):
            return
        raise
    if not isinstance(index, dict) or not isinstance(index.get("_links"), dict):
        raise ConfigError(f"{query.url} answered JSON without the HAL _links of a Pact Broker's index: is it the "
                          f"broker's base URL (e.g. https://broker.example.com)?")


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _get_json(query: BrokerQuery, url: str, *, what: str) -> Any:
    return _request_json(query, url, body=None, what=what)


def post_json(query: BrokerQuery, url: str, body: Any, *, what: str) -> Any:
    """POST ``body`` to the broker (its answer as JSON)."""
    return _request_json(query, url, body=body, what=what)


def _request_json(query: BrokerQuery, url: str, *, body: Any, what: str) -> Any:
    """GET (or POST ``body``) ``url``; the JSON answer, or a :class:`ConfigError` saying what to do."""
    from rpctest.contracts.format import _configured_max_size

    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"cannot fetch {what}: {url!r} is not an http(s) URL (give --broker as https://HOST)")
    headers = query.headers(url)
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    limit = _configured_max_size()
    try:
        with urllib.request.urlopen(request, timeout=query.timeout) as response:
            raw = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise BrokerStatusError(exc.code, f"cannot fetch {what}: the broker answered {exc.code} {exc.reason} for "
                                f"{request.get_method()} {url}{_advice(exc.code)}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
            reason = f"no answer in {query.timeout:.0f} s"
        raise ConfigError(f"cannot fetch {what}: cannot reach {url} ({reason}); check --broker "
                          f"(or {ENVIRONMENT['url']})") from None
    if len(raw) > limit:
        raise ConfigError(f"cannot fetch {what}: {url} answered more than {limit} bytes (max_contract_size)")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"cannot fetch {what}: {url} did not answer JSON ({exc}); is it a Pact Broker?") from None


def _advice(status: int) -> str:
    if status == 401:
        return (f"; give --broker-token (or {ENVIRONMENT['token']}), or --broker-username/--broker-password "
                f"(or {ENVIRONMENT['username']}/{ENVIRONMENT['password']})")
    if status == 403:
        return "; the credentials given may not read these pacts"
    if status == 404:
        return "; check --broker and --broker-provider (the provider's name as the pacts name it)"
    return ""
