"""A loopback endpoint that accepts TCP connections and never sends a byte (not the stack's server, or a
stuck one), for the tests that every client call ends within its timeout."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def silent_endpoint() -> Iterator[int]:
    """Yield the port of a listener that accepts everything and answers nothing; all closed on exit."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, name="silent-endpoint", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def call_against_silence(stack: str, address_format: str, operation: str = "op", body: object = None, timeout: float = 1.0) -> tuple[object, float]:
    """Call ``operation`` through ``stack``'s wire client at a silent endpoint: (what came back or was
    raised, seconds taken). The client is closed whatever happens."""
    import time

    from rpctest.model import Call
    from rpctest.stacks import get_adapter

    with silent_endpoint() as port:
        started = time.monotonic()
        try:
            client = get_adapter(stack).wire.client(address_format.format(port=port), timeout=timeout)
            try:
                outcome: object = client.call(Call(stack, "svc", operation, body if body is not None else {"a": 1}), timeout=timeout)
            finally:
                client.close()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            outcome = exc
        return outcome, time.monotonic() - started


#: per stack, a non-loopback address its stub server must refuse (and rpctest serve may use)
PUBLIC_ADDRESSES = {
    "zerojson": ("tcp://*:0", "tcp://0.0.0.0:0"),
    "pykern": ("ws://0.0.0.0:0/api",),
    "asyncapy": ("asyncapy://0.0.0.0:0",),
    "kyoukai": ("http://0.0.0.0:0",),
}


def assert_stub_server_refuses_public_addresses(stack: str) -> None:
    """The stack's stub server binds loopback only: every non-loopback address is a ConfigError."""
    import pytest

    from rpctest.exceptions import ConfigError
    from rpctest.stacks import get_adapter
    from rpctest.stubs.router import StubRouter

    for address in PUBLIC_ADDRESSES[stack]:
        with pytest.raises(ConfigError, match="binds loopback addresses only"):
            get_adapter(stack).wire.stub_server(StubRouter(intercept=False), address=address)


def serve_publicly(stack: str, contract: str, address: str) -> tuple[str, str]:
    """Start ``rpctest serve`` on a non-loopback ``address``; (first stdout line, stderr so far)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "rpctest", "serve", "--stack", stack, contract, "--address", address],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = process.stdout.readline() if process.stdout else ""
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    return first, err
