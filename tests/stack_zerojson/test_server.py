"""rpctest's ZeroJSON server: PyCOM's check order and semantics beyond the vectors, stubs, lifecycle.

Requests go out as raw frames on a DEALER (``ask``) so each test states the exact bytes; the
answers are compared as PyCOM 0.6.0's server gives them (``docs/stacks/zerojson.md`` has its check
order and codes).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stack_zerojson.vecservices import Authenticator, Calc, Counter, Demo, Plain, Secure
from stack_zerojson.zjhelpers import endpoint, raw_dealer, receive

from rpctest.model import Reply, RpcError
from rpctest.stacks.zerojson import wire
from rpctest.stacks.zerojson.client import ZeroJSONClient
from rpctest.stacks.zerojson.errors import AccessDenied
from rpctest.stacks.zerojson.nameserver import NameServer
from rpctest.stacks.zerojson.server import (
    SessionStore,
    ZeroJSONServer,
    serve,
    serve_stubs,
)
from rpctest.stacks.zerojson.service import (
    Request,
    Service,
    interface,
    interface_of,
    method,
)
from rpctest.stubs.api import stub_action
from rpctest.stubs.router import StubRouter


@pytest.fixture(scope="module")
def server() -> Iterator[ZeroJSONServer]:
    with ZeroJSONServer([Calc, Demo, Plain, Counter, Secure, Authenticator]) as running:
        yield running


def ask(server: ZeroJSONServer, *frames: Any, delimiter: bool = True, wait: float = 5.0) -> Any:
    """Send raw application frames (dicts are JSON-encoded as PyCOM would); the decoded reply dict,
    ``("frames", [...])`` when the reply has an attachment, or None when nothing came."""
    raw = [wire.dumps(f) if isinstance(f, (dict, list)) else f for f in frames]
    with raw_dealer(server.address, server.context) as sock:
        sock.send_multipart([b"", *raw] if delimiter else raw)
        got = receive(sock, wait)
    if got is None:
        return None
    assert got[0] == b"" and got[1] == b"OK"
    body = json.loads(got[2])
    return body if len(got) == 3 else ("frames", body, got[3:])


def call(interface: str, method: str, args: Any = None, **extra: Any) -> dict[str, Any]:
    return {"interface": interface, "method": method, "args": args, **extra}


# -- check order: the first failing step decides the reply --------------------------------------------


def test_check_order_and_messages(server: ZeroJSONServer) -> None:
    cases: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((b"PING", b"{bad", b"", b"", b""), {"code": 4, "error": "Unknown command: b'PING'"}),
        ((b"CALL", call("org.pycom.demo", "echo"), b"a", b"b"), {"code": 4, "error": "Expected 2-3 parts, got 4"}),
        ((b"CALL", {"interface": "org.pycom.demo"}), {"code": 4, "error": "Field method is required"}),
        ((b"CALL", call(None, "x")), {"code": 4, "error": "Unsupported interface: None"}),
        ((b"CALL", call(["x"], "x")), {"code": 1, "error": "Unknown error during request"}),
        ((b"CALL", call("com.example.calc", None)), {"code": 2, "error": "Method 'None' not found in interface com.example.calc"}),
        ((b"CALL", call("com.example.calc", {"m": 1})), {"code": 1, "error": "Unknown error during request"}),
        # method-not-found comes before authentication: names can be probed without a token
        ((b"CALL", call("com.example.secure", "nope")), {"code": 2, "error": "Method 'nope' not found in interface com.example.secure"}),
        # authentication comes before the argument checks
        ((b"CALL", call("com.example.secure", "whoami", [1])), {"code": 5, "error": "Authentication required"}),
        ((b"CALL", call("com.example.calc", "add", {"a": 1, "b": 2}, extensions="x")), {"code": 1, "error": "Unknown error during request"}),
        ((b"CALL", call("com.example.calc", "add", "x")), {"code": 4, "error": "Expected dictionary as argument for com.example.calc.add"}),
        # prehook (type check) before the required-argument check
        ((b"CALL", call("com.example.calc", "checked", {"n": True})), {"code": 0, "result": True}),
        ((b"CALL", call("com.example.calc", "add", {"b": 1})), {"code": 4, "error": "Argument 'a' is required for com.example.calc.add"}),
        ((b"CALL", call("com.example.calc", "wrong_arity")), {"code": 1, "error": "Unknown error during request"}),
        ((b"CALL", call("com.example.calc", "one", "anything")), {"code": 0, "result": {"value": 1}}),
        ((b"CALL", call("org.pycom.demo", "throw", [1, "a"])), {"code": 1, "error": "[1, 'a']"}),
        ((b"CALL", call("com.example.plain", "introspect")), {"code": 2, "error": "Method 'introspect' not found in interface com.example.plain"}),
        ((b"CALL", call("com.example.plain", "ping", version="9.9")), {"code": 0, "result": "pong"}),
        ((b"CALL", b'{"interface": "x", "interface": "org.pycom.demo", "method": "echo", "args": 7}'), {"code": 0, "result": 7}),
    ]
    for frames, expected in cases:
        assert ask(server, *frames) == expected, frames


def test_stateful_checks(server: ZeroJSONServer) -> None:
    # the session is looked up before the method: a stale id wins over an unknown method
    stale = ask(server, b"CALL", call("com.example.counter", "nope", session_id="f" * 32))
    assert stale == {"code": 6, "error": f"Session '{'f' * 32}' has expired"}
    assert ask(server, b"CALL", call("com.example.counter", "incr", session_id=[1]))["code"] == 1
    assert ask(server, b"CALL", call("com.example.counter", "incr", session_id=5)) == {
        "code": 6,
        "error": "Session '5' has expired",
    }
    created = ask(server, b"CALL", call("com.example.counter", "nope"))
    assert created["code"] == 2 and len(created["session_id"]) == 32
    # stateless interfaces ignore a session id and reply without one
    assert ask(server, b"CALL", call("com.example.calc", "one", session_id="whatever")) == {"code": 0, "result": {"value": 1}}


@pytest.mark.parametrize(
    ("frames", "delimiter", "why"),
    [
        ((b"CALL",), True, "1 frame"),
        ((), True, "0 frame"),
        ((b"CALL", b"[1, 2]"), True, "JSON list"),
        ((b"CALL", b'"text"'), True, "JSON str"),
        ((b"CALL", b"null"), True, "JSON NoneType"),
        ((b"CALL", wire.dumps(call("org.pycom.demo", "echo"))), False, "no empty"),
    ],
)
def test_no_reply_inputs_leave_a_diagnostic(
    server: ZeroJSONServer, frames: tuple[bytes, ...], delimiter: bool, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(server.diagnostics)
    with caplog.at_level(logging.WARNING, logger="rpctest.serve"):
        assert ask(server, *frames, delimiter=delimiter, wait=0.3) is None
    new = server.diagnostics[before:]
    assert len(new) == 1 and why in new[0] and "no reply" in new[0]
    assert any(why in record.getMessage() for record in caplog.records)
    assert ask(server, b"CALL", call("org.pycom.demo", "echo", 1)) == {"code": 0, "result": 1}, "still serving"


def test_handler_exceptions_are_logged_and_kept(server: ZeroJSONServer, caplog: pytest.LogCaptureFixture) -> None:
    before = len(server.diagnostics)
    with caplog.at_level(logging.ERROR, logger="rpctest.serve"):
        assert ask(server, b"CALL", call("com.example.calc", "boom"))["code"] == 1
    assert "ValueError('kaboom')" in server.diagnostics[before]
    assert any(record.exc_info for record in caplog.records)


# -- service model --------------------------------------------------------------------------------------


def test_declared_contract_from_signatures() -> None:
    info = interface_of(Calc)
    assert info.name == "com.example.calc" and not info.stateful and info.authentication is None
    scale = info.methods["scale"]
    assert (scale.required_arguments, scale.optional_arguments) == (["x"], ["factor", "offset"])
    assert info.methods["upload"].describe()["attachments"] == {"incoming": "blob", "outgoing": None}
    assert info.introspectable and not interface_of(Plain).introspectable
    assert interface_of(Counter).stateful and interface_of(Secure).authentication == "required"
    assert Calc().add(None, 1, 2) == 3, "a declared method stays an ordinary method"


def test_declaration_errors() -> None:
    with pytest.raises(TypeError, match="self, request"):

        @method
        def bare() -> None: ...

    with pytest.raises(TypeError, match="outgoing"):
        method(results=("a",), attachments=(None, "blob"))(lambda self, request: None)
    with pytest.raises(ValueError, match="authentication"):
        interface("x", authentication="sometimes")
    with pytest.raises(TypeError, match="introspection_data"):

        @interface("x.bad")
        class Bad(Service):
            introspection_data = ["not", "a", "dict"]  # type: ignore[assignment]

    with pytest.raises(TypeError, match="not a ZeroJSON interface"):
        interface_of(object())
    with pytest.raises(RuntimeError, match="already hosted"):
        ZeroJSONServer([Calc, Calc])


def test_remote_names_keyword_only_and_returned_responses() -> None:
    @interface("com.example.misc")
    class Misc:
        @method("renamed")
        def python_name(self, request: Request, a: int, *rest: Any, kw: int = 0, **more: Any) -> Any:
            return a

        @method
        def explicit(self, request: Request) -> wire.Response:
            return request.response({"ok": True}, attachment=b"\x01")

        @method
        def refuse(self, request: Request) -> wire.Response:
            return request.error("ACCESS_DENIED", "nope")

        @method
        def unserializable(self, request: Request) -> Any:
            return {"when": object()}

    info = interface_of(Misc)
    assert set(info.methods) == {"renamed", "explicit", "refuse", "unserializable"}
    assert (info.methods["renamed"].required_arguments, info.methods["renamed"].optional_arguments) == (["a"], [])
    with serve(Misc) as running:
        assert ask(running, b"CALL", call("com.example.misc", "renamed", {"a": 4, "kw": 1})) == {"code": 0, "result": 4}
        assert ask(running, b"CALL", call("com.example.misc", "explicit")) == (
            "frames",
            {"code": 0, "result": {"ok": True}},
            [b"\x01"],
        )
        assert ask(running, b"CALL", call("com.example.misc", "refuse")) == {"code": 5, "error": "nope"}
        assert ask(running, b"CALL", call("com.example.misc", "unserializable"))["code"] == 1
        assert "not JSON-serializable" in running.diagnostics[-1]


def test_session_idle_expiry_is_sliding() -> None:
    with ZeroJSONServer([Counter], session_timeout=0.4) as running:
        with ZeroJSONClient(running.address, context=running.context) as c:
            assert c.call("com.example.counter", "incr").body == 1
            for expected in (2, 3, 4):
                time.sleep(0.2)  # each call re-arms the idle timer
                assert c.call("com.example.counter", "incr").body == expected
            time.sleep(0.6)
            assert c.call("com.example.counter", "incr").errors[0].code == 6


def test_session_store() -> None:
    now = [0.0]
    store = SessionStore(10, clock=lambda: now[0])
    session = store.create()
    assert store.lookup(session.session_id) is session and len(store) == 1
    now[0] = 9
    assert store.lookup(session.session_id) is session
    now[0] = 18
    assert store.lookup(session.session_id) is session, "the lookup at 9 re-armed the timer"
    now[0] = 29
    assert store.purge() == 1 and store.lookup(session.session_id) is None
    other = store.create()
    other.discard()
    assert other.discarded and store.lookup(other.session_id) is None
    assert store.lookup(["unhashable"]) is None
    with pytest.raises(ValueError):
        SessionStore(0)


# -- authentication ---------------------------------------------------------------------------------------


def test_authenticator_callable_and_default_policy() -> None:
    def validate(token: Any) -> dict[str, Any]:
        if token != "t1":
            raise AccessDenied("who are you")
        return {"name": "bob", "roles": []}

    with ZeroJSONServer([Secure, Demo], authenticator=validate, default_authentication="required") as running:
        whoami = call("com.example.secure", "whoami", extensions={wire.AUTH_EXTENSION: "t1"})
        assert ask(running, b"CALL", whoami) == {"code": 0, "result": {"name": "bob", "roles": []}}
        bad = call("com.example.secure", "whoami", extensions={wire.AUTH_EXTENSION: "t2"})
        assert ask(running, b"CALL", bad) == {"code": 5, "error": "who are you"}
        # the server-wide default applies to interfaces that declare no policy
        assert ask(running, b"CALL", call("org.pycom.demo", "echo", 1)) == {"code": 5, "error": "Authentication required"}


def test_no_authenticator_is_service_not_found() -> None:
    with ZeroJSONServer([Secure]) as running:
        whoami = call("com.example.secure", "whoami", extensions={wire.AUTH_EXTENSION: "tok-alice"})
        assert ask(running, b"CALL", whoami) == {
            "code": 3,
            "error": "Service with interface 'org.pycom.authenticator' not found",
        }


@pytest.mark.parametrize("how", ["address", "nameserver"])
def test_remote_authenticator(how: str) -> None:
    with ZeroJSONServer([Authenticator], address="tcp://127.0.0.1:0") as auth:
        if how == "address":
            options: dict[str, Any] = {"authenticator": auth.address}
            extra: list[Any] = []
        else:
            ns = NameServer()
            ns.add("/auth", auth.address, ["org.pycom.authenticator"])
            nameserver = ZeroJSONServer([ns], address="tcp://127.0.0.1:0").start()
            options, extra = {"nameserver": nameserver.address}, [nameserver]
        try:
            with ZeroJSONServer([Secure], **options) as running:
                good = call("com.example.secure", "whoami", extensions={wire.AUTH_EXTENSION: "tok-alice"})
                assert ask(running, b"CALL", good)["result"] == {"name": "alice", "roles": ["admin"]}
                bad = call("com.example.secure", "whoami", extensions={wire.AUTH_EXTENSION: "nope"})
                assert ask(running, b"CALL", bad) == {"code": 5, "error": "invalid token"}
        finally:
            for item in extra:
                item.stop()


# -- nameserver ---------------------------------------------------------------------------------------------


def test_nameserver() -> None:
    now = [0.0]
    ns = NameServer(clock=lambda: now[0], choose=lambda items: items[-1])
    with serve(ns) as running:
        NS = "org.pycom.nameserver"

        def ns_call(name: str, args: Any = None) -> Any:
            return ask(running, b"CALL", call(NS, name, args))

        assert ns_call("stat") == {"code": 0, "result": {}}
        assert ns_call("register", {"service": "s1", "address": "tcp://a:1", "interfaces": ["i.one", "i.two"]}) == {
            "code": 0,
            "result": {},
        }
        assert ns_call("register", {"service": "s2", "address": "tcp://b:1", "interfaces": ["i.one"]})["code"] == 0
        assert ns_call("locate", {"interface": "i.one"})["result"] == {
            "address": "tcp://b:1",
            "service": "s2",
            "interfaces": ["i.one"],
        }
        assert ns_call("locate", {"interface": "i.one", "service": "s1"})["result"]["address"] == "tcp://a:1"
        assert ns_call("locate", {"interface": "i.none"}) == {"code": 3, "error": "Interface not found: i.none"}
        assert [e["service"] for e in ns_call("list_services")["result"]] == ["s1", "s2"]
        assert [e["service"] for e in ns_call("list_services", {"interface": "i.t"})["result"]] == ["s1"]
        assert ns_call("list_services", {"service": "("})["code"] == 4
        conflict = ns_call("register", {"service": "s1", "address": "tcp://c:1", "interfaces": []})
        assert conflict == {"code": 5, "error": "Service s1 already registered on a different address"}
        wrong = ns_call("register", {"service": "s3", "address": 5, "interfaces": []})
        assert wrong == {
            "code": 4,
            "error": "Invalid type for argument 'address' of 'org.pycom.nameserver.register', "
            "expected '<class 'str'>', got '<class 'int'>'",
        }
        not_strings = ns_call("register", {"service": "s3", "address": "x", "interfaces": [1]})
        assert not_strings == {"code": 4, "error": "Validation failed for argument 'interfaces' of 'org.pycom.nameserver.register'"}
        now[0] = 61
        assert ns_call("list_services")["result"] == [], "registrations expire after 60 s"
        intro = ns_call("introspect")["result"]
        assert intro["methods"]["register"]["required_arguments"] == ["address", "interfaces", "service"]
        assert intro["methods"]["locate"]["optional_arguments"] == ["service"]


# -- stubs ----------------------------------------------------------------------------------------------------


@pytest.fixture
def router() -> StubRouter:
    return StubRouter(intercept=False)


def test_stubs_answer_over_the_wire(router: StubRouter) -> None:
    with (
        stub_action("com.example.users", "get", body={"id": 1}, stack="zerojson", router=router) as get,
        stub_action("com.example.users", "delete", errors=5, stack="zerojson", router=router),
        stub_action("com.example.users", "fail", errors="BAD_REQUEST", stack="zerojson", router=router),
        stub_action(
            "com.example.users",
            "file",
            side_effect=lambda body: Reply(body={"n": 1}, attachment=b"data", meta={"session_id": "s-1"}),
            stack="zerojson",
            router=router,
        ),
        stub_action("com.example.users", "crash", side_effect=ValueError("x"), stack="zerojson", router=router),
        stub_action(
            "com.example.users",
            "picky",
            body="yes",
            match={"mode": "a"},
            stack="zerojson",
            router=router,
        ),
    ):
        with serve_stubs(router) as running:
            assert running.interfaces == ["com.example.users"]
            got = call("com.example.users", "get", {"id": 1}, session_id="abc", extensions={wire.AUTH_EXTENSION: "tk"})
            assert ask(running, b"CALL", got, b"att") == {"code": 0, "result": {"id": 1}}
            seen = get.calls[0]
            assert (seen.stack, seen.body, seen.attachment) == ("zerojson", {"id": 1}, b"att")
            assert seen.meta == {"session_id": "abc", "extensions": {wire.AUTH_EXTENSION: "tk"}, "token": "tk"}
            assert ask(running, b"CALL", call("com.example.users", "delete")) == {"code": 5, "error": None}
            assert ask(running, b"CALL", call("com.example.users", "fail")) == {"code": 4, "error": None}
            assert ask(running, b"CALL", call("com.example.users", "file")) == (
                "frames",
                {"code": 0, "session_id": "s-1", "result": {"n": 1}},
                [b"data"],
            )
            assert ask(running, b"CALL", call("com.example.users", "crash")) == {
                "code": 1,
                "error": "Unknown error during request",
            }
            assert ask(running, b"CALL", call("com.example.users", "picky", {"mode": "a"})) == {"code": 0, "result": "yes"}
            before = len(running.diagnostics)
            near = ask(running, b"CALL", call("com.example.users", "picky", {"mode": "b"}))
            assert near["code"] == 4 and "Nearest stub" in near["error"] and "'b'" in near["error"]
            missing = ask(running, b"CALL", call("com.example.users", "nope"))
            assert missing == {"code": 2, "error": "Method 'nope' not found in interface com.example.users"}
            assert ask(running, b"CALL", call("com.example.other", "get")) == {
                "code": 4,
                "error": "Unsupported interface: com.example.other",
            }
            assert len(running.diagnostics) == before + 2
            assert "No stub matches" in running.diagnostics[-1]


def test_stubs_come_and_go_and_shadow_hosted_methods(router: StubRouter) -> None:
    with serve(Calc, router=router) as running:
        assert ask(running, b"CALL", call("com.example.calc", "add", {"a": 1, "b": 1})) == {"code": 0, "result": 2}
        with stub_action("com.example.calc", "add", body=99, stack="zerojson", router=router):
            assert ask(running, b"CALL", call("com.example.calc", "add", {"a": 1, "b": 1})) == {"code": 0, "result": 99}
            assert ask(running, b"CALL", call("com.example.calc", "one")) == {"code": 0, "result": {"value": 1}}
        with stub_action("com.example.new", "x", errors=RpcError(42, "custom"), stack="zerojson", router=router):
            assert ask(running, b"CALL", call("com.example.new", "x")) == {"code": 42, "error": "custom"}
        assert ask(running, b"CALL", call("com.example.new", "x"))["error"] == "Unsupported interface: com.example.new"


def test_stub_error_codes_that_are_not_zerojson_codes(router: StubRouter) -> None:
    from rpctest import RpcError
    from rpctest.exceptions import StubUsageError

    with pytest.raises(StubUsageError, match="NOT_A_CODE"):  # refused where the stub is written
        stub_action("com.example.users", "x", errors="NOT_A_CODE", stack="zerojson", router=router)
    # one a side effect makes at call time can only be refused by the server: code 1, and why
    with stub_action("com.example.users", "x", side_effect=lambda args: RpcError("NOT_A_CODE"), stack="zerojson", router=router):
        with serve_stubs(router) as running:
            assert ask(running, b"CALL", call("com.example.users", "x"))["code"] == 1
            assert "NOT_A_CODE" in running.diagnostics[-1]


def ask_raw(server: ZeroJSONServer, *frames: bytes) -> list[bytes] | None:
    """The reply's frames as they came, delimiter included (None when nothing came)."""
    with raw_dealer(server.address, server.context) as sock:
        sock.send_multipart([b"", *frames])
        return receive(sock, 5.0)


def test_a_stubs_own_reply_is_the_same_bytes_every_call_and_every_call_is_recorded(router: StubRouter) -> None:
    """The stub server encodes a stub's own reply once (issue 21); each call still gets it whole and is
    recorded, and a value the test sets on the handle answers from the next call on."""
    request = [b"CALL", wire.dumps(call("com.example.users", "get", {"id": 1})), b"in"]
    with stub_action("com.example.users", "get", body={"id": 1, "name": "Пé"}, attachment=b"out", stack="zerojson",
                     router=router) as get:
        with serve_stubs(router) as running:
            first, second = ask_raw(running, *request), ask_raw(running, *request)
            assert first == second == [b"", b"OK", b'{"code": 0, "result": {"id": 1, "name": "\\u041f\\u00e9"}}', b"out"]
            get.return_value = {"id": 2}  # the test's value is the whole reply: no attachment
            assert ask_raw(running, *request) == [b"", b"OK", b'{"code": 0, "result": {"id": 2}}']
            get.reset_mock(return_value=True)
            assert ask_raw(running, *request) == first
    assert get.call_count == 1 and len(get.calls) == 1  # reset_mock forgot the three before it
    assert get.calls[0].attachment == b"in" and get.call_body == {"id": 1}


def test_what_a_stubs_reply_needs_reported_is_reported_on_every_call(router: StubRouter) -> None:
    with (
        stub_action("com.example.users", "two", errors=[4, 5], stack="zerojson", router=router),
        stub_action("com.example.users", "odd", body={"when": object()}, stack="zerojson", router=router),
    ):
        with serve_stubs(router) as running:
            for _ in range(2):
                assert ask(running, b"CALL", call("com.example.users", "two")) == {"code": 4, "error": None}
                assert ask(running, b"CALL", call("com.example.users", "odd")) == {
                    "code": 1,
                    "error": "Unknown error during request",
                }
            assert [text.split(" ")[0:4] for text in running.diagnostics] == [
                ["the", "stub", "for", "com.example.users.two"],
                ["the", "result", "is", "not"],
            ] * 2


def test_a_stub_shadowing_a_stateful_interface_answers_with_the_session(router: StubRouter) -> None:
    with serve(Counter, router=router) as running, stub_action(
        "com.example.counter", "incr", body=7, stack="zerojson", router=router
    ):
        first = ask(running, b"CALL", call("com.example.counter", "incr"))
        assert first["result"] == 7 and isinstance(first["session_id"], str)
        again = ask(running, b"CALL", call("com.example.counter", "incr", session_id=first["session_id"]))
        assert again == {"code": 0, "session_id": first["session_id"], "result": 7}


# -- lifecycle -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["inproc", "ipc", "tcp"])
def test_stop_is_prompt_and_leaves_nothing(transport: str) -> None:
    threads_before = threading.active_count()
    with endpoint(transport) as address:
        running = ZeroJSONServer([Demo], address=address).start()
        assert running.alive and threading.active_count() == threads_before + 1
        if transport == "tcp":
            assert running.address.startswith("tcp://127.0.0.1:") and not running.address.endswith(":0")
        with ZeroJSONClient(running.address, context=running.context) as c:
            assert c.call("org.pycom.demo", "echo", "hi").body == "hi"
        _ = running.client  # the lazily made client is closed by stop() too
        started = time.monotonic()
        running.stop()
        assert time.monotonic() - started < 0.9  # woken at once, not at the loop's 1 s poll
        assert not running.alive and threading.active_count() == threads_before
        if transport == "ipc":
            path = running.address[len("ipc://") :]
            deadline = time.monotonic() + 2
            while os.path.exists(path) and time.monotonic() < deadline:  # libzmq unlinks it on its I/O thread
                time.sleep(0.01)
            assert not os.path.exists(path), "closing the ROUTER removes the ipc file"
        running.stop()  # idempotent
        with pytest.raises(RuntimeError, match="stopped"):
            running.start()
        with pytest.raises(RuntimeError, match="stopped"):
            _ = running.client


def test_bind_failures_are_clear() -> None:
    with ZeroJSONServer([], address="tcp://127.0.0.1:0") as first:
        with pytest.raises(OSError, match="cannot bind"):
            ZeroJSONServer([], address=first.address).start()
    with pytest.raises(OSError, match="cannot bind"):
        ZeroJSONServer([], address="bogus://x").start()


def test_start_is_idempotent_and_stop_without_start() -> None:
    running = ZeroJSONServer([Demo])
    running.stop()
    assert not running.alive
    again = ZeroJSONServer([Demo])
    assert again.start() is again.start()
    again.stop()
    assert "stopped" in repr(again)


def test_a_server_on_a_private_context() -> None:
    context = zmq.Context()
    try:
        with ZeroJSONServer([Demo], context=context) as running:
            with ZeroJSONClient(running.address, context=context) as c:
                assert c.call("org.pycom.demo", "echo", 3).body == 3
    finally:
        context.term()


# -- one bad frame fails its own request at most (issue 15) --------------------------------------------------

#: the frame of issue 15: 2 KB of nested arrays, deeper than json.loads can recurse
DEEP = b"[" * 1000 + b"]" * 1000


def test_one_deeply_nested_body_fails_alone_and_the_server_keeps_answering(caplog: pytest.LogCaptureFixture) -> None:
    """A real socket, as in the issue: PyCOM 0.6.0's handler crashes on this body (its decoder catches
    ValueError only) and sends nothing, but keeps serving; rpctest's server must do the same, not die."""
    with ZeroJSONServer([Calc], address="tcp://127.0.0.1:0") as server:
        for _ in range(3):  # the issue saw 3 of 3 later calls time out
            with caplog.at_level(logging.WARNING, logger="rpctest.serve"):
                assert ask(server, b"CALL", DEEP, wait=0.5) is None
            assert ask(server, b"CALL", call("com.example.calc", "add", {"a": 1, "b": 2})) == {"code": 0, "result": 3}
        assert server.alive and server.error is None
        nested = [d for d in server.diagnostics if "recursion" in d]
        assert len(nested) == 3 and all("no reply" in d for d in nested), server.diagnostics


class _Unprintable(Exception):
    def __repr__(self) -> str:
        raise RuntimeError("this exception cannot be shown")


@interface("com.example.odd")
class Odd(Service):
    @method
    def unprintable(self, request: Request) -> Any:
        raise _Unprintable()


def test_a_message_whose_handling_fails_gets_no_reply_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    """What escapes handle() (here: reporting a method's exception whose repr raises) fails that
    message alone, reported with the message's frame count, and the next message is answered."""
    with ZeroJSONServer([Odd, Calc], address="tcp://127.0.0.1:0") as server:
        with caplog.at_level(logging.ERROR, logger="rpctest.serve"):
            assert ask(server, b"CALL", call("com.example.odd", "unprintable"), wait=0.5) is None
        assert ask(server, b"CALL", call("com.example.calc", "add", {"a": 1, "b": 2})) == {"code": 0, "result": 3}
        assert server.alive and server.error is None
        failed = [d for d in server.diagnostics if "internal error" in d]
        assert failed == ["a message of 4 frame(s): internal error, no reply was sent: RuntimeError: this exception cannot be shown"]
        assert any(record.exc_info and record.exc_info[0] is RuntimeError for record in caplog.records)


def test_undecodable_numbers_and_text_get_pycoms_code_4() -> None:
    """Observed of PyCOM 0.6.0: an integer of more than 4300 digits is the ValueError its decoder
    catches (code 4 quoting it), bytes that are not UTF-8 are code 4 too; a huge string is just data."""
    prefix = b'{"interface": "com.example.calc", "method": "add", "args": {"a": '
    with ZeroJSONServer([Calc], address="tcp://127.0.0.1:0") as server:
        answer = ask(server, b"CALL", prefix + b"1" * 5000 + b', "b": 2}}')
        assert answer["code"] == 4 and answer["error"].startswith("Cannot decode response: Exceeds the limit (4300 digits)")
        assert ask(server, b"CALL", prefix + b'"\xff", "b": 2}}') == {"code": 4, "error": "Invalid encoding, expected UTF-8"}
        big = "x" * 1_000_000
        assert ask(server, b"CALL", call("com.example.calc", "add", {"a": big, "b": "y"})) == {"code": 0, "result": big + "y"}
        assert server.alive


def test_a_reply_too_deep_to_handle_fails_its_own_request() -> None:
    """A stub that echoes a deep argument back: the decoder took it, what follows may not; that request
    gets code 1 (PyCOM's answer for what fails inside the server) or nothing, and the server goes on."""
    router = StubRouter(intercept=False)
    stub_action("deep", "echo", stack="zerojson", router=router, side_effect=lambda args: args).start()
    with serve_stubs(router, address="tcp://127.0.0.1:0") as server:
        for depth in (400, 700, 900, 990):
            body = b'{"interface": "deep", "method": "echo", "args": ' + b"[" * depth + b"]" * depth + b"}"
            answer = ask(server, b"CALL", body, wait=2.0)
            assert answer is None or answer["code"] in (0, 1), (depth, answer)
            assert ask(server, b"CALL", call("deep", "echo", [1])) == {"code": 0, "result": [1]}, depth
        assert server.alive and server.error is None


# -- robustness: whatever arrives, the server answers well-formed ZeroJSON or nothing -------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),  # small: scale() multiplies
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_names = st.sampled_from(["com.example.calc", "com.example.counter", "com.example.secure", "org.pycom.demo", "x"])
_methods = st.sampled_from(["add", "scale", "checked", "upload", "download", "incr", "reset", "whoami", "echo", "nope"])
_bodies = st.fixed_dictionaries(
    {},
    optional={
        "interface": _names | _json,
        "method": _methods | _json,
        "args": _json,
        "session_id": st.text(max_size=4) | _json,
        "extensions": st.just({wire.AUTH_EXTENSION: "tok-alice"}) | _json,
        "version": _json,
    },
)
_frames = st.lists(
    st.binary(max_size=12) | _bodies.map(wire.dumps) | st.sampled_from([b"CALL", b""]), max_size=5
)


@pytest.fixture(scope="module")
def unstarted() -> ZeroJSONServer:
    """A server used through handle() only: no socket, no thread."""
    return ZeroJSONServer([Calc, Counter, Secure, Demo, Authenticator])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(envelope=st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=2), frames=_frames)
def test_any_message_gets_a_wellformed_reply_or_none(
    unstarted: ZeroJSONServer, envelope: list[bytes], frames: list[bytes]
) -> None:
    before = len(unstarted.diagnostics)
    reply = unstarted.handle([*envelope, b"", *frames])
    if reply is None:
        assert len(unstarted.diagnostics) > before, "no reply without a diagnostic saying why"
        return
    assert reply[: len(envelope) + 1] == [*envelope, b""], "the reply goes back along the same envelope"
    response = wire.decode_response(reply[len(envelope) + 1 :])
    assert response.code in (0, 1, 2, 3, 4, 5, 6)
    if response.code == 0:
        assert response.error is None
    else:
        assert isinstance(response.error, str) and response.error, "every error these services give has a message"


@given(value=_json, session=st.none() | st.text(max_size=5), attachment=st.none() | st.binary(max_size=5))
def test_codec_round_trips(value: Any, session: str | None, attachment: bytes | None) -> None:
    response = wire.Response(result=value, session_id=session, attachment=attachment)
    assert wire.decode_response(wire.encode_response(response)) == response
    request = wire.Request("i", "m", value, session_id=session, attachment=attachment)
    assert wire.decode_request(wire.encode_request(request)) == request


def test_the_stub_server_binds_loopback_only() -> None:
    """A test double on 0.0.0.0 would answer anyone on the network: refused, with the way out named."""
    from silent import assert_stub_server_refuses_public_addresses

    assert_stub_server_refuses_public_addresses("zerojson")


def test_rpctest_serve_may_serve_other_machines_with_a_warning() -> None:
    from silent import serve_publicly

    first, err = serve_publicly("zerojson", "contracts/consumers/rpctest-examples--zerojson--com.example.shop.json", "tcp://0.0.0.0:0")
    assert first.startswith("rpctest serve: zerojson stub provider at "), (first, err)
    assert "WARNING serving on 0.0.0.0, which is not loopback: other machines can reach this server" in err

