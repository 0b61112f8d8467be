"""The host half against the real AsyncAPY: the vectors' demo server hosted by rpctest, over TCP and
without a socket. AsyncAPY is not on PyPI, so these skip (saying how to install it) where it is not
installed; see docs/stacks/asyncapy.md for how they were run."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import defaultdict
from typing import Any

import pytest

from stack_asyncapy.aap_helpers import VECTOR_KEY, all_vectors, replay
from stack_asyncapy.aap_real import build_demo_server, needs_asyncapy
from rpctest.exceptions import ConfigError
from rpctest.model import ErrorKind
from rpctest.stacks import get_adapter
from rpctest.stacks.asyncapy import errors
from rpctest.stacks.asyncapy.host import SESSION_LEAKED, AsyncAPYService, resolve_provider, serve
from rpctest.stacks.asyncapy.wire import Framing

pytestmark = needs_asyncapy
FRAMING = Framing()
VECTORS = [pytest.param(v, id=v["id"]) for v in all_vectors()]


def _frame(payload: bytes, *, version: int = 22, encoding: int = 0) -> bytes:
    return (len(payload) + 2).to_bytes(4, "big") + bytes([version, encoding]) + payload


# -- the vectors, against the real server ------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("vector", VECTORS)
async def test_the_hosted_real_server_reproduces_the_vector(vector: dict) -> None:
    """Every recorded exchange, byte for byte and with its timing class, from AsyncAPY itself hosted
    by rpctest (whole-second timeouts: AsyncAPY takes an int)."""
    peer = vector.get("peer_config", {})
    service = await asyncio.to_thread(
        serve, build_demo_server(timeout=int(peer.get("timeout_s", 2)), session_limit=peer.get("session_limit", 0))
    )
    try:
        host, port = service.address.removeprefix("asyncapy://").split(":")
        await replay(vector, host, int(port), scale=1.0)
    finally:
        await asyncio.to_thread(service.stop)


# -- tcp and local give the same bytes ---------------------------------------------------------------------

SENDS = {
    "echo-json": _frame(b'{"action": "echo", "text": "hi"}'),
    "echo-ziproto": FRAMING.encode({"action": "echo", "text": "hi"}, encoding="ziproto"),
    "add-mixed": _frame(b'{"action": "add", "a": 2, "b": "-5"}'),
    "multi-groups": _frame(b'{"action": "multi"}'),
    "stop-propagation": _frame(b'{"action": "stop"}'),
    "missing-field": _frame(b'{"action": "echo"}'),
    "extra-field": _frame(b'{"action": "echo", "text": 1, "x": 2}'),
    "handler-raises": _frame(b'{"action": "boom"}'),
    "api-key-ok": _frame(('{"action": "secret", "api_key": "%s"}' % VECTOR_KEY).encode()),
    "api-key-bad": _frame(b'{"action": "secret", "api_key": "nope"}'),
    "bad-json": _frame(b'{"action": '),
    "short-body": _frame(b"{}"),
    "bad-version": _frame(b'{"action": "echo", "text": 1}', version=11),
    "bad-encoding": _frame(b'{"action": "echo", "text": 1}', encoding=2),
    "json-array": _frame(b"[1, 2, 3]"),
    "ziproto-not-a-map": _frame(b"\x93\x01\x02\x03", encoding=1),
    "fragmented-after-header": [_frame(b'{"action": "echo", "text": "x"}')[:4], _frame(b'{"action": "echo", "text": "x"}')[4:]],
    "oversize": _frame(b'{"action": "echo", "text": "' + b"x" * 1100 + b'"}'),
}


@pytest.mark.parametrize("name", sorted(SENDS))
def test_the_local_transport_answers_what_the_socket_answers(name: str) -> None:
    data = SENDS[name]
    pause = 0.05 if isinstance(data, list) else 0.0
    answers = {}
    for transport in ("tcp", "local"):
        with serve(build_demo_server(timeout=1), transport=transport) as service:
            exchange = service.exchange(data, pause=pause, timeout=3)
            answers[transport] = (exchange.received.hex(), exchange.end, exchange.elapsed >= 0.9)
    assert answers["local"] == answers["tcp"]
    assert answers["tcp"][1] == "closed"  # AsyncAPY ends every exchange by closing (or at its deadline)


# -- the neutral call ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "local"])
def test_calls_report_replies_silences_and_leaked_sessions(transport: str) -> None:
    with serve(build_demo_server(timeout=1), transport=transport, service="demo") as service:
        assert service.call("echo", {"action": "echo", "text": "hi"}).body == {"status": "ok", "echo": "hi"}
        assert service.call("add", {"action": "add", "a": 2, "b": "3"}).body == {"status": "ok", "sum": 5}
        both = service.call("multi", {"action": "multi"})
        assert both.items == [{"part": 1}, {"part": 2}]
        assert service.call("add", {"action": "add", "a": 2, "b": "3", "c": 1}).errors[0].code == errors.CLOSED_WITHOUT_REPLY
        assert service.leaked_sessions() == 0
        raised = service.call("boom", {"action": "boom"})
        assert [e.code for e in raised.errors] == [errors.CLOSED_WITHOUT_REPLY, SESSION_LEAKED]
        assert raised.errors[1].kind is ErrorKind.SERVER_ERROR
        assert service.leaked_sessions() == 1 and service.open_sessions() == 1
        # stop_propagation leaks too, after its reply (AsyncAPY skips the session's removal)
        stopped = service.call("audit", {"action": "stop"})
        assert stopped.body == {"stopped": True} and [e.code for e in stopped.errors] == [SESSION_LEAKED]
        assert service.call("echo", {"action": "echo", "text": 1}).ok  # a leak does not fail later calls


def test_a_leaked_session_locks_a_limited_server_out_for_good() -> None:
    with serve(build_demo_server(timeout=1, session_limit=1)) as service:
        assert service.call("echo", {"action": "echo", "text": 1}).ok
        service.call("boom", {"action": "boom"})
        for _ in range(2):
            refused = service.call("echo", {"action": "echo", "text": 1})
            assert [e.code for e in refused.errors] == [errors.ERR_SESSION_LIMIT_REACHED]


def test_a_reply_within_the_servers_deadline_but_after_the_callers_is_a_call_timeout() -> None:
    from rpctest.exceptions import CallTimeout

    with serve(build_demo_server(timeout=3), timeout=0.5) as service:
        with pytest.raises(CallTimeout, match="no complete reply"):
            service.call("slow", {"action": "slow", "seconds": "1"})
        assert service.call("slow", {"action": "slow", "seconds": "1"}, timeout=2.5).body == {"status": "ok", "slept": 1.0}


@pytest.mark.asyncio
async def test_acall_does_not_block_the_running_loop() -> None:
    service = await asyncio.to_thread(serve, build_demo_server(timeout=2), transport="local")
    try:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        reply = await service.acall("slow", {"action": "slow", "seconds": "0.3"})
        ticker.cancel()
        assert reply.body == {"status": "ok", "slept": 0.3}
        assert ticks >= 10  # the loop kept running while the handler slept
    finally:
        await asyncio.to_thread(service.stop)


def test_recorded_calls_become_a_consumer_contract() -> None:
    from rpctest.contracts.recorder import Recorder

    recorder = Recorder("demo-consumer").start()
    try:
        with serve(build_demo_server(timeout=1), transport="local", record=True, service="demo") as service:
            service.call("echo", {"action": "echo", "text": "hi"})
    finally:
        recorder.stop()
    [contract] = recorder.contracts()
    assert (contract.stack, contract.service) == ("asyncapy", "demo")
    assert [(i.operation, i.request) for i in contract.interactions] == [("echo", {"action": "echo", "text": "hi"})]


# -- what AsyncAPY does to the process ---------------------------------------------------------------------


def test_isolated_servers_share_no_handlers_and_leave_the_socket_timeout_alone() -> None:
    from rpctest.stacks.asyncapy import isolated_server

    before = socket.getdefaulttimeout()
    first = build_demo_server(timeout=9)
    second = isolated_server(timeout=9)
    assert socket.getdefaulttimeout() == before
    assert first._handlers and second._handlers == {}
    with serve(second, transport="local") as service:
        assert service.call("echo", {"action": "echo", "text": 1}).errors[0].code == errors.CLOSED_WITHOUT_REPLY


def test_hosting_undoes_asyncapys_process_wide_socket_timeout() -> None:
    import asyncapy

    fresh = type("Plain", (asyncapy.Server,), {"_handlers": {}, "_sessions": defaultdict(list)})
    try:
        server = fresh(timeout=7)  # AsyncAPY's constructor: socket.setdefaulttimeout(7) for everyone
        assert socket.getdefaulttimeout() == 7
        with serve(server, transport="local"):
            assert socket.getdefaulttimeout() is None
    finally:
        socket.setdefaulttimeout(None)


def test_setup_and_shutdown_hooks_are_awaited() -> None:
    from rpctest.stacks.asyncapy import isolated_server

    calls = []
    server = isolated_server(timeout=1)

    async def setup() -> None:
        calls.append("setup")

    async def shutdown() -> None:
        calls.append("shutdown")

    server.setup, server.shutdown = setup, shutdown
    with serve(server, transport="local"):
        assert calls == ["setup"]
    assert calls == ["setup", "shutdown"]


def test_a_setup_that_raises_is_reported_by_start() -> None:
    from rpctest.stacks.asyncapy import isolated_server

    server = isolated_server(timeout=1)

    async def setup() -> None:
        raise OSError("no database")

    server.setup = setup
    with pytest.raises(ConfigError, match="could not start: OSError\\('no database'\\)"):
        serve(server)
    assert not [t for t in threading.enumerate() if t.name.startswith("rpctest-asyncapy")]


def test_stop_is_idempotent_leaves_no_thread_and_refuses_later_calls() -> None:
    service = serve(build_demo_server(timeout=1))
    # a connection left idle is cancelled by stop(), not waited for until the server's deadline
    idle = socket.create_connection(("127.0.0.1", int(service.address.rsplit(":", 1)[1])))
    try:
        service.stop()
        service.stop()
    finally:
        idle.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("rpctest-asyncapy")]
    with pytest.raises(RuntimeError, match="is stopped"):
        service.call("echo", {"action": "echo", "text": 1})


# -- naming the provider -------------------------------------------------------------------------------------


def test_providers_are_servers_factories_or_their_import_paths() -> None:
    from rpctest.stacks.asyncapy import isolated_server

    assert resolve_provider("stack_asyncapy.aap_real:build_demo_server").service_name == "demo"
    assert resolve_provider(isolated_server()).service_name == "asyncapy"
    server = build_demo_server()
    assert resolve_provider(server).service_name == "demo"
    assert resolve_provider(server, service="other").service_name == "other"
    with pytest.raises(ConfigError, match="an AsyncAPY provider is an asyncapy.Server instance"):
        resolve_provider(object())
    with pytest.raises(ConfigError, match="transport 'tcp' or 'local'"):
        AsyncAPYService(resolve_provider(server), transport="udp")


def test_the_adapter_and_the_fixture_host_it(asyncapy_service: Any) -> None:
    service = asyncapy_service(build_demo_server(timeout=1), transport="local")
    assert service.call("echo", {"action": "echo", "text": 2}).body == {"status": "ok", "echo": 2}
    hosted = get_adapter("asyncapy").host.serve(build_demo_server(timeout=1))
    try:
        assert hosted.address.startswith("asyncapy://127.0.0.1:")
    finally:
        hosted.stop()



def test_trio_code_uses_the_blocking_client_through_a_worker_thread() -> None:
    """AsyncAPY's own world is trio: the client works there as it does with anyio, off the event loop."""
    import trio

    from rpctest.stacks.asyncapy.client import AsyncAPYSyncClient

    with serve(build_demo_server(timeout=1)) as service, AsyncAPYSyncClient.from_address(service.address, timeout=3) as client:

        async def main() -> object:
            return await trio.to_thread.run_sync(client.request, {"action": "echo", "text": "t"})

        exchange = trio.run(main)
    assert exchange.packets == [{"status": "ok", "echo": "t"}] and exchange.end == "closed"


def test_a_setup_that_hangs_is_cancelled_when_start_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    import trio

    from rpctest.stacks.asyncapy import host, isolated_server

    monkeypatch.setattr(host, "_START_WAIT", 0.5)
    server = isolated_server(timeout=1)

    async def setup() -> None:
        await trio.sleep_forever()

    server.setup = setup
    with pytest.raises(Exception, match="did not start within 0.5 s"):
        serve(server)
    assert not [t for t in threading.enumerate() if t.name.startswith("rpctest-asyncapy")]
