"""The real PySOA as a peer: its ``Server.run()`` in a child process on a real Redis, its own
``Client``, and one call through either that client or rpctest's wire client, reduced to the same
comparable answer."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from peer_process import stop_peer

HERE = Path(__file__).resolve().parent
REDIS_CLIENT_TRANSPORT = "pysoa.common.transport.redis_gateway.client:RedisClientTransport"


def address_of(redis: Any, service: str, db: int | None = None) -> str:
    return f"redis://{redis.host}:{redis.port}/{redis.db if db is None else db}#service.{service}"


def pysoa_client(redis: Any, *services: str, db: int | None = None) -> Any:
    """PySOA's own ``Client``, configured as a deployment does for each service on that Redis."""
    from pysoa.client.client import Client

    transport = {"path": REDIS_CLIENT_TRANSPORT, "kwargs": {
        "backend_type": "redis.standard",
        "backend_layer_kwargs": {"hosts": [(redis.host, redis.port)], "connection_kwargs": {"db": redis.db if db is None else db}},
    }}
    return Client({service: {"transport": transport} for service in services})


def _errors(errors: Any) -> list[tuple[Any, ...]]:
    return sorted((e.code, e.field, e.message, bool(e.is_caller_error) if e.is_caller_error is not None else None) for e in errors)


def pysoa_answer(client: Any, service: str, action: str, body: Any) -> tuple[Any, ...]:
    """("ok", body) or ("errors", [(code, field, message, is_caller_error)]) from PySOA's ``Client``."""
    response = client.call_action(service, action, body, raise_action_errors=False)
    if response.errors:
        return ("errors", _errors(response.errors))
    return ("ok", response.body)


def rpctest_answer(address: Any, action: str, body: Any, *, service: str | None = None) -> tuple[Any, ...]:
    """The same call through rpctest's wire client (no pysoa imported by it); ``address`` is a
    ``redis://...#service.NAME`` URL, or a ``RedisTarget`` (fakeredis has no URL) with ``service``."""
    from rpctest.model import Call
    from rpctest.stacks import get_adapter

    name = service or str(address).rsplit(".", 1)[1]
    with get_adapter("pysoa").wire.client(address, service=name, timeout=5.0) as client:
        reply = client.call(Call("pysoa", name, action, body))
    if reply.errors:
        return ("errors", sorted((e.code, e.field, e.message, e.details.get("is_caller_error")) for e in reply.errors))
    return ("ok", reply.body)


@contextlib.contextmanager
def pysoa_server(redis: Any, server_class: str, service: str, log: Path, *, probe: str) -> Iterator[str]:
    """``pysoa_main.py SERVER_CLASS``: PySOA's own server loop on ``redis``, in a child process; yields
    its address once it answers ``probe`` (an action name)."""
    from rpctest.exceptions import TransportError

    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "pysoa_main.py", server_class, redis.host, str(redis.port), str(redis.db)],
                                   cwd=HERE, stdout=out, stderr=subprocess.STDOUT)
    address = address_of(redis, service)
    try:
        until = time.monotonic() + 30
        while True:
            try:
                rpctest_answer(address, probe, {})
                break
            except TransportError:
                if process.poll() is not None or time.monotonic() > until:
                    raise AssertionError(f"PySOA's server did not answer on {address}:\n{log.read_text()[-2000:]}") from None
        yield address
    finally:
        stop_peer(process)
