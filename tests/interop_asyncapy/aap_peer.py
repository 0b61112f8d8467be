"""The real AsyncAPY on both ends of the differential suite: its own client (``asyncapy.client.Client``)
and its own server (hosted by rpctest's host half, which runs AsyncAPY's ``_handle_client`` under
trio), plus ``rpctest serve`` in a child process, as a consumer's other process would run it.

Nothing here is AsyncAPY's code; the tests skip (or fail, under ``RPCTEST_REQUIRE_ASYNCAPY=1``) where
AsyncAPY is not installed (it is not on PyPI: the wheel is among the optional peers beside the repo).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from interop_helpers import rpctest_serve, tally  # noqa: F401  (re-exported for the tests)
from stack_asyncapy.aap_real import UNAVAILABLE, needs_asyncapy  # noqa: F401  (re-exported for the tests)


@dataclass
class Answer:
    """What one connection got: the decoded packets in order, and whether anything came at all."""

    packets: list[Any] = field(default_factory=list)

    @property
    def silent(self) -> bool:
        return not self.packets


def host_port(address: str) -> tuple[str, int]:
    """``asyncapy://HOST:PORT[?...]`` -> (host, port)."""
    rest = address.split("://", 1)[-1].split("?", 1)[0]
    host, _, port = rest.rpartition(":")
    return host, int(port)


def ask(address: str, packet: Any, *, timeout: int = 5) -> Answer:
    """Send ``packet`` with AsyncAPY's own client (no TLS: the server has none) and read every reply
    frame until the server closes the connection, as one AsyncAProto request goes."""
    from asyncapy.client import Client

    host, port = host_port(address)
    client = Client(tls=False, timeout=timeout)
    client.connect(host, port)
    try:
        client.send(packet)
        answer = Answer()
        while True:
            raw = client.receive_raw()
            if not raw:
                return answer
            answer.packets.append(json.loads(raw[client.header_size + 2:].decode()))
    finally:
        client.disconnect()
