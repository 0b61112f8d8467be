"""The garbage frames generator and runner (rpctest.fuzz.garbage), with no stack library: a shape of
the tests' own (a length-prefixed JSON unit) and an endpoint in this process that can be told to die."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

import pytest

from rpctest.fuzz.garbage import FrameShape, GarbageReport, damage_payload, garbage_frames, run_garbage, unit_bytes

PAYLOAD = json.dumps({"action": "add", "a": 1, "b": 2}).encode()
MSGPACK = b"\x83\xa6action\xa3add\xa1a\x01\xa1b\x02"


def _length_prefixed(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def _wrong_length(rng: random.Random, shape: FrameShape) -> bytes:
    return rng.randrange(1 << 32).to_bytes(4, "big") + shape.payload


def _frames(payload: bytes) -> list[bytes]:
    return [b"", b"CALL", payload]


SHAPE = FrameShape("toy", PAYLOAD, "json", _length_prefixed, (_wrong_length,))


def test_the_same_seed_gives_the_same_frames_and_another_seed_others() -> None:
    first = [unit_bytes(f.unit) for f in garbage_frames(SHAPE, seed=7, count=300)]
    again = [unit_bytes(f.unit) for f in garbage_frames(SHAPE, seed=7, count=300)]
    other = [unit_bytes(f.unit) for f in garbage_frames(SHAPE, seed=8, count=300)]
    assert first == again
    assert first != other and len(set(first) & set(other)) < 150


def test_frames_are_distinct_malformed_bounded_and_of_every_kind() -> None:
    frames = list(garbage_frames(SHAPE, seed=1, count=2000, max_size=64 * 1024))
    data = [unit_bytes(f.unit) for f in frames]
    assert len(set(data)) == 2000 and SHAPE.valid not in data
    assert [f.index for f in frames] == list(range(2000))
    assert all(f.size == len(d) <= 64 * 1024 + 4096 for f, d in zip(frames, data))
    kinds = Counter(f.label.split(":")[0] for f in frames)
    assert {"json", "framing", "bytes"} <= set(kinds) and min(kinds.values()) > 100, kinds
    labels = " | ".join(f.label for f in frames)
    for damage in ("nested", "digits", "a string of", "not UTF-8", "surrogate", "cut to", "framing: wrong length"):
        assert damage in labels, damage
    # the payload damage reaches the decoder: the length prefix still matches the damaged payload
    wrapped = [d for f, d in zip(frames, data) if f.label.startswith("json:")]
    assert all(int.from_bytes(d[:4], "big") == len(d) - 4 for d in wrapped)


def test_the_issue_15_kind_of_frame_comes_early() -> None:
    """Nesting past the recursion limit, what killed the ZeroJSON server, is among the first frames."""
    depths = [int(next(n for n in re.findall(r"\d+", f.label))) for f in garbage_frames(SHAPE, seed=0, count=500) if "nested" in f.label]
    assert any(depth >= 1000 for depth in depths), depths


def test_msgpack_payloads_and_lists_of_frames() -> None:
    shape = FrameShape("toy-frames", MSGPACK, "msgpack", _frames)
    frames = list(garbage_frames(shape, seed=3, count=1000))
    assert all(isinstance(f.unit, list) and f.unit for f in frames)
    labels = " | ".join(f.label for f in frames)
    for damage in ("msgpack: a new key nested", "not UTF-8", "ext type", "reserved byte c1", "not a str", "frame "):
        assert damage in labels, damage
    rng = random.Random(5)
    assert all(isinstance(damage_payload(rng, MSGPACK, "msgpack")[0], bytes) for _ in range(200))


def test_the_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        list(garbage_frames(SHAPE, seed=1, count=-1))
    with pytest.raises(ValueError):
        list(garbage_frames(SHAPE, seed=1, count=1, max_size=10))


class _Endpoint:
    """An endpoint in this process: it stops answering (hangs) or is gone (crashes) after a given frame."""

    def __init__(self, *, hang_after: int | None = None, crash_after: int | None = None) -> None:
        self.shape = SHAPE
        self.received = 0
        self.hang_after = hang_after
        self.crash_after = crash_after
        self.closed = False

    @property
    def gone(self) -> bool:
        return self.crash_after is not None and self.received > self.crash_after

    def send(self, unit: bytes, wait: float) -> str:
        self.received += 1
        if self.received == 3:
            raise ConnectionResetError("a sender that breaks is a finding, not the end")
        return "none"

    def alive(self, timeout: float) -> bool:
        return not self.gone and not (self.hang_after is not None and self.received > self.hang_after)

    def close(self) -> None:
        self.closed = True


def test_a_healthy_endpoint_gets_every_frame_and_a_check_every_n() -> None:
    endpoint = _Endpoint()
    report = run_garbage(endpoint, seed=1, count=250, check_every=100, server_alive=lambda: not endpoint.gone)
    assert isinstance(report, GarbageReport) and report.ok
    assert (report.sent, report.checks, report.crashes, report.hangs) == (250, 4, 0, 0)  # before, 100, 200, the end
    assert report.answers == Counter({"none": 249, "error": 1}) and "ConnectionResetError" in report.findings[0]
    assert "250 frames sent (seed 1), 0 crash(es), 0 hang(s)" in report.summary()


def test_hangs_are_counted_per_check_and_the_run_goes_on() -> None:
    endpoint = _Endpoint(hang_after=120)
    report = run_garbage(endpoint, seed=1, count=300, check_every=100, probe_timeout=0.1, server_alive=lambda: True)
    assert (report.sent, report.hangs, report.crashes) == (300, 2, 0) and not report.ok
    hang = [f for f in report.findings if f.startswith("HANG")]
    assert hang[0].startswith("HANG after frame #199: no answer to a valid request within 0.1 s; frames: #195")


def test_a_crash_ends_the_run_and_names_the_frames_since_the_last_good_check() -> None:
    endpoint = _Endpoint(crash_after=42)
    report = run_garbage(endpoint, seed=1, count=300, check_every=50, server_alive=lambda: not endpoint.gone)
    assert (report.sent, report.crashes, report.hangs) == (50, 1, 0)
    assert report.findings[-1].startswith("CRASH after frame #49: the server is gone; the frames since the last good check: #45 ")
    assert "(and 45 before)" in report.findings[-1]


def test_an_endpoint_that_answers_nothing_to_begin_with_is_reported_at_once() -> None:
    endpoint = _Endpoint(crash_after=-1)
    report = run_garbage(endpoint, seed=1, count=300, server_alive=lambda: not endpoint.gone)
    assert (report.sent, report.crashes) == (0, 1) and "before the first frame" in report.findings[0]
