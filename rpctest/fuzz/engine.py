"""The error-semantics fuzz engine: Hypothesis draws cases from a provider contract, the checks judge.

One operation at a time: Hypothesis draws valid requests (``positive``), one-defect requests
(``negative``) or both (``all``) from the operation's request schema, sends each through the
target, and runs the checks. The first failing check raises; Hypothesis shrinks the request to a
minimal one and the engine turns it into a :class:`Failure` with a replay file (with Hypothesis'
shrink phase off, the first failing case itself, as it was sent: nothing is sent again for it, and
such a failure is never marked flaky, since only a replay could show that). An unknown operation
is probed once per service. Hypothesis' own settings and profiles apply (``settings.default``, so a
profile the user loaded, or ``--hypothesis-seed``); the engine only sets what a network-bound
property needs (no deadline, one bug per run).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from rpctest.contracts.format import OperationSpec, ProviderContract
from rpctest.exceptions import ConfigError, RpctestError, TransportError
from rpctest.fuzz.applicable import split_checks
from rpctest.fuzz.checks import CHECKS, NEGATIVE, POSITIVE, UNKNOWN_OPERATION, Case, Check, describe_errors
from rpctest.fuzz.memo import StrategyMemo, plain_key
from rpctest.model import Call, ErrorKind, Reply, RpcError
from rpctest.progress import Task
from rpctest.progress import current as current_progress
from rpctest.schema.validate import compile_schema, describe_value

if TYPE_CHECKING:  # pragma: no cover - Hypothesis is imported when a run starts
    import hypothesis

    from rpctest.report.model import RunReport

__all__ = ["MODES", "Target", "Failure", "OperationResult", "FuzzReport", "fuzz", "fuzz_operation", "fuzz_unknown_operation", "probe", "UNKNOWN_OPERATION_NAME"]

MODES = ("positive", "negative", "all")
#: lines of the stack's log a failure's report shows (the log file has the rest)
_LOG_LINES = 6
_NOTABLE = re.compile(r"\b(?:WARNING|ERROR|CRITICAL)\b|^Traceback")
#: the operation name probed for the not-found check (no real service has it)
UNKNOWN_OPERATION_NAME = "rpctest_no_such_operation"


@dataclass
class Target:
    """What is fuzzed: a provider contract, and a way to send calls to the real provider."""

    stack: str
    contract: ProviderContract
    send: Callable[[Call], Reply]
    #: how ``rpctest replay`` reaches it again: ``{"provider": "pkg.mod:Server"}`` or ``{"address": ...}``
    origin: dict[str, Any] = field(default_factory=dict)
    #: per-operation codes valid input may legitimately get (beyond those the contract declares)
    expected_errors: Mapping[str, Sequence[str | int]] = field(default_factory=dict)

    @property
    def service(self) -> str:
        return self.contract.service


@dataclass
class Failure:
    """The minimal request that broke a check, the reply it got, and how to replay it."""

    operation: str
    mode: str
    check: str
    message: str
    body: Any
    reply: Reply
    defect: Any = None
    expected: Any = None
    replay_file: Path | None = None
    flaky: bool = False
    #: the Hypothesis seed of the run that found it (None: Hypothesis derived it, ``derandomize``)
    seed: int | None = None
    #: what the stack logged while the minimal request ran (an in-process server's traceback), and
    #: the run's log file holding all of it (:mod:`rpctest.stacklogs`; a CLI run only)
    log: list[str] = field(default_factory=list)
    log_file: Path | None = None

    def render(self) -> str:
        lines = [
            f"check {self.check} failed for {self.operation} ({self.mode} case): {self.message}",
            f"  minimal request: {describe_value(self.body, 400)}",
        ]
        if self.defect is not None:
            lines.append(f"  defect:          {self.defect}")
        if self.expected is not None:
            lines.append(f"  expected:        {self.expected}")
        reply = describe_value(self.reply.body, 400) if self.reply.ok else describe_errors(list(self.reply.all_errors))
        lines.append(f"  reply:           {reply}")
        if self.flaky:
            lines.append("  (flaky: the failure did not reproduce every time; the service may keep state between calls)")
        if self.replay_file is not None:
            lines.append(f"  replay:          rpctest replay {self.replay_file}")
        if self.seed is not None:
            lines.append(f"  seed:            {self.seed} (the same run again: --seed {self.seed}, or --hypothesis-seed={self.seed} under pytest)")
        else:
            lines.append("  seed:            none: derandomized (Hypothesis' derandomize setting, e.g. its ci profile under CI=true): "
                         "every run of this source draws the same cases")
        if self.log:
            # from the first warning or error on (a request log line says less than the traceback)
            first = next((i for i, line in enumerate(self.log) if _NOTABLE.search(line)), 0)
            shown = self.log[first:first + _LOG_LINES]
            where = f"; all of the run's logs: {self.log_file}" if self.log_file is not None else ""
            lines.append(f"  logged:          {len(shown)} of {len(self.log)} line(s) the stack logged for it{where}")
            lines.extend(f"    | {line[:300]}" for line in shown)
        return "\n".join(lines)


@dataclass
class OperationResult:
    operation: str
    mode: str
    examples: int = 0
    failure: Failure | None = None
    seconds: float = 0.0
    note: str = ""
    #: the error codes the operation's replies carried, in the order first seen (the coverage matrix)
    codes: list[str] = field(default_factory=list)
    #: the Hypothesis seed the cases were drawn with (None: Hypothesis derived it, ``derandomize``)
    seed: int | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class FuzzReport:
    stack: str
    service: str
    results: list[OperationResult] = field(default_factory=list)
    #: the Hypothesis seed of every operation of the run: ``--seed`` with it draws the same cases again
    #: (for the same source tree: Hypothesis also draws literals it finds in the code it runs)
    seed: int | None = None

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def examples(self) -> int:
        return sum(result.examples for result in self.results)

    def summary(self) -> str:
        failed = sum(1 for r in self.results if not r.ok)
        verdict = "passed" if self.ok else "FAILED"
        seconds = sum(r.seconds for r in self.results)
        seed = f", seed {self.seed} (rerun with --seed {self.seed})" if self.seed is not None else ""
        return (
            f"rpctest fuzz {verdict}: {self.stack}:{self.service}, {len(self.results)} check run(s), {failed} failing, "
            f"{self.examples} case(s) in {seconds:.1f} s{seed}"
        )

    def run_report(self) -> "RunReport":
        """This report as the neutral model every format is written from."""
        from rpctest.fuzz.report import run_report

        return run_report(self)

    def render(self, fmt: str = "text") -> str:
        from rpctest.report import render

        return render(self.run_report(), fmt)


class CheckFailed(AssertionError):
    """Raised inside the Hypothesis test so that it shrinks the request; carries the judgement."""

    def __init__(self, case: Case, reply: Reply, check: str, message: str, log: Sequence[str] = ()) -> None:
        super().__init__(f"{check}: {message}")
        self.case = case
        self.reply = reply
        self.check = check
        self.message = message
        #: what the stack logged while this case ran
        self.log = list(log)


def an_answer_came_back(case: Case, reply: Reply) -> str | None:
    """The service must answer at all: a timeout or a broken frame is a finding, never a hang."""
    lost = [e for e in reply.all_errors if e.kind is ErrorKind.TRANSPORT]
    expected = case.expected
    if expected is not None and expected.kind is ErrorKind.TRANSPORT:
        # the stack's own answer is no answer (AsyncAPY closes silently when no handler matches)
        lost = [e for e in lost if expected.codes and e.code not in expected.codes]
    if lost:
        others = [e for e in reply.all_errors if e not in lost]
        also = f"; with it: {describe_errors(others)}" if others else ""
        return f"no usable answer: {describe_errors(lost)}{also}"
    return None


class _FirstFailure(BaseException):
    """Carries the first failing case out of Hypothesis when the run does not shrink (no
    ``Phase.shrink``): that case is the one to report as it was sent, so Hypothesis need not format
    its traceback nor replay it (one more request to the service, which only a shrunk example
    needs). A ``BaseException``, so Hypothesis lets it through at once, as :class:`_RunEnded`."""

    def __init__(self, failed: "CheckFailed") -> None:
        super().__init__(str(failed))
        self.failed = failed


class _RunEnded(BaseException):
    """Carries an rpctest error that no case can pass (the endpoint cannot be reached, a bad
    configuration) out of Hypothesis at once: Hypothesis shrinks what an ``Exception`` fails with,
    re-sending every smaller case to an endpoint that is not there, each after its full timeout."""

    def __init__(self, error: RpctestError) -> None:
        super().__init__(str(error))
        self.error = error


def _send(target: Target, case: Case) -> Reply:
    try:
        op = target.contract.operations.get(case.operation)
        meta = {"kind": "subscribe"} if op is not None and op.kind == "subscription" else {}
        return target.send(Call(target.stack, target.service, case.operation, case.body, meta=meta))
    except TransportError as exc:  # the provider's answer, or lack of one, to this case: a finding
        return Reply(errors=[RpcError("TRANSPORT", str(exc), kind=ErrorKind.TRANSPORT)])


# -- strategies of cases ----------------------------------------------------------------------------


def case_codes(target: Target, op: OperationSpec) -> dict[str, Any]:
    """What a :class:`Case` of ``op`` knows of its codes: those declared (contract and target), and
    whether the contract left them open (then any code but the stack's own is an answer)."""
    from rpctest.stacks import get_adapter

    return {
        "allowed_codes": frozenset(op.errors) | frozenset(target.expected_errors.get(op.name, ())),
        "codes_open": op.errors_open,
        "standard_codes": frozenset(get_adapter(target.stack).standard_error_codes),
    }


#: case strategies of earlier runs (:mod:`rpctest.fuzz.memo` says why and when one is reused)
_STRATEGIES = StrategyMemo()


def case_strategy(target: Target, op: OperationSpec, mode: str) -> Any:
    """A Hypothesis strategy of :class:`Case` for one operation (``mode``: positive, negative, all);
    the one an earlier run built from the same operation, codes, mode and options, if any."""
    from rpctest.stacks import get_adapter
    from rpctest.strategies.valid import registered_formats

    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    adapter = get_adapter(target.stack)
    codes = case_codes(target, op)
    options = adapter.strategy_options()
    key = plain_key(target.stack, mode, op.name, op.to_dict(), sorted(codes["allowed_codes"], key=repr), codes["codes_open"],
                    sorted(codes["standard_codes"], key=repr), sorted(options))
    identity = {**{f"format {name}": value for name, value in registered_formats().items()},
                **{f"option {name}": value for name, value in options.items()}}
    return _STRATEGIES.get(adapter, key, identity, lambda: _build_case_strategy(adapter, op, mode, codes, options))


def _build_case_strategy(adapter: Any, op: OperationSpec, mode: str, codes: dict[str, Any], options: dict[str, Any]) -> Any:
    from hypothesis import strategies as st

    from rpctest.strategies import from_schema, invalid_from_schema

    response_schema = compile_schema(op.response)
    parts = []
    if mode in ("positive", "all"):
        valid = from_schema(op.request, **options)
        if not adapter.null_body_sendable and compile_schema(op.request).is_valid(None):
            # e.g. an operation with no request schema: any value but null (a schema null breaks
            # draws no null: no filter around every draw)
            valid = valid.filter(lambda body: body is not None)
        parts.append(valid.map(lambda body: Case(op.name, body, POSITIVE, response_schema=response_schema, **codes)))
    if mode in ("negative", "all"):
        try:
            invalid = invalid_from_schema(op.request, min_depth=adapter.min_defect_depth, **options)
        except ValueError:
            invalid = None  # the schema accepts anything: no request can be wrong with it
        if invalid is not None and not adapter.null_body_sendable:
            invalid = invalid.filter(lambda item: item.body is not None or item.defect.path != ())
        if invalid is not None:
            invalid = invalid.filter(lambda item: adapter.sendable_defect(item, op))  # the wire may erase a defect
        if invalid is not None:
            parts.append(
                invalid.map(
                    lambda item: Case(op.name, item.body, NEGATIVE, defect=item.defect,
                                      expected=adapter.expected_for_defect_in(item.defect, op), **codes)
                )
            )
    if not parts:
        return None
    return st.one_of(parts)


# -- running ---------------------------------------------------------------------------------------


def choose_seed(settings: Any = None, seed: int | None = None) -> int | None:
    """The seed a run draws its cases with: ``seed`` when given, else pytest's ``--hypothesis-seed``,
    else a fresh one, so that every run can say which seed reproduces it. None under Hypothesis'
    ``derandomize`` (a profile that asks for the seed Hypothesis derives from the test itself)."""
    if seed is not None:
        return seed
    import random

    from hypothesis import core
    from hypothesis import settings as hypothesis_settings

    chosen = settings if settings is not None else hypothesis_settings.default
    if chosen is not None and chosen.derandomize:
        return None
    forced = getattr(core, "global_force_seed", None)  # pytest --hypothesis-seed N
    if isinstance(forced, int):
        return forced
    return random.SystemRandom().randrange(2**32)


def _settings(max_examples: int | None, base: Any = None) -> Any:
    from hypothesis import HealthCheck, settings

    parent: Any = base or settings.default
    options: dict[str, Any] = {
        "deadline": None,
        "report_multiple_bugs": False,
        # filter_too_much: a stack's wire may erase many generated defects (HTTP: an int is text in a path)
        "suppress_health_check": [*parent.suppress_health_check, HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    }
    if max_examples is not None:
        options["max_examples"] = max_examples
    return settings(parent, **options)


def _run(strategy: Any, execute: Callable[[Case], None], hypothesis_settings: hypothesis.settings, seed: int | None = None,
         task: Task | None = None) -> tuple[int, CheckFailed | None, bool]:
    """Run ``execute`` on drawn cases; (cases run, the minimal failure, whether it was flaky).
    ``task`` hears of every case (the command's progress line)."""
    import hypothesis
    from hypothesis.errors import Flaky

    count = [0]
    shrinking = [False]
    #: without the shrink phase the first failing case is the failure (see :class:`_FirstFailure`)
    first_is_final = hypothesis.Phase.shrink not in hypothesis_settings.phases

    @hypothesis_settings
    @hypothesis.given(strategy)
    def property_(case: Case) -> None:
        count[0] += 1
        if task is not None:
            task.advance()
        try:
            execute(case)
        except CheckFailed as failed:
            if first_is_final:
                raise _FirstFailure(failed) from None
            if task is not None and not shrinking[0]:
                shrinking[0] = True
                task.set_note("a check failed; shrinking the request")
            raise
        except RpctestError as exc:  # nothing about this case (an unreachable endpoint): the run cannot go on
            raise _RunEnded(exc) from exc

    if seed is not None:
        property_ = hypothesis.seed(seed)(property_)
    # a run is seeded (``hypothesis.seed`` turns the example database off) or derandomized (which
    # implies no database): no database key, so Hypothesis does not read and tokenize this
    # function's source for one on every run (the attribute ``hypothesis.find`` sets; about 0.5 ms of
    # a run whose first case fails)
    setattr(property_, "_hypothesis_internal_database_key", None)  # noqa: B010 - typed the same with and without stubs

    try:
        property_()
    except _RunEnded as ended:
        raise ended.error from None
    except _FirstFailure as first:
        return count[0], first.failed, False
    except CheckFailed as failed:
        return count[0], failed, False
    except Flaky as exc:  # failed once, passed on the re-run: report it, marked flaky
        cause = exc.__cause__ or exc.__context__
        return count[0], cause if isinstance(cause, CheckFailed) else None, True
    return count[0], None, False


def routed_case(target: Target, case: Case) -> Case:
    """``case`` judged as the stack routes its request (:meth:`StackAdapter.route_request`): for a
    stack that routes by content, a defect for one operation may be another's valid input (then the
    case is a positive one of the operations that take it), and a request may be answered before any
    routing (AsyncAPY refuses ``{}`` as malformed). Unchanged for stacks that route by name."""
    from rpctest.stacks import get_adapter

    routing = get_adapter(target.stack).route_request(case.body, target.contract)
    if routing is None:
        return case
    if routing.expected is not None:  # no operation takes it: the stack's own answer
        if case.mode == POSITIVE:
            return dataclasses.replace(case, mode=NEGATIVE, expected=routing.expected, routing=routing.reason)
        return dataclasses.replace(case, expected=routing.expected, routing=routing.reason)
    if case.mode == POSITIVE and routing.operations == (case.operation,):
        return case
    allowed = frozenset(routing.errors).union(*(target.expected_errors.get(name, ()) for name in routing.operations))
    return dataclasses.replace(
        case, mode=POSITIVE, expected=None, response_schema=compile_schema(routing.response if routing.response is not None else {}),
        allowed_codes=allowed, routing=routing.reason,
    )


def _executor(target: Target, checks: Sequence[Check], reset: Callable[[], Any] | None = None,
              seen: list[str] | None = None) -> Callable[[Case], None]:
    """Run one case and its checks; ``reset`` (a context manager factory: the provider state
    handlers of ``fuzz(states=...)``) is entered around each example, so that every example starts
    from the same data and one example's writes cannot decide the next one's answer. The error
    codes of the replies go into ``seen``."""

    from rpctest import stacklogs

    def execute(case: Case) -> None:
        case = routed_case(target, case)
        logs = stacklogs.current()
        mark = logs.mark()
        if reset is None:
            reply = _send(target, case)
        else:
            with reset():
                reply = _send(target, case)
        if seen is not None:
            seen.extend(code for code in sorted({str(e.code) for e in reply.all_errors}) if code not in seen)
        for check in checks:
            message = check(case, reply)
            if message:
                if case.routing:
                    message = f"{message} [{case.routing}]"
                raise CheckFailed(case, reply, getattr(check, "__name__", str(check)), message, logs.lines_since(mark))

    return execute


def _failure(target: Target, failed: CheckFailed, flaky: bool, replay_dir: Path | None, seed: int | None = None) -> Failure:
    case = failed.case
    failure = Failure(
        operation=case.operation,
        mode=case.mode,
        check=failed.check,
        message=failed.message,
        body=case.body,
        reply=failed.reply,
        defect=case.defect,
        expected=case.expected,
        flaky=flaky,
        seed=seed,
        log=failed.log,
    )
    if failure.log:
        from rpctest import stacklogs

        failure.log_file = stacklogs.current().path
    if replay_dir is not None:
        from rpctest.fuzz.replay import write_replay

        failure.replay_file = write_replay(target, failure, replay_dir)
    return failure


def fuzz_operation(
    target: Target,
    operation: str,
    *,
    mode: str = "all",
    max_examples: int | None = None,
    checks: Sequence[Check] | None = None,
    replay_dir: Path | str | None = None,
    settings: Any = None,
    seed: int | None = None,
    reset: Callable[[], Any] | None = None,
) -> OperationResult:
    """Fuzz one operation; the result carries the shrunk failure (and its replay file), if any."""
    op = target.contract.operations.get(operation)
    if op is None:
        raise ConfigError(f"{target.service} has no operation {operation!r}; it has {', '.join(sorted(target.contract.operations))}")
    started = time.perf_counter()
    strategy = case_strategy(target, op, mode)
    seed = choose_seed(settings, seed)
    result = OperationResult(operation, mode, seed=seed)
    if strategy is None:
        result.note = "nothing to generate in this mode (the request schema accepts anything)"
        return result
    all_checks, _, result.note = split_checks(op.request, [an_answer_came_back, *(checks if checks is not None else CHECKS)])
    hypothesis_settings = _settings(max_examples, settings)
    with current_progress().task("fuzz", f"{target.service}.{operation} ({mode})", total=hypothesis_settings.max_examples) as task:
        count, failed, flaky = _run(strategy, _executor(target, all_checks, reset, result.codes), hypothesis_settings, seed, task)
        if failed is not None:
            task.failed()
    result.examples = count
    if failed is not None:
        result.failure = _failure(target, failed, flaky, Path(replay_dir) if replay_dir is not None else None, seed)
    result.seconds = time.perf_counter() - started
    return result


def fuzz_unknown_operation(target: Target, *, checks: Sequence[Check] | None = None, replay_dir: Path | str | None = None) -> OperationResult:
    """Probe one operation the service does not have: it must answer the stack's not-found."""
    from rpctest.stacks import get_adapter

    adapter = get_adapter(target.stack)
    expected = adapter.expected_for_unknown_operation(UNKNOWN_OPERATION_NAME)
    body = copy.deepcopy(adapter.unknown_operation_body)
    case = Case(UNKNOWN_OPERATION_NAME, body, UNKNOWN_OPERATION, expected=expected)
    return probe(target, case, checks=checks, replay_dir=replay_dir)


def probe(target: Target, case: Case, *, checks: Sequence[Check] | None = None, replay_dir: Path | str | None = None) -> OperationResult:
    """Send one fixed case (an unknown operation, a stack's own probe) and run the checks on it."""
    started = time.perf_counter()
    result = OperationResult(case.operation, case.mode, examples=1)
    try:
        _executor(target, [an_answer_came_back, *(checks if checks is not None else CHECKS)], seen=result.codes)(case)
    except CheckFailed as failed:
        result.failure = _failure(target, failed, False, Path(replay_dir) if replay_dir is not None else None)
    result.seconds = time.perf_counter() - started
    return result


def fuzz(
    target: Target,
    *,
    operations: Iterable[str] | None = None,
    mode: str = "all",
    max_examples: int | None = None,
    checks: Sequence[Check] | None = None,
    replay_dir: Path | str | None = None,
    unknown_operation: bool = True,
    settings: Any = None,
    seed: int | None = None,
    states: Sequence[Any] = (),
) -> FuzzReport:
    """Fuzz every operation of the target's contract (or ``operations``), then the unknown one.

    ``states`` (:class:`~rpctest.model.ProviderState`) are set up through the provider's registered
    state handlers before every generated example and torn down after it: a per-example reset."""
    reset = None
    if states:
        from rpctest.contracts.states import registry

        absent = registry.missing(states)
        if absent:
            raise ConfigError(
                f"no provider state handler for {', '.join(s.describe() for s in absent)}: register one with "
                f"@rpctest.provider_state(NAME) in a module given by --states MODULE (handlers registered: "
                f"{', '.join(map(repr, registry.names())) or 'none'})"
            )
        chosen = list(states)
        reset = lambda: registry.entered(chosen)  # noqa: E731
    seed = choose_seed(settings, seed)  # one seed for the whole run, printed and stored with its report
    report = FuzzReport(target.stack, target.service, seed=seed)
    names = list(operations) if operations is not None else sorted(target.contract.operations)
    for name in names:
        report.results.append(
            fuzz_operation(target, name, mode=mode, max_examples=max_examples, checks=checks, replay_dir=replay_dir, settings=settings, seed=seed, reset=reset)
        )
    if unknown_operation:
        report.results.append(fuzz_unknown_operation(target, checks=checks, replay_dir=replay_dir))
        from rpctest.stacks import get_adapter

        for case in get_adapter(target.stack).probe_cases(target.contract):  # e.g. Kyoukai: a wrong method is 405
            report.results.append(probe(target, case, checks=checks, replay_dir=replay_dir))
    return report

