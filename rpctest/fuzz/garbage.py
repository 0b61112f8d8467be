"""Random malformed frames for any stack's transport, the same ones for the same seed, and a run that
sends them to an endpoint and checks it keeps answering.

The framing cases (:mod:`rpctest.fuzz.framing`) are a fixed list, each with the reference
implementation's answer. This module is their random complement, for the one property every server
must have whatever the reference does (issue 15: one 2 KB frame killed rpctest's ZeroJSON server):
**a bad frame fails its own request at most; the server keeps answering.** Nothing here judges a
reply, so nothing here needs a reference.

A stack describes its transport unit with a :class:`FrameShape`, which its adapter supplies
(:meth:`rpctest.stacks.base.StackAdapter.garbage_target`, implemented in each stack's ``framing``
module): the payload of a valid request, its codec (JSON or msgpack), how a unit is built around a
payload (``wrap``: the 0MQ frames of a ZeroJSON call, AsyncAPY's length header, an HTTP request with
its Content-Length, PySOA's Redis list element, pykern's WebSocket message), and the breakages of
the framing itself (``breakages``: wrong frame counts, lengths, headers, kinds). :func:`garbage_frames`
mixes three kinds of damage, drawn from ``random.Random(seed)``:

* the **payload**, codec-aware: nesting past the recursion limit (at the top or under a new key),
  integers past Python's 4300-digit conversion limit, long strings, bytes that are not UTF-8 and
  lone surrogates inside strings, truncation, special numbers; for msgpack also containers and
  strings announcing more than follows, ext types, the reserved byte, keys that are not strings;
  the unit is then wrapped properly, so the damage reaches the decoder;
* the **framing**, through the stack's breakages;
* the **whole unit**, byte by byte: flips, cuts, splices, random bytes.

Every frame is distinct from the others of the run (by its bytes), and sizes are bounded by
``max_size``. The frames are data; sending them is the target's (:class:`GarbageTarget`), and
:func:`run_garbage` sends them, asks the endpoint a valid request every ``check_every`` frames and
at the end, and counts **crashes** (the server is gone: its thread ended, or it is not listening) and
**hangs** (it is there but does not answer the valid request in time). Every wait is bounded.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "Breakage",
    "FrameShape",
    "GarbageFrame",
    "GarbageReport",
    "GarbageTarget",
    "damage_payload",
    "garbage_frames",
    "run_against",
    "run_garbage",
    "unit_bytes",
]

#: a unit a stack's transport sends: bytes, a str (a WebSocket text message) or a list of 0MQ frames
Unit = Any
Codec = Literal["json", "msgpack"]
#: one breakage of a stack's framing: ``(rng, shape) -> unit``; its ``__name__`` labels the frame
Breakage = Callable[[random.Random, "FrameShape"], Unit]


@dataclass(frozen=True)
class FrameShape:
    """How one stack's transport unit is built, for :func:`garbage_frames`.

    ``payload`` is the encoded body of a valid request (a JSON object or a msgpack map), ``codec`` its
    encoding, ``wrap(payload)`` a well-framed unit around any payload bytes, ``breakages`` the ways the
    stack's framing itself can be broken (each ``(rng, shape) -> unit``, named by its ``__name__``).
    """

    stack: str
    payload: bytes
    codec: Codec
    wrap: Callable[[bytes], Unit]
    breakages: Sequence[Breakage] = ()

    @property
    def valid(self) -> Unit:
        """The unit of the valid request itself."""
        return self.wrap(self.payload)


@dataclass(frozen=True)
class GarbageFrame:
    """One malformed unit: its place in the run, the unit, and what was done to the valid one."""

    index: int
    unit: Unit = field(repr=False)
    label: str
    size: int


def unit_bytes(unit: Unit) -> bytes:
    """A unit as one byte string, for digests and sizes (a list of frames: each with its length)."""
    if isinstance(unit, str):
        return b"text:" + unit.encode("utf-8", "surrogatepass")
    if isinstance(unit, (bytes, bytearray, memoryview)):
        return bytes(unit)
    return b"".join(len(frame).to_bytes(8, "big") + bytes(frame) for frame in unit)


# -- damage to a payload ---------------------------------------------------------------------------------

#: nesting depths: around Python's recursion limit (1000), and far past it
_DEPTHS = (200, 500, 900, 990, 1000, 1001, 1100, 1500, 3000, 10_000, 100_000)
#: integer lengths around int()'s 4300-digit limit
_DIGITS = (4299, 4300, 4301, 5000, 20_000, 100_000)
#: byte sequences that are not UTF-8: a lone continuation byte, 0xff, an overlong NUL, a
#: surrogate, a truncated 3-byte sequence, a code point past U+10FFFF
_NOT_UTF8 = (b"\x80", b"\xff", b"\xfe\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80")
_SURROGATES = (b"\\ud800", b"\\udfff", b"\\udc80\\ud800", b"\\ud800\\u0041")
_NUMBERS = (b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"1e-999", b"-0", b"0.0e0", b"1.", b".5", b"01", b"+1", b"0x10")


def _json_with(payload: bytes, raw_value: bytes, rng: random.Random) -> bytes:
    """``payload`` (a JSON object) with one more key whose value is ``raw_value`` (any bytes)."""
    key = b'"rpctest_%d"' % rng.randrange(1000)
    end = payload.rstrip().rfind(b"}")
    if end < 0:
        return b"{" + key + b": " + raw_value + b"}"
    inner = payload[1:end].strip()
    return payload[:end].rstrip() + (b", " if inner else b"") + key + b": " + raw_value + b"}"


def _json_damage(rng: random.Random, payload: bytes, max_size: int) -> tuple[bytes, str]:
    kind = rng.randrange(12)
    if kind == 0:
        depth = _bounded(rng.choice(_DEPTHS), max_size // 2)
        opener, closer = (b"[", b"]") if rng.random() < 0.7 else (b'{"a":', b"}")
        nested = opener * depth + (b"1" if opener != b"[" else b"") + closer * depth
        if rng.random() < 0.5:
            return nested, f"json: {depth} nested {'arrays' if opener == b'[' else 'objects'}"
        return _json_with(payload, nested, rng), f"json: a new key nested {depth} deep"
    if kind == 1:
        digits = _bounded(rng.choice(_DIGITS), max_size - len(payload) - 64)
        number = (b"-" if rng.random() < 0.3 else b"") + b"9" * digits
        where = rng.random()
        if where < 0.2:
            return number, f"json: an integer of {digits} digits as the whole body"
        return _json_with(payload, number, rng), f"json: an integer of {digits} digits"
    if kind == 2:
        length = _bounded(rng.choice((65_536, 300_000, 1 << 20)) if rng.random() < 0.05 else rng.randrange(1, 4096),
                          max_size - len(payload) - 64)
        fill = rng.choice((b"x", b"\\n", b"\\u00e9", b"\\\\", b" "))
        text = (fill * length)[:length]
        return _json_with(payload, b'"' + text.rstrip(b"\\") + b'"', rng), f"json: a string of {length} bytes"
    if kind == 3:
        bad = rng.choice(_NOT_UTF8)
        if rng.random() < 0.5:
            return _json_with(payload, b'"a' + bad + b'z"', rng), f"json: a string holding {bad.hex()} (not UTF-8)"
        at = rng.randrange(len(payload) + 1)
        return payload[:at] + bad + payload[at:], f"json: {bad.hex()} (not UTF-8) at byte {at}"
    if kind == 4:
        escape = rng.choice(_SURROGATES)
        return _json_with(payload, b'"' + escape + b'"', rng), f"json: a lone surrogate escape {escape.decode()}"
    if kind == 5:
        number = rng.choice(_NUMBERS)
        return _json_with(payload, number, rng), f"json: the number {number.decode()}"
    if kind == 6:
        cut = rng.randrange(len(payload))
        return payload[:cut], f"json: cut to {cut} of {len(payload)} bytes"
    if kind == 7:
        start = rng.choice((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00", b" " * 3, b"\n"))
        return start + payload, f"json: {start.hex()} before the body"
    if kind == 8:
        other = rng.choice((b"null", b"true", b"0", b'""', b"[]", b"{}", b'"{}"', b"[{}]", b"1.5", b"[null]", b'{"": {}}'))
        return other, f"json: the body {other.decode()}"
    if kind == 9:
        extra = rng.choice((b"}", b"]", b",", b"{", b'"', b"\\", b":", b"}}", b"/*x*/", b"\x00"))
        at = rng.randrange(len(payload) + 1)
        return payload[:at] + extra + payload[at:], f"json: {extra!r} at byte {at}"
    if kind == 10:
        keys = _bounded(20_000 if rng.random() < 0.03 else rng.choice((200, 2000)), max_size // 16)
        many = b"{" + b", ".join(b'"k%d": %d' % (i, i) for i in range(keys)) + b"}"
        return _json_with(payload, many, rng), f"json: an object of {keys} keys"
    control = bytes([rng.randrange(32)])
    return _json_with(payload, b'"a' + control + b'b"', rng), f"json: a raw control byte {control.hex()} in a string"


def _msgpack_with(payload: bytes, raw_value: bytes, rng: random.Random) -> bytes:
    """``payload`` (a msgpack map) with one more string key whose value is ``raw_value`` (any bytes)."""
    key = b"\xa9rpctest_" + bytes([0x30 + rng.randrange(10)])
    head = payload[:1]
    if head and 0x80 <= head[0] <= 0x8E:
        return bytes([head[0] + 1]) + payload[1:] + key + raw_value
    if head == b"\xde" and len(payload) >= 3:
        count = int.from_bytes(payload[1:3], "big")
        if count < 0xFFFF:
            return b"\xde" + (count + 1).to_bytes(2, "big") + payload[3:] + key + raw_value
    return b"\x81" + key + raw_value  # not a map we can extend: a map of just the new key


def _msgpack_damage(rng: random.Random, payload: bytes, max_size: int) -> tuple[bytes, str]:
    kind = rng.randrange(11)
    if kind == 0:
        depth = _bounded(rng.choice(_DEPTHS), max_size - 64)
        containers, opener = rng.choice((("arrays", b"\x91"), ("maps", b"\x81\xa1a")))
        nested = opener * depth + b"\xc0"
        if rng.random() < 0.3:
            return nested, f"msgpack: {depth} nested {containers}"
        return _msgpack_with(payload, nested, rng), f"msgpack: a new key nested {depth} deep"
    if kind == 1:
        bad = rng.choice(_NOT_UTF8)
        text = b"a" + bad
        return _msgpack_with(payload, bytes([0xA0 | len(text)]) + text, rng), f"msgpack: a str holding {bad.hex()} (not UTF-8)"
    if kind == 2:
        head = rng.choice((b"\xdb", b"\xc6", b"\xdd", b"\xdf", b"\xda", b"\xc5", b"\xdc", b"\xde"))
        size = {b"\xdb": 4, b"\xc6": 4, b"\xdd": 4, b"\xdf": 4}.get(head, 2)
        count = rng.choice(((1 << (8 * size)) - 1, rng.randrange(1 << (8 * size)), 1 << (8 * size - 1)))
        value = head + count.to_bytes(size, "big") + b"x" * rng.randrange(8)
        return _msgpack_with(payload, value, rng), f"msgpack: 0x{head.hex()} announcing {count} with less following"
    if kind == 3:
        ext_type = rng.randrange(-128, 128)
        head, length = rng.choice(((b"\xd4", 1), (b"\xd5", 2), (b"\xd6", 4), (b"\xd7", 8), (b"\xd8", 16)))
        data = rng.randbytes(length)
        return _msgpack_with(payload, head + ext_type.to_bytes(1, "big", signed=True) + data, rng), f"msgpack: ext type {ext_type}"
    if kind == 4:
        at = rng.randrange(len(payload) + 1)
        return payload[:at] + b"\xc1" + payload[at:], f"msgpack: the reserved byte c1 at {at}"
    if kind == 5:
        key = rng.choice((b"\x01", b"\xc0", b"\x90", b"\x80", b"\xcb" + b"\x7f\xf8" + bytes(6), b"\xc4\x01k", b"\xc3"))
        return b"\x81" + key + payload, f"msgpack: a map whose key {key.hex()} is not a str"
    if kind == 6:
        value = rng.choice((b"\xcf" + b"\xff" * 8, b"\xd3\x80" + bytes(7), b"\xcb\x7f\xf8" + bytes(6), b"\xcb\x7f\xf0" + bytes(6), b"\xca\xff\xff\xff\xff"))
        return _msgpack_with(payload, value, rng), f"msgpack: the number {value.hex()}"
    if kind == 7:
        length = _bounded(rng.choice((70_000, 1 << 20)) if rng.random() < 0.05 else rng.randrange(1, 300), max_size - len(payload) - 64)
        value = (b"\xdb" + length.to_bytes(4, "big") if length > 0xFFFF else b"\xda" + length.to_bytes(2, "big")) + b"x" * length
        return _msgpack_with(payload, value, rng), f"msgpack: a str of {length} bytes"
    if kind == 8:
        cut = rng.randrange(len(payload))
        return payload[:cut], f"msgpack: cut to {cut} of {len(payload)} bytes"
    if kind == 9:
        other = rng.choice((b"\xc0", b"\x90", b"\x80", b"\x00", b"\xa0", b"\xc3", b"\x91\x80", b"\xc4\x00"))
        return other, f"msgpack: the whole message {other.hex()}"
    extra = rng.randbytes(rng.randrange(1, 16))
    return payload + extra, f"msgpack: {len(extra)} bytes after the message"


_PAYLOAD_DAMAGE = {"json": _json_damage, "msgpack": _msgpack_damage}


def damage_payload(rng: random.Random, payload: bytes, codec: Codec, max_size: int = 1 << 20) -> tuple[bytes, str]:
    """One of the payload damages above to ``payload`` in ``codec`` (``json`` or ``msgpack``), and its
    label: for a stack's breakages that carry a second payload (AsyncAPY's ZiProto, PySOA's JSON)."""
    return _PAYLOAD_DAMAGE[codec](rng, payload, max_size)


# -- damage to bytes, whatever they are ------------------------------------------------------------------


def _byte_damage(rng: random.Random, data: bytes, max_size: int) -> tuple[bytes, str]:
    kind = rng.randrange(6)
    if kind == 0 and data:
        flipped = bytearray(data)
        places = sorted(rng.randrange(len(data)) for _ in range(rng.randrange(1, 9)))
        for at in places:
            flipped[at] ^= 1 << rng.randrange(8)
        return bytes(flipped), f"bytes: bits flipped at {', '.join(map(str, places[:4]))}{'...' if len(places) > 4 else ''}"
    if kind == 1 and data:
        cut = rng.randrange(len(data))
        return data[:cut], f"bytes: cut to {cut} of {len(data)}"
    if kind == 2 and data:
        start = rng.randrange(len(data))
        end = min(len(data), start + rng.randrange(1, 64))
        return data[:start] + data[end:], f"bytes: {end - start} removed at {start}"
    if kind == 3:
        junk = rng.randbytes(rng.randrange(1, 64))
        at = rng.randrange(len(data) + 1)
        return data[:at] + junk + data[at:], f"bytes: {len(junk)} random inserted at {at}"
    if kind == 4 and data:
        start = rng.randrange(len(data))
        chunk = data[start : start + rng.randrange(1, 256)]
        times = rng.randrange(2, 50)
        repeated = data[:start] + chunk * times + data[start + len(chunk) :]
        return repeated[:max_size], f"bytes: {len(chunk)} repeated {times} times at {start}"
    length = rng.choice((0, 1, 2, 3, 4, 7, 16, 100, 1000, 5000))
    return rng.randbytes(length), f"bytes: {length} random"


def _damaged_unit(rng: random.Random, unit: Unit, max_size: int) -> tuple[Unit, str]:
    """Byte damage to a whole unit (one frame of a list of frames)."""
    if isinstance(unit, str):
        data, label = _byte_damage(rng, unit.encode("utf-8"), max_size)
        return data.decode("utf-8", "replace"), "text " + label
    if isinstance(unit, (bytes, bytearray, memoryview)):
        return _byte_damage(rng, bytes(unit), max_size)
    frames = list(unit)
    if not frames:
        return [rng.randbytes(rng.randrange(8))], "frames: one random frame"
    at = rng.randrange(len(frames))
    frames[at], label = _byte_damage(rng, bytes(frames[at]), max_size)
    return frames, f"frame {at}: {label}"


def _bounded(value: int, limit: int) -> int:
    return max(1, min(value, limit))


def garbage_frames(shape: FrameShape, *, seed: int, count: int, max_size: int = 1 << 20) -> Iterator[GarbageFrame]:
    """``count`` distinct malformed units for ``shape``'s transport, the same ones for the same
    ``seed`` (and shape); none larger than about ``max_size`` bytes. See the module docstring."""
    if count < 0 or max_size < 64:
        raise ValueError(f"count must be >= 0 and max_size >= 64, not {count!r} and {max_size!r}")
    rng = random.Random(seed)
    damage = _PAYLOAD_DAMAGE[shape.codec]
    seen = {hashlib.blake2b(unit_bytes(shape.valid), digest_size=16).digest()}
    produced = attempts = 0
    while produced < count:
        attempts += 1
        if attempts > 50 * count + 1000:
            raise RuntimeError(f"could not find {count} distinct malformed {shape.stack} units (found {produced})")
        roll = rng.random()
        if roll < 0.55:
            payload, label = damage(rng, shape.payload, max_size)
            unit = shape.wrap(payload)
        elif roll < 0.85 and shape.breakages:
            breakage = rng.choice(shape.breakages)
            unit, label = breakage(rng, shape), f"framing: {breakage.__name__.strip('_').replace('_', ' ')}"
        else:
            unit, label = _damaged_unit(rng, shape.valid, max_size)
        data = unit_bytes(unit)
        digest = hashlib.blake2b(data, digest_size=16).digest()
        if digest in seen or len(data) > max_size + 4096:
            continue
        seen.add(digest)
        yield GarbageFrame(produced, unit, label, len(data))
        produced += 1


# -- sending them ------------------------------------------------------------------------------------


class GarbageTarget(Protocol):
    """An endpoint to send malformed units to (each stack's ``framing`` module makes one).

    ``shape`` is the stack's :class:`FrameShape` for the endpoint's valid request; ``send`` sends one
    unit raw and returns within about ``wait`` seconds what came back, in a word (``reply``,
    ``close``, ``none``, ``refused``); ``alive`` asks the valid request and says whether it was
    answered within ``timeout``; ``close`` releases every socket.
    """

    shape: FrameShape

    def send(self, unit: Unit, wait: float) -> str: ...

    def alive(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


@dataclass
class GarbageReport:
    """What :func:`run_garbage` saw: frames sent, crashes and hangs (with the frames sent since the
    last good check, by index), what the sends got back, and the time it took."""

    stack: str
    seed: int
    sent: int = 0
    crashes: int = 0
    hangs: int = 0
    checks: int = 0
    seconds: float = 0.0
    answers: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.crashes and not self.hangs

    def summary(self) -> str:
        answers = ", ".join(f"{what} {n}" for what, n in sorted(self.answers.items()))
        return (
            f"{self.stack}: {self.sent} frames sent (seed {self.seed}), {self.crashes} crash(es), {self.hangs} hang(s), "
            f"{self.checks} liveness checks, {self.seconds:.1f} s; sends got: {answers or 'nothing'}"
        )


def run_garbage(
    target: GarbageTarget,
    *,
    seed: int,
    count: int,
    check_every: int = 100,
    wait: float = 0.02,
    probe_timeout: float = 5.0,
    server_alive: Callable[[], bool] | None = None,
    max_size: int = 1 << 20,
    frames: Sequence[GarbageFrame] | None = None,
) -> GarbageReport:
    """Send ``count`` garbage units (seeded) to ``target``, checking every ``check_every`` units and at
    the end that the valid request is still answered within ``probe_timeout``.

    A failed check is a **crash** when ``server_alive()`` (for a server in this process: its thread
    or listener) says the server is gone, which ends the run, else a **hang**; each finding names the
    units sent since the last good check (seed and indexes reproduce them). A send that raises is a
    finding too (the target broke, not the endpoint), counted under ``answers["error"]``.
    """
    report = GarbageReport(target.shape.stack, seed)
    started = time.perf_counter()
    batch: list[GarbageFrame] = []

    def check(where: str) -> bool:
        report.checks += 1
        answered = _asks(target, probe_timeout)
        if answered:
            batch.clear()
            return True
        gone = server_alive is not None and not server_alive()
        sent = ", ".join(f"#{f.index} {f.label}" for f in batch[-5:])
        more = f" (and {len(batch) - 5} before)" if len(batch) > 5 else ""
        if gone:
            report.crashes += 1
            report.findings.append(f"CRASH {where}: the server is gone; the frames since the last good check: {sent}{more}")
        else:
            report.hangs += 1
            report.findings.append(f"HANG {where}: no answer to a valid request within {probe_timeout:g} s; frames: {sent}{more}")
        batch.clear()
        return not gone

    try:
        if not check("before the first frame"):
            return report
        source = frames if frames is not None else garbage_frames(target.shape, seed=seed, count=count, max_size=max_size)
        for frame in source:
            try:
                report.answers[target.send(frame.unit, wait)] += 1
            except Exception as exc:  # noqa: BLE001 - a broken sender is reported, never the end of the run
                report.answers["error"] += 1
                if report.answers["error"] <= 5:
                    report.findings.append(f"the sender failed on #{frame.index} {frame.label}: {type(exc).__name__}: {exc}")
            report.sent += 1
            batch.append(frame)
            if report.sent % check_every == 0 and not check(f"after frame #{frame.index}"):
                return report
        if batch:
            check("after the last frame")
    finally:
        report.seconds = time.perf_counter() - started
    return report


def run_against(
    stack: str,
    address: Any,
    probe: Any,
    *,
    timeout: float = 5.0,
    target_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> GarbageReport:
    """:func:`run_garbage` (``options``: ``seed``, ``count``, ``check_every``, ``wait``,
    ``server_alive``...) against the endpoint of ``stack`` at ``address``, through the target its
    adapter makes (:meth:`~rpctest.stacks.base.StackAdapter.garbage_target`, with ``probe``, a call the
    endpoint answers, and ``target_options``), closed afterwards."""
    from rpctest.stacks import get_adapter

    target = get_adapter(stack).garbage_target(address, probe, timeout=timeout, **dict(target_options or {}))
    try:
        return run_garbage(target, probe_timeout=timeout, **options)
    finally:
        target.close()


def _asks(target: GarbageTarget, timeout: float) -> bool:
    try:
        return bool(target.alive(timeout))
    except Exception:  # noqa: BLE001 - a probe that cannot ask is an endpoint not answering
        return False
