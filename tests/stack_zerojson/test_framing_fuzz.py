"""Framing-level fuzzing: the neutral runner and oracle, and the ZeroJSON cases against real sockets.

Three layers are tested: the oracle and runner on their own (pure functions, fake exchanges); the
ZeroJSON cases against the recorded PyCOM vectors (expectations and bytes) and against rpctest's
own server over inproc and tcp (which mimics PyCOM, so every case must get PyCOM's outcome and the
weaknesses must come out as weaknesses); and the runner against deliberately broken ROUTER peers:
one that accepts malformed input, one that answers nothing, one that dies after a bad frame.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from stack_zerojson.framing_helpers import (
    FUZZ_ARGS,
    FUZZ_INTERFACE,
    FUZZ_METHOD,
    FuzzMe,
    FuzzSecure,
    FuzzSession,
    Peer,
    accept_token,
    always,
    pycom_like,
    silent,
)
from stack_zerojson.vecservices import Demo
from vectors import blob_bytes, load

from rpctest.exceptions import ConfigError
from rpctest.fuzz.framing import (
    FramingCase,
    FramingOutcome,
    describe_unit,
    judge,
    run_framing,
)
from rpctest.model import ErrorKind
from rpctest.stacks.zerojson import wire
from rpctest.stacks.zerojson.errors import classify
from rpctest.stacks.zerojson.framing import (
    NO_SUCH_METHOD,
    OVERSIZE,
    exchange_at,
    framing_cases,
    fuzz_framing,
    liveness_at,
    outcome_from_frames,
)
from rpctest.stacks.zerojson.server import ZeroJSONServer

CALLER, NOT_FOUND, SERVER = ErrorKind.CALLER_ERROR, ErrorKind.NOT_FOUND, ErrorKind.SERVER_ERROR
REQUIRED = {
    "no-application-frames", "command-frame-only", "four-frames", "no-delimiter", "not-utf8", "not-json",
    "json-array-body", "json-number-body", "json-string-body", "json-null-body", "unknown-command",
    "empty-command-frame", "empty-body", "missing-interface", "missing-method", "interface-not-a-string",
    "method-not-a-string", "args-not-an-object", "session-id-not-a-string", "unknown-interface",
    "unknown-method", "oversize-body", "huge-attachment", "json-nested-1000", "args-nested-100000",
    "integer-of-5000-digits", "string-of-1-mib", "string-not-utf8", "lone-surrogate-escape",
}  # fmt: skip
VECTOR_ID = re.compile(r"zj\.(?:frame|err)\.[a-z0-9-]+")


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every peer and server a test starts must be gone when it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while (extra := set(threading.enumerate()) - before) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not extra, f"threads left running: {extra}"


def the_cases(**options: Any) -> list[FramingCase]:
    return framing_cases(FUZZ_INTERFACE, FUZZ_METHOD, args=FUZZ_ARGS, **options)


# -- the oracle, on its own -------------------------------------------------------------------------------


def case(expect: str = "error", *, codes: tuple[Any, ...] = (4,), kind: ErrorKind | None = CALLER, weakness: str | None = None) -> FramingCase:
    if expect in ("no_reply", "close"):
        codes, kind = (), None
    return FramingCase("a-case", "A case.", (b"x",), expect, codes=codes, kind=kind, weakness=weakness, source="test")  # type: ignore[arg-type]


REPLY4 = FramingOutcome.reply(4, "bad", CALLER)
REPLY2 = FramingOutcome.reply(2, "no method", NOT_FOUND)
REPLY1 = FramingOutcome.reply(1, "boom", SERVER)
REPLY0 = FramingOutcome.reply(0)
SILENCE = FramingOutcome.no_reply(0.5)
CLOSED = FramingOutcome.closed()
BROKEN = FramingOutcome.transport_error("garbage")
WEAK = "the reference is poor here"


@pytest.mark.parametrize(
    ("the_case", "outcome", "severity", "words"),
    [
        (case(), REPLY4, "ok", "as the reference does"),
        (case(weakness=WEAK), REPLY4, "weakness", WEAK),
        (case(codes=(1,), kind=SERVER, weakness=WEAK), REPLY1, "weakness", WEAK),
        (case(codes=(1,), kind=SERVER, weakness=WEAK), REPLY4, "ok", "better than the reference"),
        (case(codes=(1,), kind=SERVER), REPLY4, "failure", "the reference answers error 1"),
        (case(), REPLY2, "failure", "the reference answers error 4"),
        (case(), REPLY0, "failure", "accepted malformed input"),
        (case(), SILENCE, "failure", "a caller would wait for nothing"),
        (case(), CLOSED, "failure", "connection closed"),
        (case(), BROKEN, "failure", "the exchange broke"),
        (case(codes=(), kind=CALLER), FramingOutcome.reply(42, "own code", CALLER), "ok", "as the reference does"),
        (case("no_reply", weakness=WEAK), SILENCE, "weakness", WEAK),
        (case("no_reply", weakness=WEAK), REPLY4, "ok", "better than the reference"),
        (case("no_reply", weakness=WEAK), CLOSED, "ok", "learns at once"),
        (case("no_reply", weakness=WEAK), REPLY1, "failure", "the reference sends no reply"),
        (case("no_reply", weakness=WEAK), REPLY0, "failure", "accepted malformed input"),
        (case("no_reply"), REPLY4, "failure", "the reference sends no reply"),
        (case("close"), CLOSED, "ok", "as the reference does"),
        (case("close"), SILENCE, "failure", "the reference sends a close of the connection"),
        (case("survive", codes=(2,), kind=NOT_FOUND), REPLY2, "ok", "accepted"),
        (case("survive", codes=(2,), kind=NOT_FOUND), REPLY4, "ok", "accepted"),
        (case("survive", codes=(2,), kind=NOT_FOUND), SILENCE, "ok", "may drop or refuse"),
        (case("survive", codes=(2,), kind=NOT_FOUND), REPLY0, "failure", "accepted malformed input"),
        (case("survive", codes=(2,), kind=NOT_FOUND), REPLY1, "failure", "a server error"),
        (case("survive", codes=(2,), kind=NOT_FOUND), BROKEN, "failure", "the exchange broke"),
    ],
)
def test_the_oracle(the_case: FramingCase, outcome: FramingOutcome, severity: str, words: str) -> None:
    got, message = judge(the_case, outcome)
    assert (got, words in message) == (severity, True), message


def test_cases_are_validated() -> None:
    with pytest.raises(ValueError, match="kebab"):
        FramingCase("Not Kebab", "x", (), "no_reply")
    with pytest.raises(ValueError, match="expect is one of"):
        FramingCase("a", "x", (), "maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs the codes or the kind"):
        FramingCase("a", "x", (), "error")
    assert FramingCase("a", "x", (), "error", kind="caller_error").kind is CALLER  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="an outcome is one of"):
        FramingOutcome("maybe")  # type: ignore[arg-type]


def test_huge_frames_stay_out_of_reprs_and_reports() -> None:
    big = FramingCase("big", "x", (b"CALL", b"x" * OVERSIZE), "survive", codes=(2,), kind=NOT_FOUND)
    assert len(repr(big)) < 300
    assert describe_unit(big.frames) == f"[b'CALL' (4 B), {b'x' * 48!r}... ({OVERSIZE} B)]"
    assert describe_unit([]) == "[] (no frames)"
    assert describe_unit(b"abc") == "b'abc' (3 B)"
    assert len(json.dumps(big.to_dict())) < 1000


# -- the runner, with fake exchanges ---------------------------------------------------------------------


def fake_exchange(outcomes: dict[str, FramingOutcome], calls: list[str] | None = None) -> Any:
    def exchange(the_case: FramingCase, timeout: float) -> FramingOutcome:
        if calls is not None:
            calls.append(the_case.name)
        return outcomes[the_case.name]

    return exchange


def three_cases() -> list[FramingCase]:
    return [
        FramingCase("bad-json", "Not JSON.", (b"CALL", b"{"), "error", codes=(4,), kind=CALLER, source="v1"),
        FramingCase("not-object", "An array.", (b"CALL", b"[]"), "no_reply", weakness=WEAK, source="v2"),
        FramingCase("unknown", "Unknown method.", (b"CALL", b"{}"), "error", codes=(2,), kind=NOT_FOUND, source="v3"),
    ]


def test_a_reference_like_run_passes_and_reports_weaknesses() -> None:
    report = run_framing(
        three_cases(), fake_exchange({"bad-json": REPLY4, "not-object": SILENCE, "unknown": REPLY2}), stack="toy", target="toy://x"
    )
    assert [r.severity for r in report.results] == ["ok", "weakness", "ok"]
    assert report.ok and report.exit_code == 0 and len(report.weaknesses) == 1 and not report.failures
    text = report.render()
    assert "WEAKNESS  not-object" in text and f"weakness: {WEAK}" in text and "source: v2" in text
    assert "rpctest fuzz framing passed: toy at toy://x, 3 case(s), 0 failing, 1 weakness(es)" in text
    data = json.loads(report.render("json"))
    assert data["ok"] is True and data["weaknesses"] == 1 and data["results"][1]["severity"] == "weakness"
    assert data["results"][0]["outcome"] == {"kind": "reply", "code": 4, "message": "bad", "error_kind": "caller_error"}
    suite = ET.fromstring(report.render("junit").split("\n", 1)[1])
    assert (suite.get("tests"), suite.get("failures")) == ("3", "0")

    strict = run_framing(three_cases(), fake_exchange({"bad-json": REPLY4, "not-object": SILENCE, "unknown": REPLY2}), strict=True)
    assert not strict.ok and strict.exit_code == 1 and "strict" in strict.summary()
    assert ET.fromstring(strict.render("junit").split("\n", 1)[1]).get("failures") == "1"
    with pytest.raises(ConfigError, match="choose one of"):
        report.render("html")


def test_a_broken_exchange_is_a_finding_not_a_crash() -> None:
    def exchange(the_case: FramingCase, timeout: float) -> Any:
        if the_case.name == "bad-json":
            raise RuntimeError("socket exploded")
        if the_case.name == "not-object":
            return "not an outcome"
        return REPLY2

    report = run_framing(three_cases(), exchange)
    assert [r.outcome.kind for r in report.results] == ["transport_error", "transport_error", "reply"]
    assert "RuntimeError: socket exploded" in report.result("bad-json").message
    assert "not a FramingOutcome" in report.result("not-object").message
    assert not report.ok and len(report.failures) == 2
    with pytest.raises(KeyError, match="ran bad-json, not-object, unknown"):
        report.result("nope")


def test_liveness_is_checked_before_and_after_every_case() -> None:
    calls: list[str] = []
    answers = iter([True, True, False])
    report = run_framing(
        three_cases(),
        fake_exchange({"bad-json": REPLY4, "not-object": SILENCE, "unknown": REPLY2}, calls),
        liveness=lambda: next(answers),
    )
    assert calls == ["bad-json", "not-object"]  # the third case was never sent
    assert report.result("bad-json").alive is True
    dead = report.result("not-object")
    assert (dead.severity, dead.alive) == ("failure", False)
    assert "stopped answering a valid request after not-object" in dead.message
    assert report.skipped == ["unknown"] and "after not-object" in (report.aborted or "")
    assert not report.ok and "ABORTED" in report.render() and "not sent: unknown" in report.render()


def test_a_dead_endpoint_is_reported_before_any_case_is_sent() -> None:
    calls: list[str] = []

    def liveness() -> bool:
        raise ConnectionError("refused")

    report = run_framing(three_cases(), fake_exchange({}, calls), liveness=liveness)
    assert calls == [] and report.results == [] and not report.ok
    assert "before any framing case" in (report.aborted or "") and "ConnectionError: refused" in (report.aborted or "")
    assert report.skipped == ["bad-json", "not-object", "unknown"]
    suite = ET.fromstring(report.render("junit").split("\n", 1)[1])
    assert suite.get("skipped") == "3"


def test_the_runner_refuses_a_useless_setup() -> None:
    with pytest.raises(ConfigError, match="positive number of seconds"):
        run_framing(three_cases(), fake_exchange({}), timeout=0)
    with pytest.raises(ValueError, match="repeated: bad-json"):
        run_framing([*three_cases(), three_cases()[0]], fake_exchange({}))


# -- the ZeroJSON cases against the recorded vectors ----------------------------------------------------------


def test_the_cases_cover_the_brief_and_say_where_they_come_from() -> None:
    cases = the_cases()
    names = [c.name for c in cases]
    assert REQUIRED <= set(names) and len(names) == len(set(names))
    for c in cases:
        assert c.source and c.description.endswith("."), c.name
        if c.expect in ("error", "survive"):
            assert c.codes and all(classify(code) is c.kind for code in c.codes), c.name
        if c.expect == "no_reply":
            assert c.weakness, c.name  # PyCOM's silences are all weaknesses
        if c.weakness and c.expect == "error":
            assert c.codes == (wire.UNKNOWN,), c.name  # the other weakness: code 1 for a caller's mistake
    by_name = {c.name: c for c in cases}
    assert len(by_name["oversize-body"].frames[1]) > OVERSIZE and len(by_name["huge-attachment"].frames[2]) == OVERSIZE
    for name in ("unknown-method", "session-id-not-a-string", "oversize-body", "huge-attachment"):
        assert json.loads(by_name[name].frames[1])["method"] == NO_SUCH_METHOD, name  # nothing real runs
    assert by_name["no-delimiter"].options == {"delimiter": False}


def test_options_change_the_cases_as_pycom_would() -> None:
    by_name = {c.name: c for c in the_cases(parameters=False, stateful=True, oversize=None)}
    assert "args-not-an-object" not in by_name and "oversize-body" not in by_name and "huge-attachment" not in by_name
    stateful = by_name["session-id-not-a-string"]
    assert (stateful.codes, stateful.weakness is not None) == ((wire.UNKNOWN,), True)
    stateless = {c.name: c for c in the_cases()}["session-id-not-a-string"]
    assert (stateless.codes, stateless.weakness) == ((wire.METHOD_NOT_FOUND,), None)
    with_token = {c.name: c for c in the_cases(token="tok")}["args-not-an-object"]
    assert json.loads(with_token.frames[1])["extensions"] == {wire.AUTH_EXTENSION: "tok"}


def _vectors() -> dict[str, dict[str, Any]]:
    return {v["id"]: v for family in ("framing", "errors") for v in load("zerojson", family)["vectors"]}


def test_every_cited_vector_exists_and_agrees_with_the_expectation() -> None:
    vectors = _vectors()
    cited = 0
    for c in the_cases():
        for vector_id in VECTOR_ID.findall(c.source):
            cited += 1
            outcome = vectors[vector_id]["outcome"]
            if outcome["kind"] == "no_reply":
                assert c.expect == "no_reply", c.name
            else:
                assert (c.expect, outcome["code"] in c.codes) == ("error", True), c.name
    assert cited >= 12
    # every recorded framing vector is covered by some case
    framing_ids = {v["id"] for v in load("zerojson", "framing")["vectors"]}
    assert framing_ids <= {i for c in the_cases() for i in VECTOR_ID.findall(c.source)}


@pytest.mark.parametrize(
    ("name", "vector_id", "interface", "method", "args"),
    [
        ("unknown-command", "zj.frame.unknown-command", "org.pycom.demo", "echo", {"x": 1}),
        ("no-delimiter", "zj.frame.no-delimiter", "org.pycom.demo", "echo", {"x": 1}),
        ("not-json", "zj.frame.invalid-json", "org.pycom.demo", "echo", None),
        ("not-utf8", "zj.frame.invalid-utf8", "org.pycom.demo", "echo", None),
        ("empty-body", "zj.frame.empty-body", "org.pycom.demo", "echo", None),
        ("missing-interface", "zj.frame.missing-interface", "org.pycom.demo", "echo", None),
        ("bad-json-and-four-frames", "zj.frame.bad-json-and-four-frames", "org.pycom.demo", "echo", None),
        ("no-application-frames", "zj.frame.delimiter-only", "org.pycom.demo", "echo", None),
        ("args-not-an-object", "zj.err.args-not-object", "com.example.calc", "add", None),
    ],
)
def test_case_bytes_are_the_recorded_bytes(name: str, vector_id: str, interface: str, method: str, args: Any) -> None:
    built = {c.name: c for c in framing_cases(interface, method, args=args)}[name]
    sent = [blob_bytes(frame) for frame in _vectors()[vector_id]["exchange"][0]["frames"]]
    assert list(built.frames) == sent


# -- the exchange -------------------------------------------------------------------------------------


def test_outcomes_are_decoded_as_the_oracle_needs_them() -> None:
    assert outcome_from_frames(None, 0.25) == FramingOutcome.no_reply(0.25)
    ok = outcome_from_frames([b"OK", b'{"code": 0, "result": 3}'], 1)
    assert (ok.kind, ok.code, ok.error_kind) == ("reply", 0, None)
    err = outcome_from_frames([b"OK", b'{"code": 6, "error": "Session \'x\' has expired"}'], 1)
    assert (err.code, err.error_kind, err.message) == (6, CALLER, "Session 'x' has expired")
    failed = outcome_from_frames([b"FAIL", b"oops"], 1)
    assert (failed.code, failed.error_kind, failed.message) == ("FAIL", SERVER, "oops")
    for garbage in ([b"OK", b"{bad"], [b"OK"], [b"HUH", b'{"code": 0}'], [b"OK", b'{"result": 1}']):
        broken = outcome_from_frames(garbage, 1)
        assert broken.kind == "transport_error" and "raw reply" in broken.detail, garbage


def test_a_bad_address_is_refused_up_front() -> None:
    with pytest.raises(ConfigError, match="tcp://host:port"):
        exchange_at("localhost:1234")
    with pytest.raises(ConfigError, match="tcp://host:port"):
        liveness_at("nowhere", FUZZ_INTERFACE, FUZZ_METHOD)


def test_the_exchange_reproduces_the_recorded_framing_vectors() -> None:
    with ZeroJSONServer([Demo]) as server:
        exchange = exchange_at(server.address, context=server.context)
        for vector in load("zerojson", "framing")["vectors"]:
            frames = tuple(blob_bytes(f) for f in vector["exchange"][0]["frames"])
            delimiter = "WITHOUT" not in vector["transport"]["client_socket"]
            the_case = FramingCase("v", vector["description"], frames, "no_reply", options={"delimiter": delimiter})
            outcome = exchange(the_case, 0.5)
            want = vector["outcome"]
            if want["kind"] == "no_reply":
                assert outcome.kind == "no_reply", vector["id"]
            else:
                assert (outcome.kind, outcome.code, outcome.message) == ("reply", want["code"], want["error"]), vector["id"]
        assert server.alive


# -- every case against rpctest's own server (which mimics PyCOM) --------------------------------------


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_rpctest_server_answers_every_case_as_pycom(transport: str) -> None:
    address = None if transport == "inproc" else "tcp://127.0.0.1:0"
    with ZeroJSONServer([FuzzMe], address=address) as server:
        report = fuzz_framing(server.address, FUZZ_INTERFACE, FUZZ_METHOD, FUZZ_ARGS, timeout=0.5, context=server.context)
        assert server.alive
        silences = sum(1 for r in report.results if r.case.expect == "no_reply")
        assert sum("got no reply" in d for d in server.diagnostics) == silences
    assert report.ok, report.render()
    assert [r.case.name for r in report.results] == [c.name for c in the_cases()]
    for result in report.results:
        c, outcome = result.case, result.outcome
        assert result.alive is True, c.name
        if c.expect == "no_reply":
            assert outcome.kind == "no_reply", c.name
        else:  # error, and survive: rpctest's server answers the oversize cases as PyCOM presumably does
            assert (outcome.kind, outcome.code in c.codes, outcome.error_kind) == ("reply", True, c.kind), c.name
        assert result.severity == ("weakness" if c.weakness else "ok"), (c.name, result.message)
    assert len(report.weaknesses) == silences + 3  # 9 silences + 3 code-1 answers
    assert not run_framing(the_cases(oversize=None), _replay(report), strict=True).ok


def _replay(report: Any) -> Any:
    """An exchange answering each case as it was answered in ``report`` (no sockets)."""
    seen = {r.case.name: r.outcome for r in report.results}
    return lambda the_case, timeout: seen[the_case.name]


@pytest.mark.parametrize(
    ("service", "method", "args", "options", "expected"),
    [
        (FuzzSession, "incr", {"step": 1}, {"stateful": True}, {"session-id-not-a-string": (1, "weakness"), "args-not-an-object": (4, "ok")}),
        (FuzzSecure, "double", {"x": 2}, {"token": "tok"}, {"args-not-an-object": (4, "ok"), "extensions-not-an-object": (1, "weakness")}),
        (FuzzSecure, "double", {"x": 2}, {}, {"args-not-an-object": (5, "failure")}),
    ],
)
def test_session_and_token_options_against_rpctest_server(
    service: Any, method: str, args: Any, options: dict[str, Any], expected: dict[str, tuple[int, str]]
) -> None:
    name = service.__zerojson_interface__.name
    cases = [c for c in framing_cases(name, method, args=args, **options) if c.name in expected]
    with ZeroJSONServer([service], authenticator=accept_token) as server:
        report = run_framing(cases, exchange_at(server.address, context=server.context), timeout=1.0)
    got = {r.case.name: (r.outcome.code, r.severity) for r in report.results}
    assert got == expected, report.render()


# -- deliberately broken targets -------------------------------------------------------------------------


def test_a_peer_that_accepts_one_malformed_input_fails_exactly_that_case() -> None:
    def not_json_is_fine(app: list[bytes]) -> list[bytes] | None:
        return [b"OK", b'{"code": 0, "result": null}'] if app[1:2] == [b"{nope"] else None

    with Peer(pycom_like(FuzzMe, override=not_json_is_fine)) as peer:
        report = fuzz_framing(peer.address, FUZZ_INTERFACE, FUZZ_METHOD, FUZZ_ARGS, timeout=0.5, oversize=None)
    assert [r.case.name for r in report.failures] == ["not-json"]
    failed = report.result("not-json")
    assert failed.outcome.code == 0 and "accepted malformed input (reply 0 (success))" in failed.message
    assert "zj.frame.invalid-json" in failed.message
    assert not report.ok and report.exit_code == 1
    assert re.search(r"^FAILED\s+not-json\s+error 4 \(caller_error\)\s+-> reply 0 \(success\)$", report.render(), re.MULTILINE)


def test_a_peer_that_accepts_everything_fails_every_case() -> None:
    with Peer(always([b"OK", b'{"code": 0, "result": 1}'])) as peer:
        report = fuzz_framing(peer.address, FUZZ_INTERFACE, FUZZ_METHOD, FUZZ_ARGS, timeout=0.5)
    assert len(report.results) == len(the_cases())
    assert all(r.severity == "failure" and "accepted malformed input" in r.message for r in report.results)


@pytest.mark.parametrize(
    ("reply", "kind"),
    [([b"OK", b"{bad"], "transport_error"), ([b"FAIL", b"crashed"], "reply")],
)
def test_a_peer_with_broken_or_failed_replies_fails(reply: list[bytes], kind: str) -> None:
    cases = [c for c in the_cases() if c.name in ("not-json", "json-array-body", "unknown-method")]
    with Peer(always(reply)) as peer:
        report = run_framing(cases, exchange_at(peer.address), timeout=0.5)
    assert [(r.outcome.kind, r.severity) for r in report.results] == [(kind, "failure")] * 3


def test_a_silent_peer_is_reported_in_bounded_time() -> None:
    timeout = 0.1
    cases = the_cases()
    with Peer(silent) as peer:
        started = time.monotonic()
        report = run_framing(cases, exchange_at(peer.address), timeout=timeout, stack="zerojson", target=peer.address)
        elapsed = time.monotonic() - started
        assert len(peer.received) == len(cases)  # every case reached it; none was answered
    assert elapsed < len(cases) * (timeout + 0.4) + 2, elapsed
    assert {r.outcome.kind for r in report.results} == {"no_reply"}
    for r in report.results:
        want = {"error": "failure", "no_reply": "weakness", "survive": "ok"}[r.case.expect]
        assert r.severity == want, (r.case.name, r.message)
        if want == "failure":
            assert "a caller would wait for nothing" in r.message
    assert not report.ok


def test_a_silent_peer_with_a_liveness_check_stops_at_once() -> None:
    with Peer(silent) as peer:
        started = time.monotonic()
        report = fuzz_framing(peer.address, FUZZ_INTERFACE, FUZZ_METHOD, FUZZ_ARGS, timeout=0.2)
        elapsed = time.monotonic() - started
        assert len(peer.received) == 1  # only the liveness probe
    assert elapsed < 2 and report.results == [] and not report.ok
    assert "did not answer a valid request before any framing case" in (report.aborted or "")


def test_a_peer_that_dies_after_a_bad_frame_is_named() -> None:
    def json_array(app: list[bytes]) -> bool:
        return len(app) == 2 and app[1].startswith(b"[")

    cases = the_cases()
    names = [c.name for c in cases]
    killer = names.index("json-array-body")
    with Peer(pycom_like(FuzzMe, die_on=json_array)) as peer:
        report = run_framing(
            cases,
            exchange_at(peer.address),
            timeout=0.3,
            liveness=liveness_at(peer.address, FUZZ_INTERFACE, FUZZ_METHOD, FUZZ_ARGS, timeout=0.3),
            stack="zerojson",
            target=peer.address,
        )
        assert peer.dead.is_set()
    assert [r.case.name for r in report.results] == names[: killer + 1]
    assert all(r.ok and r.alive for r in report.results[:killer])
    dead = report.results[-1]
    assert (dead.case.name, dead.severity, dead.alive, dead.outcome.kind) == ("json-array-body", "failure", False, "no_reply")
    assert "the endpoint stopped answering a valid request after json-array-body" in dead.message
    assert report.skipped == names[killer + 1 :] and not report.ok
    text = report.render()
    assert "FAILED    json-array-body" in text and "ABORTED   the endpoint stopped answering after json-array-body" in text
    data = json.loads(report.render("json"))
    assert data["aborted"] and data["results"][-1]["alive"] is False


def test_a_late_reply_is_never_taken_for_the_next_cases_answer() -> None:
    """ZeroJSON has no request id: a fresh socket per case keeps a late answer from being misread."""

    def slow_first(peer: Peer, frames: list[bytes]) -> list[bytes] | None:
        envelope, app = wire.split_envelope(frames)
        assert app is not None
        if app[1:2] == [b"{nope"]:
            time.sleep(0.7)  # answers after the exchange gave up (and while the next case waits)
        return [*envelope, b"", b"OK", wire.dumps({"code": 2, "error": f"answer to {app[1][:6]!r}"})]

    cases = [c for c in the_cases() if c.name in ("not-json", "unknown-method")]
    with Peer(slow_first) as peer:
        report = run_framing(cases, exchange_at(peer.address), timeout=0.5)
        assert len(peer.received) == 2
    first, second = report.results
    assert first.outcome.kind == "no_reply" and first.severity == "failure"
    assert (second.outcome.kind, second.outcome.message) == ("reply", "answer to b'{\"inte'")
    assert second.severity == "ok"


# -- rpctest fuzz --framing against rpctest serve (issue 15) --------------------------------------------------


def test_the_cli_framing_run_against_rpctest_serve_passes(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """rpctest serve's ZeroJSON server answers every call (a recorded one, else code 4 naming the
    nearest stub), so any probe is answered; every framing case is judged as PyCOM would answer it."""
    from framing_cli import framing_against_serve

    consumer = "contracts/consumers/rpctest-examples--zerojson--com.example.shop.json"
    _code, report = framing_against_serve(
        "zerojson", consumer, "contracts/providers/zerojson--com.example.shop.json", tmp_path, "--operation", "order")
    out = capsys.readouterr().out
    assert report["aborted"] is None and report["ok"] and not report["failures"], out
    assert report["cases"] == len(the_cases()) and all(result["alive"] for result in report["results"]), out
