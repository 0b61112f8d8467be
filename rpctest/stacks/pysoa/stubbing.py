"""Route ``pysoa.client.Client`` through the stub router.

Every PySOA call style (``call_action``, ``call_actions``, ``call_actions_parallel``,
``call_jobs_parallel`` and their ``_future`` variants) funnels into ``Client.send_request`` and
``Client.get_all_responses``, so one interception point there covers them all. Stubbed actions are
answered at send time; the rest of a job goes to the client's real transport, and the two sets of
action responses are merged back in order with PySOA's stop-on-first-error rule applied (unless the
job asked for ``continue_on_error``).

A job that mixes stubbed and real actions is sent to the real server without its stubbed actions,
so the real server cannot see them; stubbed actions after the first stubbed error are not invoked
and real actions after it are not sent, as a real server would not run them.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from rpctest.model import Call, Reply
from rpctest.stacks.pysoa import errors as pysoa_errors

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.stubs.router import StubRouter

__all__ = ["install"]

#: stubbed-only jobs get request ids far above PySOA's own counters (which start below 10**6)
_STUB_REQUEST_ID_BASE = 1 << 40


@dataclass
class _Pending:
    """Per client and service: stubbed replies waiting for ``get_all_responses``."""

    stubbed: dict[int, Any] = field(default_factory=dict)  # request id -> JobResponse | exception
    merges: dict[int, "_Merge"] = field(default_factory=dict)  # real request id -> stubbed parts


@dataclass
class _Merge:
    real_indexes: list[int]
    stub_actions: dict[int, Any]
    job_errors: list[Any]
    transport_error: BaseException | None
    continue_on_error: bool


def install(router: "StubRouter") -> Callable[[], None]:
    """Patch ``Client`` once for all stubs; return the undo function."""
    from pysoa.client.client import Client

    original_send: Callable[..., int] = Client.send_request
    original_get: Callable[..., Iterator[Any]] = Client.get_all_responses
    # parameter names after self, to read arguments without inspect's slow Signature.bind per call
    names = tuple(inspect.signature(original_send).parameters)[1:]
    state = {"active": True}

    def send_request(client: Any, *args: Any, **kwargs: Any) -> int:
        if not state["active"]:
            return original_send(client, *args, **kwargs)
        return _send(router, original_send, names, client, args, kwargs)

    def get_all_responses(client: Any, service_name: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        if not state["active"]:
            return original_get(client, service_name, *args, **kwargs)
        return _receive(original_get, client, service_name, args, kwargs)

    send_request.__wrapped__ = original_send  # type: ignore[attr-defined]
    get_all_responses.__wrapped__ = original_get  # type: ignore[attr-defined]
    Client.send_request = send_request
    Client.get_all_responses = get_all_responses

    def undo() -> None:
        state["active"] = False
        # Only unpatch if nobody patched over us meanwhile (pysoa's own stub_action may have);
        # otherwise our inactive wrappers stay in the chain and simply delegate.
        if Client.send_request is send_request:
            Client.send_request = original_send
        if Client.get_all_responses is get_all_responses:
            Client.get_all_responses = original_get

    return undo


#: pysoa's classes once imported (:func:`_pysoa_types`)
_TYPES: tuple[Any, Any, Any, Any] | None = None


def _pysoa_types() -> tuple[Any, Any, Any, Any]:
    """pysoa's classes, imported once (the import statement costs a few microseconds per call)."""
    global _TYPES
    from pysoa.common.transport.errors import PySOATransportError
    from pysoa.common.types import ActionRequest, ActionResponse, JobResponse

    _TYPES = (ActionResponse, JobResponse, PySOATransportError, ActionRequest)
    return _TYPES


def _pending(client: Any, service_name: str) -> _Pending:
    try:
        return client.__dict__["_rpctest_pending"][service_name]  # type: ignore[no-any-return]
    except KeyError:
        table = client.__dict__.setdefault("_rpctest_pending", {})
        return table.setdefault(service_name, _Pending())  # type: ignore[no-any-return]


def _as_action_request(item: Any, action_request: Any) -> Any:
    if isinstance(item, action_request):
        return item
    if isinstance(item, dict):
        return action_request(**item)
    raise TypeError(f"a PySOA action request must be an ActionRequest or a dict, not {item!r}")


#: the arguments of ``send_request`` that a stubbed call keeps in its meta (when given)
_META_KEYS = ("context", "switches", "correlation_id", "control_extra")


def _send(router: "StubRouter", original: Any, names: tuple[str, ...], client: Any, args: tuple[Any, ...],
          kwargs: dict[str, Any]) -> int:
    ActionResponse, JobResponse, PySOATransportError, ActionRequest = _TYPES or _pysoa_types()
    arguments = dict(zip(names, args)) if args else kwargs  # ``**kwargs`` is this call's own dict
    if args:
        arguments.update(kwargs)
    service_name = arguments["service_name"]
    continue_on_error = bool(arguments.get("continue_on_error", False))
    meta = {}
    for key in _META_KEYS:
        value = arguments.get(key)
        if value is not None:
            meta[key] = value
    requests: list[Any] = []
    calls: list[Call] = []
    stubbed: dict[int, Any] = {}  # index -> stub, in request order
    real: list[int] = []
    for index, item in enumerate(arguments["actions"]):
        request = item if type(item) is ActionRequest else _as_action_request(item, ActionRequest)
        requests.append(request)
        call = Call("pysoa", service_name, request.action, request.body if request.body is not None else {},
                    meta=dict(meta) if meta else {})
        calls.append(call)
        stub = router.match(call)
        if stub is None:
            real.append(index)
        else:
            stubbed[index] = stub
    if real and service_name not in client.settings:
        raise router.unmatched(calls[real[0]], reason=f"and the client has no configuration for {service_name!r}")
    if not stubbed:
        return original(client, *args, **kwargs)  # type: ignore[no-any-return]

    stub_actions: dict[int, Any] = {}
    job_errors: list[Any] = []
    transport_error: BaseException | None = None
    stop_at: int | None = None
    for i, stub in stubbed.items():
        try:
            reply = router.respond(stub, calls[i])
        except PySOATransportError as exc:
            transport_error, stop_at = exc, i
            break
        if reply.job_errors:
            job_errors.extend(pysoa_errors.to_native(e) for e in reply.job_errors)
            stop_at = i
            break
        stub_actions[i] = ActionResponse(
            action=requests[i].action,
            body=reply.body if reply.body is not None else {},
            errors=[pysoa_errors.to_native(e) for e in reply.errors] if reply.errors else [],
        )
        if reply.errors and not continue_on_error:
            stop_at = i
            break

    pending = _pending(client, service_name)
    to_send = [i for i in real if stop_at is None or i < stop_at] if real else real
    if to_send:
        arguments["actions"] = [requests[i] for i in to_send]
        request_id: int = original(client, **arguments)
        pending.merges[request_id] = _Merge(to_send, stub_actions, job_errors, transport_error, continue_on_error)
        return request_id
    request_id = _STUB_REQUEST_ID_BASE + router.next_id()
    pending.stubbed[request_id] = transport_error or JobResponse(errors=job_errors, actions=list(stub_actions.values()))
    return request_id


def _receive(original: Callable[..., Iterator[Any]], client: Any, service_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[Any]:
    pending = _pending(client, service_name)
    if service_name in client.settings:
        for request_id, response in original(client, service_name, *args, **kwargs):
            merge = pending.merges.pop(request_id, None)
            if merge is not None:
                response = _merged(response, merge)
            yield request_id, response
    for request_id in list(pending.stubbed):
        value = pending.stubbed.pop(request_id)
        if isinstance(value, BaseException):
            raise value
        yield request_id, value


def _merged(response: Any, merge: _Merge) -> Any:
    if merge.transport_error is not None:
        raise merge.transport_error
    by_index = dict(zip(merge.real_indexes, response.actions))
    by_index.update(merge.stub_actions)
    actions = [by_index[i] for i in sorted(by_index)]
    if not merge.continue_on_error:
        for position, action in enumerate(actions):
            if action.errors:
                actions = actions[: position + 1]
                break
    response.actions = actions
    response.errors.extend(merge.job_errors)
    return response


def reply_from_exception(exc: BaseException) -> Reply | None:
    """ActionError and JobError from a side effect become the replies a real server would send."""
    from pysoa.client.errors import CallActionError, CallJobError
    from pysoa.server.errors import ActionError, JobError

    if isinstance(exc, ActionError):
        return Reply(errors=[pysoa_errors.from_wire(e) for e in exc.errors])
    if isinstance(exc, JobError):
        return Reply(job_errors=[pysoa_errors.from_wire(e) for e in exc.errors])
    if isinstance(exc, CallActionError):
        return Reply(errors=[pysoa_errors.from_wire(e) for a in exc.actions for e in a.errors])
    if isinstance(exc, CallJobError):
        return Reply(job_errors=[pysoa_errors.from_wire(e) for e in exc.errors])
    return None


def reply_from_native(value: Any) -> Reply | None:
    """ActionResponse / JobResponse returned by a side effect, as pysoa.test's stubs accept them."""
    if "pysoa" not in type(value).__module__:
        return None
    from pysoa.common.types import ActionResponse, JobResponse

    if isinstance(value, ActionResponse):
        return Reply(body=value.body, errors=[pysoa_errors.from_wire(e) for e in value.errors])
    if isinstance(value, JobResponse):
        first = value.actions[0] if value.actions else None
        return Reply(
            body=first.body if first else None,
            errors=[pysoa_errors.from_wire(e) for e in first.errors] if first else [],
            job_errors=[pysoa_errors.from_wire(e) for e in value.errors],
        )
    return None
