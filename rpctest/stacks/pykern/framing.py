"""pykern.api's transport unit for :mod:`rpctest.fuzz.garbage`: one WebSocket message, msgpack.

A message is a msgpack map ``{api_name, api_args, call_id, msg_kind}`` in a binary WebSocket message
(``docs/stacks/pykern.md``, Wire facts). Beside the payload damage of :mod:`rpctest.fuzz.garbage`,
the breakages here are pykern's own: kinds and call ids that are not positive integers or not
pykern's, ``api_name`` of every msgpack type, a field left out, a map that is not one, a text
message. pykern's server closes the connection on a message it cannot read, so the sender opens a
new one whenever the last was closed; the liveness check is a call on a connection of its own.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from rpctest.fuzz.garbage import FrameShape
from rpctest.model import Call, ErrorKind
from rpctest.stacks.pykern import wire
from rpctest.stacks.pykern.blocking_ws import BlockingWebSocket
from rpctest.stacks.pykern.sync_client import PykernSyncClient, open_websocket

__all__ = ["GarbageTarget"]

#: the call id of the probe's own message, in the shape (any positive integer would do)
_CALL_ID = 7
_ODD_VALUES: tuple[Any, ...] = (0, -1, 2**64 - 1, -(2**63), "7", "", None, [7], {"a": 1}, True, 1.5, b"\x07")


def _fields(shape: FrameShape) -> dict[str, Any]:
    return dict(shape.wrap.fields)  # type: ignore[attr-defined]


def _message_kind(rng: random.Random, shape: FrameShape) -> bytes:
    """A ``msg_kind`` that is not a kind the server takes (a reply's, none at all, another type)."""
    fields = _fields(shape)
    fields["msg_kind"] = rng.choice((wire.REPLY, wire.UNSUBSCRIBE, wire.SUBSCRIBE, 777_500, 777_505, *_ODD_VALUES))
    return wire.pack(fields)


def _call_id(rng: random.Random, shape: FrameShape) -> bytes:
    """A ``call_id`` that is not a positive integer, or one already in use."""
    fields = _fields(shape)
    fields["call_id"] = rng.choice(_ODD_VALUES)
    return wire.pack(fields)


def _api_name(rng: random.Random, shape: FrameShape) -> bytes:
    """An ``api_name`` of another msgpack type, empty, huge, or naming nothing."""
    fields = _fields(shape)
    fields["api_name"] = rng.choice((5, None, [fields["api_name"]], {"a": 1}, "", "x" * rng.choice((300, 70_000)), "api_\u00e9", b"echo"))
    return wire.pack(fields)


def _missing_field(rng: random.Random, shape: FrameShape) -> bytes:
    """The message without one (or all but one) of its four fields."""
    fields = _fields(shape)
    names = list(fields)
    for name in rng.sample(names, rng.choice((1, 2, 3))):
        del fields[name]
    return wire.pack(fields)


def _not_a_map(rng: random.Random, shape: FrameShape) -> bytes:
    """A msgpack value that is not a map: the fields as a list, a number, a string, nil."""
    fields = _fields(shape)
    return wire.pack(rng.choice((list(fields.values()), list(fields), 7, "CALL", None, [], True)))


def _text_message(rng: random.Random, shape: FrameShape) -> str:
    """A text WebSocket message (pykern takes binary ones only): the call as JSON, or random text."""
    fields = _fields(shape)
    return rng.choice((json.dumps(fields), "", "x" * rng.randrange(1, 200), rng.randbytes(rng.randrange(1, 64)).decode("latin-1")))


_BREAKAGES = (_message_kind, _call_id, _api_name, _missing_field, _not_a_map, _text_message)


class _Wrap:
    """A message is its payload as is; the probe's fields are kept for the breakages."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    def __call__(self, payload: bytes) -> bytes:
        return payload


class GarbageTarget:
    """A pykern.api endpoint as a target of :func:`rpctest.fuzz.garbage.run_garbage`: a unit is one
    WebSocket message (bytes: binary, str: text); ``probe`` is a call the endpoint answers
    (``operation`` the API name, ``body`` its ``api_args``), also the liveness check.

    The units go out on a raw WebSocket of their own (no handshake, nothing checked of what comes
    back); the liveness check is a pykern client's call on another connection."""

    def __init__(self, address: str, probe: Call, *, timeout: float = 5.0, token: Any = None) -> None:
        self.address = address
        self.probe = probe
        self.timeout = float(timeout)
        fields = {"api_name": probe.operation, "api_args": probe.body, "call_id": _CALL_ID, "msg_kind": wire.CALL}
        self.shape = FrameShape("pykern", wire.pack(fields), "msgpack", _Wrap(fields), _BREAKAGES)
        self._client = PykernSyncClient(address, token=token, timeout=timeout)  # the liveness check
        self._raw: BlockingWebSocket | None = None

    def send(self, unit: bytes | str, wait: float) -> str:
        """Send ``unit`` on the raw connection (a new one if the last was closed): "close" if the
        server closed it within ``wait`` seconds, else "none" (whatever it answered is dropped)."""
        if self._raw is None or self._raw.closed:
            self._raw = open_websocket(self.address, self.timeout)
        deadline = time.monotonic() + wait
        try:
            if not self._raw.send(unit, time.monotonic() + self.timeout):
                return "close"
            while self._raw.receive(deadline) is not None:
                pass
        except TimeoutError:  # no close in time (or the server stopped reading what was sent)
            return "none"
        return "close"

    def alive(self, timeout: float) -> bool:
        reply = self._client.call(self.probe, timeout=timeout)
        return not any(error.kind is ErrorKind.TRANSPORT for error in reply.all_errors)

    def close(self) -> None:
        try:
            if self._raw is not None:
                self._raw.close(self.timeout)
        finally:
            self._client.close()
