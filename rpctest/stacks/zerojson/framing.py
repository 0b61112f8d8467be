"""ZeroJSON framing cases, each with what PyCOM 0.6.0's own server does with it, and a raw exchange.

:func:`framing_cases` builds the malformed messages (wrong frame counts, a missing delimiter, bytes
that are not UTF-8 or not JSON, JSON that is not an object, unknown or empty commands, envelope
fields of the wrong type, unknown names, nesting, integers and strings that break decoders, bytes
that are not UTF-8 inside a string, oversize frames). Each case's expected outcome is what
PyCOM 0.6.0's own server does: the case's ``source`` names the golden vector recorded for that input
(``zj.frame.*`` and ``zj.err.*``, in the repository's ``tests/golden/zerojson``) or, where no vector
was recorded for that exact input, states the behaviour observed of PyCOM 0.6.0 (its check order is
in ``docs/stacks/zerojson.md``). Where PyCOM's own behaviour is poor the case carries a ``weakness``:

* **no reply at all** for 0 or 1 frames after the delimiter, a message without the delimiter, a
  body nested deeper than its decoder can recurse, and a body that is valid JSON but not an object:
  PyCOM's handler crashes, its fallback reply cannot be sent, and the caller waits until its timeout
  (the server itself keeps serving);
* **code 1 (a server error)** for a caller's own mistake: ``interface``/``method`` (or, on a
  stateful interface, ``session_id``) of the wrong JSON type, ``extensions`` not an object.

An endpoint that answers those with a caller error is better than PyCOM and passes
(:mod:`rpctest.fuzz.framing` explains the oracle).

Oversize input (an 8 MiB body, an 8 MiB attachment) was never recorded. PyCOM sets no message size
limit, so it presumably answers as for the small message (code 2: the cases use an unknown method,
so nothing real runs); the cases expect ``survive``: a refusal or silence is accepted, a success or
a server error is not, and the endpoint must keep answering.

:func:`exchange_at` sends a case's frames with a fresh DEALER per case (through
:meth:`ZeroJSONClient.exchange`, which adds the empty delimiter REQ would add, unless the case says
``delimiter: False``), so a late reply can never be mistaken for the next case's: ZeroJSON has no
request id. :func:`liveness_at` asks the endpoint a valid call; :func:`fuzz_framing` runs it all.

:class:`GarbageTarget` is the ZeroJSON side of :mod:`rpctest.fuzz.garbage`: the shape of a message
(the delimiter, ``CALL``, the JSON body) and the breakages of its framing (frame counts, a missing
delimiter, extra routing frames, other commands, attachments, empty frames), and a raw sender.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import zmq

from rpctest.exceptions import TransportError
from rpctest.fuzz.framing import (
    FramingCase,
    FramingOutcome,
    FramingReport,
    describe_unit,
    run_framing,
)
from rpctest.fuzz.garbage import FrameShape
from rpctest.model import Call, ErrorKind
from rpctest.stacks.zerojson import wire
from rpctest.stacks.zerojson.client import ZeroJSONClient
from rpctest.stacks.zerojson.errors import classify

__all__ = [
    "NO_SUCH_INTERFACE",
    "NESTING",
    "NO_SUCH_METHOD",
    "OVERSIZE",
    "exchange_at",
    "framing_cases",
    "fuzz_framing",
    "liveness_at",
    "outcome_from_frames",
]

#: an interface no real endpoint hosts
NO_SUCH_INTERFACE = "rpctest.no.such.interface"
#: a method no real interface has (cases that must not run anything real use it)
NO_SUCH_METHOD = "rpctest_no_such_method"
#: the size of the oversize body and attachment (8 MiB)
OVERSIZE = 8 * 1024 * 1024
#: how deep the nested-arrays case goes: issue 15's frame, past Python's recursion limit
NESTING = 1000

_NO_REPLY_WEAKNESS = (
    "PyCOM's handler crashes on it and sends no reply at all, so a caller learns nothing and waits for its "
    "whole timeout (a bad request deserves code 4)"
)
_CODE1_WEAKNESS = (
    "PyCOM fails internally and answers code 1 (a server error) for the caller's own malformed field "
    "(code 4, bad request, is the right answer)"
)


def _error(code: int) -> dict[str, Any]:
    return {"expect": "error", "codes": (code,), "kind": classify(code)}


def framing_cases(
    interface: str,
    method: str,
    *,
    args: Any = None,
    parameters: bool = True,
    stateful: bool = False,
    token: str | None = None,
    oversize: int | None = OVERSIZE,
) -> list[FramingCase]:
    """PyCOM's framing cases against ``interface``.``method`` of the endpoint.

    ``interface`` must be served and ``method`` must exist on it; ``args`` are the arguments of a
    valid call (put into cases that need an otherwise valid request). ``parameters``: whether the
    method declares parameters (only then is ``args`` that is not an object a bad request; the case
    is left out otherwise). ``stateful``: whether the interface keeps sessions (PyCOM only looks at
    ``session_id`` then). ``token``: the ``org.pycom.auth`` token an interface that requires
    authentication needs (otherwise its code 5 comes before the argument check). ``oversize``: the
    size of the two oversize cases (None leaves them out).
    """
    cases: list[FramingCase] = []

    def add(name: str, description: str, frames: Any, *, source: str, weakness: str | None = None, **expect: Any) -> None:
        cases.append(
            FramingCase(name, description, tuple(frames), weakness=weakness, source=source, **expect)
        )

    def body(iface: Any = interface, meth: Any = method, call_args: Any = None, **extra: Any) -> bytes:
        data: dict[str, Any] = {"interface": iface, "method": meth, "args": call_args}
        data.update(extra)
        data["version"] = wire.PROTOCOL_VERSION
        return wire.dumps(data)

    call = wire.COMMAND_CALL
    valid = body(call_args=args, **({"extensions": {wire.AUTH_EXTENSION: token}} if token else {}))
    no_reply: dict[str, Any] = {"expect": "no_reply", "weakness": _NO_REPLY_WEAKNESS}

    # -- frame count and envelope
    add("no-application-frames", "Only the empty delimiter, no application frames.", [],
        source="zj.frame.delimiter-only", **no_reply)
    add("command-frame-only", "One frame after the delimiter: the command CALL without a body.", [call],
        source="observed of PyCOM 0.6.0: 0 or 1 frames after the delimiter crash its handler, and no reply is sent",
        **no_reply)
    cases.append(FramingCase(
        "no-delimiter", "A valid [CALL, body] sent without the empty delimiter frame a REQ socket adds.",
        (call, valid), source="zj.frame.no-delimiter", options={"delimiter": False}, **no_reply,
    ))
    add("four-frames", "A valid request followed by two attachment frames (4 frames; at most 3 are allowed).",
        [call, valid, b"a", b"b"],
        source="observed of PyCOM 0.6.0: more than 3 frames after the delimiter get code 4 'Expected 2-3 parts, got 4'",
        **_error(wire.BAD_REQUEST))
    add("bad-json-and-four-frames", "Four frames whose body is not JSON: the decode error is reported, not the count.",
        [call, b"{bad", b"a", b"b"], source="zj.frame.bad-json-and-four-frames (the frame count is checked after decoding)",
        **_error(wire.BAD_REQUEST))

    # -- the command frame
    add("unknown-command", "Command frame PING instead of CALL.", [b"PING", valid],
        source="zj.frame.unknown-command", **_error(wire.BAD_REQUEST))
    add("finish-command", "Command frame FINISH, defined by ZeroJSON but not implemented.", [b"FINISH", valid],
        source="PyCOM 0.6.0 implements only CALL: any other command, FINISH included, gets code 4 "
        "'Unknown command: ...', as zj.frame.unknown-command records for PING", **_error(wire.BAD_REQUEST))
    add("empty-command-frame", "An empty command frame before a valid body (only the first empty frame is the delimiter).",
        [b"", valid], source="PyCOM 0.6.0 ends the envelope at the first empty frame, so this one is the command: "
        "unknown, code 4, as zj.frame.unknown-command records for PING",
        **_error(wire.BAD_REQUEST))

    # -- the body: bytes, UTF-8, JSON
    add("empty-body", "An empty (0-byte) JSON frame.", [call, b""], source="zj.frame.empty-body", **_error(wire.BAD_REQUEST))
    add("not-utf8", "A body that is not UTF-8.", [call, b"\xff\xfe"], source="zj.frame.invalid-utf8", **_error(wire.BAD_REQUEST))
    add("utf8-bom", "A UTF-8 byte order mark before an otherwise valid body.", [call, b"\xef\xbb\xbf" + valid],
        source="zj.frame.utf8-bom", **_error(wire.BAD_REQUEST))
    add("not-json", "A body that is not JSON.", [call, b"{nope"], source="zj.frame.invalid-json", **_error(wire.BAD_REQUEST))
    for kind, text in (("array", b"[1, 2]"), ("number", b"42"), ("string", b'"CALL"'), ("null", b"null")):
        add(f"json-{kind}-body", f"A body that is valid JSON but a {kind}, not an object.", [call, text],
            source="observed of PyCOM 0.6.0: valid JSON that is not an object crashes its handler, and no reply is sent",
            **no_reply)

    # -- envelope fields
    add("missing-interface", "A request object without 'interface'.", [call, wire.dumps({"method": method})],
        source="zj.frame.missing-interface", **_error(wire.BAD_REQUEST))
    add("missing-method", "A request object without 'method'.", [call, wire.dumps({"interface": interface})],
        source="PyCOM 0.6.0 answers code 4 'Field method is required', as zj.frame.missing-interface records for "
        "'interface'", **_error(wire.BAD_REQUEST))
    add("interface-not-a-string", "'interface' is a JSON array.", [call, body(iface=[interface])],
        source="observed of PyCOM 0.6.0: 'interface' given as a list fails inside the server, code 1",
        weakness=_CODE1_WEAKNESS, **_error(wire.UNKNOWN))
    add("interface-null", "'interface' is null (no interface of that name is served).", [call, body(iface=None)],
        source="PyCOM 0.6.0 answers an interface no service registered with code 4 'Unsupported interface: None', "
        "as zj.err.unknown-interface records for a name",
        **_error(wire.BAD_REQUEST))
    add("method-not-a-string", "'method' is a JSON array.", [call, body(meth=[method])],
        source="observed of PyCOM 0.6.0: 'method' given as a list fails inside the server, code 1",
        weakness=_CODE1_WEAKNESS, **_error(wire.UNKNOWN))
    add("method-null", "'method' is null.", [call, body(meth=None)],
        source="observed of PyCOM 0.6.0: 'method': null gets code 2 \"Method 'None' not found ...\"",
        **_error(wire.METHOD_NOT_FOUND))
    if parameters:
        extensions = {"extensions": {wire.AUTH_EXTENSION: token}} if token else {}
        add("args-not-an-object", "'args' is a JSON array for a method that declares parameters.",
            [call, body(call_args=[1, 2], **extensions)], source="zj.err.args-not-object",
            **_error(wire.BAD_REQUEST))
    session_body = body(meth=NO_SUCH_METHOD, session_id=[1])
    if stateful:
        add("session-id-not-a-string", "'session_id' is a JSON array on a stateful interface.", [call, session_body],
            source="observed of PyCOM 0.6.0: 'session_id' given as a list on a stateful interface fails inside the "
            "server, code 1",
            weakness=_CODE1_WEAKNESS, **_error(wire.UNKNOWN))
    else:
        add("session-id-not-a-string", "'session_id' is a JSON array on a stateless interface (ignored there) and the method is unknown.",
            [call, session_body],
            source="PyCOM 0.6.0's stateless interfaces ignore session_id, so the unknown method decides: code 2",
            **_error(wire.METHOD_NOT_FOUND))
    add("extensions-not-an-object", "'extensions' is a JSON array in an otherwise valid call.",
        [call, body(call_args=args, extensions=[1])], source="zj.err.extensions-not-object",
        weakness=_CODE1_WEAKNESS, **_error(wire.UNKNOWN))

    # -- names
    add("unknown-interface", "An interface the endpoint does not serve.", [call, body(iface=NO_SUCH_INTERFACE, meth="x")],
        source="zj.err.unknown-interface (code 4, not 3)", **_error(wire.BAD_REQUEST))
    add("unknown-method", "A method the interface does not have.", [call, body(meth=NO_SUCH_METHOD)],
        source="zj.err.introspect-not-service (a method the interface does not have: code 2)",
        **_error(wire.METHOD_NOT_FOUND))

    # -- what breaks decoders: nesting, long integers, long strings, bad text (issue 15)
    unknown: dict[str, Any] = {"expect": "error", "codes": (wire.METHOD_NOT_FOUND,), "kind": ErrorKind.NOT_FOUND}
    add("json-nested-1000", "A body of 1000 nested arrays (2 KB), deeper than Python's JSON decoder recurses.",
        [call, b"[" * NESTING + b"]" * NESTING],
        source="observed of PyCOM 0.6.0: json.loads raises RecursionError, which its decoder (catching ValueError) "
        "does not catch: the handler crashes, no reply is sent, and the server keeps serving", **no_reply)
    add("args-nested-100000", "A request object with a key whose value is 100000 nested arrays.",
        [call, body(meth=NO_SUCH_METHOD)[:-1] + b', "rpctest_nested": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"],
        source="observed of PyCOM 0.6.0: nesting inside the request object crashes the handler as at the top: no reply",
        **no_reply)
    add("integer-of-5000-digits", "A request object with a key whose value is an integer of 5000 digits (Python converts at most 4300).",
        [call, body(meth=NO_SUCH_METHOD)[:-1] + b', "rpctest_number": ' + b"1" * 5000 + b"}"],
        source="observed of PyCOM 0.6.0: int() refuses more than 4300 digits with a ValueError, which its decoder "
        "catches: code 4 'Cannot decode response: Exceeds the limit (4300 digits) ...'", **_error(wire.BAD_REQUEST))
    add("string-of-1-mib", "A request for an unknown method carrying a string of 1 MiB.",
        [call, body(meth=NO_SUCH_METHOD, rpctest_padding="x" * (1 << 20))],
        source="observed of PyCOM 0.6.0: a string of megabytes is just data; the unknown method decides, code 2",
        **unknown)
    add("string-not-utf8", "A request object whose padding string holds bytes that are not UTF-8.",
        [call, body(meth=NO_SUCH_METHOD)[:-1] + b', "rpctest_padding": "\xff\xfe"}'],
        source="observed of PyCOM 0.6.0: the whole body is decoded as UTF-8 first: code 4 'Invalid encoding, "
        "expected UTF-8', as zj.frame.invalid-utf8 records for a body of such bytes", **_error(wire.BAD_REQUEST))
    add("lone-surrogate-escape", "A JSON escape of a lone UTF-16 surrogate (\\ud800), valid JSON, in a request for an unknown method.",
        [call, body(meth=NO_SUCH_METHOD)[:-1] + b', "rpctest_padding": "\\ud800"}'],
        source="observed of PyCOM 0.6.0: json.loads takes the escape; the unknown method decides, code 2", **unknown)

    # -- size (never recorded)
    if oversize:
        unrecorded = (
            "not recorded: PyCOM 0.6.0 sets no message size limit, so it presumably answers code 2 for "
            "the unknown method; any refusal or silence is accepted, the endpoint must stay alive"
        )
        padded = body(meth=NO_SUCH_METHOD, rpctest_padding="x" * oversize)
        add("oversize-body", f"A {len(padded)}-byte request body (a padding key PyCOM ignores) for an unknown method.",
            [call, padded], source=unrecorded, expect="survive", codes=(wire.METHOD_NOT_FOUND,), kind=ErrorKind.NOT_FOUND)
        add("huge-attachment", f"An unknown-method request with a {oversize}-byte attachment frame.",
            [call, body(meth=NO_SUCH_METHOD), b"\0" * oversize],
            source=unrecorded, expect="survive", codes=(wire.METHOD_NOT_FOUND,), kind=ErrorKind.NOT_FOUND)
    return cases


# -- talking to an endpoint ---------------------------------------------------------------------------


def outcome_from_frames(frames: list[bytes] | None, waited: float) -> FramingOutcome:
    """The outcome for a reply's application frames (None: nothing came within ``waited`` seconds).

    A ``FAIL`` status (ZeroJSON's "the server failed", which PyCOM never manages to send) is a
    server-error reply; bytes that are not a ZeroJSON reply are a transport error.
    """
    if frames is None:
        return FramingOutcome.no_reply(waited)
    raw = describe_unit(frames)
    if frames and bytes(frames[0]) == wire.STATUS_FAIL:
        text = bytes(frames[1]).decode("utf-8", "replace") if len(frames) > 1 else None
        return FramingOutcome.reply("FAIL", text, ErrorKind.SERVER_ERROR, detail=raw)
    try:
        response = wire.decode_response(frames)
    except wire.WireError as exc:
        return FramingOutcome.transport_error(f"{exc} (raw reply {raw})")
    if response.code == wire.OK:
        return FramingOutcome.reply(wire.OK, None, None, detail=raw)
    return FramingOutcome.reply(response.code, response.error, classify(response.code), detail=raw)


def exchange_at(address: str, *, context: zmq.Context | None = None) -> Callable[[FramingCase, float], FramingOutcome]:
    """An exchange function for :func:`rpctest.fuzz.framing.run_framing` against ``address``.

    Each call opens a DEALER (on ``context``; ``inproc://`` needs the server's), sends the case's
    frames after the empty delimiter (unless ``case.options["delimiter"]`` is False), waits at most
    ``timeout`` and closes the socket (linger 0): nothing stays open between cases and nothing
    outlives the run. A bad address raises ConfigError here, not per case.
    """
    ZeroJSONClient(address, context=context).close()  # validates the address once, up front

    def exchange(case: FramingCase, timeout: float) -> FramingOutcome:
        delimiter = bool(case.options.get("delimiter", True))
        with ZeroJSONClient(address, timeout=timeout, context=context) as client:
            try:
                answer = client.exchange(case.frames, timeout=timeout, delimiter=delimiter)
            except wire.WireError as exc:
                return FramingOutcome.transport_error(str(exc))
        return outcome_from_frames(answer, timeout)

    exchange.__qualname__ = f"exchange_at({address!r})"
    return exchange


def liveness_at(
    address: str,
    interface: str,
    method: str,
    args: Any = None,
    *,
    timeout: float = 1.0,
    context: zmq.Context | None = None,
    token: str | None = None,
) -> Callable[[], bool]:
    """A liveness check: True when ``interface.method(args)`` gets a well-formed ZeroJSON reply in time.

    Any reply counts, an error code included (the endpoint is answering; whether the arguments
    were right is not the question); no reply or a broken one is False. A fresh socket per check.
    """
    ZeroJSONClient(address, context=context).close()

    def alive() -> bool:
        with ZeroJSONClient(address, timeout=timeout, context=context, token=token) as client:
            try:
                client.call(interface, method, args)
            except TransportError:
                return False
        return True

    alive.__qualname__ = f"liveness_at({address!r}, {interface!r}, {method!r})"
    return alive


def fuzz_framing(
    address: str,
    interface: str,
    method: str,
    args: Any = None,
    *,
    timeout: float = 1.0,
    context: zmq.Context | None = None,
    token: str | None = None,
    parameters: bool = True,
    stateful: bool = False,
    oversize: int | None = OVERSIZE,
    liveness: bool = True,
    strict: bool = False,
) -> FramingReport:
    """Run every ZeroJSON framing case against ``address``, checking after each that
    ``interface.method(args)`` is still answered (``liveness=False`` skips that)."""
    cases = framing_cases(
        interface, method, args=args, parameters=parameters, stateful=stateful, token=token, oversize=oversize
    )
    probe = liveness_at(address, interface, method, args, timeout=timeout, context=context, token=token) if liveness else None
    return run_framing(
        cases,
        exchange_at(address, context=context),
        timeout=timeout,
        liveness=probe,
        strict=strict,
        stack="zerojson",
        target=address,
    )


# -- random malformed messages (rpctest.fuzz.garbage) ------------------------------------------------------


def _frame_count(rng: random.Random, shape: FrameShape) -> list[bytes]:
    """0 to 6 application frames after the delimiter, or dozens (2 or 3 are valid)."""
    count = rng.choice((0, 1, 4, 5, 6, rng.randrange(7, 100)))
    frames = [wire.COMMAND_CALL, shape.payload, b"attachment"] + [rng.randbytes(1) for _ in range(max(0, count - 3))]
    return [b"", *frames[:count]]


def _no_delimiter(rng: random.Random, shape: FrameShape) -> list[bytes]:
    """The application frames without the empty delimiter a REQ socket adds."""
    return rng.choice(([wire.COMMAND_CALL, shape.payload], [shape.payload], [wire.COMMAND_CALL], [wire.COMMAND_CALL, shape.payload, b"x"]))


def _routing_frames(rng: random.Random, shape: FrameShape) -> list[bytes]:
    """Extra non-empty frames before the delimiter, which a ROUTER takes for routing identities."""
    extra = [rng.randbytes(rng.randrange(1, 40)) for _ in range(rng.randrange(1, 6))]
    return [*extra, *shape.valid]


def _command(rng: random.Random, shape: FrameShape) -> list[bytes]:
    """A command frame other than CALL."""
    command = rng.choice((
        b"call", b"CALL\x00", b" CALL", b"CALL" * rng.randrange(2, 3000), b"\xff\xfe", b"FINISH", b"OK", b"FAIL",
        rng.randbytes(rng.randrange(1, 64)),
    ))
    return [b"", command, shape.payload]


def _attachment(rng: random.Random, shape: FrameShape) -> list[bytes]:
    """A valid call with an attachment of random bytes (up to 64 KiB)."""
    return [*shape.valid, rng.randbytes(rng.choice((0, 1, rng.randrange(2, 1024), 65_536)))]


def _empty_frames(rng: random.Random, shape: FrameShape) -> list[bytes]:
    """Empty frames where the command, the body or the attachment go."""
    return rng.choice(([b"", b"", wire.COMMAND_CALL, shape.payload], [b"", wire.COMMAND_CALL, b""], [b"", b"", b""],
                       [b"", wire.COMMAND_CALL, shape.payload, b"", b""], [b"", b"", shape.payload]))


_BREAKAGES = (_frame_count, _no_delimiter, _routing_frames, _command, _attachment, _empty_frames)


class GarbageTarget:
    """A ZeroJSON endpoint as a target of :func:`rpctest.fuzz.garbage.run_garbage`: units are the 0MQ
    frames a DEALER sends (the empty delimiter included, so a breakage can drop it), each sent with
    :meth:`ZeroJSONClient.exchange`, whose fresh socket after a silence keeps late replies apart."""

    def __init__(self, address: str, probe: Call, *, timeout: float = 5.0, context: zmq.Context | None = None) -> None:
        self.address = address
        self.probe = probe
        self.context = context
        request = wire.Request(probe.service, probe.operation, probe.body)
        self.shape = FrameShape(
            "zerojson", wire.dumps(request.to_dict()), "json", lambda payload: [b"", wire.COMMAND_CALL, payload], _BREAKAGES
        )
        self._client = ZeroJSONClient(address, timeout=timeout, context=context)

    def send(self, unit: list[bytes], wait: float) -> str:
        try:
            answer = self._client.exchange(unit, timeout=wait, delimiter=False)
        except wire.WireError:  # a reply that came back along the extra routing frames of the unit
            return "reply"
        return "none" if answer is None else "reply"

    def alive(self, timeout: float) -> bool:
        with ZeroJSONClient(self.address, timeout=timeout, context=self.context) as client:
            try:
                client.call(self.probe)
            except TransportError:
                return False
        return True

    def close(self) -> None:
        self._client.close()
