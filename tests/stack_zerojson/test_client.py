"""ZeroJSONClient: against rpctest's server over inproc, ipc and tcp, and against canned peers.

* round trips, errors, attachments, sessions and auth, with DEALER and REQ sockets, per transport;
* the client sends the very bytes PyCOM's client sent in the vectors, and reads the recorded
  replies as PyCOM's client did (``client_view``), through a ROUTER tap replaying them;
* timeouts: a silent peer raises CallTimeout quickly, and a client that timed out is usable at
  once, without ever seeing the late reply;
* broken replies raise WireError; close() releases what the client holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq
from stack_zerojson.vecservices import Peers, start_peers
from stack_zerojson.zjhelpers import TRANSPORTS, FakePeer, endpoint
from vectors import blob_bytes, load

from rpctest.exceptions import CallTimeout, ConfigError, TransportError
from rpctest.model import Call, ErrorKind, RpcError
from rpctest.stacks.zerojson import wire
from rpctest.stacks.zerojson.client import ZeroJSONClient
from rpctest.stacks.zerojson.server import ZeroJSONServer

SOCKET_TYPES = ("dealer", "req")
FAMILIES = ("calls", "errors", "auth", "sessions", "introspect_attachments", "framing")


@pytest.fixture(scope="module", params=TRANSPORTS)
def peers(request: pytest.FixtureRequest) -> Iterator[Peers]:
    with endpoint(request.param) as address_a, endpoint(request.param) as address_b:
        running = start_peers(address_a, address_b)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(params=SOCKET_TYPES)
def client(request: pytest.FixtureRequest, peers: Peers) -> Iterator[ZeroJSONClient]:
    with ZeroJSONClient(peers.a.address, socket_type=request.param, context=peers.a.context, timeout=5) as c:
        yield c


# -- against the server, per transport and socket type ------------------------------------------------


def test_round_trip(client: ZeroJSONClient, peers: Peers) -> None:
    assert peers.a.address.startswith(("inproc://", "ipc://", "tcp://127.0.0.1:"))
    assert not peers.a.address.endswith(":0")
    reply = client.call("com.example.calc", "add", {"a": 2, "b": 3})
    assert reply.ok and reply.body == 5 and reply.attachment is None and reply.meta == {}
    assert client.call("com.example.calc", "divmod", {"a": 7, "b": 2}).body == {"quotient": 3, "remainder": 1}
    assert client.call("org.pycom.demo", "echo", {"x": ["Пé", 2.5]}).body == {"x": ["Пé", 2.5]}


def test_errors_are_neutral(client: ZeroJSONClient) -> None:
    cases = [
        ("com.example.calc", "nope", None, (2, "Method 'nope' not found in interface com.example.calc", ErrorKind.NOT_FOUND)),
        ("com.example.calc", "add", {}, (4, "Argument 'a' is required for com.example.calc.add", ErrorKind.CALLER_ERROR)),
        ("com.example.none", "x", None, (4, "Unsupported interface: com.example.none", ErrorKind.CALLER_ERROR)),
        ("com.example.calc", "boom", None, (1, "Unknown error during request", ErrorKind.SERVER_ERROR)),
        ("com.example.calc", "deny", None, (5, "go away", ErrorKind.UNAUTHORIZED)),
        ("com.example.calc", "custom_code", None, (42, "custom", ErrorKind.CALLER_ERROR)),
        ("org.pycom.nameserver", "locate", {"interface": "x.y"}, (3, "Interface not found: x.y", ErrorKind.NOT_FOUND)),
    ]
    for interface, method, args, (code, message, kind) in cases:
        reply = client.call(interface, method, args)
        assert not reply.ok and reply.body is None
        assert reply.errors == [RpcError(code, message, kind=kind)], (interface, method)


def test_attachments_both_ways(client: ZeroJSONClient) -> None:
    sent = bytes(range(256)) * 3
    assert client.call("com.example.calc", "upload", attachment=sent).body == {"size": len(sent)}
    assert client.call("com.example.calc", "upload", attachment=b"").body == {"size": 0}
    assert client.call("com.example.calc", "upload").body == {"size": None}
    reply = client.call("com.example.calc", "download", {"size": 5})
    assert reply.body == {"size": 5} and reply.attachment == b"xxxxx"
    raw = client.call("com.example.calc", "raw", [1, "two"], attachment=b"\xe9t\xe9", extensions={"k": "v"})
    assert raw.body == {"args": [1, "two"], "attachment": "\xe9t\xe9", "extensions": {"k": "v"}}


def test_sessions_as_pycom_keeps_them(client: ZeroJSONClient) -> None:
    first = client.call("com.example.counter", "incr")
    assert first.body == 1 and len(first.meta["session_id"]) == 32
    assert client.session_id == first.meta["session_id"]
    assert client.call("com.example.counter", "incr", {"step": 5}).body == 6
    # an error reply's session id is not adopted
    other = client.call("com.example.counter", "incr", [1], session=None)
    assert other.errors[0].code == 4 and other.meta["session_id"] != client.session_id
    # a per-call session leaves the client's alone
    assert client.call("com.example.counter", "incr", session=other.meta["session_id"]).body == 1
    assert client.session_id == first.meta["session_id"]
    assert client.call("com.example.counter", "reset").body is None
    expired = client.call("com.example.counter", "incr")
    assert expired.errors == [
        RpcError(6, f"Session '{first.meta['session_id']}' has expired", kind=ErrorKind.CALLER_ERROR)
    ]
    assert client.session_id == first.meta["session_id"], "code 6 does not clear the id (as in PyCOM)"
    client.reset_session()
    assert client.call("com.example.counter", "incr").body == 1
    assert client.session_id != first.meta["session_id"]


def test_auth_token(client: ZeroJSONClient) -> None:
    token = client.call("org.pycom.authenticator", "authenticate", {"user": "alice", "credentials": "secret"})
    assert token.errors == [RpcError(4, "Unsupported interface: org.pycom.authenticator", kind=ErrorKind.CALLER_ERROR)]
    assert client.call("com.example.secure", "whoami").errors[0].code == 5
    assert client.call("com.example.secure", "whoami", token="bad").errors[0].message == "invalid token"
    client.token = "tok-alice"
    assert client.call("com.example.secure", "whoami").body == {"name": "alice", "roles": ["admin"]}
    assert client.call("com.example.secure", "whoami", token=None).errors[0].message == "Authentication required"


def test_neutral_call_protocol(client: ZeroJSONClient) -> None:
    calls = [
        Call("zerojson", "com.example.calc", "add", {"a": 1, "b": 1}),
        Call("zerojson", "com.example.calc", "upload", None, attachment=b"abc"),
        Call("zerojson", "com.example.secure", "whoami", meta={"token": "tok-alice"}),
        Call("zerojson", "com.example.counter", "incr", meta={"session_id": "0" * 32}),
    ]
    replies = client.call_many(calls)
    assert [r.body for r in replies[:3]] == [2, {"size": 3}, {"name": "alice", "roles": ["admin"]}]
    assert replies[3].errors[0].code == 6 and replies[3].errors[0].message == f"Session '{'0' * 32}' has expired"
    assert client.call(calls[0]).body == 2
    with pytest.raises(TypeError):
        client.call(calls[0], "add")


def test_per_call_keywords_apply_to_a_neutral_call_too(client: ZeroJSONClient) -> None:
    """call(Call(...), token=...) used to drop the token silently: the keywords override the Call's meta."""
    whoami = Call("zerojson", "com.example.secure", "whoami")
    assert client.call(whoami, token="tok-alice").body == {"name": "alice", "roles": ["admin"]}
    assert client.call(whoami, token="bad").errors[0].message == "invalid token"
    with_token = Call("zerojson", "com.example.secure", "whoami", meta={"token": "tok-alice"})
    assert client.call(with_token, token=None).errors[0].message == "Authentication required"
    assert client.call(Call("zerojson", "com.example.calc", "upload", None), attachment=b"abcd").body == {"size": 4}


def test_timeout_then_reuse(client: ZeroJSONClient) -> None:
    started = time.monotonic()
    with pytest.raises(CallTimeout) as caught:
        client.call("com.example.calc", "slow", {"ms": 1500}, timeout=0.2)
    assert time.monotonic() - started < 1.0  # the timeout ended the wait, not the 1.5 s reply
    message = str(caught.value)
    for part in ("'com.example.calc'", "'slow'", client.address, "0.2 s"):
        assert part in message
    # the server answers 'slow' late; that reply must never be taken for this one
    assert client.call("com.example.calc", "add", {"a": 20, "b": 1}).body == 21
    assert client.call("com.example.calc", "add", {"a": 1, "b": 1}).body == 2


def test_each_call_waits_its_own_timeout(client: ZeroJSONClient) -> None:
    """The socket's receive timeout follows each call's: a long one after a short one still waits long
    enough for a slow reply, and a short one after a long one still ends early."""
    assert client.call("com.example.calc", "add", {"a": 1, "b": 2}, timeout=5).body == 3
    with pytest.raises(CallTimeout, match="within 0.1 s"):  # no wait for the reply 0.4 s later
        client.call("com.example.calc", "slow", {"ms": 400}, timeout=0.1)
    # waits for the rest of the first slow call (the server's one thread) and then its own reply
    assert client.call("com.example.calc", "slow", {"ms": 200}, timeout=5).body == 200
    with pytest.raises(CallTimeout, match="within 0.1 s"):
        client.call("com.example.calc", "slow", {"ms": 400}, timeout=0.1)
    assert client.call("com.example.calc", "slow", {"ms": 200}).body == 200  # the client's own 5 s


def test_record_tells_the_recorders(peers: Peers) -> None:
    from rpctest.stubs.router import router

    seen: list[Any] = []
    stop = router.add_listener(seen.append)
    try:
        with ZeroJSONClient(peers.a.address, context=peers.a.context, record=True) as recording:
            recording.call("com.example.calc", "add", {"a": 1, "b": 2})
        with ZeroJSONClient(peers.a.address, context=peers.a.context) as quiet:
            quiet.call("com.example.calc", "add", {"a": 1, "b": 2})
    finally:
        stop()
    assert len(seen) == 1
    assert (seen[0].call.operation, seen[0].reply.body, seen[0].source) == ("add", 3, "client")


def test_hosted_service_call_goes_over_the_wire(peers: Peers) -> None:
    assert peers.b.call("validate", {"token": "tok-alice"}).body == {"name": "alice", "roles": ["admin"]}
    assert peers.a.call("add", {"a": 1, "b": 2}, interface="com.example.calc").body == 3
    with pytest.raises(TypeError, match="interface="):
        peers.a.call("add", {"a": 1, "b": 2})


# -- silent and broken peers --------------------------------------------------------------------------


@pytest.mark.parametrize("socket_type", SOCKET_TYPES)
def test_a_server_that_never_answers_times_out(socket_type: str) -> None:
    with FakePeer(lambda frames: None) as peer, ZeroJSONClient(peer.address, socket_type=socket_type, timeout=0.3) as c:
        for _ in range(2):  # the second call proves the client is not wedged (REQ would be)
            started = time.monotonic()
            with pytest.raises(CallTimeout, match="within 0.3 s"):
                c.call("i", "m")
            assert 0.25 < time.monotonic() - started < 1.5
        assert len(peer.requests) == 2


def test_nothing_bound_times_out() -> None:
    with ZeroJSONClient("inproc://rpctest-nobody-here", timeout=0.2) as c, pytest.raises(CallTimeout):
        c.call("i", "m")


@pytest.mark.parametrize("socket_type", SOCKET_TYPES)
def test_late_reply_is_never_delivered(socket_type: str) -> None:
    answered = threading.Event()

    def late(frames: list[bytes]) -> list[bytes]:
        body = wire.loads(frames[1])
        if body["method"] == "slow":
            time.sleep(0.4)
            answered.set()
            return [b"OK", b'{"code": 0, "result": "late"}']
        return [b"OK", b'{"code": 0, "result": "fresh"}']

    with FakePeer(late) as peer, ZeroJSONClient(peer.address, socket_type=socket_type, timeout=0.1) as c:
        with pytest.raises(CallTimeout):
            c.call("i", "slow")
        assert answered.wait(2)
        time.sleep(0.1)  # the late reply has arrived at the old socket by now
        assert c.call("i", "other", timeout=2).body == "fresh"


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        ([b"FAIL", b"{}"], "FAIL"),
        ([b"OK", b"not json"], "must be a JSON document"),
        ([b"OK"], "2 or 3 frames"),
        ([b"OK", b'{"no": "code"}'], "code"),
    ],
)
def test_broken_replies_raise_wire_errors(reply: list[bytes], match: str) -> None:
    with FakePeer(lambda frames: reply) as peer, ZeroJSONClient(peer.address, timeout=2) as c:
        with pytest.raises(wire.WireError, match=match) as caught:
            c.call("com.example.x", "m")
        assert "'com.example.x'" in str(caught.value) and isinstance(caught.value, TransportError)


def test_dealer_reply_without_delimiter_is_broken() -> None:
    with FakePeer(lambda frames: [b"OK", b'{"code": 0, "result": 1}'], raw=True) as peer:
        with ZeroJSONClient(peer.address, timeout=2) as c, pytest.raises(wire.WireError, match="delimiter"):
            c.call("i", "m")


def test_exchange_sends_raw_frames(peers: Peers) -> None:
    with ZeroJSONClient(peers.a.address, context=peers.a.context, timeout=0.3) as c:
        assert c.exchange([b"PING", b"{}"]) == [b"OK", b'{"code": 4, "error": "Unknown command: b\'PING\'"}']
        assert c.exchange([b"CALL", b"[1]"]) is None
        assert c.exchange(wire.encode_request(wire.Request("org.pycom.demo", "echo", 1)), delimiter=False) is None
        assert c.exchange(wire.encode_request(wire.Request("org.pycom.demo", "echo", 1))) == [
            b"OK",
            b'{"code": 0, "result": 1}',
        ]
    with ZeroJSONClient(peers.a.address, context=peers.a.context, socket_type="req") as c:
        with pytest.raises(ConfigError, match="dealer"):
            c.exchange([b"CALL", b"{}"], delimiter=False)


# -- construction and closing ---------------------------------------------------------------------------


def test_bad_arguments_are_config_errors() -> None:
    for kwargs in ({"address": "nowhere"}, {"address": "bogus://x"}, {"address": "tcp://x:1", "timeout": 0}):
        with pytest.raises(ConfigError):
            ZeroJSONClient(**kwargs)
    with pytest.raises(ConfigError):
        ZeroJSONClient("tcp://127.0.0.1:1", socket_type="pub")  # type: ignore[arg-type]


def test_close_releases_the_socket_and_only_its_own_context() -> None:
    shared = ZeroJSONClient("tcp://127.0.0.1:9")
    shared.close()
    shared.close()
    assert not zmq.Context.instance().closed
    with pytest.raises(RuntimeError, match="closed"):
        shared.call("i", "m")
    private = ZeroJSONClient("tcp://127.0.0.1:9", private_context=True)
    context = private.context
    private.close()
    assert context.closed


def test_private_context_client_talks_tcp() -> None:
    with ZeroJSONServer([], address="tcp://127.0.0.1:0") as server:
        with ZeroJSONClient(server.address, private_context=True, timeout=2) as c:
            assert c.call("x", "y").errors[0].message == "Unsupported interface: x"


# -- the client against the recorded replies (a tap replays them) ------------------------------------


def _client_vectors() -> list[Any]:
    found = []
    for family in FAMILIES:
        for vector in load("zerojson", family)["vectors"]:
            if (vector.get("sent_by") or "").startswith("real zerojson.Client"):
                found.append(pytest.param(vector, id=vector["id"]))
    return found


@pytest.mark.parametrize("socket_type", SOCKET_TYPES)
@pytest.mark.parametrize("vector", _client_vectors())
def test_client_sends_recorded_bytes_and_reads_recorded_replies(vector: dict[str, Any], socket_type: str) -> None:
    """Pauses are not replayed: the tap answers with recorded bytes, so timing cannot matter."""
    events = [e for e in vector["exchange"] if e["op"] in ("send", "recv")]
    sends = [[blob_bytes(b) for b in e["frames"]] for e in events if e["op"] == "send"]
    recvs = [[blob_bytes(b) for b in e["frames"]] for e in events if e["op"] == "recv"]
    replies = iter(recvs)
    views = vector["client_view"] if isinstance(vector["client_view"], list) else [vector["client_view"]]
    with FakePeer(lambda frames: next(replies)) as tap, ZeroJSONClient(tap.address, socket_type=socket_type) as c:
        for sent, view in zip(sends, views, strict=True):
            request = wire.decode_request(sent)
            reply = c.call(request.interface, request.method, request.args, token=request.token)
            _assert_client_view(reply, view)
        assert tap.requests == sends


def _assert_client_view(reply: Any, view: dict[str, Any]) -> None:
    if "client_returns" in view:
        assert reply.ok
        assert reply.body == view["client_returns"]["result"]
        if "attachment_hex" in view["client_returns"]:
            assert reply.attachment == bytes.fromhex(view["client_returns"]["attachment_hex"])
    else:
        assert reply.errors[0].code == view["code"] and reply.errors[0].message == view["message"]
        # PyCOM's client raises MethodNotFound for 2 only, RemoteError otherwise
        expected_kind = ErrorKind.NOT_FOUND if view["client_raises"] == "MethodNotFound" else reply.errors[0].kind
        assert reply.errors[0].kind == expected_kind


def test_a_call_to_an_endpoint_that_never_answers_ends_within_its_timeout() -> None:
    """A peer that accepts TCP and sends nothing (not a zerojson server, or a stuck one) never hangs a call."""
    from silent import call_against_silence

    outcome, seconds = call_against_silence("zerojson", "tcp://127.0.0.1:{port}", "op")
    assert type(outcome).__name__ == "CallTimeout", outcome
    assert seconds < 1.0 + 5  # the call's own 1 s timeout, with a wide margin for a loaded machine: a bound, not a speed

