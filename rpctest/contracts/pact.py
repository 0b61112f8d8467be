"""Consumer contracts as Pact V4 documents, and Pact V4 documents as consumer contracts.

Teams that share contracts through a Pact Broker, or verify with Pact's own tools, need rpctest's
consumer contracts in Pact's format, and rpctest must read what Pact users write. This module is the
translation both ways, on plain JSON: it imports no Pact library (the ``rpctest[pact]`` extra is
needed only to check files with Pact's own parser and to run Pact's CLI).

The mapping (``docs/pact.md`` tables it):

* one consumer contract is one Pact document: ``consumer.name`` the consumer, ``provider.name`` the
  service; top-level ``metadata`` holds ``pactSpecification.version "4.0"`` and ``rpctest: {stack,
  service, contract}``;
* an interaction of a message stack (PySOA, pykern.api, ZeroJSON, AsyncAPY) is a
  ``Synchronous/Messages`` interaction: the request's content is the recorded request, its metadata
  ``rpctest: {stack, service, operation, ...}``; the one response message's content is the recorded
  response object itself (``{"body": ...}``, ``{"errors": [...]}``, a stream's ``{"items": [...]}``),
  which is what ``rpctest pact-relay`` answers Pact's verifier with;
* an interaction of an HTTP stack (Kyoukai, :attr:`~rpctest.stacks.base.StackAdapter.http`) is a
  ``Synchronous/HTTP`` interaction with the real method, path, query, status, headers and body;
* provider states are ``providerStates``; the consumer's matchers, which are Pact V4 rules already,
  go under their JSON paths, beside a default cascading ``type`` rule that says what rpctest's own
  comparison says of unmarked values (their shape), unless the export is ``exact``;
* what Pact cannot say (a reply's attachment, the test ids, the error details an HTTP status does not
  carry) is kept under ``rpctest`` keys of the message metadata or the interaction's ``comments``.

Reading is the reverse; a document rpctest did not write (pact-python's consumer DSL, say) names the
operation in its request metadata (``rpctest`` or plain ``operation``/``stack`` keys).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Mapping

from rpctest.contracts.format import FORMAT_VERSION, ConsumerContract, ContractError, RecordedInteraction, file_part, parse

__all__ = [
    "PACT_SPECIFICATION", "is_pact", "to_pact", "from_pact", "pact_file_name", "dumps", "pact_path", "pointer_of",
    "schema_problem", "SCHEMA_PATH",
]

PACT_SPECIFICATION = "4.0"
MESSAGES = "Synchronous/Messages"
HTTP = "Synchronous/HTTP"
_JSON = "application/json"
#: the parts of a recorded response object that are compared (Pact's content); the rest is metadata
_COMPARED = ("body", "items", "errors", "job_errors")


def is_pact(data: Any) -> bool:
    """Whether parsed JSON is a Pact document (of any specification version: a V2 or V3 file is
    recognised so that it can be refused with what to do, not as "not an rpctest contract")."""
    if not isinstance(data, Mapping) or "rpctest_contract" in data:
        return False
    metadata = data.get("metadata")
    spec = metadata.get("pactSpecification") if isinstance(metadata, Mapping) else None
    return isinstance(spec, Mapping) and "version" in spec


def pact_file_name(contract: ConsumerContract) -> str:
    """Pact's own spelling, ``CONSUMER-PROVIDER.json`` (each part as rpctest spells file-name parts)."""
    return f"{file_part(contract.consumer)}-{file_part(contract.service)}.json"


def dumps(document: Mapping[str, Any]) -> str:
    """The file text: sorted keys, two-space indent, a final newline (stable diffs, as rpctest's own files)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


#: the JSON Schema of a V4 file; rpctest wrote it from the V4 specification (no registry package ships one)
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "pact-v4.schema.json"


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # type: ignore[import-untyped, unused-ignore]

    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def schema_problem(document: Any) -> str | None:
    """Why ``document`` is not a Pact V4 file by the schema (the first problem, with its pointer), or None.

    Pact's own parser takes some broken files (no consumer, an unknown matcher, ``interactions`` as an
    object, bad base64); this check refuses them before anything reads them.
    """
    import jsonschema  # type: ignore[import-untyped, unused-ignore]

    error = jsonschema.exceptions.best_match(_validator().iter_errors(document))
    if error is None:
        return None
    location = "/" + "/".join(str(part) for part in error.absolute_path)
    return f"not a valid Pact V4 file at {location}: {error.message}"


# -- JSON pointers and Pact paths -------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PATH_TOKEN = re.compile(r"\.(\*|[^.\[\]']+)|\[(\*|\d+)\]|\['((?:[^'\\]|\\.)*)'\]")


def pact_path(pointer: str, root: str = "$") -> str:
    """A JSON pointer (``*`` for every array item) as a Pact path: ``/body/user/tags/*`` ->
    ``$.body.user.tags[*]``; a key Pact's dotted form cannot hold is ``['a.b']``."""
    path = root
    for raw in pointer.split("/")[1:] if pointer else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if part == "*" or part.isdigit():
            path += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            path += f".{part}"
        else:
            path += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return path


def pointer_of(path: str) -> str:
    """A Pact path as a JSON pointer (the reverse of :func:`pact_path`); ValueError if it is none."""
    if not path.startswith("$"):
        raise ValueError(f"{path!r} is not a Pact path (it starts with '$')")
    pointer, position = "", 1
    while position < len(path):
        found = _PATH_TOKEN.match(path, position)
        if found is None:
            raise ValueError(f"cannot read the Pact path {path!r} at {path[position:]!r}")
        dotted, index, quoted = found.groups()
        part = dotted if dotted is not None else index if index is not None else re.sub(r"\\(.)", r"\1", quoted)
        pointer += "/" + part.replace("~", "~0").replace("/", "~1")
        position = found.end()
    return pointer


# -- rules -----------------------------------------------------------------------------------------


def _pact_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """An rpctest rule (one Pact matcher, or an OR of them) as Pact's per-path rule list."""
    if rule.get("combine") == "OR":
        return {"combine": "OR", "matchers": [dict(item) for item in rule["matchers"]]}
    return {"combine": "AND", "matchers": [dict(rule)]}


#: Pact matchers rpctest applies under another name
_EQUIVALENT = {"number": {"combine": "OR", "matchers": [{"match": "integer"}, {"match": "decimal"}]}}


def _rpctest_rule(entry: Any, where: str) -> dict[str, Any]:
    """A Pact rule list (or a bare matcher) as one rpctest rule; a ContractError-worthy ValueError
    names the path when rpctest cannot hold it (several matchers that must all hold)."""
    if isinstance(entry, Mapping) and "matchers" in entry:
        matchers = entry.get("matchers")
        if not isinstance(matchers, list) or not matchers:
            raise ValueError(f"{where}: a rule list needs a non-empty 'matchers' array")
        if entry.get("combine", "AND") == "OR" and len(matchers) > 1:
            return {"combine": "OR", "matchers": [_EQUIVALENT.get(str(m.get("match")), m) if isinstance(m, Mapping) else m for m in matchers]}
        if len(matchers) > 1:
            raise ValueError(
                f"{where}: {len(matchers)} matchers that must all hold (combine AND); rpctest applies one rule per "
                f"path, or an OR of several: keep one matcher there"
            )
        entry = matchers[0]
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: a matcher must be an object, not {entry!r}")
    return dict(_EQUIVALENT.get(str(entry.get("match")), entry))


# -- export ----------------------------------------------------------------------------------------


def to_pact(contract: ConsumerContract, *, exact: bool = False) -> dict[str, Any]:
    """One consumer contract as one Pact V4 document (plain JSON).

    ``exact``: no default ``type`` rules, so Pact compares every unmarked value by equality (as
    ``rpctest contracts verify --live --exact`` does).
    """
    from rpctest.stacks import get_adapter

    data = contract.to_dict()  # deduplicated, sorted, values tagged as rpctest's files hold them
    adapter = get_adapter(contract.stack)
    interactions = []
    seen: dict[tuple[str, str], int] = {}
    for item in data["interactions"]:
        interaction = (
            _http_interaction(adapter, contract, item, exact=exact)
            if adapter.http
            else _message_interaction(contract, item, exact=exact)
        )
        states = [{"name": s["name"], "params": s.get("params", {})} for s in item.get("states", [])]
        if states:
            interaction["providerStates"] = states
        description = _description(item)
        identity = (description, json.dumps(states, sort_keys=True))
        seen[identity] = seen.get(identity, 0) + 1
        if seen[identity] > 1:  # Pact tells interactions apart by description and states
            description += f" ({seen[identity]})"
        interaction["description"] = description
        comments: dict[str, Any] = interaction.setdefault("comments", {})
        if item.get("tests"):
            comments["testname"] = item["tests"][0]
            comments["text"] = [f"recorded by {test}" for test in item["tests"]]
        comments.setdefault("rpctest", {})["source"] = item.get("source", "stub")
        if item.get("tests"):
            comments["rpctest"]["tests"] = list(item["tests"])
        interaction["pending"] = False
        interaction["key"] = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()[:16]
        interactions.append(interaction)
    return {
        "consumer": {"name": contract.consumer},
        "provider": {"name": contract.service},
        "interactions": interactions,
        "metadata": {
            "pactSpecification": {"version": PACT_SPECIFICATION},
            "rpctest": {"stack": contract.stack, "service": contract.service, "contract": FORMAT_VERSION},
        },
    }


def _description(item: Mapping[str, Any]) -> str:
    request = json.dumps(item.get("request"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(request) > 80:
        request = request[:77] + "..."
    return f"{item['operation']} {request}"


def _contents(content: Any) -> dict[str, Any]:
    return {"content": content, "contentType": _JSON, "encoded": False}


def _message_interaction(contract: ConsumerContract, item: Mapping[str, Any], *, exact: bool) -> dict[str, Any]:
    response = item.get("response", {})
    about: dict[str, Any] = {"stack": contract.stack, "service": contract.service, "operation": item["operation"]}
    if "items" in response:
        about["subscribe"] = True  # a stream: the relay subscribes, as live verification does
    if "request_attachment" in item:
        about["attachment"] = item["request_attachment"]
    matchers = item.get("matchers", {})
    request: dict[str, Any] = {"contents": _contents(item.get("request")), "metadata": {"contentType": _JSON, "rpctest": about}}
    request_rules = {pact_path(p): _pact_rule(r) for p, r in sorted(matchers.get("request", {}).items())}
    if request_rules:
        request["matchingRules"] = {"body": request_rules}
    content = {key: response[key] for key in _COMPARED if key in response}
    kept = {key: value for key, value in response.items() if key not in _COMPARED}  # an attachment, reply options
    reply: dict[str, Any] = {"contents": _contents(content), "metadata": {"contentType": _JSON}}
    own = {pact_path(p): _pact_rule(r) for p, r in sorted(matchers.get("response", {}).items())}
    defaults = {path: rule for path, rule in ({} if exact else _default_rules(content)).items() if path not in own}
    rules = {**defaults, **own}
    if rules:
        reply["matchingRules"] = {"body": rules}
    interaction: dict[str, Any] = {"type": MESSAGES, "request": request, "response": [reply]}
    # Not in the reply's metadata: the real verifier compares every expected metadata key with what the
    # provider sent. The defaults are listed so that reading the file back does not take them for the consumer's.
    if kept or defaults:
        interaction["comments"] = {"rpctest": {"reply": {**kept, **({"defaults": sorted(defaults)} if defaults else {})}}}
    return interaction


def _default_rules(content: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What rpctest's own comparison says of unmarked values, as Pact rules: a body or a stream's
    items by shape (a cascading ``type``), errors item by item by shape with their codes (and fields,
    where the error names one) equal."""
    rules: dict[str, dict[str, Any]] = {}
    for key in ("body", "items"):
        if key in content:
            rules[f"$.{key}"] = _pact_rule({"match": "type"})
    for key in ("errors", "job_errors"):
        if content.get(key):
            rules[f"$.{key}[*]"] = _pact_rule({"match": "type"})
            rules[f"$.{key}[*].code"] = _pact_rule({"match": "equality"})
            if any("field" in error for error in content[key]):
                rules[f"$.{key}[*].field"] = _pact_rule({"match": "equality"})
    return rules


def _http_interaction(adapter: Any, contract: ConsumerContract, item: Mapping[str, Any], *, exact: bool) -> dict[str, Any]:
    recorded = RecordedInteraction.from_dict(item)
    http = adapter.http_request(item["operation"], recorded.request)
    matchers = item.get("matchers", {})
    request: dict[str, Any] = {"method": http["method"], "path": http["path"]}
    if http.get("query"):
        request["query"] = http["query"]
    request_rules: dict[str, dict[str, Any]] = {}
    unmapped: dict[str, dict[str, Any]] = {"request": {}, "response": {}}
    for pointer, rule in sorted(matchers.get("request", {}).items()):
        head, _, rest = pointer[1:].partition("/")
        if head == "body":
            request_rules.setdefault("body", {})[pact_path("/" + rest if rest else "")] = _pact_rule(rule)
        elif head == "query" and rest and "/" not in rest:
            request_rules.setdefault("query", {})[rest.replace("~1", "/").replace("~0", "~")] = _pact_rule(rule)
        else:  # a path variable's rule: Pact has one rule for the whole path, which rpctest does not write
            unmapped["request"][pointer] = rule
    if "body" in http:
        request["headers"] = {"Content-Type": [_JSON]}
        request["body"] = _contents(item["request"]["body"])
    if request_rules:
        request["matchingRules"] = request_rules
    answer = adapter.http_response(recorded.as_reply())
    response: dict[str, Any] = {"status": answer["status"]}
    if answer.get("headers"):
        response["headers"] = {name: [value] for name, value in answer["headers"].items()}
    response_rules: dict[str, dict[str, Any]] = {}
    default = "body" in answer and not exact and "/body" not in matchers.get("response", {})
    if "body" in answer:
        response["body"] = _contents(item["response"]["body"]) if "body" in item["response"] else _contents(answer["body"])
        if default:
            response_rules["$"] = _pact_rule({"match": "type"})
    for pointer, rule in sorted(matchers.get("response", {}).items()):
        if pointer.startswith("/body"):
            response_rules[pact_path(pointer[len("/body"):])] = _pact_rule(rule)
        else:
            unmapped["response"][pointer] = rule
    if response_rules:
        response["matchingRules"] = {"body": response_rules}
    about: dict[str, Any] = {"stack": contract.stack, "service": contract.service, "operation": item["operation"]}
    kept = {key: value for key, value in item["response"].items() if key != "body"}
    if kept:
        about["response"] = kept  # an error's message, kind and details; the reply options as recorded
    if any(unmapped.values()):
        about["matchers"] = {side: rules for side, rules in unmapped.items() if rules}
    if default:
        about["defaults"] = ["$"]
    return {"type": HTTP, "request": request, "response": response, "comments": {"rpctest": about}}


# -- import ----------------------------------------------------------------------------------------


def from_pact(document: Any, *, source: Path | str | None = None, stack: str | None = None) -> ConsumerContract:
    """A Pact V4 document as the consumer contract it says; a :class:`ContractError` naming ``source``
    and the place when it cannot be one (another specification version, an interaction type rpctest
    has no stack for, an operation nobody named, a rule rpctest cannot apply).

    ``stack`` is used where the document does not say it (a pact rpctest did not write)."""
    where = Path(source) if source is not None else None
    if not isinstance(document, Mapping):
        raise ContractError(where, "not a Pact document: the top level is not a JSON object")
    version = str(document.get("metadata", {}).get("pactSpecification", {}).get("version", ""))
    if not version.startswith("4"):
        raise ContractError(
            where,
            f"a Pact specification {version} file: rpctest reads Pact V4 files (metadata.pactSpecification.version "
            f"'4.0'); have the consumer write V4 (pact-python: Pact(...).with_specification('V4'))",
        )
    problem = schema_problem(document)
    if problem is not None:
        raise ContractError(where, problem)
    about = _object(document["metadata"].get("rpctest"))
    consumer, provider = _name(document, "consumer", where), _name(document, "provider", where)
    interactions = document.get("interactions")
    if not isinstance(interactions, list):
        raise ContractError(where, "/interactions: a Pact document's interactions are an array")
    service = about.get("service", provider)
    stack = about.get("stack") or stack
    items = []
    for index, interaction in enumerate(interactions):
        try:
            item, item_stack = _interaction(interaction, service, stack)
        except (ValueError, KeyError, TypeError) as exc:
            raise ContractError(where, f"/interactions/{index}: {exc}") from None
        if stack is None:
            stack = item_stack
        elif item_stack is not None and item_stack != stack:
            raise ContractError(where, f"/interactions/{index}: stack {item_stack!r}, but the pact's others are {stack!r}; rpctest reads one stack per file")
        items.append(item)
    if stack is None:
        stack = _configured_stack(service, where)
    data = {"rpctest_contract": FORMAT_VERSION, "kind": "consumer", "consumer": consumer, "stack": stack,
            "service": service, "interactions": items}
    contract = parse(data, where)
    assert isinstance(contract, ConsumerContract)
    return contract


def _name(document: Mapping[str, Any], role: str, where: Path | None) -> str:
    party = document.get(role)
    name = party.get("name") if isinstance(party, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ContractError(where, f"/{role}/name: a Pact document names its {role} ({{'{role}': {{'name': ...}}}})")
    return name


def _configured_stack(service: str, where: Path | None) -> str:
    from rpctest import config

    stack = config.current().stack_for(service)
    if stack is None:
        raise ContractError(
            where,
            f"no interaction says which stack {service!r} is on: add 'stack' to the request metadata's 'rpctest' "
            f"object, or configure [tool.rpctest.services.{service}] stack = \"...\"",
        )
    return stack


def _object(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one (an optional part rpctest adds)."""
    return value if isinstance(value, Mapping) else {}


def _metadata(message: Mapping[str, Any]) -> dict[str, Any]:
    """A message's metadata, the ``rpctest`` value read from JSON text where a DSL wrote it as a string."""
    metadata = dict(message.get("metadata") or {})
    about = metadata.get("rpctest")
    if isinstance(about, str):
        try:
            metadata["rpctest"] = json.loads(about)
        except ValueError:
            raise ValueError(f"request metadata 'rpctest' is neither an object nor JSON text: {about!r}") from None
    return metadata


def _content(message: Mapping[str, Any], what: str) -> Any:
    contents = message.get("contents", message.get("body"))
    if contents is None:
        return None
    if not isinstance(contents, Mapping) or "content" not in contents:
        raise ValueError(f"{what}: contents must be {{'content': ..., 'contentType': ...}}")
    content = contents["content"]
    if contents.get("encoded") not in (None, False):
        raise ValueError(f"{what}: an encoded ({contents['encoded']}) content; rpctest reads JSON contents only")
    kind = str(contents.get("contentType") or _JSON).split(";")[0].strip().lower()
    if isinstance(content, str) and (kind == _JSON or kind.endswith("+json")):
        content = json.loads(content)  # a DSL may write JSON content as its text
    return content


def _rules(message: Mapping[str, Any], category: str = "body", *, base: str = "") -> dict[str, Any]:
    rules = (message.get("matchingRules") or {}).get(category) or {}
    if not isinstance(rules, Mapping):
        raise ValueError(f"matchingRules.{category} must be an object of path -> rules")
    return {base + pointer_of(path): _rpctest_rule(entry, path) for path, entry in rules.items()}


def _states(interaction: Mapping[str, Any]) -> list[dict[str, Any]]:
    states = []
    for state in interaction.get("providerStates") or []:
        if not isinstance(state, Mapping) or not isinstance(state.get("name"), str):
            raise ValueError("providerStates: each state is {'name': ..., 'params': {...}}")
        entry: dict[str, Any] = {"name": state["name"]}
        if state.get("params"):
            entry["params"] = dict(state["params"])
        states.append(entry)
    return states


def _interaction(interaction: Any, service: str, stack: str | None) -> tuple[dict[str, Any], str | None]:
    if not isinstance(interaction, Mapping):
        raise ValueError("an interaction is an object")
    kind = interaction.get("type")
    extra = _object(_object(interaction.get("comments")).get("rpctest"))
    if kind == MESSAGES:
        item, item_stack = _from_messages(interaction, extra)
    elif kind == HTTP:
        item, item_stack = _from_http(interaction, extra, stack)
    else:
        raise ValueError(
            f"interaction type {kind!r}: rpctest reads 'Synchronous/Messages' (PySOA, pykern.api, ZeroJSON, AsyncAPY) "
            f"and 'Synchronous/HTTP' (Kyoukai) interactions"
        )
    states = _states(interaction)
    if states:
        item["states"] = states
    item["source"] = extra.get("source", "stub")  # a Pact DSL interaction is a mock of the provider, as a stub is
    if extra.get("tests"):
        item["tests"] = list(extra["tests"])
    return item, item_stack


def _from_messages(interaction: Mapping[str, Any], extra: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    request = interaction.get("request")
    responses = interaction.get("response")
    if not isinstance(request, Mapping):
        raise ValueError("a Synchronous/Messages interaction has a 'request' message")
    if not isinstance(responses, list) or len(responses) != 1 or not isinstance(responses[0], Mapping):
        raise ValueError("'response' must be a list of exactly one message: rpctest records one reply per request")
    metadata = _metadata(request)
    about = _object(metadata.get("rpctest"))
    operation = about.get("operation", metadata.get("operation"))
    if not isinstance(operation, str) or not operation:
        raise ValueError(
            f"interaction {interaction.get('description')!r} names no operation: give the request metadata "
            f"'rpctest': {{'operation': ..., 'stack': ...}} (or a plain 'operation' key)"
        )
    reply = responses[0]
    content = _content(reply, "the response")
    reply_about = _object(extra.get("reply"))
    if isinstance(content, Mapping) and content and set(content) <= set(_COMPARED):
        response = dict(content)  # the rpctest response object, as rpctest and its relay write it
        base = ""
    else:  # a pact written for any provider: its content is the reply's body
        response, base = {"body": content}, "/body"
    response.update({key: value for key, value in reply_about.items() if key != "defaults"})
    item: dict[str, Any] = {"operation": operation, "request": _content(request, "the request"), "response": response}
    if "attachment" in about:
        item["request_attachment"] = about["attachment"]
    matchers = {"request": _rules(request), "response": _rules(reply, base=base)}
    for path in reply_about.get("defaults", []):  # the rules rpctest's export added for its default comparison
        matchers["response"].pop(pointer_of(path), None)
    matchers = {side: rules for side, rules in matchers.items() if rules}
    if matchers:
        item["matchers"] = matchers
    stack = about.get("stack", metadata.get("stack"))
    return item, stack if isinstance(stack, str) else None


def _from_http(interaction: Mapping[str, Any], about: Mapping[str, Any], stack: str | None) -> tuple[dict[str, Any], str | None]:
    from rpctest.model import Reply
    from rpctest.stacks import get_adapter

    stack = about.get("stack", stack) or "kyoukai"
    adapter = get_adapter(stack)
    if not adapter.http:
        raise ValueError(f"a Synchronous/HTTP interaction, but stack {stack!r} does not speak HTTP")
    request, response = interaction.get("request"), interaction.get("response")
    if not isinstance(request, Mapping) or not isinstance(response, Mapping):
        raise ValueError("a Synchronous/HTTP interaction has a 'request' and a 'response' object")
    method, path = str(request.get("method", "GET")).upper(), request.get("path", "/")
    operation = about.get("operation") or f"{method} {path}"  # a pact rpctest did not write: its literal route
    http: dict[str, Any] = {"method": method, "path": path, "query": request.get("query") or {}}
    if request.get("body") is not None:
        http["body"] = _content(request, "the request")
    item: dict[str, Any] = {"operation": operation, "request": adapter.request_from_http(operation, http)}
    status = response.get("status", 200)
    headers = {name: value[0] if isinstance(value, list) and len(value) == 1 else value for name, value in (response.get("headers") or {}).items()}
    body = _content(response, "the response") if response.get("body") is not None else None
    recorded = about.get("response")
    if isinstance(recorded, Mapping):  # rpctest wrote it: what an HTTP status does not carry is here
        item["response"] = {**recorded, **({"body": body} if response.get("body") is not None and "errors" not in recorded else {})}
    else:
        reply = adapter.reply_from_http(status, headers, body)
        meta = adapter.recorded_meta(Reply(body=reply.body, errors=reply.errors, meta={"status": status, "headers": headers}))
        item["response"] = {"errors": [_error_data(e) for e in reply.errors]} if reply.errors else {"body": body}
        if meta:
            item["response"]["meta"] = meta
    matchers: dict[str, dict[str, Any]] = {"request": {}, "response": {}}
    matchers["request"].update(_rules(request, "body", base="/body"))
    for name, entry in ((request.get("matchingRules") or {}).get("query") or {}).items():
        matchers["request"]["/query/" + name.replace("~", "~0").replace("/", "~1")] = _rpctest_rule(entry, f"query {name}")
    matchers["response"].update(_rules(response, "body", base="/body"))
    for path in about.get("defaults", []):
        matchers["response"].pop("/body" + pointer_of(path), None)
    for side, rules in (about.get("matchers") or {}).items():
        matchers.setdefault(side, {}).update(rules)
    matchers = {side: rules for side, rules in matchers.items() if rules}
    if matchers:
        item["matchers"] = matchers
    return item, stack


def _error_data(error: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"code": error.code}
    if error.message:
        data["message"] = error.message
    if error.kind is not None:
        data["kind"] = error.kind.value
    return data
