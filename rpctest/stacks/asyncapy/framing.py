"""AsyncAPY's framing cases for :mod:`rpctest.fuzz.framing`, and what a real server is watched for.

Each case is one connection's bytes (and how they are sent: in pieces, with pauses, with a
half-close) plus what AsyncAPY 0.5.0's own server does with them: each case's ``source`` names the
golden vector recorded for that input (``aap.*``, in the repository's ``tests/golden/asyncaproto``) or,
where none was recorded, states what was observed of AsyncAPY 0.5.0 (``docs/stacks/asyncapy.md``
has the table). AsyncAPY's answers to malformed input are often poor
(a silent close, or holding the connection until its timeout): reproducing them is compatible, so
they are *weaknesses*, reported with the reason; an endpoint that answers ``ERR_REQUEST_MALFORMED``
at once instead is better and passes.

Beside the reply, a run against a server rpctest started in a child process
(:class:`~.process.ServerProcess`) watches two failure modes no reply shows:

* **CPU spin**: the child's CPU time during a case; AsyncAPY's read loop spins at 100 % on a
  half-close inside a frame until its timeout (3 s of CPU were measured for a 3 s timeout);
* **leaked sessions**: the server's session table after a case; a handler that raises, stops
  propagation or is cancelled leaves its session behind, and with ``session_limit`` they lock
  every later client out.

The cases end with what breaks decoders (nesting past the recursion limit, an integer of 5000
digits, a 1 MB string, a ZiProto str that is not UTF-8), each sent header first so that its size
does not decide the answer. Every result carries a reproducer: the bytes in hex and how rpctest's
client sends them.

:class:`GarbageTarget` is the AsyncAPY side of :mod:`rpctest.fuzz.garbage`: random malformed
connections, one write each, and the liveness check.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any, Literal

from rpctest.exceptions import TransportError
from rpctest.fuzz.framing import FramingCase, FramingOutcome, FramingReport, run_framing
from rpctest.fuzz.garbage import FrameShape, damage_payload
from rpctest.model import Call, ErrorKind
from rpctest.stacks.asyncapy import errors, wire, ziproto
from rpctest.stacks.asyncapy.client import AsyncAPYSyncClient, AsyncAPYUnreachable
from rpctest.stacks.asyncapy.wire import Framing

__all__ = ["framing_cases", "fuzz_framing", "BUFFER", "GarbageTarget", "LONG_STRING"]

#: AsyncAPY's read size (``Server(buf=1024)``): a frame longer than this in one send is never read
BUFFER = 1024
#: the long-string case's string (1 MB; less where a 2-byte length header cannot announce it)
LONG_STRING = 1_000_000
#: runnable seconds (on a CPU or waiting for one) per wall second above which a case is reported as a
#: busy loop (CPU seconds where the kernel keeps no run-queue times)
_SPIN_RATIO = 0.5
#: how a case's source starts when no vector was recorded for its exact input
_OBSERVED = "observed of AsyncAPY 0.5.0: "

_TIMEOUT_WEAKNESS = (
    "AsyncAPY reads no further and answers only when its connection timeout ends ({wait}): every such "
    "malformed frame costs the caller the whole deadline, and no error names what was wrong"
)
_SILENT_WEAKNESS = (
    "AsyncAPY closes without a word: the caller cannot tell a malformed packet from a crash "
    "(ERR_REQUEST_MALFORMED would say it)"
)


def _frame(framing: Framing, payload: bytes, *, version: int = 22, encoding: int = 0, length: int | None = None) -> bytes:
    size = len(payload) + 2 if length is None else length
    return size.to_bytes(framing.header_size, framing.byteorder) + bytes([version, encoding]) + payload


def framing_cases(framing: Framing, packet: Mapping[str, Any], *, server_timeout: int | None = None, buffer: int = BUFFER) -> list[FramingCase]:
    """AsyncAPY's framing cases for a server speaking ``framing``; ``packet`` is a valid request
    (the split and padded cases send it); ``server_timeout`` is the server's timeout when known
    (the cases it decides then expect ``ERR_TIMED_OUT``, else no reply within the wait)."""
    body = json.dumps(packet).encode()
    valid = _frame(framing, body)
    padded = _frame(framing, body + b" " * (buffer + 64))  # JSON allows trailing whitespace: still valid
    wait = f"{server_timeout} s here" if server_timeout is not None else "60 s by default"
    # 20 ms apart, as the vector sends it, unless the whole frame would then take more than a quarter
    # of a known server timeout: on a loaded machine the pauses stretch, and the case is about
    # fragmentation, not about racing the timeout
    bytewise = 0.02 if server_timeout is None else min(0.02, server_timeout / (4 * len(valid)))
    timed: dict[str, Any] = (
        {"expect": "error", "codes": (errors.ERR_TIMED_OUT,), "kind": ErrorKind.TRANSPORT}
        if server_timeout is not None
        else {"expect": "no_reply"}
    )
    held: dict[str, Any] = {**timed, "weakness": _TIMEOUT_WEAKNESS.format(wait=wait)}
    malformed: dict[str, Any] = {"expect": "error", "codes": (errors.ERR_REQUEST_MALFORMED,), "kind": ErrorKind.CALLER_ERROR}
    header: dict[str, Any] = {"expect": "error", "codes": (errors.ERR_HEADER_INVALID,), "kind": ErrorKind.CALLER_ERROR}
    silent: dict[str, Any] = {"expect": "close", "weakness": _SILENT_WEAKNESS}
    other_order: Literal["little", "big"] = "little" if framing.byteorder == "big" else "big"
    wrong_order = len(body + b"  ").to_bytes(framing.header_size, other_order) + bytes([22, 0]) + body
    # MessagePack map16 of 16 fixstr -> fixint entries, by hand: ZiProto 1.0 (and rpctest's codec) refuse it
    map16 = b"\xde\x00\x10" + b"".join(bytes([0xA2]) + f"k{i:x}".encode() + bytes([i]) for i in range(16))
    cases = [
        FramingCase("json-syntax-error", "a payload that is not JSON", _frame(framing, b'{"action": '),
                    source=_OBSERVED + "a payload that is not JSON gets ERR_REQUEST_MALFORMED at once", **malformed),
        FramingCase("empty-payload", "a frame of just the version and encoding bytes", _frame(framing, b""),
                    source=_OBSERVED + "a body under 5 bytes (a payload under 3) gets ERR_REQUEST_MALFORMED", **malformed),
        FramingCase("short-payload", "a 2-byte payload (AsyncAPY needs 3)", _frame(framing, b"{}"), source="aap.frame.json-empty-object-short", **malformed),
        FramingCase("bad-version", "protocol version 11 instead of 22", _frame(framing, body, version=11), source="aap.frame.bad-version-11", **header),
        FramingCase("bad-encoding", "content encoding 2 (0 is JSON, 1 ZiProto)", _frame(framing, body, encoding=2), source="aap.frame.bad-encoding-2", **header),
        FramingCase("ziproto-flag-json-payload", "encoding 1 (ZiProto) on a JSON payload", _frame(framing, body, encoding=1),
                    source=_OBSERVED + "encoding 1 on a JSON payload gets ERR_REQUEST_MALFORMED, in ZiProto", **malformed),
        FramingCase("ziproto-not-a-map", "ZiProto of a list", _frame(framing, b"\x93\x01\x02\x03", encoding=1),
                    source=_OBSERVED + "ZiProto that is not a map gets ERR_REQUEST_MALFORMED, in ZiProto", **malformed),
        FramingCase("ziproto-truncated", "ZiProto cut inside its map", _frame(framing, b"\x82\xa6action", encoding=1), source="aap.frame.ziproto-truncated", **malformed),
        FramingCase("ziproto-map16", "a valid MessagePack map of 16 entries (ZiProto 1.0 reads none)", _frame(framing, map16, encoding=1),
                    source="aap.frame.ziproto-map16", weakness="ZiProto 1.0 cannot read a map or array of 16 entries or more", **malformed),
        FramingCase("json-flag-ziproto-payload", "encoding 0 (JSON) on a ZiProto payload", _frame(framing, ziproto.encode(dict(packet))),
                    source="aap.frame.enc-json-payload-ziproto", **silent),
        FramingCase("ziproto-bin-value", "ZiProto with a bin value (no JSON equivalent)", _frame(framing, b"\x81\xa1b\xc4\x02hi", encoding=1),
                    source="aap.frame.ziproto-bin-value", **silent),
        FramingCase("json-array", "a JSON array instead of an object", _frame(framing, b"[1, 2, 3]"), source="aap.frame.json-array", **silent),
        FramingCase("invalid-utf8", "JSON bytes that are not UTF-8", _frame(framing, b'{"action": "\xff\xfe"}'),
                    source=_OBSERVED + "JSON bytes that are not UTF-8 raise an uncaught decode error: a silent close", **silent),
        FramingCase("json-null", "the JSON value null (falsy: AsyncAPY dispatches nothing and keeps reading)", _frame(framing, b"null"),
                    source="aap.frame.json-false (AsyncAPY 0.5.0 treats every falsy payload alike: null, false, 0, [])", **held),
        FramingCase("length-too-big", "a length header larger than the frame", _frame(framing, body, length=len(body) + 50),
                    source="aap.frame.length-too-big", **held),
        FramingCase("length-too-small", "a length header smaller than the frame", _frame(framing, body, length=len(body) - 3),
                    source=_OBSERVED + "a length header smaller than the frame leaves the server reading until its timeout", **held),
        FramingCase("wrong-byte-order", f"the length header in {other_order}-endian", wrong_order,
                    source=_OBSERVED + "a length header in the wrong byte order leaves the server reading until its timeout", **held),
        FramingCase("two-frames-in-one-send", "two valid frames in one write", valid + valid, source="aap.frame.two-pipelined", **held),
        FramingCase("oversize-in-one-send", f"a valid frame of {len(padded)} bytes in one write (the server reads {buffer})", padded,
                    source="aap.frame.oversize-1100", **held),
        FramingCase("split-inside-payload", "a valid frame in two writes, cut after the first payload byte",
                    [valid[: framing.header_size + 3], valid[framing.header_size + 3 :]], options={"pause": 0.2},
                    source=_OBSERVED + "a first read that is not the whole frame is discarded, so a split anywhere but right after "
                    "the length header is answered ERR_TIMED_OUT at the timeout", **held),
        FramingCase("tls-client-hello", "a TLS ClientHello (AsyncAPY's own client defaults to TLS)",
                    bytes.fromhex("16030100a5010000a10303") + bytes(32) + b"\x00",
                    source=_OBSERVED + "a ClientHello's first bytes (16 03 01 ..) read as a huge length, so the server waits until its timeout",
                    **held),
        FramingCase("split-after-header", "a valid frame in two writes, cut right after the length header",
                    [valid[: framing.header_size], valid[framing.header_size :]], expect="answer", options={"pause": 0.2},
                    source=_OBSERVED + "a frame split right after the length header is read whole and answered"),
        FramingCase("byte-by-byte", f"a valid frame one byte per write, {bytewise * 1000:.1f} ms apart", valid, expect="answer",
                    options={"chunks": 1, "pause": bytewise}, source="aap.call.fragmented-bytewise"),
        FramingCase("oversize-after-header", f"the {len(padded)}-byte frame, its header first", [padded[: framing.header_size], padded[framing.header_size :]],
                    expect="answer", options={"pause": 0.2},
                    source=_OBSERVED + "a frame longer than its 1024-byte read is accepted when the length header arrives first "
                    "(5036 bytes were)"),
        FramingCase("idle-connection", "connect and send nothing", b"", source="aap.frame.idle",
                    **(timed if server_timeout is not None else {"expect": "no_reply"})),
        FramingCase("half-close-before-sending", "connect and half-close at once", b"", expect="close", options={"shut_wr": True},
                    source="aap.frame.connect-then-half-close"),
        FramingCase("half-close-inside-frame", "the header and half the payload, then a half-close", valid[: framing.header_size + 2 + len(body) // 2],
                    options={"shut_wr": True},
                    source=_OBSERVED + "a half-close inside a frame makes the read loop spin on EOF at 100 % CPU until the timeout",
                    **held),
    ]
    # what breaks decoders (issue 15): each frame goes header first, so that its size never decides
    after_header = {"pause": 0.05}

    def split(data: bytes) -> list[bytes]:
        return [data[: framing.header_size], data[framing.header_size :]]

    def padded_packet(key: str, raw_value: bytes) -> bytes:
        return _frame(framing, body[:-1] + b', "' + key.encode() + b'": ' + raw_value + b"}")

    uncaught = "; only JSONDecodeError is caught, so the connection closes without a word"
    long_string = min(LONG_STRING, framing.max_length - len(body) - 64)  # what the length header can announce
    cases += [
        FramingCase("json-nested-1000", "1000 nested JSON arrays (2 KB), deeper than Python's JSON decoder recurses",
                    split(_frame(framing, b"[" * 1000 + b"]" * 1000)), options=after_header,
                    source=_OBSERVED + "json.loads raises RecursionError" + uncaught, **silent),
        FramingCase("json-nested-in-a-field", "a valid packet with an extra key nested 3000 arrays deep",
                    split(padded_packet("rpctest_nested", b"[" * 3000 + b"]" * 3000)), options=after_header,
                    source=_OBSERVED + "json.loads raises RecursionError" + uncaught, **silent),
        FramingCase("json-integer-of-5000-digits", "a valid packet with an extra key whose value is an integer of 5000 digits",
                    split(padded_packet("rpctest_number", b"1" * 5000)), options=after_header,
                    source=_OBSERVED + "int() refuses more than 4300 digits with a plain ValueError" + uncaught, **silent),
        FramingCase("json-long-string", f"a valid packet with an extra key holding a string of {long_string} bytes",
                    split(padded_packet("rpctest_padding", b'"' + b"x" * long_string + b'"')), options=after_header,
                    source=_OBSERVED + "a string of 1 MB is read whole and dispatched; no handler takes the unknown key, so "
                    "the connection closes without a word, as for any packet no handler matches", **silent),
        FramingCase("ziproto-nested-1000", "a ZiProto map whose value is 1000 nested arrays",
                    split(_frame(framing, b"\x81\xa1k" + b"\x91" * 1000 + b"\xc0", encoding=1)), options=after_header,
                    source=_OBSERVED + "ziproto fails on it, and every ZiProto failure is ERR_REQUEST_MALFORMED in ZiProto",
                    **malformed),
        FramingCase("ziproto-str-not-utf8", "a ZiProto map holding a str whose bytes are not UTF-8",
                    _frame(framing, b"\x81\xa1k\xa2\xff\xfe", encoding=1),
                    source=_OBSERVED + "ziproto fails on it, and every ZiProto failure is ERR_REQUEST_MALFORMED in ZiProto",
                    **malformed),
    ]
    return cases


def outcome_from_exchange(exchange: Any) -> FramingOutcome:
    """What one connection amounted to, in the framing oracle's terms."""
    if exchange.error is not None:
        return FramingOutcome.transport_error(f"an unreadable reply: {exchange.error}")
    failures = [frame.packet for frame in exchange.frames if frame.is_error]
    if failures:
        code = failures[0]["error"]
        return FramingOutcome.reply(code, error_kind=errors.classify(code), detail=exchange.describe())
    if exchange.frames:
        return FramingOutcome.reply("ok", message=json.dumps(exchange.frames[0].packet)[:100], detail=exchange.describe())
    if exchange.end == "timeout":
        return FramingOutcome.no_reply(exchange.waited)
    return FramingOutcome.closed(exchange.describe())


def reproducer(address: str, case: FramingCase) -> str:
    """A line of Python that sends the case again with rpctest's client."""
    data = case.frames
    shown = f"bytes.fromhex({data.hex()!r})" if isinstance(data, bytes) else "[" + ", ".join(f"bytes.fromhex({p.hex()!r})" for p in data) + "]"
    options = "".join(f", {key}={value!r}" for key, value in case.options.items())
    return (f"from rpctest.stacks.asyncapy.client import AsyncAPYSyncClient as C; "
            f"print(C.from_address({address!r}, timeout=70).send_raw({shown}{options}).describe())")


def _cpu(process: Any) -> tuple[float, float | None] | None:
    """``(on a CPU, waiting for one or None)`` seconds of the server process so far, None without one."""
    if process is None:
        return None
    runnable: tuple[float, float | None] | None = process.runnable_seconds()
    if runnable is not None:
        return runnable
    used = process.cpu_seconds()
    return None if used is None else (used, None)


def held_to_a_timeout(exchange: Any) -> bool:
    """Whether the server held the connection until a timeout ended it (its own ``ERR_TIMED_OUT``, or
    the client's wait). Only such a connection can show a busy loop: a server that was runnable all
    along while it read and decoded a large frame and then answered or closed was working, and on a
    loaded machine that work alone can fill the connection's time."""
    if exchange.end == "timeout":
        return True
    return any(frame.is_error and frame.packet.get("error") == errors.ERR_TIMED_OUT for frame in exchange.frames)


def _spin(before: tuple[float, float | None] | None, after: tuple[float, float | None] | None, elapsed: float) -> str | None:
    """The busy-loop observation for a connection that lasted ``elapsed`` seconds, or None.

    A process is busy when it was runnable (on a CPU, or waiting in the run queue for one) for most
    of the connection: on a loaded machine a spinning process gets only its share of a core, but
    it never stops wanting one, while a process that waits for input neither runs nor queues.
    """
    if before is None or after is None or elapsed <= 0.5:
        return None
    used = after[0] - before[0]
    waited = after[1] - before[1] if after[1] is not None and before[1] is not None else 0.0
    if used + waited <= _SPIN_RATIO * elapsed:
        return None
    queued = f" and waited {waited:.2f} s more for one" if waited >= 0.01 else ""
    return f"the server process used {used:.2f} s of CPU{queued} in the {elapsed:.2f} s this connection lasted: a busy loop"


def fuzz_framing(
    address: str,
    packet: Mapping[str, Any],
    *,
    timeout: float = 1.0,
    server_timeout: int | None = None,
    process: Any = None,
    strict: bool = False,
    budget: float | None = None,
) -> FramingReport:
    """Run AsyncAPY's framing cases against ``address``; ``packet`` (a valid request) is the
    liveness probe. ``server_timeout`` is the server's connection timeout when known: cases it
    decides wait for it. ``process`` (a :class:`~.process.ServerProcess`) adds the CPU and session
    watch. ``budget`` bounds the whole run."""
    client = AsyncAPYSyncClient.from_address(address, timeout=max(timeout, (server_timeout or 0) + 2.0))
    cases = framing_cases(client.framing, packet, server_timeout=server_timeout)
    watched: dict[str, list[tuple[str, str | None]]] = {}

    def exchange(case: FramingCase, wait: float) -> FramingOutcome:
        holds = server_timeout is not None and (case.expect in ("error", "no_reply") and errors.ERR_TIMED_OUT in case.codes or case.name == "idle-connection")
        wait = max(wait, server_timeout + 1.5) if holds and server_timeout is not None else wait
        if case.expect == "answer":  # sent in paced pieces: the sending itself takes time
            wait = max(wait, 3.0 + 0.05 * len(case.frames if isinstance(case.frames, bytes) else b"".join(case.frames)))
        cpu_before = _cpu(process)
        sessions_before = process.sessions() if process is not None else None
        result = client.send_raw(case.frames, timeout=wait, **case.options)
        findings = watched.setdefault(case.name, [])
        spin = _spin(cpu_before, _cpu(process), result.elapsed) if held_to_a_timeout(result) else None
        if spin is not None:
            findings.append((spin, "AsyncAPY's read loop spins on a half-closed connection inside a frame until its timeout"))
        if sessions_before is not None:
            after = process.sessions()
            if after is not None and after[1] > sessions_before[1]:
                findings.append((f"the server kept {after[1] - sessions_before[1]} session(s) of closed connections (leaked)",
                                 "AsyncAPY leaks the session of a connection whose handler raised, stopped propagation or was cancelled"))
        return outcome_from_exchange(result)

    def alive() -> bool:
        exchange_ = client.request(dict(packet), timeout=timeout)
        return bool(exchange_.frames) and not any(frame.is_error for frame in exchange_.frames)

    try:
        report = run_framing(
            cases, exchange, timeout=timeout, liveness=alive, strict=strict, stack="asyncapy", target=address,
            budget=budget, reproduce=lambda case: reproducer(address, case),
        )
    finally:
        client.close()
    for result in report.results:
        for finding, weakness in watched.get(result.case.name, []):
            result.observe(finding, weakness=weakness)
    return report


# -- random malformed connections (rpctest.fuzz.garbage) ------------------------------------------------


def _length_header(rng: random.Random, shape: FrameShape) -> bytes:
    """A valid payload under a Content-Length that is not its length (0, 1, a byte off, the largest)."""
    framing: Framing = shape.wrap.framing  # type: ignore[attr-defined]
    size = len(shape.payload) + 2
    length = rng.choice((0, 1, 2, size - 1, size + 1, size + rng.randrange(2, 5000), framing.max_length, rng.randrange(framing.max_length + 1)))
    return framing.frame(shape.payload, length=length)


def _header_bytes(rng: random.Random, shape: FrameShape) -> bytes:
    """A version byte other than 22, or an encoding byte other than 0 and 1."""
    framing: Framing = shape.wrap.framing  # type: ignore[attr-defined]
    if rng.random() < 0.5:
        return framing.frame(shape.payload, version=rng.choice([v for v in range(256) if v != framing.version]))
    return framing.frame(shape.payload, encoding=rng.randrange(2, 256))


def _ziproto_payload(rng: random.Random, shape: FrameShape) -> bytes:
    """A damaged ZiProto payload under encoding 1, or a payload under the other encoding's byte."""
    framing: Framing = shape.wrap.framing  # type: ignore[attr-defined]
    packed = ziproto.encode(json.loads(shape.payload))
    choice = rng.randrange(3)
    if choice == 0:
        return framing.frame(shape.payload, encoding=1)
    if choice == 1:
        return framing.frame(packed, encoding=0)
    return framing.frame(damage_payload(rng, packed, "msgpack")[0], encoding=1)


def _cut_short(rng: random.Random, shape: FrameShape) -> bytes:
    """Part of a length header, a header alone, or a body shorter than AsyncAPY's 5 bytes."""
    valid = shape.valid
    header = shape.wrap.framing.header_size  # type: ignore[attr-defined]
    cut: bytes = rng.choice((valid[: rng.randrange(1, header)], valid[:header], valid[: header + 1], valid[: header + 2],
                             shape.wrap(rng.choice((b"", b"{", b"{}", b"[]", b" ")))))
    return cut


def _two_frames(rng: random.Random, shape: FrameShape) -> bytes:
    """A valid frame followed by another frame, or by bytes that are no frame."""
    frames: bytes = shape.valid + rng.choice((shape.valid, shape.wrap(b"null"), rng.randbytes(rng.randrange(1, 64))))
    return frames


def _header_layout(rng: random.Random, shape: FrameShape) -> bytes:
    """The length header in the other byte order, or of another size (both are agreed out of band)."""
    framing: Framing = shape.wrap.framing  # type: ignore[attr-defined]
    size = len(shape.payload) + 2
    sizes = [other for other in (2, 4, 8) if other != framing.header_size]
    layouts: list[tuple[int, Literal["little", "big"]]] = [(framing.header_size, "little" if framing.byteorder == "big" else "big"),
                                                          *((other, framing.byteorder) for other in sizes)]
    header_size, order = rng.choice(layouts)
    return size.to_bytes(header_size, order) + bytes([framing.version, 0]) + shape.payload


def _falsy(rng: random.Random, shape: FrameShape) -> bytes:
    """A falsy payload (AsyncAPY dispatches nothing and holds the connection) or a non-map one."""
    frame: bytes = shape.wrap(rng.choice((b"null", b"false", b"0", b'""', b"[]", b"{ }", b"[1, 2]", b"42", b"true", b'"x"', b'"{}"')))
    return frame


def _other_protocol(rng: random.Random, shape: FrameShape) -> bytes:
    """What a client of another protocol sends first: a TLS ClientHello, an HTTP request, a 0MQ greeting."""
    return rng.choice((bytes.fromhex("16030100a5010000a10303") + bytes(32) + b"\x00", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                       b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))


_BREAKAGES = (_length_header, _header_bytes, _ziproto_payload, _cut_short, _two_frames, _header_layout, _falsy, _other_protocol)


class _Wrap:
    """A valid frame around payload bytes, in the endpoint's framing (kept for the breakages)."""

    def __init__(self, framing: Framing) -> None:
        self.framing = framing

    def __call__(self, payload: bytes) -> bytes:
        return self.framing.frame(payload)


class GarbageTarget:
    """An AsyncAPY endpoint as a target of :func:`rpctest.fuzz.garbage.run_garbage`: a unit is one
    connection's bytes in one write; ``probe`` (its body a packet the endpoint answers) is the
    liveness check. The breakages are AsyncAPY's framing: lengths, header bytes, encodings, short and
    pipelined frames, the header's byte order and size, falsy payloads, other protocols."""

    def __init__(self, address: str, probe: Call, *, timeout: float = 5.0) -> None:
        self.address = address
        self.probe = probe
        self._client = AsyncAPYSyncClient.from_address(address, timeout=timeout)
        wrap = _Wrap(self._client.framing)
        self.shape = FrameShape("asyncapy", wire.dump_json(dict(probe.body)), "json", wrap, _BREAKAGES)

    def send(self, unit: bytes, wait: float) -> str:
        try:
            exchange = self._client.send_raw(unit, timeout=wait)
        except AsyncAPYUnreachable:  # not connected within the wait: the liveness check says whether it lasts
            return "refused"
        if exchange.frames or exchange.received:
            return "reply"
        return "none" if exchange.end == "timeout" else "close"

    def alive(self, timeout: float) -> bool:
        try:
            reply = self._client.call(self.probe, timeout=timeout)
        except TransportError:
            return False
        return not any(error.kind is ErrorKind.TRANSPORT for error in reply.all_errors)

    def close(self) -> None:
        self._client.close()
