"""Live verification: replay each consumer's recorded requests against the real provider.

Schema verification proves a stub *could* be true; live verification shows the provider *does*
answer that way. Replies are compared by shape and error codes, not by value (the provider's data
is not the consumer's fixture), unless ``exact=True``. The provider states a consumer recorded
with an interaction are set up by the provider's handlers (:mod:`rpctest.contracts.states`) before
it is replayed and torn down after; a state with no handler is a ``live_missing_state`` finding
naming it (the interaction is not replayed: its reply would prove nothing). A ``setup`` callable,
the older hook, still runs before each interaction (``setup(operation, request)``).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

from rpctest.contracts.format import Contract, ConsumerContract, ProviderContract, RecordedInteraction
from rpctest.contracts.verify import Finding, Report
from rpctest.exceptions import ConfigError, TransportError
from rpctest.matchers import rule_differences, with_examples_where_ruled
from rpctest.model import Call, Reply, RpcError
from rpctest.schema.fast import json_type_name
from rpctest.schema.validate import describe_value, pointer_join

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.contracts.states import StateHandlers

__all__ = ["Sender", "verify_live", "shape_differences", "open_sender"]

Sender = Callable[[Call], Reply]


def _json_kind(value: Any) -> str:
    """The JSON type, with integers and floats both "number" (their shape is the same)."""
    kind = json_type_name(value)
    return "number" if kind == "integer" else kind


def shape_differences(expected: Any, actual: Any, pointer: str = "") -> Iterator[tuple[str, str, str]]:
    """Where ``actual`` does not have the shape the consumer relied on: (pointer, expected, actual).

    Every key the recorded body has must be present with a value of the same kind (extra keys are
    fine: the consumer does not read them); arrays are compared item by item, as far as both reach
    (their lengths are data, not shape; and an array may mix kinds, ``[1, "a"]``, so no one item
    stands for the others).
    """
    kind, actual_kind = _json_kind(expected), _json_kind(actual)
    if kind != actual_kind:
        if "null" not in (kind, actual_kind):
            yield pointer, kind, f"{actual_kind} {describe_value(actual)}"
        return
    if isinstance(expected, Mapping):
        for key, value in expected.items():
            where = pointer_join(pointer, key)
            if key not in actual:
                yield where, f"present ({_json_kind(value)})", "missing"
            else:
                yield from shape_differences(value, actual[key], where)
    elif kind == "array":
        for index, (value, other) in enumerate(zip(expected, actual)):
            yield from shape_differences(value, other, pointer_join(pointer, index))


def _describe_attachment(attachment: bytes | None) -> str:
    return "none" if attachment is None else describe_value(bytes(attachment), 80)


def _codes(errors: Iterable[RpcError]) -> list[str]:
    return sorted(f"{e.code}" + (f"@{e.field}" if e.field else "") for e in errors)


def _stream(reply: Reply) -> list[Any]:
    """The items of a reply to a subscription: its stream, or the one packet a multi-frame reply of
    one frame is (a client cannot tell that from a reply of one body)."""
    if reply.items is not None:
        return list(reply.items)
    return [] if reply.body is None else [reply.body]


def _compare(item: RecordedInteraction, reply: Reply, exact: bool, adapter: Any) -> Iterator[tuple[str, str, str, str, str]]:
    """(check, message, pointer, expected, actual) for each way ``reply`` breaks the recording."""
    if item.meta:
        reply = adapter.reply_as_recorded(reply, item.meta)
        for name, expected, actual in adapter.meta_differences(item.meta, reply, exact=exact):
            yield (f"live_{name}", f"the provider's reply {name} differs from the stubbed one", f"/response/meta/{name}", expected, actual)
    if item.ok and not reply.ok:
        yield ("live_unexpected_error", "the provider answered with errors where the consumer stubbed a success",
               "/response", "a success", ", ".join(_codes(reply.all_errors)))
        return
    if not item.ok and reply.ok:
        yield ("live_missing_error", "the provider answered a success where the consumer stubbed errors",
               "/response", ", ".join(_codes(item.errors + item.job_errors)), "a success")
        return
    rules = item.rules("response")
    if not item.ok:
        expected, actual = _codes([*item.errors, *item.job_errors]), _codes(reply.all_errors)
        if expected != actual:
            yield ("live_error_codes", "the provider's error codes differ from the stubbed ones",
                   "/response/errors", ", ".join(expected), ", ".join(actual))
        elif rules:  # the errors' fields the consumer gave rules for (a message pattern)
            yield from _ruled(rules, {"errors": _error_fields(item.errors)}, {"errors": _error_fields(reply.errors)})
        return
    if item.attachment is not None and (reply.attachment is None or (exact and bytes(item.attachment) != bytes(reply.attachment))):
        yield ("live_attachment", "the provider's reply attachment differs from the stubbed one", "/response/attachment",
               _describe_attachment(item.attachment), _describe_attachment(reply.attachment))
    if item.is_stream:
        expected_value, actual_value, where = item.items, _stream(reply), "/response/items"
    else:
        expected_value, actual_value, where = item.body, reply.body, "/response/body"
    if rules:  # the ruled parts judged by their rules; the rest compared as before
        key = where.rsplit("/", 1)[1]
        yield from _ruled(rules, {key: expected_value}, {key: actual_value})
        actual_value = with_examples_where_ruled(rules, expected_value, actual_value, base="/" + key)
    if exact:
        if expected_value != actual_value:
            yield ("live_body", "the provider's body differs from the stubbed one", where,
                   describe_value(expected_value, 200), describe_value(actual_value, 200))
        return
    for pointer, expected_shape, actual_shape in shape_differences(expected_value, actual_value):
        yield ("live_shape", "the provider's body does not have the shape the consumer relied on",
               where + pointer, expected_shape, actual_shape)


def _error_fields(errors: Iterable[RpcError]) -> list[dict[str, Any]]:
    return [{"code": e.code, "message": e.message, "field": e.field} for e in errors]


def _ruled(rules: Mapping[str, Any], expected: Any, actual: Any) -> Iterator[tuple[str, str, str, str, str]]:
    """A ``live_matcher`` finding for each place the reply breaks a rule the consumer recorded."""
    for pointer, rule, problem in rule_differences(dict(rules), expected, actual):
        yield ("live_matcher", f"the provider's reply breaks the consumer's rule {rule} at {pointer}",
               "/response" + pointer, rule, problem)


def verify_live(
    contracts: Iterable[Contract],
    send: Sender,
    *,
    stack: str | None = None,
    service: str | None = None,
    exact: bool = False,
    setup: Callable[[str, Any], Any] | None = None,
    states: "StateHandlers | None" = None,
) -> Report:
    """Replay the consumer contracts for one provider (``stack``/``service``; default: every one)
    through ``send`` and report each reply that breaks what was recorded.

    A recorded stream (or an operation a provider contract says is a subscription) is subscribed
    to, and its items compared; recorded reply options (Kyoukai's status and headers) are compared
    as the stack's adapter says (:meth:`~rpctest.stacks.base.StackAdapter.meta_differences`).
    Recorded provider states go through ``states`` (default: every handler this process registered).
    """
    from rpctest.contracts.states import registry
    from rpctest.stacks import get_adapter

    handlers = states if states is not None else registry

    consumers = [
        c for c in contracts
        if isinstance(c, ConsumerContract) and (stack is None or c.stack == stack) and (service is None or c.service == service)
    ]
    report = Report(consumers=consumers)
    subscriptions = {
        (c.stack, c.service, name)
        for c in contracts if isinstance(c, ProviderContract)
        for name, op in c.operations.items() if op.kind == "subscription"
    }
    for consumer in consumers:
        for index, item in enumerate(consumer.interactions):
            report.interactions += 1
            if setup is not None:
                setup(item.operation, item.request)
            call = item.as_call(consumer.stack, consumer.service)  # a recorded stream is subscribed to
            if (consumer.stack, consumer.service, item.operation) in subscriptions:
                call.meta["kind"] = "subscribe"  # a wire client must SUBSCRIBE, not CALL
            for check, message, pointer, expected, actual in _replay(item, call, send, handlers, exact, get_adapter(consumer.stack)):
                report.findings.append(
                    Finding(
                        check=check, message=message, consumer=consumer.consumer, stack=consumer.stack,
                        service=consumer.service, operation=item.operation, interaction=index,
                        contract=consumer.path, pointer=f"/interactions/{index}{pointer}",
                        expected=expected, actual=actual, tests=list(item.tests),
                    )
                )
    return report


def _replay(item: RecordedInteraction, call: Call, send: Sender, handlers: "StateHandlers", exact: bool, adapter: Any) -> list[tuple[str, str, str, str, str]]:
    """Send ``call`` in the states ``item`` recorded and compare the reply: the findings."""
    from rpctest.contracts.states import StateFailed

    absent = handlers.missing(item.states)
    if absent:
        known = ", ".join(repr(name) for name in handlers.names()) or "none"
        return [
            ("live_missing_state",
             f"no provider state handler for {state.name!r}: register one with @rpctest.provider_state({state.name!r}) "
             f"in a module given by --states MODULE or the service's states = [...] (handlers registered: {known})",
             "/states", state.describe(), "no handler")
            for state in absent
        ]
    try:
        with handlers.entered(item.states):
            try:
                reply = send(call)
            except TransportError as exc:  # a timeout, a broken frame: a finding about the provider
                reply = Reply(errors=[RpcError("TRANSPORT", str(exc), kind="transport")])
            return list(_compare(item, reply, exact, adapter))
    except StateFailed as exc:
        return [("live_state_failed", str(exc), "/states", ", ".join(s.describe() for s in item.states), "the handler raised")]


@contextlib.contextmanager
def open_sender(stack: str, *, provider: Any = None, address: str | None = None, service: str | None = None, timeout: float = 5.0) -> Iterator[Sender]:
    """A sender to the real provider: hosted in-process (``provider``) or running at ``address``."""
    from rpctest.stacks import get_adapter

    adapter = get_adapter(stack)
    if (provider is None) == (address is None):
        raise ConfigError("live verification needs exactly one target: --provider MODULE:OBJECT or --address ADDRESS")
    if provider is not None:
        hosted = adapter.host.serve(provider)
        try:
            # a host whose calls are not (operation, body) takes the neutral call (Kyoukai's envelope)
            yield hosted.send_call
        finally:
            hosted.stop()
        return
    assert address is not None  # exactly one of the two, checked above
    client = adapter.wire.client(address, service=service, timeout=timeout)
    try:
        yield lambda call: client.call(call, timeout=timeout)
    finally:
        client.close()
