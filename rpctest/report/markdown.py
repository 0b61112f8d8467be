"""Markdown for a CI step summary (``>> "$GITHUB_STEP_SUMMARY"``): a heading with the verdict, the
summary, the run's facts, a table of the failing and warned cases, and each finding's details in a
collapsed block. Service text is escaped (:func:`~rpctest.report.escape.markdown_inline`) or fenced,
so it shows as written and cannot format or link anything."""

from __future__ import annotations

from rpctest.report.escape import markdown_block, markdown_inline
from rpctest.report.model import RunReport

__all__ = ["render_markdown"]

#: at most this many findings are detailed (a step summary is limited to 1 MiB)
_DETAILED = 50


def render_markdown(report: RunReport) -> str:
    verdict = "passed" if report.ok else "FAILED"
    icon = ":white_check_mark:" if report.ok else ":x:"
    lines = [f"### {icon} {markdown_inline(report.title)} {verdict}", "", markdown_inline(report.summary), ""]
    facts = [(k, v) for k, v in report.meta.items() if v is not None]
    if facts:
        lines.extend([", ".join(f"**{markdown_inline(str(k))}**: {markdown_inline(str(v))}" for k, v in facts), ""])
    counts = {s: sum(1 for c in report.cases if c.status == s) for s in ("passed", "failed", "skipped")}
    lines.extend([f"{len(report.cases)} case(s): {counts['passed']} passed, {counts['failed']} failed, "
                  f"{counts['skipped']} skipped; {len(report.findings)} finding(s)", ""])
    if report.findings:
        lines.extend(["| severity | check | where | message |", "|---|---|---|---|"])
        for finding in report.findings:
            where = finding.where or (" ".join(finding.case) if finding.case else "")
            lines.append(f"| {finding.severity} | {markdown_inline(finding.check)} | {markdown_inline(where)} | "
                         f"{markdown_inline(finding.message)} |")
        lines.append("")
        for finding in report.findings[:_DETAILED]:
            title = markdown_inline(f"{finding.severity}: {finding.check} {finding.where}".strip())
            lines.extend(["<details>", f"<summary>{title}</summary>", "", markdown_block("\n".join(finding.text)), "",
                          "</details>", ""])
        if len(report.findings) > _DETAILED:
            lines.extend([f"... and {len(report.findings) - _DETAILED} more finding(s) (see the JSON report)", ""])
    if report.notes:
        lines.extend([markdown_block("\n".join(report.notes)), ""])
    return "\n".join(lines)
