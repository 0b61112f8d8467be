"""The PySOA host half against the golden vectors: local transport, fakeredis and a real redis-server.

Every vector of tests/golden/pysoa/{errors,calls}.json with a ``job_request`` and a
``local_transport`` view is run through ``serve(VecServer, ...)`` over each transport, and the job
response must equal the recorded one (codes, fields, ``is_caller_error``, messages, bodies), apart
from the paths the vector marks as varying. The recorded Redis request frames are replayed byte for
byte onto the request queue of a hosted server, and its answer must re-serialize to the recorded
response frame.

Real-Redis tests use a ``redis-server`` started for the session (or ``$RPCTEST_REDIS_URL``); without
one they skip, unless ``RPCTEST_REQUIRE_REDIS=1`` (CI), where they fail.
"""

from __future__ import annotations

import copy
import platform
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import attr
import pytest

from rpctest import redis_backend
from rpctest.exceptions import StackUnavailable
from rpctest.model import ErrorKind, Reply
from rpctest.stacks.pysoa.host import PySOAService, reply_from_job, serve

HERE = Path(__file__).resolve().parent


from stack_pysoa.vecsvc import VecServer  # noqa: E402

from vectors import blob_bytes, load  # tests/vectors.py, on sys.path via the pytest pythonpath setting


def _vectors(*families: str) -> list[dict[str, Any]]:
    return [vector for family in families for vector in load("pysoa", family)["vectors"]]


JOB_VECTORS = [v for v in _vectors("errors", "calls") if "job_request" in v and "local_transport" in v]
REPLAY_VECTORS = [
    v
    for v in _vectors("errors", "calls")
    if any(e.get("op") == "rpush" and e.get("by") == "client" for e in v.get("exchange", ()))
    and any(e.get("op") == "rpush" and e.get("by") == "server" for e in v.get("exchange", ()))
]
#: the vectors run over a real redis-server too (the whole set takes milliseconds; keep a spread)
REAL_JOB_IDS = {
    "soa.err.echo-missing-required",
    "soa.err.nested-pointers",
    "soa.err.bad-response",
    "soa.err.continue-on-error",
    "soa.err.auth-wrong-token",
    "soa.call.multi-action-job",
    "soa.call.status",
}
REAL_REPLAY_IDS = {
    "soa.err.echo-too-long",
    "soa.err.bad-response",
    "soa.call.echo-all-fields",
    "soa.call.echo-json-serializer",
    "soa.call.echo-protocol-2",
}


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["id"] for v in vectors]


# -- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_redis(rpctest_redis: redis_backend.RedisTarget) -> redis_backend.RedisTarget:
    """A real Redis, from the plugin's own fixture (RPCTEST_REDIS_URL, else a redis-server it starts)."""
    return rpctest_redis


@pytest.fixture(scope="module")
def local_service() -> Iterator[PySOAService]:
    with serve(VecServer, transport="local") as service:
        yield service


@pytest.fixture(scope="module")
def fake_service() -> Iterator[PySOAService]:
    with serve(VecServer, transport="redis") as service:
        yield service


@pytest.fixture(scope="module")
def real_service(real_redis: redis_backend.RedisTarget) -> Iterator[PySOAService]:
    with serve(VecServer, transport="redis", redis=real_redis) as service:
        yield service


# -- comparing job responses ----------------------------------------------------------------------------


def _error_triples(errors: Any) -> list[list[Any]]:
    return [[e.code, e.field, e.is_caller_error] for e in errors]


def summarize(job_response: Any) -> dict[str, Any]:
    """The vectors' ``summary`` form of a PySOA ``JobResponse``."""
    return {
        "job_errors": _error_triples(job_response.errors),
        "actions": [
            {"action": a.action, "errors": _error_triples(a.errors), "body": a.body} for a in job_response.actions
        ],
    }


def _pointer_parts(pointer: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in pointer.strip("/").split("/")]


def _get(doc: Any, parts: list[str | int]) -> Any:
    for part in parts:
        doc = doc[part]
    return doc


def _set(doc: Any, parts: list[str | int], value: Any) -> None:
    _get(doc, parts[:-1])[parts[-1]] = value


def _environment_adjusted(expected: Any) -> Any:
    """The recorded ``status`` body names the recording's Python; another 3.11.x reports its own."""
    expected = copy.deepcopy(expected)
    for action in expected.get("actions", ()):
        body = action.get("body")
        if action.get("action") == "status" and isinstance(body, dict) and "python" in body:
            body["python"] = platform.python_version()
    return expected


def _redact_tracebacks(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    """Recorded tracebacks are placeholders: the actual one must be a non-empty string, then it is copied."""
    for kind in ("errors",):
        for exp_err, act_err in zip(expected.get(kind, ()), actual.get(kind, ())):
            _redact_one(exp_err, act_err)
    for exp_action, act_action in zip(expected.get("actions", ()), actual.get("actions", ())):
        for exp_err, act_err in zip(exp_action.get("errors", ()), act_action.get("errors", ())):
            _redact_one(exp_err, act_err)


def _redact_one(expected_error: dict[str, Any], actual_error: dict[str, Any]) -> None:
    placeholder = expected_error.get("traceback")
    if isinstance(placeholder, str) and placeholder.startswith("<redacted"):
        assert isinstance(actual_error.get("traceback"), str) and actual_error["traceback"], actual_error
        actual_error["traceback"] = placeholder


def run_job(service: PySOAService, vector: dict[str, Any]) -> Any:
    job = vector["job_request"]
    return service.call_actions(
        copy.deepcopy(job["actions"]),
        continue_on_error=job["continue_on_error"],
        context=copy.deepcopy(job["context_extra"]) or None,
    )


def check_job(service: PySOAService, vector: dict[str, Any]) -> None:
    job_response = run_job(service, vector)
    recorded = vector["local_transport"]

    assert summarize(job_response) == _environment_adjusted(recorded["summary"])

    actual = attr.asdict(job_response)
    expected = _environment_adjusted(recorded["job_response"])
    prefix = "/local_transport/job_response"
    for varies in vector.get("varies", ()):
        path = varies["path"]
        if path.startswith(prefix + "/"):
            parts = _pointer_parts(path[len(prefix):])
            _set(actual, parts, _get(expected, parts))
    _redact_tracebacks(expected, actual)
    assert actual == expected


# -- jobs through every transport -------------------------------------------------------------------------


@pytest.mark.parametrize("vector", JOB_VECTORS, ids=_ids(JOB_VECTORS))
def test_job_local_transport(local_service: PySOAService, vector: dict[str, Any]) -> None:
    check_job(local_service, vector)


@pytest.mark.parametrize("vector", JOB_VECTORS, ids=_ids(JOB_VECTORS))
def test_job_fakeredis(fake_service: PySOAService, vector: dict[str, Any]) -> None:
    check_job(fake_service, vector)


REAL_JOB_VECTORS = [v for v in JOB_VECTORS if v["id"] in REAL_JOB_IDS]


@pytest.mark.parametrize("vector", REAL_JOB_VECTORS, ids=_ids(REAL_JOB_VECTORS))
def test_job_real_redis(real_service: PySOAService, vector: dict[str, Any]) -> None:
    check_job(real_service, vector)


def test_real_job_selection_is_not_empty() -> None:
    assert {v["id"] for v in REAL_JOB_VECTORS} == REAL_JOB_IDS
    assert {v["id"] for v in REPLAY_VECTORS} >= REAL_REPLAY_IDS


def _client_transport_settings(vector: dict[str, Any]) -> dict[str, Any]:
    """Client transport kwargs reproducing a calls.json vector's serializer and protocol version."""
    transport = vector["transport"]
    kwargs: dict[str, Any] = {}
    if transport.get("serializer") == "json":
        kwargs["default_serializer_config"] = {"path": "pysoa.common.serializer:JSONSerializer"}
    if transport.get("protocol_version", 3) != 3:
        kwargs["protocol_version"] = transport["protocol_version"]
    return {"transport": {"kwargs": kwargs}}


WIRE_OPTION_VECTORS = [v for v in _vectors("calls") if v["id"] in ("soa.call.echo-json-serializer", "soa.call.echo-protocol-2")]


@pytest.mark.parametrize("vector", WIRE_OPTION_VECTORS, ids=_ids(WIRE_OPTION_VECTORS))
def test_client_settings_reach_the_redis_client(vector: dict[str, Any]) -> None:
    """JSON serializer / protocol 2 clients, configured through ``client_settings``, get the recorded outcome."""
    with serve(VecServer, transport="redis", client_settings=_client_transport_settings(vector)) as service:
        assert summarize(run_job(service, vector)) == vector["outcome"]["summary"]


# -- the neutral view -------------------------------------------------------------------------------


SINGLE_ACTION_VECTORS = [v for v in JOB_VECTORS if len(v["job_request"]["actions"]) == 1]


@pytest.mark.parametrize("transport", ["local", "redis"])
def test_call_returns_neutral_replies(transport: str) -> None:
    with serve(VecServer, transport=transport) as service:
        for vector in SINGLE_ACTION_VECTORS:
            job = vector["job_request"]
            action = job["actions"][0]
            reply = service.call(action["action"], action.get("body"), context=job["context_extra"] or None)
            expected = vector["local_transport"]["summary"]["actions"][0]
            assert isinstance(reply, Reply)
            assert [[e.code, e.field, e.details["is_caller_error"]] for e in reply.errors] == expected["errors"], vector["id"]
            assert reply.job_errors == []
            assert reply.body == _environment_adjusted(vector["local_transport"]["summary"])["actions"][0]["body"]

        assert service.call("echo", {"name": "ann"}).ok
        assert service.call("nosuch").errors[0].kind is ErrorKind.NOT_FOUND
        assert service.call("echo", {}).errors[0].kind is ErrorKind.CALLER_ERROR
        assert service.call("broken").errors[0].kind is ErrorKind.SERVER_ERROR
        assert service.call("divide", {"a": 1, "b": 0}).errors[0].code == "DIVIDE_BY_ZERO"
        assert service.call("whoami", context={"auth_token": "tok-alice"}).body == {"user": "alice"}


def test_job_stopped_before_the_action_gives_job_errors_only(local_service: PySOAService) -> None:
    job = local_service.call_actions([{"action": "nosuch"}, {"action": "echo", "body": {"name": "a"}}])
    second = reply_from_job(job, 1)
    assert second.body is None and second.errors == [] and second.job_errors == []
    assert reply_from_job(job, 0).errors[0].field == "action"


def test_addresses(local_service: PySOAService, fake_service: PySOAService) -> None:
    assert local_service.address is None and local_service.redis is None
    assert local_service.transport == "local" and local_service.service_name == "vecsvc"
    assert fake_service.address == "fakeredis#service.vecsvc"
    assert fake_service.redis is not None and fake_service.redis.kind == "fake"
    assert fake_service.server_class is VecServer


def test_real_address(real_service: PySOAService, real_redis: redis_backend.RedisTarget) -> None:
    assert real_service.address == f"redis://{real_redis.host}:{real_redis.port}/{real_redis.db}#service.vecsvc"


def test_coroutines_run_in_process(local_service: PySOAService) -> None:
    """The server's async event loop thread is running, so ``request.run_coroutine`` works."""
    thread = local_service.server._async_event_loop_thread
    assert thread.is_alive() and thread.loop.is_running()


# -- replaying recorded Redis frames ---------------------------------------------------------------------

_FRAME = re.compile(rb"^(?P<prefix>pysoa-redis/\d+//)?(?P<headers>(?:[a-z-]+:[^;]*;)*)")


def _serializer(content_type: str) -> Any:
    from pysoa.common.serializer.json_serializer import JSONSerializer
    from pysoa.common.serializer.msgpack_serializer import MsgpackSerializer

    return {"application/msgpack": MsgpackSerializer, "application/json": JSONSerializer}[content_type]()


def decode_frame(blob: bytes) -> tuple[bytes, bytes, Any, dict[str, Any]]:
    """(protocol prefix, header bytes, serializer, envelope) of one Redis gateway frame."""
    match = _FRAME.match(blob)
    assert match is not None
    headers = dict(h.split(":", 1) for h in match.group("headers").decode("ascii").split(";") if h)
    serializer = _serializer(headers.get("content-type", "application/msgpack"))
    return match.group("prefix") or b"", match.group("headers"), serializer, serializer.blob_to_dict(blob[match.end():])


def encode_frame(prefix: bytes, headers: bytes, serializer: Any, envelope: dict[str, Any]) -> bytes:
    return prefix + headers + serializer.dict_to_blob(envelope)


def _exchange(vector: dict[str, Any], by: str) -> dict[str, Any]:
    return next(e for e in vector["exchange"] if e.get("op") == "rpush" and e.get("by") == by)


def replay(service: PySOAService, vector: dict[str, Any]) -> None:
    """Push the recorded request frame (expiry refreshed) and compare the answer with the recorded response."""
    request = _exchange(vector, "client")
    response = _exchange(vector, "server")
    assert request["key"] == "pysoa:service.vecsvc"

    prefix, headers, serializer, envelope = decode_frame(blob_bytes(request["data"]))
    assert envelope == request["data"]["decoded"]["envelope"]  # our decoding agrees with the recording
    envelope["meta"]["__expiry__"] = time.time() + 60
    frame = encode_frame(prefix, headers, serializer, envelope)

    exp_prefix, exp_headers, exp_serializer, expected = decode_frame(blob_bytes(response["data"]))
    response_key = "pysoa:" + envelope["meta"]["reply_to"]
    assert response["key"] == response_key

    assert service.redis is not None
    with service.redis.connect() as redis_client:
        redis_client.delete(response_key)
        redis_client.rpush(request["key"], frame)
        popped = redis_client.blpop([response_key], timeout=5)
        assert popped is not None, f"no response on {response_key} within 5 s"
        assert redis_client.llen(response_key) == 0

    got = popped[1]
    got_prefix, got_headers, got_serializer, actual = decode_frame(got)
    assert (got_prefix, got_headers) == (exp_prefix, exp_headers)

    # Envelope: everything equal except the varying paths; echoed values equal the request's.
    echoed = {"/envelope/request_id", "/envelope/meta/reply_to", "/envelope/body/context/correlation_id"}
    compared = copy.deepcopy(actual)
    for varies in response["data"].get("varies", ()):
        path = varies["path"]
        parts = _pointer_parts(path)[1:]  # drop "envelope"
        if path in echoed:
            assert _get(actual, parts) == _get({"envelope": envelope}, ["envelope", *parts]), path
        elif path == "/envelope/meta/__expiry__":
            assert isinstance(_get(actual, parts), float) and _get(actual, parts) > time.time(), path
            _set(compared, parts, _get(expected, parts))
        elif path.endswith("/traceback"):
            assert isinstance(_get(actual, parts), str) and _get(actual, parts), path
            _set(compared, parts, _get(expected, parts))
        else:  # pragma: no cover - a new kind of varying path in the vectors
            pytest.fail(f"unhandled varying path {path} in {vector['id']}")
    assert compared == _environment_adjusted_envelope(expected)

    # Bytes: the recorded response re-serialized with this run's expiry and traceback is what we got.
    reference = copy.deepcopy(_environment_adjusted_envelope(expected))
    reference["meta"]["__expiry__"] = actual["meta"]["__expiry__"]
    for varies in response["data"].get("varies", ()):
        if varies["path"].endswith("/traceback"):
            parts = _pointer_parts(varies["path"])[1:]
            _set(reference, parts, _get(actual, parts))
    assert got == encode_frame(exp_prefix, exp_headers, exp_serializer, reference)


def _environment_adjusted_envelope(envelope: dict[str, Any]) -> dict[str, Any]:
    envelope = copy.deepcopy(envelope)
    envelope["body"] = _environment_adjusted(envelope["body"])
    return envelope


@pytest.mark.parametrize("vector", REPLAY_VECTORS, ids=_ids(REPLAY_VECTORS))
def test_replay_recorded_frames_fakeredis(fake_service: PySOAService, vector: dict[str, Any]) -> None:
    replay(fake_service, vector)


REAL_REPLAY_VECTORS = [v for v in REPLAY_VECTORS if v["id"] in REAL_REPLAY_IDS]


@pytest.mark.parametrize("vector", REAL_REPLAY_VECTORS, ids=_ids(REAL_REPLAY_VECTORS))
def test_replay_recorded_frames_real_redis(real_service: PySOAService, vector: dict[str, Any]) -> None:
    replay(real_service, vector)


def test_undecodable_request_stops_the_loop_like_server_run() -> None:
    """soa.frame.lone-surrogate: Server.run exits on it; the hosted loop stops and says why."""
    from pysoa.common.serializer.errors import InvalidMessage

    vector = next(v for v in _vectors("expiry_framing") if v["id"] == "soa.frame.lone-surrogate")
    push = vector["exchange"][0]
    with serve(VecServer, transport="redis") as service:
        assert service.redis is not None
        with service.redis.connect() as redis_client:
            redis_client.rpush(push["key"], blob_bytes(push["data"]))
        assert service._loop_thread is not None
        service._loop_thread.join(5)
        assert not service.alive
        assert isinstance(service.error, InvalidMessage)
        with pytest.raises(RuntimeError, match="unhandled error"):
            service.call("echo", {"name": "x"})


# -- teardown: nothing left behind -----------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["local", "redis"])
def test_stop_releases_threads(transport: str) -> None:
    before = threading.active_count()
    service = serve(VecServer, transport=transport)
    assert service.call("echo", {"name": "t"}).ok
    assert threading.active_count() > before  # the async loop thread (and the Redis request loop)
    service.stop()
    assert threading.active_count() == before
    service.stop()  # idempotent
    assert not service.alive
    with pytest.raises(RuntimeError, match="stopped"):
        service.call("echo", {"name": "t"})


def test_stop_releases_threads_real_redis(real_redis: redis_backend.RedisTarget) -> None:
    before = threading.active_count()
    with serve(VecServer, transport="redis", redis=real_redis) as service:
        assert service.call("echo", {"name": "t"}).ok
    assert threading.active_count() == before


def test_stop_leaves_pysoa_state_as_found() -> None:
    from pysoa.common.transport.redis_gateway.backend.standard import StandardRedisClient
    from pysoa.common.transport.redis_gateway.core import RedisTransportCore

    cache_before = dict(RedisTransportCore._backend_layer_cache)
    method_before = StandardRedisClient.__dict__["_get_connection_list"]
    with serve(VecServer, transport="redis") as first, serve(VecServer, transport="redis") as second:
        assert first.call("echo", {"name": "a"}).body == {"greeting": "hello a"}
        assert second.call("echo", {"name": "b"}).body == {"greeting": "hello b"}
        # Real hosts still go to the original method while fakes are routed.
        connections = StandardRedisClient._get_connection_list([("127.0.0.1", 6379)])
        assert [type(c).__module__.split(".")[0] for c in connections] == ["redis"]
    assert RedisTransportCore._backend_layer_cache == cache_before
    # Uninstalled when the last fake-routed service stops (still installed while a module fixture runs).
    assert StandardRedisClient.__dict__["_get_connection_list"] is method_before


def test_wake_queue_is_left_clean() -> None:
    with serve(VecServer, transport="redis") as service:
        target = service.redis
        assert target is not None
    with target.connect() as redis_client:
        assert redis_client.llen("pysoa:service.vecsvc") == 0


_NO_WARNINGS_SCRIPT = textwrap.dedent(
    """
    import gc, sys, threading, warnings
    warnings.simplefilter("error", ResourceWarning)
    problems = []
    sys.unraisablehook = lambda u: problems.append(f"{u.exc_type.__name__}: {u.exc_value} ({u.object!r})")
    sys.path.insert(0, sys.argv[1])
    from vecsvc import VecServer
    from pysoa.common.transport.redis_gateway.backend.standard import StandardRedisClient
    from rpctest import redis_backend
    from rpctest.stacks.pysoa.host import serve

    original = StandardRedisClient.__dict__["_get_connection_list"]
    threads = threading.active_count()
    targets = [("local", None), ("redis", None)]
    if len(sys.argv) > 2:
        targets.append(("redis", redis_backend.real(sys.argv[2])))
    for transport, target in targets:
        for _ in range(2):
            service = serve(VecServer, transport=transport, redis=target)
            assert service.call("echo", {"name": "w"}).ok
            assert service.call("broken").errors
            service.stop()
    gc.collect()
    assert StandardRedisClient.__dict__["_get_connection_list"] is original, "fakeredis routing left installed"
    assert threading.active_count() == threads, threading.enumerate()
    if problems:
        print("\\n".join(problems), file=sys.stderr)
        sys.exit(3)
    print("clean")
    """
)


def test_no_resource_warning_in_a_fresh_interpreter(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Serve and stop every transport with ResourceWarning as an error and a strict unraisable hook."""
    script = tmp_path / "serve_and_stop.py"
    script.write_text(_NO_WARNINGS_SCRIPT, encoding="utf-8")
    args = [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", str(script), str(HERE)]
    if redis_backend.find_redis_server_binary() is not None or redis_backend.real() is not None:
        target = request.getfixturevalue("real_redis")
        args.append(target.url or target.address)
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert done.stdout.strip() == "clean"


# -- lazy import, missing pysoa, redis_backend ---------------------------------------------------------


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_importing_the_host_module_does_not_import_pysoa() -> None:
    done = _run_python(
        "import sys, rpctest.stacks.pysoa.host, rpctest.redis_backend\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pysoa', 'redis', 'fakeredis'))\n"
        "assert not bad, bad\n"
    )
    assert done.returncode == 0, done.stderr


def test_missing_pysoa_names_the_extra() -> None:
    done = _run_python(
        "import sys\n"
        "sys.modules['pysoa'] = None\n"
        "from rpctest.stacks.pysoa.host import serve\n"
        "from rpctest.exceptions import StackUnavailable\n"
        "try:\n"
        "    serve(object)\n"
        "except StackUnavailable as exc:\n"
        "    print(exc)\n"
    )
    assert done.returncode == 0, done.stderr
    # pysoa fits its own environment: the install commands, with rpctest's pysoa constraints
    assert """Install it with: pip install -c "$(rpctest constraints pysoa --path)" 'pysoa<2,>=1.4.9' 'fakeredis[lua]>=2.7' 'lupa>=1.14'""" in done.stdout


def test_missing_fakeredis_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lupa", None)
    with pytest.raises(StackUnavailable, match=r"Lua support .*Install it with: pip install .*'fakeredis\[lua\]>=2.7' 'lupa>=1.14'"):
        redis_backend.fake()


def test_real_target_from_url_and_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(redis_backend.ENV_URL, raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert redis_backend.real() is None

    target = redis_backend.real("redis://10.0.0.5:6390")
    assert target is not None and (target.kind, target.host, target.port, target.db) == ("real", "10.0.0.5", 6390, 0)

    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    monkeypatch.setenv(redis_backend.ENV_URL, "redis://127.0.0.1:6379")
    target = redis_backend.real()
    assert target is not None and target.db == 4 and target.address == "redis://127.0.0.1:6379/4"
    explicit = redis_backend.real("redis://127.0.0.1:6379/7")
    assert explicit is not None and explicit.db == 7  # a database named in the URL wins


def test_redis_server_process_lifecycle(real_redis: redis_backend.RedisTarget) -> None:
    if redis_backend.find_redis_server_binary() is None:  # pragma: no cover - real_redis came from the URL
        pytest.skip("redis-server binary not installed")
    process = redis_backend.RedisServerProcess()
    target = process.start()
    assert process.start() == target  # idempotent
    assert process.running and target.kind == "real" and target.host == "127.0.0.1"
    with target.connect() as client:
        assert client.ping()
    process.stop()
    process.stop()
    assert not process.running and process.pid is None


def test_redis_server_process_reports_startup_failure(tmp_path: Path) -> None:
    fake_binary = tmp_path / "redis-server"
    fake_binary.write_text("#!/bin/sh\necho 'cannot start: simulated failure' >&2\nexit 1\n")
    fake_binary.chmod(0o755)
    process = redis_backend.RedisServerProcess(str(fake_binary), attempts=2)
    with pytest.raises(redis_backend.RedisUnavailable, match="simulated failure") as info:
        process.start()
    assert "attempt 2" in str(info.value)
    assert not process.running


def test_a_stop_right_after_start_never_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    """pysoa's AsyncEventLoopThread.join waits forever when its loop has not started running yet; a
    loaded machine makes that window real, so rpctest stops the loop its own way."""
    import threading
    import time

    from pysoa.server.internal.event_loop import AsyncEventLoopThread

    from examples.pysoa.service import UserServer
    from rpctest.stacks.pysoa import serve

    original = AsyncEventLoopThread.run

    def late_run(self: AsyncEventLoopThread) -> None:
        time.sleep(0.3)  # the window: stop() arrives before run_forever
        original(self)

    monkeypatch.setattr(AsyncEventLoopThread, "run", late_run)
    service = serve(UserServer)
    started = time.monotonic()
    service.stop()
    assert time.monotonic() - started < 5
    assert not [t for t in threading.enumerate() if t.name == "rpctest-pysoa-users-async"]
