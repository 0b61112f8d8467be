"""Every golden vector replayed against rpctest's ZeroJSON server, over inproc, ipc and tcp.

The server hosts the vectors' services declared with rpctest's service API (``vecservices``), as
the real peer did: server A with every interface and a nameserver, server B with the
authenticator, registered in A. Each vector's ``send`` frames go out on a raw DEALER (with the
REQ delimiter, or without it where the vector says so); every ``recv`` must come back byte for
byte, ``varies`` ranges masked. Masked session ids are still checked: 32 hex characters, and the
same id wherever the exchange carries it again. A ``source`` field in a request is filled with the
id received live. ``no_reply`` means nothing arrives, and the socket stays usable: a probe sent
afterwards is answered first, so no late reply to the bad request was queued; the server records
a diagnostic saying why it did not answer.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from stack_zerojson.vecservices import Peers, start_peers
from stack_zerojson.zjhelpers import TRANSPORTS, endpoint, raw_dealer, receive
from vectors import blob_bytes, load, mask

from rpctest.stacks.zerojson.server import AUTHENTICATOR_INTERFACE

FAMILIES = ("calls", "errors", "auth", "sessions", "introspect_attachments", "framing")
VECTORS = [vector for family in FAMILIES for vector in load("zerojson", family)["vectors"]]
_HEX32 = re.compile(rb"\A[0-9a-f]{32}\Z")
_PROBE = [b"CALL", b'{"interface": "org.pycom.demo", "method": "echo", "args": "probe", "version": "1.0"}']
_PROBE_REPLY = [b"OK", b'{"code": 0, "result": "probe"}']
_NO_REPLY_WAIT = 0.5  # the probe proves the rest; the recorded waits were 1.5 s


@pytest.fixture(scope="module", params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def peers(transport: str) -> Iterator[Peers]:
    with endpoint(transport) as address_a, endpoint(transport) as address_b:
        running = start_peers(address_a, address_b)
        try:
            yield running
        finally:
            running.stop()


@contextlib.contextmanager
def _peer_for(vector: dict[str, Any], peers: Peers, transport: str) -> Iterator[Any]:
    """The server to talk to: A, B for the authenticator, or a fresh A where ``peer_config`` says so."""
    config = vector.get("peer_config") or {}
    if "session_idle_timeout_ms" in config:
        with endpoint(transport) as address_a, endpoint(transport) as address_b:
            own = start_peers(address_a, address_b, session_timeout=config["session_idle_timeout_ms"] / 1000)
            try:
                yield own.a
            finally:
                own.stop()
    elif vector["service"] == AUTHENTICATOR_INTERFACE:  # recorded at server B, through the tap
        yield peers.b
    else:
        yield peers.a


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["id"]) for v in VECTORS])
def test_server_reproduces_recorded_replies(vector: dict[str, Any], peers: Peers, transport: str) -> None:
    with _peer_for(vector, peers, transport) as server:
        _replay(vector, server)


def _replay(vector: dict[str, Any], server: Any) -> None:
    delimiter = "WITHOUT the empty delimiter" not in vector["transport"].get("client_socket", "")
    events = vector["exchange"]
    live: dict[tuple[int, int], bytes] = {}  # (event, frame) -> the frame as it really came back
    session_ids: set[bytes] = set()
    diagnostics_before = len(server.diagnostics)
    with raw_dealer(server.address, server.context) as sock:
        for index, event in enumerate(events):
            op = event["op"]
            if op == "send":
                frames = [_with_live_values(blob, live) for blob in event["frames"]]
                sock.send_multipart([b"", *frames] if delimiter else frames)
            elif op == "recv":
                got = receive(sock, 5.0)
                assert got is not None, f"{vector['id']}: no reply to event {index - 1}"
                assert got[0] == b"", "a ROUTER reply starts with the empty delimiter"
                got = got[1:]
                expected = event["frames"]
                assert len(got) == len(expected), f"frames {got!r}"
                for number, (frame, blob) in enumerate(zip(got, expected)):
                    live[(index, number)] = frame
                    assert mask(frame, blob) == mask(blob_bytes(blob), blob), f"frame {number}: {frame!r}"
                    for entry in blob.get("varies", []):
                        start, end = entry["range"]
                        value = frame[start:end]
                        assert _HEX32.match(value), f"a session id is 32 lowercase hex chars, not {value!r}"
                        session_ids.add(value)
            elif op == "pause":
                time.sleep(event["seconds"])
            elif op == "no_reply":
                assert receive(sock, min(event["waited_s"], _NO_REPLY_WAIT)) is None
                sock.send_multipart([b"", *_PROBE])
                assert receive(sock, 5.0) == [b"", *_PROBE_REPLY], "the probe's reply must be the first to arrive"
                assert len(server.diagnostics) > diagnostics_before, "an unanswered request leaves a diagnostic"
            else:  # pragma: no cover - the zerojson vectors use no other events
                pytest.fail(f"unexpected event {op!r}")
    assert len(session_ids) <= 1, f"one exchange carries one session: {session_ids}"


def _with_live_values(blob: dict[str, Any], live: dict[tuple[int, int], bytes]) -> bytes:
    """The recorded bytes, with every ``source`` range replaced by the value received live."""
    data = bytearray(blob_bytes(blob))
    for entry in blob.get("varies", []):
        source = entry.get("source")
        if not isinstance(source, dict):
            continue
        start, end = entry["range"]
        received = live[(source["event"], source["frame"])]
        value = _json_value_at(received, source["path"])
        assert len(value) == end - start, "a live session id has the recorded length"
        data[start:end] = value
    return bytes(data)


def _json_value_at(frame: bytes, pointer: str) -> bytes:
    import json

    from vectors import get_pointer

    value = get_pointer(json.loads(frame), pointer)
    return value.encode("ascii")
