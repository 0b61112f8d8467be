"""Framing-level fuzzing: raw malformed units sent to an endpoint, judged against the reference server.

The schema fuzz engine (:mod:`rpctest.fuzz.engine`) sends well-framed requests with bad *values*.
This module attacks the layer below: wrong frame counts, bytes that are not JSON, JSON that is not
an object, unknown commands, empty and oversize frames. Whether those get an error, silence or a
closed connection is a property of each stack's reference implementation, so the expectations come
from the stack (``rpctest.stacks.<stack>.framing``) and this module stays stack-neutral:

* :class:`FramingCase`: one raw unit to send (``frames`` is whatever the stack's exchange sends: a
  list of 0MQ frames for ZeroJSON, a byte stream for a TCP stack) and what the reference server
  does with it, with the recorded vector (or the observed behaviour of the real stack) that shows it;
* :class:`FramingOutcome`: what the endpoint did (a reply with a code, no reply within the wait, a
  closed connection, or a broken exchange);
* :func:`judge`: the oracle, one case and its outcome in, a severity and a sentence out;
* :func:`run_framing`: every case through a stack-supplied ``exchange``, with an optional liveness
  probe after each, into a :class:`FramingReport` (text, JSON or JUnit).

Severities, and why three:

``ok``
    the endpoint did what the reference server does, or better (see below).
``weakness``
    it did what the reference server does, and that behaviour is itself poor: PyCOM sends *no
    reply at all* to a JSON body that is not an object, so its callers hang until their timeout.
    Reproducing it is compatible, so it does not fail the run unless ``strict=True``; it is still
    reported, because a caller of that endpoint should know.
``failure``
    anything else: an error where the reference answers otherwise, success for malformed input,
    silence where the reference answers (a caller would hang), a broken reply, or an endpoint that
    stops answering valid requests after the case (a crash or wedge: the worst framing finding).

Where the reference's behaviour is a weakness, an endpoint that answers with a caller error (or
not-found) instead is *better* than the reference, and that is accepted as ``ok``: the fuzz oracle
asks every stack to answer a caller's mistake with a caller error, and no client can depend on a
silence or a server error.

The run is bounded: every exchange gets ``timeout`` (the stack's exchange must honour it), the
liveness probe has its own, and a dead endpoint ends the run, so the worst case is about
``len(cases) * (timeout + liveness timeout)``. Nothing here ever waits without a deadline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rpctest.model import ErrorKind

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.report.model import RunReport

__all__ = [
    "EXPECTATIONS",
    "IMPROVEMENT_KINDS",
    "OUTCOMES",
    "SEVERITIES",
    "Exchange",
    "FramingCase",
    "FramingOutcome",
    "FramingReport",
    "FramingResult",
    "Liveness",
    "describe_unit",
    "judge",
    "run_framing",
]

#: what a case can expect: an error reply, silence, a closed connection, (``survive``) any
#: non-success, non-server-error answer or none, as long as the endpoint stays alive (for input the
#: reference's behaviour was never recorded for, such as oversize frames), or (``answer``) a
#: success: the unit is a valid request sent in an unusual way (split across reads) and the
#: reference answers it as such
EXPECTATIONS = ("error", "no_reply", "close", "survive", "answer")
#: what can happen to one unit
OUTCOMES = ("reply", "no_reply", "close", "transport_error")
SEVERITIES = ("ok", "weakness", "failure")
#: error kinds accepted in place of a reference behaviour that is a weakness (see the module doc)
IMPROVEMENT_KINDS = frozenset({ErrorKind.CALLER_ERROR, ErrorKind.NOT_FOUND})

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

Expectation = Literal["error", "no_reply", "close", "survive", "answer"]
OutcomeKind = Literal["reply", "no_reply", "close", "transport_error"]
Severity = Literal["ok", "weakness", "failure"]


# -- the model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FramingCase:
    """One malformed unit and what the stack's reference server does with it.

    ``frames`` is what the stack's exchange sends, untouched by this module (``repr`` leaves it out:
    some cases carry megabytes). ``codes`` are the native codes accepted when ``expect`` is
    ``"error"`` (empty: judge by ``kind`` alone); ``kind`` is the :class:`ErrorKind` of that error.
    ``weakness`` is set when the reference's own behaviour is poor (the outcome is then reported
    as a weakness, not ok). ``source`` names the golden vector recorded for that input (its id, e.g.
    ``zj.frame.delimiter-only``) or states the behaviour observed of the real stack where none was
    recorded, so a reader can check the expectation rather than trust it. ``options`` are
    stack-specific sending options (ZeroJSON: ``{"delimiter": False}``).
    """

    name: str
    description: str
    frames: Any = field(repr=False)
    expect: Expectation
    codes: tuple[int | str, ...] = ()
    kind: ErrorKind | None = None
    weakness: str | None = None
    source: str = ""
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"a framing case name is kebab-case ('json-not-an-object'), not {self.name!r}")
        if self.expect not in EXPECTATIONS:
            raise ValueError(f"case {self.name}: expect is one of {', '.join(EXPECTATIONS)}, not {self.expect!r}")
        if self.kind is not None and not isinstance(self.kind, ErrorKind):
            object.__setattr__(self, "kind", ErrorKind(self.kind))
        object.__setattr__(self, "codes", tuple(self.codes))
        if self.expect == "error" and self.kind is None and not self.codes:
            raise ValueError(f"case {self.name}: expect='error' needs the codes or the kind of the error")

    def expectation(self) -> str:
        """The expected outcome in words, e.g. ``error 4 (caller_error)`` or ``no_reply``."""
        if self.expect == "error":
            return f"error {_codes(self.codes)}{f' ({self.kind.value})' if self.kind else ''}".replace("  ", " ")
        if self.expect == "survive":
            return f"survive ({_codes(self.codes) + ' or ' if self.codes else ''}a refusal)"
        return self.expect

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "frames": describe_unit(self.frames),
            "expect": self.expect,
            "codes": list(self.codes),
            "kind": self.kind.value if self.kind else None,
            "weakness": self.weakness,
            "source": self.source,
        }
        if self.options:
            data["options"] = dict(self.options)
        return data


def _codes(codes: Sequence[int | str]) -> str:
    return "/".join(str(code) for code in codes)


@dataclass(frozen=True)
class FramingOutcome:
    """What the endpoint did with one unit.

    ``kind``: ``reply`` (``code``, ``message`` and ``error_kind``; ``error_kind`` None means
    success), ``no_reply`` (nothing within ``waited`` seconds), ``close`` (the peer closed the
    connection) or ``transport_error`` (the exchange broke: an undecodable reply, or the exchange
    raised; ``detail`` says how). ``detail`` may also hold a short view of the raw reply.
    """

    kind: OutcomeKind
    code: int | str | None = None
    message: str | None = None
    error_kind: ErrorKind | None = None
    detail: str = ""
    waited: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in OUTCOMES:
            raise ValueError(f"an outcome is one of {', '.join(OUTCOMES)}, not {self.kind!r}")

    @classmethod
    def reply(cls, code: int | str, message: str | None = None, error_kind: ErrorKind | None = None, *, detail: str = "") -> FramingOutcome:
        """A reply; ``error_kind`` None means the endpoint reported success."""
        return cls("reply", code=code, message=message, error_kind=error_kind, detail=detail)

    @classmethod
    def no_reply(cls, waited: float) -> FramingOutcome:
        return cls("no_reply", waited=waited)

    @classmethod
    def closed(cls, detail: str = "") -> FramingOutcome:
        return cls("close", detail=detail)

    @classmethod
    def transport_error(cls, detail: str) -> FramingOutcome:
        return cls("transport_error", detail=detail)

    @property
    def is_error_reply(self) -> bool:
        return self.kind == "reply" and self.error_kind is not None

    @property
    def is_success_reply(self) -> bool:
        return self.kind == "reply" and self.error_kind is None

    def describe(self) -> str:
        """The outcome in a few words, e.g. ``reply 4 (caller_error): Unknown command: b'PING'``."""
        if self.kind == "reply":
            what = f"reply {self.code} ({self.error_kind.value if self.error_kind else 'success'})"
            return f"{what}: {_clip(self.message, 100)}" if self.message else what
        if self.kind == "no_reply":
            return f"no reply within {self.waited:g} s" if self.waited is not None else "no reply"
        if self.kind == "close":
            return f"connection closed{': ' + _clip(self.detail, 100) if self.detail else ''}"
        return f"transport error: {_clip(self.detail, 160)}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.kind == "reply":
            data.update(code=self.code, message=self.message, error_kind=self.error_kind.value if self.error_kind else None)
        if self.waited is not None:
            data["waited"] = round(self.waited, 3)
        if self.detail:
            data["detail"] = self.detail
        return data


@dataclass
class FramingResult:
    """One case, what happened, and the verdict. ``alive`` is the liveness probe's answer after the
    case (None when no probe ran)."""

    case: FramingCase
    outcome: FramingOutcome
    severity: Severity
    message: str
    seconds: float = 0.0
    alive: bool | None = None
    #: what the stack saw of the endpoint beside the reply (its process burning CPU, a session
    #: left behind): each is a finding, so it makes the result at least a weakness (:meth:`observe`)
    observations: list[str] = field(default_factory=list)
    #: how to send this unit again by hand (a command or a few lines of Python), when the stack says
    reproducer: str = ""

    def observe(self, finding: str, *, weakness: str | None = None) -> None:
        """Add a finding about the endpoint; ``weakness`` when the reference does the same (the result
        is then at least a weakness), else the result fails."""
        self.observations.append(finding)
        if weakness is None:
            self.severity = "failure"
        elif self.severity == "ok":
            self.severity = "weakness"

    @property
    def ok(self) -> bool:
        """Not a failure (a weakness is ok here; :attr:`FramingReport.ok` applies ``strict``)."""
        return self.severity != "failure"

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case.to_dict(),
            "outcome": self.outcome.to_dict(),
            "ok": self.ok,
            "severity": self.severity,
            "message": self.message,
            "seconds": round(self.seconds, 3),
            "alive": self.alive,
            "observations": list(self.observations),
            "reproducer": self.reproducer,
        }


#: ``exchange(case, timeout) -> FramingOutcome``: send ``case.frames`` and observe, within ``timeout``
Exchange = Callable[[FramingCase, float], FramingOutcome]
#: ``liveness() -> bool``: does the endpoint still answer a valid request (within its own timeout)?
Liveness = Callable[[], bool]


# -- the oracle --------------------------------------------------------------------------------------


def _matches_error(case: FramingCase, outcome: FramingOutcome) -> bool:
    if not outcome.is_error_reply:
        return False
    if case.codes:
        return outcome.code in case.codes
    return outcome.error_kind is case.kind


def judge(case: FramingCase, outcome: FramingOutcome) -> tuple[Severity, str]:
    """The severity of ``outcome`` for ``case`` and a sentence saying why (see the module doc)."""
    got = outcome.describe()
    want = case.expectation()
    source = f" [{case.source}]" if case.source else ""
    if outcome.kind == "transport_error":
        return "failure", f"the exchange broke ({got}); the reference answers {want}{source}"

    def as_reference(what: str) -> tuple[Severity, str]:
        if case.weakness:
            return "weakness", f"{what}, as the reference does; that is a weakness: {case.weakness}"
        return "ok", f"{what}, as the reference does"

    improved = (
        case.weakness is not None and outcome.is_error_reply and outcome.error_kind in IMPROVEMENT_KINDS
    )
    if case.expect == "answer":
        if outcome.is_success_reply:
            return as_reference(f"{got}: answered")
        return "failure", f"{got}; the reference answers this valid request{source}"
    if case.expect == "error":
        if _matches_error(case, outcome):
            return as_reference(got)
        if improved:
            return "ok", f"{got} where the reference answers {want}: better than the reference ({case.weakness})"
        if outcome.is_success_reply:
            return "failure", f"accepted malformed input ({got}); the reference answers {want}{source}"
        if outcome.kind == "no_reply":
            return "failure", f"{got}: a caller would wait for nothing; the reference answers {want}{source}"
        if outcome.kind == "close":
            return "failure", f"{got} without an answer; the reference answers {want}{source}"
        return "failure", f"{got}; the reference answers {want}{source}"
    if case.expect in ("no_reply", "close"):
        want = "no reply" if case.expect == "no_reply" else "a close of the connection"
        if outcome.kind == case.expect:
            return as_reference(got)
        if improved:
            return "ok", f"{got} where the reference sends {want}: better than the reference ({case.weakness})"
        if case.weakness is not None and case.expect == "no_reply" and outcome.kind == "close":
            return "ok", f"{got} where the reference sends no reply: better (the caller learns at once)"
        if outcome.is_success_reply:
            return "failure", f"accepted malformed input ({got}); the reference sends {want}{source}"
        return "failure", f"{got}; the reference sends {want}{source}"
    # survive: the reference's answer was never recorded; any refusal or silence is acceptable
    if outcome.kind in ("no_reply", "close"):
        return "ok", f"{got}; accepted: an endpoint may drop or refuse this input"
    if outcome.is_error_reply and (outcome.error_kind is case.kind or outcome.error_kind in IMPROVEMENT_KINDS):
        return "ok", f"{got}; accepted"
    if outcome.is_success_reply:
        return "failure", f"accepted malformed input ({got}); expected {want}{source}"
    if outcome.error_kind is ErrorKind.SERVER_ERROR:
        return "failure", f"{got}: a server error for a caller's input; expected {want}{source}"
    return "failure", f"{got}; expected {want}{source}"


# -- the runner --------------------------------------------------------------------------------------


@dataclass
class FramingReport:
    """The results of a framing run. ``ok``: no failure (and, with ``strict``, no weakness); a run
    ``aborted`` because the endpoint stopped answering lists the cases it did not send in
    ``skipped``."""

    results: list[FramingResult] = field(default_factory=list)
    stack: str = ""
    target: str = ""
    timeout: float = 1.0
    strict: bool = False
    aborted: str | None = None
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[FramingResult]:
        return [r for r in self.results if r.severity == "failure"]

    @property
    def weaknesses(self) -> list[FramingResult]:
        return [r for r in self.results if r.severity == "weakness"]

    @property
    def ok(self) -> bool:
        if self.aborted is not None or self.failures:
            return False
        return not (self.strict and self.weaknesses)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def result(self, name: str) -> FramingResult:
        """The result of the case called ``name`` (KeyError naming the cases run)."""
        for result in self.results:
            if result.case.name == name:
                return result
        raise KeyError(f"no framing case {name!r} was run; ran {', '.join(r.case.name for r in self.results)}")

    def summary(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        where = " ".join(part for part in (self.stack, f"at {self.target}" if self.target else "") if part)
        strict = ", strict" if self.strict else ""
        text = (
            f"rpctest fuzz framing {verdict}: {where or 'endpoint'}, {len(self.results)} case(s), "
            f"{len(self.failures)} failing, {len(self.weaknesses)} weakness(es){strict} in {self.seconds:.1f} s"
        )
        if self.skipped:
            text += f", {len(self.skipped)} not sent"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "stack": self.stack,
            "target": self.target,
            "timeout": self.timeout,
            "strict": self.strict,
            "cases": len(self.results),
            "failures": len(self.failures),
            "weaknesses": len(self.weaknesses),
            "aborted": self.aborted,
            "skipped": list(self.skipped),
            "seconds": round(self.seconds, 3),
            "results": [result.to_dict() for result in self.results],
        }

    def run_report(self) -> "RunReport":
        """This report as the neutral model every format is written from."""
        return _run_report(self)

    def render(self, fmt: str = "text") -> str:
        """The report in a format of :mod:`rpctest.report` (``text``, ``json``, ``junit``, ...)."""
        from rpctest.report import render

        return render(self.run_report(), fmt)


def run_framing(
    cases: Sequence[FramingCase],
    exchange: Exchange,
    *,
    timeout: float = 1.0,
    liveness: Liveness | None = None,
    strict: bool = False,
    stack: str = "",
    target: str = "",
    stop_when_dead: bool = True,
    budget: float | None = None,
    reproduce: Callable[[FramingCase], str] | None = None,
) -> FramingReport:
    """Send every case through ``exchange`` and judge what happened.

    ``exchange(case, timeout)`` is the stack's: it sends ``case.frames`` and returns a
    :class:`FramingOutcome` within about ``timeout`` seconds; whatever it raises becomes a
    ``transport_error`` outcome (a broken exchange is a finding, never a crash of the run).
    ``liveness()``, when given, is asked once before the first case (an endpoint that answers
    nothing valid to begin with makes every finding meaningless, so the run stops there) and after
    each case; a False after a case fails that case ("the endpoint stopped answering after ...")
    and, with ``stop_when_dead``, ends the run, listing the cases not sent. ``budget`` (seconds)
    bounds the whole run: the cases left when it is spent are listed as not sent. ``reproduce(case)``
    writes each result's reproducer.
    """
    if not timeout or timeout <= 0:
        from rpctest.exceptions import ConfigError

        raise ConfigError(f"the framing timeout must be a positive number of seconds, not {timeout!r}")
    names = [case.name for case in cases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"framing case names must be unique; repeated: {', '.join(duplicates)}")
    report = FramingReport(stack=stack, target=target, timeout=float(timeout), strict=strict)
    started = time.perf_counter()
    from rpctest.progress import current

    task = current().start("fuzz --framing", f"{stack or 'endpoint'} {target}".strip(), total=len(cases), budget=budget)
    try:
        if liveness is not None:
            alive, why = _probe(liveness)
            if not alive:
                report.aborted = (
                    f"the endpoint did not answer a valid request before any framing case was sent{why}; "
                    "nothing was fuzzed (is it running, and are the interface, method and arguments of the "
                    "liveness check right?)"
                )
                report.skipped = names
                return report
        for index, case in enumerate(cases):
            if budget is not None and time.perf_counter() - started > budget:
                report.skipped = names[index:]
                report.aborted = f"the time budget of {budget:g} s was spent; the remaining cases were not sent"
                break
            case_started = time.perf_counter()
            try:
                outcome = exchange(case, float(timeout))
                if not isinstance(outcome, FramingOutcome):
                    outcome = FramingOutcome.transport_error(f"the exchange returned {outcome!r}, not a FramingOutcome")
            except Exception as exc:  # noqa: BLE001 - a broken exchange is a finding, never the end of the run
                outcome = FramingOutcome.transport_error(f"the exchange raised {type(exc).__name__}: {exc}")
            seconds = time.perf_counter() - case_started
            severity, message = judge(case, outcome)
            result = FramingResult(case, outcome, severity, message, seconds=seconds,
                                   reproducer=reproduce(case) if reproduce is not None else "")
            report.results.append(result)
            if liveness is not None:
                result.alive, why = _probe(liveness)
            task.advance(failed=result.severity == "failure" or result.alive is False)
            if liveness is None or result.alive:
                continue
            result.severity = "failure"
            result.message = (
                f"the endpoint stopped answering a valid request after {case.name}{why} (a crash or a wedge "
                f"caused by this input); the case itself: {message}"
            )
            if stop_when_dead:
                report.skipped = names[index + 1 :]
                if report.skipped:
                    report.aborted = f"the endpoint stopped answering after {case.name}; the remaining cases were not sent"
                break
    finally:
        report.seconds = time.perf_counter() - started
        task.done()
    return report


def _probe(liveness: Liveness) -> tuple[bool, str]:
    """(alive, ' (why not)') from a liveness callable; an exception counts as not alive."""
    try:
        return bool(liveness()), ""
    except Exception as exc:  # noqa: BLE001 - a probe that cannot even ask is an endpoint not answering
        return False, f" (the liveness check raised {type(exc).__name__}: {exc})"


# -- rendering ---------------------------------------------------------------------------------------


def _clip(value: Any, limit: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_unit(frames: Any, limit: int = 48) -> str:
    """A short view of a raw unit for reports: each frame's size and first bytes (never megabytes)."""

    def one(data: bytes) -> str:
        head = bytes(data[:limit])
        more = "..." if len(data) > limit else ""
        return f"{head!r}{more} ({len(data)} B)"

    if isinstance(frames, (bytes, bytearray, memoryview)):
        return one(bytes(frames))
    if isinstance(frames, (list, tuple)) and all(isinstance(f, (bytes, bytearray, memoryview)) for f in frames):
        return "[" + ", ".join(one(bytes(f)) for f in frames) + "]" if frames else "[] (no frames)"
    return _clip(repr(frames), 200)


_LABELS = {"ok": "ok", "weakness": "WEAKNESS", "failure": "FAILED"}


def _result_lines(result: FramingResult) -> list[str]:
    """What the text report shows under a case's line: why it is a weakness or failure, and how to
    send it again."""
    case = result.case
    lines = []
    if result.severity == "weakness":
        lines.append(f"{'':<9} weakness: {_clip(case.weakness, 400)}")
    elif result.severity == "failure":
        lines.append(f"{'':<9} {_clip(result.message, 600)}")
    for observation in result.observations:
        lines.append(f"{'':<9} observed: {_clip(observation, 400)}")
    if result.severity != "ok" and case.source and case.source not in result.message:
        lines.append(f"{'':<9} source: {case.source}")
    if result.severity != "ok" and result.reproducer:
        lines.append(f"{'':<9} reproduce: {_clip(result.reproducer, 400)}")
    return lines


def _run_report(report: FramingReport) -> "RunReport":
    """One case per framing case (those not sent are skipped); a failure is an error finding, a
    weakness a warning (an error under ``strict``)."""
    from rpctest.report.model import Case, ReportFinding, RunReport

    suite = f"{report.stack or 'endpoint'}.framing"
    width = max((len(r.case.name) for r in report.results), default=0)
    cases: list[Case] = []
    findings: list[ReportFinding] = []
    for result in report.results:
        case = result.case
        failing = result.severity == "failure" or (result.severity == "weakness" and report.strict)
        headline = f"{_LABELS[result.severity]:<9} {case.name:<{width}}  {case.expectation():<28} -> {result.outcome.describe()}"
        cases.append(Case(suite, case.name, "failed" if failing else "passed", seconds=result.seconds, headline=headline))
        if result.severity != "ok":
            findings.append(ReportFinding(
                severity="error" if failing else "warning", check=f"framing_{result.severity}",
                message=_clip(result.message, 500), where=f"{suite} {case.name}", text=_result_lines(result), titled=False,
                case=(suite, case.name), data=result.to_dict(),
            ))
    for name in report.skipped:
        cases.append(Case(suite, name, "skipped", seconds=0.0, skipped=_clip(report.aborted or "not sent", 500)))
    notes = []
    if report.aborted:
        notes.append(f"ABORTED   {report.aborted}")
        if report.skipped:
            notes.append(f"{'':<9} not sent: {', '.join(report.skipped)}")
    return RunReport(
        command="framing", suite="rpctest.fuzz.framing", ok=report.ok, exit_code=report.exit_code, summary=report.summary(),
        cases=cases, findings=findings, notes=notes, meta={"stack": report.stack, "target": report.target},
        details=report.to_dict(),
    )
