"""Code that calls ``com.example.shop`` with plain pyzmq: what the consumer tests cover.

A REQ socket per call (PyCOM's REQ client is wedged for good after one timeout), with a timeout.
"""

from __future__ import annotations

import json

import zmq


class ShopError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def call(address: str, method: str, args: dict, *, timeout_ms: int = 2000) -> tuple[dict | int, bytes | None]:
    """One ZeroJSON call: (result, attachment), or ShopError for an error reply."""
    context = zmq.Context.instance()
    sock = context.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(address)
        request = {"version": "1.0", "interface": "com.example.shop", "method": method, "args": args}
        sock.send_multipart([b"CALL", json.dumps(request).encode()])
        if not sock.poll(timeout_ms):
            raise TimeoutError(f"no reply from {address} within {timeout_ms} ms")
        frames = sock.recv_multipart()
    finally:
        sock.close()
    reply = json.loads(frames[1])
    if reply.get("code", 0) != 0:
        raise ShopError(reply["code"], reply.get("error") or "")
    return reply.get("result"), (frames[2] if len(frames) > 2 else None)


def checkout(address: str, sku: str, quantity: int) -> str:
    """Order and fetch the receipt: one line for the user."""
    try:
        placed, _ = call(address, "order", {"sku": sku, "quantity": quantity})
    except ShopError as exc:
        return f"refused ({exc})"
    _, receipt = call(address, "receipt", {"order_id": placed["order_id"]})
    return f"order {placed['order_id']}: {placed['total']} due; receipt {receipt.decode().strip()!r}"
