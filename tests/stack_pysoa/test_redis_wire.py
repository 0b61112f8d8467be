"""The PySOA wire half over the Redis gateway: PySOAStubServer and PySOAWireClient, no pysoa inside.

Each is checked against the real other side, on fakeredis and on a real redis-server:

* (a) PySOA's own ``Client`` calls services served by :class:`PySOAStubServer` from a private
  ``StubRouter(intercept=False)``: bodies, errors as PySOA ``Error`` objects, jobs, unmatched calls,
  malformed and expired requests, prompt stop;
* (b) :class:`PySOAWireClient` calls a real PySOA server and gets the same replies as the host
  half's ``service.call``; timeouts raise CallTimeout, late replies are discarded;
* (c) byte level: the stub server's answer to each recorded request in tests/golden/pysoa equals
  the recorded response frame, apart from ``__expiry__``.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# tests/vectors.py, on sys.path via the pytest pythonpath setting
from vectors import blob_bytes, load, mask

from rpctest import redis_backend, stub_action
from rpctest.exceptions import CallTimeout, StubUsageError
from rpctest.model import Call, ErrorKind, Reply, RpcError
from rpctest.stacks.pysoa import adapter, redis_stub, wire
from rpctest.stacks.pysoa.host import PySOAService, reply_from_job
from rpctest.stacks.pysoa.redis_client import PySOAWireClient, parse_address
from rpctest.stacks.pysoa.redis_stub import PySOAStubServer, job_request_errors
from rpctest.stubs.router import StubRouter

HERE = Path(__file__).resolve().parent


from stack_pysoa import redis_wire_helpers as helpers  # noqa: E402
from stack_pysoa.vecsvc import VecServer  # noqa: E402

pysoa_redis_client = helpers.pysoa_redis_client
wait_until = helpers.wait_until
no_new_threads = helpers.no_new_threads

NOT_FOUND_MESSAGE = 'The action "{}" was not found on this server.'


# -- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(params=["fake", "real"])
def target(request: pytest.FixtureRequest) -> redis_backend.RedisTarget:
    """Every test of the wire half runs on an in-memory fakeredis and on a real redis-server."""
    if request.param == "fake":
        return redis_backend.fake()
    return request.getfixturevalue("rpctest_redis")


@pytest.fixture
def router() -> StubRouter:
    """A private router that never patches pysoa's Client: the client must really use the wire."""
    return StubRouter(intercept=False)


@pytest.fixture
def service_name() -> str:
    """A service name of this test only, so leftovers on a shared Redis never reach another test."""
    return f"wire{uuid.uuid4().hex[:10]}"


@pytest.fixture
def stub(router: StubRouter, service_name: str) -> Iterator[Any]:
    """``stub(action, ...)``: stub_action on the private router, stopped at teardown."""
    started: list[stub_action] = []

    def make(action: str, **kwargs: Any) -> Any:
        kwargs.setdefault("stack", "pysoa")
        stubber = stub_action(kwargs.pop("service", service_name), action, router=router, **kwargs)
        started.append(stubber)
        return stubber.start()

    yield make
    for stubber in reversed(started):
        stubber.stop()


@pytest.fixture
def served(router: StubRouter, target: redis_backend.RedisTarget, service_name: str) -> Iterator[PySOAStubServer]:
    with adapter.wire.stub_server(router, redis=target, services=[service_name]) as server:
        yield server


@pytest.fixture
def soa_client(target: redis_backend.RedisTarget, service_name: str) -> Iterator[Any]:
    with pysoa_redis_client(target, service_name) as client:
        yield client


def _errors(errors: Any) -> list[tuple[Any, ...]]:
    return [(e.code, e.field, e.is_caller_error, e.message) for e in errors]


def _push_raw(target: redis_backend.RedisTarget, key: str, *frames: bytes) -> None:
    with target.connect() as redis_client:
        redis_client.rpush(key, *frames)


def _request_frame(service: str, reply_to: str, *, expiry: float | None = None, **overrides: Any) -> bytes:
    """A request as PySOA's client frames it, for pushing by hand."""
    envelope = wire.request_envelope(
        [{"action": "echo", "body": {}}],
        request_id=7,
        reply_to=reply_to,
        expiry=time.time() + 60 if expiry is None else expiry,
        correlation_id=uuid.uuid1().hex,
    )
    envelope.update(overrides)
    return wire.encode_message(envelope)


# -- (a) PySOA's own client against the stub server ------------------------------------------------------


def test_the_in_process_client_is_not_intercepted(router: StubRouter, stub: Any) -> None:
    from pysoa.client.client import Client

    original = Client.send_request
    stub("echo", body={})
    assert Client.send_request is original
    assert router.intercept is False and StubRouter().intercept is True


def test_bodies_and_errors_reach_pysoa_client(
    served: PySOAStubServer, soa_client: Any, stub: Any, service_name: str
) -> None:
    echo = stub("echo", body={"greeting": "hi", "n": [1, 2]})
    stub("validate", errors=[{"code": "INVALID", "field": "name", "message": "too long"}, "MISSING"])
    stub("app", errors=[{"code": "OUT_OF_STOCK", "message": "none left"}])
    stub("auth", errors=[{"code": "NOT_AUTHORIZED", "message": "who?", "is_caller_error": True}])

    response = soa_client.call_actions(
        service_name,
        [{"action": "echo", "body": {"name": "ann"}}],
        raise_action_errors=False,
        context={"auth_token": "t"},
        switches=[3],
    )
    assert response.errors == [] and response.actions[0].body == {"greeting": "hi", "n": [1, 2]}
    assert echo.call_body == {"name": "ann"} and echo.call_count == 1
    assert echo.calls[0].meta["context"] == {"auth_token": "t"} and echo.calls[0].meta["switches"] == [3]
    assert response.context["correlation_id"] == echo.calls[0].meta["correlation_id"]

    def errors_of(action: str) -> list[tuple[Any, ...]]:
        job = soa_client.call_actions(service_name, [{"action": action}], raise_action_errors=False)
        assert job.errors == [] and job.actions[0].body == {}
        return _errors(job.actions[0].errors)

    assert errors_of("validate") == [("INVALID", "name", True, "too long"), ("MISSING", None, True, "")]
    assert errors_of("app") == [("OUT_OF_STOCK", None, False, "none left")]
    assert errors_of("auth") == [("NOT_AUTHORIZED", None, True, "who?")]
    assert served.diagnostics == []


def test_call_action_raises_pysoa_errors(
    served: PySOAStubServer, soa_client: Any, stub: Any, service_name: str
) -> None:
    stub("divide", errors=[{"code": "DIVIDE_BY_ZERO", "field": "b", "message": "b must not be 0"}])
    with pytest.raises(soa_client.CallActionError) as info:
        soa_client.call_action(service_name, "divide", {"a": 1, "b": 0})
    assert _errors(info.value.actions[0].errors) == [("DIVIDE_BY_ZERO", "b", False, "b must not be 0")]


def test_job_stops_at_first_error_unless_continue_on_error(
    served: PySOAStubServer, soa_client: Any, stub: Any, service_name: str
) -> None:
    first = stub("first", errors=["INVALID"])
    second = stub("second", body={"ok": True})
    actions = [{"action": "first"}, {"action": "second", "body": {"x": 1}}]

    stopped = soa_client.call_actions(service_name, actions, raise_action_errors=False)
    assert [a.action for a in stopped.actions] == ["first"]
    assert second.call_count == 0 and first.call_count == 1

    both = soa_client.call_actions(service_name, actions, raise_action_errors=False, continue_on_error=True)
    assert [(a.action, a.body) for a in both.actions] == [("first", {}), ("second", {"ok": True})]
    assert second.call_body == {"x": 1}


def test_job_error_from_a_stub_replaces_the_response(
    served: PySOAStubServer, soa_client: Any, stub: Any, service_name: str
) -> None:
    stub("ok", body={"fine": 1})
    stub(
        "explode",
        side_effect=Reply(job_errors=[RpcError("JOB_FAILED", "the whole job", details={"is_caller_error": False})]),
    )
    job = soa_client.call_actions(
        service_name, [{"action": "ok"}, {"action": "explode"}], raise_action_errors=False, raise_job_errors=False
    )
    assert _errors(job.errors) == [("JOB_FAILED", None, False, "the whole job")]
    assert job.actions == [] and job.context == {}


def test_unknown_action_is_pysoas_not_found(
    served: PySOAStubServer, soa_client: Any, stub: Any, service_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    stub("echo", body={})
    with caplog.at_level(logging.WARNING, logger="rpctest.serve"):
        job = soa_client.call_actions(service_name, [{"action": "nosuch"}], raise_action_errors=False)
    assert _errors(job.actions[0].errors) == [("UNKNOWN", "action", True, NOT_FOUND_MESSAGE.format("nosuch"))]
    assert adapter.classify("UNKNOWN", field="action") is ErrorKind.NOT_FOUND
    assert len(served.diagnostics) == 1 and f"{service_name}.nosuch" in served.diagnostics[0]
    assert any(r.name == "rpctest.serve" and "nosuch" in r.getMessage() for r in caplog.records)


def test_near_miss_is_a_caller_error_with_the_difference(
    served: PySOAStubServer, soa_client: Any, stub: Any, service_name: str
) -> None:
    stub("find", body={"id": 1}, match={"id": 1})
    job = soa_client.call_actions(service_name, [{"action": "find", "body": {"id": 2}}], raise_action_errors=False)
    (error,) = job.actions[0].errors
    assert (error.code, error.field, error.is_caller_error) == ("INVALID", None, True)
    assert error.message.startswith("No recorded/stubbed request matches")
    assert "id is 2, stub matches 1" in error.message
    assert len(served.diagnostics) == 1 and "Nearest stub" in served.diagnostics[0]
    assert "id is 2, stub matches 1" in served.diagnostics[0]


def test_malformed_frames_do_not_kill_the_server(
    served: PySOAStubServer, soa_client: Any, stub: Any, service_name: str, target: redis_backend.RedisTarget
) -> None:
    stub("echo", body={"alive": True})
    queue = wire.request_queue_key(service_name)
    reply_to = f"service.{service_name}.deadbeef!000000000001"
    lone_surrogate = wire.encode_message(
        wire.request_envelope(
            [{"action": "echo", "body": {"name": "a\udc80"}}],
            request_id=1,
            reply_to=reply_to,
            expiry=time.time() + 60,
            correlation_id="c",
        )
    )
    bad = [
        b"",
        b"pysoa-redis/3//content-type:application/json;[1, 2]",
        b"pysoa-redis/3//content-type:application/msgpack;\xc1\xc1",
        lone_surrogate,
        _request_frame(service_name, reply_to, request_id=None),
        _request_frame(service_name, "", meta={"client_version": [1, 4, 9]}),
        wire.encode_message({"request_id": 3, "meta": "nope", "body": {}}),
    ]
    _push_raw(target, queue, *bad)
    wait_until(lambda: len(served.diagnostics) >= len(bad), what="a diagnostic per malformed frame")
    assert served.alive
    job = soa_client.call_actions(service_name, [{"action": "echo"}])
    assert job.actions[0].body == {"alive": True}
    assert sum("malformed request" in text for text in served.diagnostics) == 4
    assert any("request_id" in text for text in served.diagnostics)
    assert any("reply_to" in text for text in served.diagnostics)
    with target.connect() as redis_client:
        assert redis_client.llen(wire.response_queue_key(reply_to)) == 0



def test_hostile_frames_are_malformed_requests_and_a_deep_one_is_answered(
    served: PySOAStubServer, soa_client: Any, stub: Any, service_name: str, target: redis_backend.RedisTarget
) -> None:
    """Issue 15's class of input: each undecodable frame is dropped as malformed (a real PySOA server
    would exit), never the stub server's own failure; a request that decodes, however deep its body,
    gets a response (an answer, or PySOA's job error when it cannot be sent back)."""
    stub("echo", side_effect=lambda body: {"echo": body})
    queue = wire.request_queue_key(service_name)
    json_frame = b"pysoa-redis/3//content-type:application/json;"
    bad = [
        json_frame + b"[" * 3000 + b"]" * 3000,
        json_frame + b'{"request_id": ' + b"1" * 5000 + b"}",
        b"pysoa-redis/3//content-type:application/msgpack;" + b"\x91" * 100_000 + b"\xc0",
        b"pysoa-redis/3//content-type:application/msgpack;\x81\xa1k\xa2\xff\xfe",
        b"pysoa-redis/" + b"9" * 5000 + b"//content-type:application/msgpack;\x80",  # a version int() refuses
    ]
    _push_raw(target, queue, *bad)
    wait_until(lambda: len(served.diagnostics) >= len(bad), what="a diagnostic per malformed frame")
    assert sum("malformed request" in text for text in served.diagnostics) == len(bad), served.diagnostics
    deep: Any = []
    for _ in range(400):  # what rpctest's own encoder still builds
        deep = [deep]
    reply_to = f"service.{service_name}.deadbeef!000000000003"
    frame = wire.encode_message(wire.request_envelope(
        [{"action": "echo", "body": {"deep": deep}}], request_id=9, reply_to=reply_to, expiry=time.time() + 60,
        correlation_id="c"))
    _push_raw(target, queue, frame)
    with target.connect() as redis_client:
        popped = redis_client.blpop([wire.response_queue_key(reply_to)], timeout=5)
    assert popped is not None, served.diagnostics
    assert served.alive and served.error is None
    job = soa_client.call_actions(service_name, [{"action": "echo", "body": {"x": 1}}])
    assert job.actions[0].body == {"echo": {"x": 1}}


def test_expired_requests_are_dropped(
    served: PySOAStubServer, stub: Any, service_name: str, target: redis_backend.RedisTarget
) -> None:
    echo = stub("echo", body={})
    reply_to = f"service.{service_name}.feed!000000000002"
    _push_raw(
        target, wire.request_queue_key(service_name), _request_frame(service_name, reply_to, expiry=time.time() - 1)
    )
    wait_until(lambda: any("expired" in text for text in served.diagnostics), what="the expired request to be dropped")
    assert echo.call_count == 0
    with target.connect() as redis_client:
        assert not redis_client.exists(wire.response_queue_key(reply_to))


def test_invalid_job_envelope_gets_pysoas_job_errors(
    served: PySOAStubServer, service_name: str, target: redis_backend.RedisTarget
) -> None:
    reply_to = f"service.{service_name}.abcd!000000000003"
    frame = _request_frame(service_name, reply_to, body={"control": {}, "context": {"switches": []}, "actions": []})
    _push_raw(target, wire.request_queue_key(service_name), frame)
    with target.connect() as redis_client:
        popped = redis_client.blpop([wire.response_queue_key(reply_to)], timeout=5)
    assert popped is not None
    envelope = wire.decode_message(popped[1]).envelope
    assert envelope["body"]["actions"] == [] and envelope["body"]["context"] == {}
    assert [(e["code"], e["field"], e["is_caller_error"]) for e in envelope["body"]["errors"]] == [
        ("MISSING", "control.continue_on_error", False),
        ("MISSING", "context.correlation_id", False),
        ("INVALID", "actions", False),
    ]


BAD_JOBS = [
    {},
    [],
    None,
    {"control": {}, "context": {}, "actions": []},
    {
        "control": {"continue_on_error": 1, "extra": True},
        "context": {"correlation_id": 3, "switches": ["a", True, 2], "caller": 1},
        "actions": [{"x": 1, "y": 2}, {"action": 2, "body": []}, {"action": "a", "body": {1: 2}}, 5],
        "zz": 1,
        "aa": 2,
    },
    {"control": [], "context": "x", "actions": {}},
]


@pytest.mark.parametrize("job", BAD_JOBS, ids=range(len(BAD_JOBS)))
def test_job_validation_words_errors_as_conformity(job: Any) -> None:
    from pysoa.server.schemas import JobRequestSchema

    expected = [(e.code, e.pointer, e.message) for e in JobRequestSchema.errors(job) or []]
    assert [(e.code, e.field, e.message) for e in job_request_errors(job)] == expected


def test_old_clients_get_no_is_caller_error(served: PySOAStubServer, stub: Any, service_name: str) -> None:
    stub("v", errors=["INVALID"])
    with PySOAWireClient(served.redis, service_name, client_version=(0, 60, 0), timeout=5) as client:
        (error,) = client.call(Call("pysoa", service_name, "v")).errors
    assert "is_caller_error" not in error.details


def test_a_constant_error_reply_is_worded_for_each_client_version(served: PySOAStubServer, stub: Any, service_name: str) -> None:
    """The stub's reply is built once per way of wording it: a new client after an old one is shown
    ``is_caller_error``, an old one after a new one is not."""
    stub("v", errors=["INVALID"])
    shown = []
    for version in ((1, 4, 9), (0, 60, 0), (1, 4, 9), (0, 60, 0)):
        with PySOAWireClient(served.redis, service_name, client_version=version, timeout=5) as client:
            (error,) = client.call(Call("pysoa", service_name, "v")).errors
        shown.append("is_caller_error" in error.details)
    assert shown == [True, False, True, False]


def test_suppress_response_sends_nothing(
    served: PySOAStubServer, stub: Any, service_name: str, target: redis_backend.RedisTarget
) -> None:
    echo = stub("echo", body={})
    with PySOAWireClient(target, service_name, timeout=5) as client:
        (reply,) = client.call_many(
            [Call("pysoa", service_name, "echo", meta={"control": {"suppress_response": True}})]
        )
        assert reply.meta == {"suppressed": True}
        wait_until(lambda: echo.call_count == 1, what="the suppressed request to run")
        assert client.call(Call("pysoa", service_name, "echo")).ok  # nothing stale was left to discard
        with target.connect() as redis_client:
            assert redis_client.llen(client.response_queue()) == 0


def test_chunked_and_oversized_responses(
    router: StubRouter, stub: Any, service_name: str, target: redis_backend.RedisTarget
) -> None:
    big = {"blob": "x" * 300_000}
    stub("big", body=big)
    stub("huge", body={"blob": "y" * 600_000})
    options = {"chunk_messages_larger_than_bytes": 102_400, "maximum_message_size": 512_000}
    with adapter.wire.stub_server(router, redis=target, services=[service_name], **options) as server:
        with PySOAWireClient(target, service_name, timeout=5) as client:
            assert client.call(Call("pysoa", service_name, "big")).body == big
            reply = client.call(Call("pysoa", service_name, "huge"))
        assert [(e.code, e.details["is_caller_error"]) for e in reply.job_errors] == [("RESPONSE_TOO_LARGE", False)]
        assert reply.job_errors[0].message == "Could not send the response because it was too large"
        with pysoa_redis_client(target, service_name) as soa_client:
            assert soa_client.call_action(service_name, "big").body == big
        assert any("too large" in text for text in server.diagnostics)


def test_stop_is_prompt_and_leaves_nothing_running(
    router: StubRouter, stub: Any, service_name: str, target: redis_backend.RedisTarget
) -> None:
    stub("echo", body={})
    with no_new_threads():
        server = adapter.wire.stub_server(router, redis=target, services=[service_name])
        assert server.alive and server.address == f"{target.address}#service.{service_name}"
        assert server.call("echo").ok
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 0.5
        assert not server.alive
        server.stop()  # idempotent
    with target.connect() as redis_client:
        assert not redis_client.keys("pysoa:rpctest-stub-wake*")


def test_private_redis_server_is_started_and_stopped(router: StubRouter, stub: Any, service_name: str) -> None:
    if redis_backend.find_redis_server_binary() is None:
        pytest.skip("no redis-server binary")
    stub("echo", body={"private": True})
    server = adapter.wire.stub_server(router)
    try:
        assert server.services == [service_name] and server.address.startswith("redis://127.0.0.1:")
        assert server.call("echo").body == {"private": True}
        process = server._redis_process
        assert process is not None and process.running
    finally:
        server.stop()
    assert not process.running


def test_stub_server_usage_errors(router: StubRouter) -> None:
    with pytest.raises(StubUsageError, match="no PySOA stubs"):
        adapter.wire.stub_server(router, redis="fake")
    with pytest.raises(TypeError, match="redis="):
        adapter.wire.stub_server(router, redis=42, services=["x"])


def test_serves_several_services(
    router: StubRouter, stub: Any, target: redis_backend.RedisTarget, service_name: str
) -> None:
    other = service_name + "b"
    stub("a", body={"from": 1})
    stub("b", body={"from": 2}, service=other)
    with adapter.wire.stub_server(router, redis=target) as server:
        assert sorted(server.services) == sorted([service_name, other]) and server.address == target.address
        assert server.call("a", service=service_name).body == {"from": 1}
        assert server.call("b", service=other).body == {"from": 2}
        with pytest.raises(ValueError, match="pass service"):
            server.call("a")


# -- (b) the wire client against a real PySOA server -----------------------------------------------------


@pytest.fixture
def hosted(pysoa_service: Any, target: redis_backend.RedisTarget) -> PySOAService:
    return pysoa_service(VecServer, transport="redis", redis=target)


SAME_AS_HOST = [
    ("echo", {"name": "ann", "count": 2}, {}),
    ("echo", {}, {}),
    ("echo", {"name": "much too long"}, {}),
    ("echo", {"name": "x", "extra": 1}, {}),
    ("divide", {"a": 1, "b": 0}, {}),
    ("divide", {"a": 7, "b": 2}, {}),
    ("nested", {"user": {"id": "x", "emails": ["nope"]}}, {}),
    ("nosuch", {}, {}),
    ("broken", None, {}),
    ("bad_response", None, {}),
    ("whoami", None, {"context": {"auth_token": "tok-alice"}}),
    ("whoami", None, {"context": {"auth_token": "wrong"}}),
    ("status", None, {}),
]


def _comparable(reply: Reply) -> Reply:
    """A reply with the per-call correlation id masked, and error details kept for comparison."""
    reply = copy.deepcopy(reply)
    reply.meta["context"].pop("correlation_id", None)
    return reply


def _details(reply: Reply) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.details.items() if k != "traceback"} for e in reply.all_errors]


def test_wire_client_gets_the_same_replies_as_the_host(hosted: PySOAService) -> None:
    assert hosted.redis is not None
    with adapter.wire.client(hosted.redis, service="vecsvc") as client:
        for operation, body, meta in SAME_AS_HOST:
            expected = hosted.call(operation, body, **meta)
            got = client.call(Call("pysoa", "vecsvc", operation, body, meta=dict(meta)))
            assert _comparable(got) == _comparable(expected), operation
            assert _details(got) == _details(expected), operation
            assert [bool(e.details.get("traceback")) for e in got.errors] == [
                bool(e.details.get("traceback")) for e in expected.errors
            ]


def test_wire_client_jobs_match_the_host(hosted: PySOAService) -> None:
    actions = [
        {"action": "nosuch"},
        {"action": "echo", "body": {"name": "al"}},
        {"action": "divide", "body": {"a": 1, "b": 4}},
    ]
    calls = [Call("pysoa", "vecsvc", a["action"], a.get("body")) for a in actions]
    with PySOAWireClient(hosted.redis, "vecsvc", timeout=5) as client:
        for continue_on_error in (False, True):
            calls[0].meta = {"continue_on_error": continue_on_error}
            job = hosted.call_actions(copy.deepcopy(actions), continue_on_error=continue_on_error)
            expected = [_comparable(reply_from_job(job, i)) for i in range(len(actions))]
            assert [_comparable(r) for r in client.call_many(calls)] == expected
        with pytest.raises(ValueError, match="different job headers"):
            client.call_many(
                [
                    Call("pysoa", "vecsvc", "echo", meta={"switches": [1]}),
                    Call("pysoa", "vecsvc", "echo", meta={"switches": [2]}),
                ]
            )


@pytest.mark.parametrize(
    "options",
    [
        {"content_type": wire.CONTENT_TYPE_JSON},
        {"protocol_version": 2},
        {"protocol_version": 1},
        {"message_expiry": 3},
    ],
    ids=["json", "protocol-2", "protocol-1", "message-expiry"],
)
def test_wire_client_options_are_understood_by_pysoa(hosted: PySOAService, options: dict[str, Any]) -> None:
    assert hosted.redis is not None
    with PySOAWireClient(hosted.redis, "vecsvc", timeout=5, **options) as client:
        assert client.call(Call("pysoa", "vecsvc", "echo", {"name": "opt"})).body == {"greeting": "hello opt"}


def test_message_expiry_sets_control_timeout_and_ttl(target: redis_backend.RedisTarget, service_name: str) -> None:
    with PySOAWireClient(target, service_name, timeout=0.2, message_expiry=5) as client, pytest.raises(CallTimeout):
        client.call(Call("pysoa", service_name, "echo"))
    with target.connect() as redis_client:
        key = wire.request_queue_key(service_name)
        assert 10 < redis_client.ttl(key) <= 15
        envelope = wire.decode_message(redis_client.lpop(key)).envelope
    assert envelope["body"]["control"] == {"continue_on_error": False, "suppress_response": False, "timeout": 5}
    assert 0 < envelope["meta"]["__expiry__"] - time.time() <= 5


def test_request_envelope_is_what_pysoas_client_sends(target: redis_backend.RedisTarget, service_name: str) -> None:
    """Same keys, key order, meta and headers as PySOA's own client (vectors' soa.call.* requests)."""
    vector = next(v for v in load("pysoa", "calls")["vectors"] if v["id"] == "soa.call.echo-all-fields")
    recorded = next(e for e in vector["exchange"] if e.get("by") == "client")
    action = vector["job_request"]["actions"][0]
    with PySOAWireClient(target, service_name, timeout=0.1) as client:
        with pytest.raises(CallTimeout):
            client.call(Call("pysoa", service_name, action["action"], action["body"]))
        reply_to = client.reply_to()
    with target.connect() as redis_client:
        key = wire.request_queue_key(service_name)
        assert 55 < redis_client.ttl(key) <= 60
        frame = redis_client.lpop(key)
    got = wire.decode_message(frame).envelope
    expected = copy.deepcopy(recorded["data"]["decoded"]["envelope"])
    assert frame.startswith(b"pysoa-redis/3//content-type:application/msgpack;")
    assert list(got) == list(expected) and list(got["meta"]) == list(expected["meta"])
    assert list(got["body"]) == list(expected["body"]) and list(got["body"]["context"]) == list(
        expected["body"]["context"]
    )
    assert got["meta"]["reply_to"] == reply_to and reply_to.startswith(f"service.{service_name}.")
    for varying in ("request_id",):
        got[varying] = expected[varying]
    for key_name in ("reply_to", "__expiry__"):
        got["meta"][key_name] = expected["meta"][key_name]
    got["body"]["context"]["correlation_id"] = expected["body"]["context"]["correlation_id"]
    assert got == expected
    # re-encoding our envelope with the recorded varying values gives the recorded bytes
    assert wire.encode_message(got) == blob_bytes(recorded["data"])


def test_timeout_raises_quickly_and_the_client_stays_usable(hosted: PySOAService, service_name: str) -> None:
    assert hosted.redis is not None
    with PySOAWireClient(hosted.redis, timeout=5) as client:
        started = time.monotonic()
        with pytest.raises(CallTimeout) as info:
            client.call(Call("pysoa", service_name, "ping", {}), timeout=0.3)
        elapsed = time.monotonic() - started
        assert 0.29 <= elapsed < 1.5
        message = str(info.value)
        assert service_name in message and "'ping'" in message and "0.3 s" in message
        assert f"{hosted.redis.address}#service.{service_name}" in message
        assert isinstance(info.value, TimeoutError)
        assert client.call(Call("pysoa", "vecsvc", "echo", {"name": "after"})).body == {"greeting": "hello after"}


def test_late_reply_is_discarded(pysoa_service: Any, target: redis_backend.RedisTarget) -> None:
    with PySOAWireClient(target, "vecsvc", timeout=5) as client:
        with pytest.raises(CallTimeout):
            client.call(Call("pysoa", "vecsvc", "echo", {"name": "late"}), timeout=0.2)
        pysoa_service(VecServer, transport="redis", redis=target)  # a server comes up and answers the old request
        with target.connect() as redis_client:
            wait_until(lambda: redis_client.llen(client.response_queue()) == 1, what="the late reply")
            reply = client.call(Call("pysoa", "vecsvc", "echo", {"name": "now"}))
            assert reply.body == {"greeting": "hello now"}
            assert redis_client.llen(client.response_queue()) == 0


def test_broken_reply_frame_raises_wire_error(
    served: PySOAStubServer, stub: Any, service_name: str, target: redis_backend.RedisTarget
) -> None:
    stub("echo", body={"fine": True})
    with PySOAWireClient(target, service_name, timeout=5) as client:
        _push_raw(target, client.response_queue(), b"pysoa-redis/3//content-type:application/msgpack;\xc1")
        with pytest.raises(wire.WireError) as info:
            client.call(Call("pysoa", service_name, "echo"))
        assert service_name in str(info.value) and "'echo'" in str(info.value)
        assert client.call(Call("pysoa", service_name, "echo")).body == {
            "fine": True
        }  # the real reply was dropped as late


def test_addresses_and_client_factory(target: redis_backend.RedisTarget) -> None:
    if target.is_fake:
        with pytest.raises(ValueError, match="RedisTarget"):
            parse_address("fakeredis#service.x")
        return
    url = f"{target.address}#service.users"
    parsed, service = parse_address(url)
    assert (parsed.host, parsed.port, parsed.db, service) == (target.host, target.port, target.db, "users")
    with adapter.wire.client(url, timeout=2) as client:
        assert client.service == "users" and client.address() == url
    with pytest.raises(ValueError, match="contradicts"):
        PySOAWireClient(url, "orders")
    with pytest.raises(ValueError, match="#service"):
        parse_address(f"{target.address}#users")


# -- (c) byte level: the stub server reproduces recorded responses ---------------------------------------


def _vectors(*families: str) -> list[dict[str, Any]]:
    return [vector for family in families for vector in load("pysoa", family)["vectors"]]


def _rpush(vector: dict[str, Any], by: str) -> dict[str, Any]:
    return next(e for e in vector["exchange"] if e.get("op") == "rpush" and e.get("by") == by)


REPLAY_VECTORS = [
    v
    for v in _vectors("calls", "errors", "expiry_framing")
    if any(e.get("op") == "rpush" and e.get("by") == "server" for e in v["exchange"])
]


def _is_not_found(error: dict[str, Any], action: str) -> bool:
    return (
        error["code"] == "UNKNOWN"
        and error["field"] == "action"
        and error["message"] == NOT_FOUND_MESSAGE.format(action)
    )


def _stub_recorded_answers(router: StubRouter, response: dict[str, Any]) -> list[stub_action]:
    """Stubs that answer each recorded action as recorded (one reply per call, in job order).

    An action the real server did not know is left unstubbed: the stub server's own not-found
    answer must then equal the real one.
    """
    replies: dict[str, list[Reply]] = {}
    for action in response["body"]["actions"]:
        if any(_is_not_found(error, action["action"]) for error in action["errors"]):
            continue
        errors = [
            RpcError(
                e["code"],
                e["message"],
                field=e["field"],
                details={
                    k: e[k]
                    for k in ("traceback", "variables", "denied_permissions", "is_caller_error")
                    if e.get(k) is not None
                },
            )
            for e in action["errors"]
        ]
        replies.setdefault(action["action"], []).append(Reply(body=action["body"], errors=errors))
    stubbers = [
        stub_action("vecsvc", name, side_effect=items, stack="pysoa", router=router) for name, items in replies.items()
    ]
    for stubber in stubbers:
        stubber.start()
    return stubbers


def _replay_against_stub_server(target: redis_backend.RedisTarget, vector: dict[str, Any]) -> None:
    request = next(e for e in vector["exchange"] if e.get("op") == "rpush" and e.get("by") != "server")
    response = _rpush(vector, "server")
    recorded = response["data"]
    expected_envelope = recorded["decoded"]["envelope"]
    router = StubRouter(intercept=False)
    stubbers = _stub_recorded_answers(router, expected_envelope)
    try:
        with adapter.wire.stub_server(router, redis=target, services=["vecsvc"]) as server:
            frame = wire.with_expiry(blob_bytes(request["data"]), time.time() + 60)
            with target.connect() as redis_client:
                redis_client.delete(response["key"])
                redis_client.rpush(request["key"], frame)
                popped = redis_client.blpop([response["key"]], timeout=5)
                assert popped is not None, f"no response on {response['key']}"
                ttl = redis_client.ttl(response["key"])
            assert server.diagnostics == [] or all("nosuch" in d for d in server.diagnostics)
    finally:
        for stubber in stubbers:
            stubber.stop()
    got = popped[1]
    assert ttl == -2 or 55 < ttl <= 60  # -2: the key vanished with its only element when popped
    decoded = wire.decode_message(got)
    assert decoded.envelope["meta"]["__expiry__"] > time.time() + 50
    comparable = copy.deepcopy(decoded.envelope)
    comparable["meta"]["__expiry__"] = expected_envelope["meta"]["__expiry__"]
    assert comparable == expected_envelope
    if decoded.content_type == wire.CONTENT_TYPE_MSGPACK:
        assert len(got) == recorded["len"]
        assert mask(got, recorded) == mask(blob_bytes(recorded), recorded)
    else:  # JSON: __expiry__'s text length varies, so only the rest must be byte-equal
        assert wire.encode_message(comparable, content_type=decoded.content_type) == blob_bytes(recorded)


@pytest.mark.parametrize("vector", REPLAY_VECTORS, ids=[v["id"] for v in REPLAY_VECTORS])
def test_stub_server_reproduces_recorded_responses_fakeredis(vector: dict[str, Any]) -> None:
    _replay_against_stub_server(redis_backend.fake(), vector)


REAL_REPLAY_IDS = {
    "soa.call.multi-action-job",
    "soa.err.stop-on-first-error",
    "soa.err.bad-response",
    "soa.call.echo-json-serializer",
    "soa.call.echo-protocol-2",
}
REAL_REPLAY_VECTORS = [v for v in REPLAY_VECTORS if v["id"] in REAL_REPLAY_IDS]


@pytest.mark.parametrize("vector", REAL_REPLAY_VECTORS, ids=[v["id"] for v in REAL_REPLAY_VECTORS])
def test_stub_server_reproduces_recorded_responses_real_redis(
    vector: dict[str, Any], rpctest_redis: redis_backend.RedisTarget
) -> None:
    assert len(REAL_REPLAY_VECTORS) == len(REAL_REPLAY_IDS)
    _replay_against_stub_server(rpctest_redis, vector)


NO_REPLY_VECTORS = [v for v in _vectors("expiry_framing") if v["outcome"]["kind"] == "no_response"]


@pytest.mark.parametrize("vector", NO_REPLY_VECTORS, ids=[v["id"] for v in NO_REPLY_VECTORS])
def test_stub_server_survives_what_gets_no_reply_from_a_real_server(vector: dict[str, Any]) -> None:
    """Expired requests, undecodable frames: no reply (as PySOA), but a diagnostic and the loop lives on."""
    target = redis_backend.fake()
    router = StubRouter(intercept=False)
    echo = stub_action("vecsvc", "echo", body={"greeting": "hello after"}, stack="pysoa", router=router)
    with echo, adapter.wire.stub_server(router, redis=target, services=["vecsvc"]) as server:
        pushed = next(e for e in vector["exchange"] if e.get("op") == "rpush")
        _push_raw(target, pushed["key"], blob_bytes(pushed["data"]))
        wait_until(lambda: len(server.diagnostics) == 1, what="the diagnostic")
        assert server.alive
        assert server.call("echo", {"name": "after"}).body == {"greeting": "hello after"}


def test_the_stub_server_encodes_each_reply_once(served: PySOAStubServer, stub: Any, service_name: str) -> None:
    """It measures the encoded reply against its size limit and sends those same bytes: with
    msgpack's pure-Python fallback (pysoa's pin on 3.11) an encoding was a third of a round trip."""
    from unittest import mock

    stub("get_user", body={"user": {"id": 1, "name": "Ann", "tags": ["a", "b"]}})
    with PySOAWireClient(served.redis, service_name, timeout=5) as client:
        with mock.patch.object(wire, "encode_payload", wraps=wire.encode_payload) as encode, \
                mock.patch.object(redis_stub, "_spliced", wraps=redis_stub._spliced) as spliced:
            reply = client.call(Call("pysoa", service_name, "get_user", {"id": 1}))
    assert reply.body == {"user": {"id": 1, "name": "Ann", "tags": ["a", "b"]}}
    # the client's request and the server's reply, once each (the reply whole, or with its action spliced in)
    assert encode.call_count + spliced.call_count == 2


def test_a_constant_stub_reply_is_built_once_and_every_call_still_recorded(
    served: PySOAStubServer, stub: Any, service_name: str
) -> None:
    """A stub answering its own body to every call has its ActionResponse built (and packed) once;
    each reply is still the stub's, and each call is still on the handle."""
    from unittest import mock

    handle = stub("get_user", body={"user": {"id": 1, "name": "Ann"}})
    with PySOAWireClient(served.redis, service_name, timeout=5) as client:
        with mock.patch.object(redis_stub, "_action_response", wraps=redis_stub._action_response) as build:
            replies = [client.call(Call("pysoa", service_name, "get_user", {"id": n})) for n in (0, 1, 2, 9)]
    assert [reply.body for reply in replies] == [{"user": {"id": 1, "name": "Ann"}}] * 4
    assert build.call_count == 1
    assert handle.call_count == 4
    assert [call.body for call in handle.calls] == [{"id": 0}, {"id": 1}, {"id": 2}, {"id": 9}]


def test_redis_going_away_while_the_server_waits_is_one_waiting_diagnostic(router: StubRouter, stub: Any, service_name: str) -> None:
    """The server waits for the next request in the same write as it pushes a reply: Redis going away
    during that wait is a Redis error while waiting, not a failure of the request just answered."""
    process = redis_backend.RedisServerProcess()
    target = process.start()
    stub("get_user", body={"user": {"id": 1}})
    server = adapter.wire.stub_server(router, redis=target, services=[service_name])
    try:
        with PySOAWireClient(target, service_name, timeout=5) as client:
            assert client.call(Call("pysoa", service_name, "get_user", {"id": 1})).body == {"user": {"id": 1}}
        time.sleep(0.1)  # the server is back in its wait
        process.stop()
        helpers.wait_until(lambda: server.diagnostics != [], what="a diagnostic")
        time.sleep(0.2)
        assert len(server.diagnostics) == 1, server.diagnostics
        assert server.diagnostics[0].startswith("Redis error while waiting for requests")
    finally:
        server.stop()
        process.stop()
