"""Code that calls the ``calc`` AsyncAPY service over a plain socket: what the consumer tests cover.

AsyncAProto by hand: a 4-byte big-endian length, version 22, encoding 0 (JSON), the packet; the
server answers with frames of the same shape and closes the connection.
"""

from __future__ import annotations

import json
import socket


class CalcError(Exception):
    """The service answered with a failure packet, or closed without answering."""


def request(address: str, packet: dict, *, timeout: float = 2.0) -> list[dict]:
    """Send one packet to ``host:port`` and return every packet of the reply."""
    host, port = address.removeprefix("asyncapy://").split("?")[0].rsplit(":", 1)
    body = json.dumps(packet).encode()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall((len(body) + 2).to_bytes(4, "big") + bytes([22, 0]) + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    packets = []
    while data:
        length = int.from_bytes(data[:4], "big")
        packets.append(json.loads(data[6 : 4 + length]))
        data = data[4 + length :]
    return packets


def _answer(address: str, packet: dict) -> dict:
    replies = request(address, packet)
    if not replies:
        raise CalcError("the service closed the connection without a reply (a packet it does not take)")
    if replies[0].get("status") == "failure":
        raise CalcError(replies[0]["error"])
    return replies[0]


def add(address: str, a: int, b: int) -> int:
    return _answer(address, {"action": "add", "a": a, "b": b})["sum"]


def share(address: str, total: int, people: int) -> str:
    """How ``total`` is shared among ``people``, in words."""
    try:
        answer = _answer(address, {"action": "divide", "a": total, "b": people})
    except CalcError as exc:
        return f"cannot share {total}: {exc}"
    return f"{answer['quotient']} each, {answer['remainder']} left over"
