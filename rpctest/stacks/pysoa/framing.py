"""PySOA's transport unit for :mod:`rpctest.fuzz.garbage`: one element of a Redis request list.

A unit is what a PySOA client pushes onto ``pysoa:service.<name>``: the protocol prefix
``pysoa-redis/3//``, the ``content-type`` header, and the msgpack envelope ``{request_id, meta,
body}`` of a valid call, which the payload damage of :mod:`rpctest.fuzz.garbage` changes. The
breakages here are PySOA's: protocol prefixes and versions, content types and headers, chunk headers
that do not add up, envelopes whose fields have other types or are missing, JSON payloads, PySOA's
msgpack ext types with the wrong lengths. The sender pushes each unit onto the service's queue and
waits (at most the wait) for the server to take it; the liveness check is the valid call through
rpctest's wire client, on a reply queue of its own.
"""

from __future__ import annotations

import copy
import random
import time
import uuid
from typing import Any

import msgpack

from rpctest.fuzz.garbage import FrameShape, damage_payload
from rpctest.model import Call, ErrorKind
from rpctest.stacks.pysoa import wire
from rpctest.stacks.pysoa.redis_client import PySOAWireClient, parse_address

__all__ = ["GarbageTarget"]

_MSGPACK_HEADER = b"content-type:" + wire.CONTENT_TYPE_MSGPACK.encode() + b";"


class _Wrap:
    """A list element around a msgpack payload (the envelope kept for the breakages)."""

    def __init__(self, envelope: dict[str, Any]) -> None:
        self.envelope = envelope

    def __call__(self, payload: bytes) -> bytes:
        return wire.PROTOCOL_PREFIX_V3 + _MSGPACK_HEADER + payload


def _envelope(shape: FrameShape) -> dict[str, Any]:
    return copy.deepcopy(shape.wrap.envelope)  # type: ignore[attr-defined]


def _protocol(rng: random.Random, shape: FrameShape) -> bytes:
    """A protocol prefix PySOA does not have: versions 0 and 99, no digits, one slash, a huge number."""
    prefix = rng.choice((b"pysoa-redis/0//", b"pysoa-redis/99//", b"pysoa-redis///", b"pysoa-redis/3/", b"pysoa-redis/x//",
                         b"pysoa-redis/" + b"9" * 5000 + b"//", b"PYSOA-REDIS/3//", b"pysoa-redis/3//pysoa-redis/3//"))
    return prefix + _MSGPACK_HEADER + shape.payload


def _content_type(rng: random.Random, shape: FrameShape) -> bytes:
    """A content type PySOA has no serializer for, the other codec's, or a broken header."""
    header = rng.choice((b"content-type:application/x-unknown;", b"content-type:application/json;", b"content-type:;",
                         b"content-type : application/msgpack ;", b"Content-Type:application/msgpack;", b"content-type:application/msgpack",
                         b"content-type:application/msgpack;content-type:application/json;", b"content-type:\xff\xfe;",
                         b"x-unknown-header:1;" + _MSGPACK_HEADER))
    return wire.PROTOCOL_PREFIX_V3 + header + shape.payload


def _chunks(rng: random.Random, shape: FrameShape) -> bytes:
    """Chunk headers that do not add up: counts and ids of 0, past each other, negative, huge, not numbers."""
    count, chunk = rng.choice(((b"0", b"0"), (b"1", b"2"), (b"2", b"1"), (b"-1", b"1"), (b"9" * 30, b"1"), (b"x", b"1"), (b"2", b""), (b"3", b"3")))
    return wire.PROTOCOL_PREFIX_V3 + _MSGPACK_HEADER + b"chunk-count:" + count + b";chunk-id:" + chunk + b";" + shape.payload


def _fields(rng: random.Random, shape: FrameShape) -> bytes:
    """The envelope with one field of another type, or without it."""
    envelope = _envelope(shape)
    where, key = rng.choice((((), "request_id"), ((), "meta"), ((), "body"), (("meta",), "reply_to"), (("meta",), "__expiry__"),
                             (("meta",), "client_version"), (("body",), "actions"), (("body",), "control"), (("body",), "context")))
    holder = envelope
    for step in where:
        holder = holder[step]
    if rng.random() < 0.3:
        holder.pop(key, None)
    else:
        holder[key] = rng.choice((None, "", "x", -1, 0, 2**63 - 1, 1e308, [], {}, [1], True, b"\xff"))
    frame: bytes = shape.wrap(wire.encode_payload(envelope))
    return frame


def _json_payload(rng: random.Random, shape: FrameShape) -> bytes:
    """The envelope as JSON under the JSON content type, damaged as any JSON payload can be."""
    text = wire.encode_payload(_envelope(shape), wire.CONTENT_TYPE_JSON)
    return wire.PROTOCOL_PREFIX_V3 + b"content-type:application/json;" + damage_payload(rng, text, "json")[0]


def _ext_types(rng: random.Random, shape: FrameShape) -> bytes:
    """PySOA's msgpack ext types (datetime, date, time, decimal, currency) with lengths and bytes they cannot have."""
    envelope = _envelope(shape)
    code, data = rng.choice((1, 2, 3, 4, 5, 10, 0, 99, 127)), rng.randbytes(rng.choice((0, 1, 3, 7, 8, 11, 12, 16)))
    envelope["body"]["actions"][0]["body"] = {"x": msgpack.ExtType(code, data)}
    frame: bytes = shape.wrap(wire.encode_payload(envelope))
    return frame


_BREAKAGES = (_protocol, _content_type, _chunks, _fields, _json_payload, _ext_types)


class GarbageTarget:
    """A PySOA endpoint on Redis as a target of :func:`rpctest.fuzz.garbage.run_garbage`: a unit is
    one element pushed onto the request list of ``probe.service``; ``address`` is the Redis address
    (``redis://...``) or a :class:`~rpctest.redis_backend.RedisTarget` (a fakeredis has no address);
    ``probe`` is an action the endpoint answers, also the liveness check."""

    def __init__(self, address: Any, probe: Call, *, timeout: float = 5.0) -> None:
        self.redis, _service = parse_address(address)
        self.probe = probe
        self.queue = wire.request_queue_key(probe.service)
        reply_to = wire.make_reply_to(probe.service, f"rpctest-garbage-{uuid.uuid4().hex}", 1)
        self._reply_queue = wire.response_queue_key(reply_to)
        envelope = wire.request_envelope(
            [{"action": probe.operation, "body": probe.body}], request_id=1, reply_to=reply_to, expiry=time.time() + 3600,
            correlation_id="rpctest-garbage",
        )
        self.shape = FrameShape("pysoa", wire.encode_payload(envelope), "msgpack", _Wrap(envelope), _BREAKAGES)
        self._redis = self.redis.client()
        self._client = PySOAWireClient(self.redis, probe.service, timeout=timeout)

    def send(self, unit: bytes, wait: float) -> str:
        self._redis.rpush(self.queue, unit)
        deadline = time.monotonic() + wait
        while self._redis.llen(self.queue) and time.monotonic() < deadline:
            time.sleep(0.001)
        self._redis.delete(self._reply_queue)  # answers to units that still decoded: nobody reads them
        return "taken" if not self._redis.llen(self.queue) else "queued"

    def alive(self, timeout: float) -> bool:
        reply = self._client.call(self.probe, timeout=timeout)
        return not any(error.kind is ErrorKind.TRANSPORT for error in reply.all_errors)

    def close(self) -> None:
        try:
            self._client.close()
        finally:
            self._redis.connection_pool.disconnect()
