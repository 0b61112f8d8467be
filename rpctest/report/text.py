"""The text report, for people at a terminal: each case's line (where the command has one) with its
findings under it, or, for a command whose cases have no line of their own (verify, diff), the
findings in the order they were found; then notes, the run's facts (the seed) and the summary."""

from __future__ import annotations

from rpctest.report.model import RunReport

__all__ = ["render_text"]


def render_text(report: RunReport) -> str:
    lines: list[str] = []
    if any(case.headline is not None for case in report.cases):
        shown: set[tuple[str, str]] = set()
        for case in report.cases:
            if case.headline is not None:
                lines.append(case.headline)
            for finding in report.findings_of(case):
                lines.extend(finding.text)
            shown.add(case.key)
        for finding in report.findings:
            if finding.case not in shown:
                lines.extend(finding.text)
    else:
        for finding in report.findings:
            lines.extend(finding.text)
    lines.extend(report.notes)
    seed = report.meta.get("seed")
    if seed is not None and f"seed {seed}" not in report.summary:  # a fuzz summary says it, with how to rerun
        lines.append(f"seed: {seed} (rpctest {report.command} --seed {seed} repeats this run)" if report.command == "fuzz" else f"seed: {seed}")
    lines.append(report.summary)
    return "\n".join(lines) + "\n"
