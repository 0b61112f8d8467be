"""GitHub Actions workflow commands: an ``::error``/``::warning``/``::notice`` annotation per finding
(on its file where it has one), the run's facts as a notice, then the summary as a plain line. Every
value is escaped as the runner unescapes it (:mod:`rpctest.report.escape`), so no text a service
answered can end a command early or start one of its own."""

from __future__ import annotations

from rpctest.report.escape import github_data, github_property, one_line_safe
from rpctest.report.model import RunReport

__all__ = ["render_github"]


def render_github(report: RunReport) -> str:
    lines = []
    for finding in report.findings:
        props = []
        if finding.file:
            props.append(f"file={github_property(finding.file)}")
        props.append(f"title={github_property(f'rpctest {finding.check}')}")
        lines.append(f"::{finding.severity} {','.join(props)}::{github_data(finding.body)}")
    facts = ", ".join(f"{key} {value}" for key, value in report.meta.items() if key == "seed" and value is not None)
    if facts:
        lines.append(f"::notice title={github_property(report.title)}::{github_data(facts)}")
    lines.append(_plain(report.summary))
    return "\n".join(lines) + "\n"


def _plain(text: str) -> str:
    """A plain log line that the runner cannot take for a command (those start with ``::``)."""
    text = one_line_safe(text).replace("\r", " ").replace("\n", " ")
    return " " + text if text.lstrip().startswith("::") else text
