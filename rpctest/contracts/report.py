"""A verification or diff report as the neutral :class:`~rpctest.report.RunReport`.

Both ``verify`` and ``diff`` reports hold :class:`~rpctest.contracts.verify.Finding` objects and say
what their cases are (``cases``, ``case_of``, ``summary_data``); this turns them into the model every
report format is written from (:mod:`rpctest.report`), so the two commands share every format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from rpctest.report.model import Case, ReportFinding, RunReport, Severity

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.contracts.verify import Finding

__all__ = ["finding_lines", "run_report"]


class FindingsReport(Protocol):
    """What a verify or diff report offers for rendering."""

    findings: list["Finding"]
    suite_name: str

    @property
    def ok(self) -> bool: ...

    @property
    def exit_code(self) -> int: ...

    def summary(self) -> str: ...

    def summary_data(self) -> dict[str, Any]: ...

    def cases(self) -> list[tuple[str, str]]: ...

    def case_of(self, finding: "Finding") -> tuple[str, str]: ...


def finding_lines(finding: "Finding") -> list[str]:
    """The finding as the text report shows it: a headline, then what, where, expected and actual."""
    lines = [f"{finding.severity.upper()} [{finding.check}] {finding.where}"]
    at = f" at {finding.pointer}" if finding.pointer else ""
    lines.append(f"    {finding.message}{at}")
    expected, actual = getattr(finding, "value_labels", ("expected", "actual"))
    if finding.expected is not None:
        lines.append(f"    {expected + ':':<9} {finding.expected}")
    if finding.actual is not None:
        lines.append(f"    {actual + ':':<9} {finding.actual}")
    if finding.nearest is not None:
        lines.append(f"    nearest:  {finding.nearest}")
    if finding.tests:
        lines.append(f"    recorded by: {', '.join(finding.tests[:3])}" + (" ..." if len(finding.tests) > 3 else ""))
    if finding.provider is not None:
        lines.append(f"    provider contract: {finding.provider}")
    return lines


def _severity(finding: "Finding") -> Severity:
    return "error" if finding.severity == "error" else "warning" if finding.severity == "warning" else "notice"


def run_report(report: FindingsReport, command: str) -> RunReport:
    """``report`` (of ``command``: ``verify`` or ``diff``) as the neutral model."""
    findings = [
        ReportFinding(
            severity=_severity(f), check=f.check, message=f.message, where=f.where, text=finding_lines(f),
            case=report.case_of(f), file=str(f.contract) if f.contract is not None else None, data=f.to_dict(),
        )
        for f in report.findings
    ]
    failing = {f.case for f in findings if f.severity == "error"}
    cases = [Case(suite, name, "failed" if (suite, name) in failing else "passed") for suite, name in report.cases()]
    return RunReport(
        command=command,
        suite=report.suite_name,
        ok=report.ok,
        exit_code=report.exit_code,
        summary=report.summary(),
        cases=cases,
        findings=findings,
        details={"summary": report.summary_data()},
        observed=dict(getattr(report, "observed", {}) or {}),
    )
