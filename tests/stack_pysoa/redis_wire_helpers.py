"""Test helpers for the Redis wire half: a real ``pysoa.client.Client`` on any RedisTarget.

The stub server must be reachable by PySOA's own client, so the tests build one the way the host
half does (same transport settings, same fakeredis routing), and release its Redis connections
afterwards: the suite turns an unclosed socket's ResourceWarning into an error.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from rpctest.redis_backend import RedisTarget
from rpctest.stacks.pysoa import host


@contextlib.contextmanager
def pysoa_redis_client(target: RedisTarget, *services: str, timeout: int = 2, **transport: Any) -> Iterator[Any]:
    """A ``pysoa.client.Client`` with the Redis transport for ``services`` on ``target``.

    ``transport`` adds client transport kwargs (``protocol_version``, ``default_serializer_config``).
    """
    from pysoa.client.client import Client

    fake_host = host._install_fake_routing(target.fake_server) if target.is_fake else None
    redis_host, port = (fake_host, 0) if fake_host is not None else (target.host, target.port)
    extra = {"receive_timeout_in_seconds": timeout, **transport}
    config = {
        name: {
            "transport": {
                "path": host._REDIS_CLIENT_TRANSPORT,
                "kwargs": host._redis_transport_kwargs(target, redis_host, port, "client", name, extra),
            }
        }
        for name in services
    }
    client = Client(config)
    try:
        yield client
    finally:
        host.release_redis_connections(host.client_transport_cores(client))
        if fake_host is not None:
            host._uninstall_fake_routing(fake_host)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds, or fail the test naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@contextlib.contextmanager
def no_new_threads(grace: float = 2.0) -> Iterator[None]:
    """Fail if threads started inside the block are still alive after it (waiting ``grace`` for them)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + grace
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"threads left running: {[t.name for t in extra]}")
        time.sleep(0.01)
