"""Render a verification :class:`~rpctest.contracts.verify.Report` for people and for CI systems.

``text`` for a terminal, ``json`` for scripts, ``junit`` for CI test tabs (one test case per
interaction, so a green interaction shows as passed), ``github`` for GitHub Actions annotations on
the contract files. A report says what its cases are (``cases``, ``case_of``, ``summary_data``), so
``verify`` and ``diff`` reports share these renderers.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Callable
from xml.etree import ElementTree as ET

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.contracts.verify import Finding, Report  # or a DiffReport: the same protocol

__all__ = ["FORMATS", "render"]


def finding_lines(finding: "Finding") -> list[str]:
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


def render_text(report: "Report") -> str:
    lines: list[str] = []
    for finding in report.findings:
        lines.extend(finding_lines(finding))
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def render_json(report: "Report") -> str:
    data = {
        "ok": report.ok,
        "summary": report.summary_data(),
        "findings": [finding.to_dict() for finding in report.findings],
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def render_junit(report: "Report") -> str:
    """One ``testcase`` per case the report names (an interaction, an operation), failures carrying the findings."""
    suite = ET.Element("testsuite", name=report.suite_name)
    by_case: dict[tuple[str, str], list["Finding"]] = {}
    for finding in report.findings:
        by_case.setdefault(report.case_of(finding), []).append(finding)
    cases = report.cases()
    failures = 0
    for classname, name in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=name)
        errors = [f for f in by_case.get((classname, name), []) if f.severity == "error"]
        warnings = [f for f in by_case.get((classname, name), []) if f.severity != "error"]
        if errors:
            failures += 1
            failure = ET.SubElement(case, "failure", message=errors[0].message, type=errors[0].check)
            failure.text = "\n".join(line for f in errors for line in finding_lines(f))
        if warnings:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(line for f in warnings for line in finding_lines(f))
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    text = _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", ET.tostring(suite, encoding="unicode"))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n"


#: characters XML 1.0 forbids even escaped; ElementTree writes them raw and the report would not parse
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _escape_github(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(report: "Report") -> str:
    """GitHub Actions workflow commands: an annotation per finding on its contract file."""
    lines = []
    for finding in report.findings:
        level = {"error": "error", "warning": "warning"}.get(finding.severity, "notice")
        props = []
        if finding.contract is not None:
            props.append(f"file={_escape_github(str(finding.contract), property_value=True)}")
        props.append(f"title={_escape_github(f'rpctest {finding.check}', property_value=True)}")
        body = "\n".join(finding_lines(finding)[1:]).strip()
        lines.append(f"::{level} {','.join(props)}::{_escape_github(body)}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[["Report"], str]] = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
    "github": render_github,
}


def render(report: "Report", fmt: str = "text") -> str:
    try:
        return FORMATS[fmt](report)
    except KeyError:
        from rpctest.exceptions import ConfigError

        raise ConfigError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
