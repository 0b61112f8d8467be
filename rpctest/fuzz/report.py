"""A :class:`~rpctest.fuzz.engine.FuzzReport` as the neutral :class:`~rpctest.report.RunReport`:
one case per operation and mode, a finding per shrunk failure, the error codes each operation's
replies carried (for the coverage matrix) and the run's seed, so every format of
:mod:`rpctest.report` shows them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rpctest.report.model import Case, ReportFinding, RunReport
from rpctest.schema import values

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.fuzz.engine import FuzzReport, OperationResult

__all__ = ["run_report"]


def _name(report: "FuzzReport", result: "OperationResult") -> str:
    return f"{report.stack}:{report.service}.{result.operation}"


def _result_data(report: "FuzzReport", result: "OperationResult") -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": _name(report, result),
        "operation": result.operation,
        "mode": result.mode,
        "examples": result.examples,
        "seconds": round(result.seconds, 3),
        "ok": result.ok,
        "codes": list(result.codes),
    }
    if result.note:
        data["note"] = result.note
    failure = result.failure
    if failure is not None:
        data["failure"] = {
            "check": failure.check,
            "message": failure.message,
            "request": values.encode(failure.body),
            "reply": {"body": values.encode(failure.reply.body)} if failure.reply.ok else {"errors": [e.to_dict() for e in failure.reply.all_errors]},
            "defect": failure.defect.to_dict() if failure.defect is not None else None,
            "expected": failure.expected.to_dict() if failure.expected is not None else None,
            "replay_file": str(failure.replay_file) if failure.replay_file else None,
            "flaky": failure.flaky,
        }
    return data


def run_report(report: "FuzzReport") -> RunReport:
    """``report`` as the neutral model."""
    suite = f"{report.stack}.{report.service}"
    cases: list[Case] = []
    findings: list[ReportFinding] = []
    observed: dict[str, list[str]] = {}
    for result in report.results:
        status = "ok" if result.ok else "FAILED"
        note = f"  ({result.note})" if result.note else ""
        case = Case(
            suite, f"{result.operation} [{result.mode}]", "passed" if result.ok else "failed", seconds=result.seconds,
            headline=f"{status:<6} {_name(report, result):<48} {result.mode:<17} {result.examples:5d} case(s) {result.seconds:6.2f} s{note}",
        )
        cases.append(case)
        seen = observed.setdefault(_name(report, result), [])
        seen.extend(code for code in result.codes if code not in seen)
        failure = result.failure
        if failure is not None:
            findings.append(ReportFinding(
                severity="error", check=failure.check, message=failure.message, where=_name(report, result),
                text=[f"{'':7}{line}" for line in failure.render().splitlines()], case=case.key, titled=False,
                data=_result_data(report, result)["failure"],
            ))
    seed = getattr(report, "seed", None)
    details = {
        "ok": report.ok,
        "stack": report.stack,
        "service": report.service,
        "examples": report.examples,
        "results": [_result_data(report, result) for result in report.results],
    }
    return RunReport(
        command="fuzz", suite="rpctest.fuzz", ok=report.ok, exit_code=report.exit_code, summary=report.summary(),
        cases=cases, findings=findings, meta={"stack": report.stack, "service": report.service, "seed": seed},
        details=details, observed={key: codes for key, codes in observed.items() if not key.endswith(UNKNOWN_SUFFIX)},
    )


#: the probe of an operation no service has is no operation of the provider's: not in the matrix
UNKNOWN_SUFFIX = ".rpctest_no_such_operation"
