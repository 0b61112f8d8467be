"""Render a verification :class:`~rpctest.contracts.verify.Report` for people and for CI systems.

``text`` for a terminal, ``json`` for scripts, ``junit`` for CI test tabs (one test case per
interaction, so a green interaction shows as passed), ``github`` for GitHub Actions annotations on
the contract files.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Callable
from xml.etree import ElementTree as ET

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.contracts.verify import Finding, Report

__all__ = ["FORMATS", "render"]


def finding_lines(finding: "Finding") -> list[str]:
    lines = [f"{finding.severity.upper()} [{finding.check}] {finding.where}"]
    at = f" at {finding.pointer}" if finding.pointer else ""
    lines.append(f"    {finding.message}{at}")
    if finding.expected is not None:
        lines.append(f"    expected: {finding.expected}")
    if finding.actual is not None:
        lines.append(f"    actual:   {finding.actual}")
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
        "summary": {
            "findings": len(report.errors),
            "warnings": len(report.findings) - len(report.errors),
            "interactions": report.interactions,
            "consumer_contracts": [str(c.path) if c.path else f"{c.consumer}:{c.stack}:{c.service}" for c in report.consumers],
            "provider_contracts": [str(p.path) if p.path else f"{p.stack}:{p.service}" for p in report.providers],
        },
        "findings": [finding.to_dict() for finding in report.findings],
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def render_junit(report: "Report") -> str:
    """One ``testcase`` per interaction (and per unmatched contract), failures carrying the findings."""
    suite = ET.Element("testsuite", name="rpctest.contracts")
    by_case: dict[tuple[str, str], list["Finding"]] = {}
    for finding in report.findings:
        by_case.setdefault(_case_key_of(finding), []).append(finding)
    cases: list[tuple[str, str]] = []
    for consumer in report.consumers:
        classname = f"{consumer.consumer}.{consumer.stack}.{consumer.service}"
        if (classname, "(contract)") in by_case:
            cases.append((classname, "(contract)"))
            continue
        cases.extend((classname, f"#{i} {item.operation}") for i, item in enumerate(consumer.interactions))
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


def _case_key_of(finding: "Finding") -> tuple[str, str]:
    classname = f"{finding.consumer}.{finding.stack}.{finding.service}"
    if finding.interaction is None:
        return (classname, "(contract)")
    return (classname, f"#{finding.interaction} {finding.operation}")


def _escape_github(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(report: "Report") -> str:
    """GitHub Actions workflow commands: an annotation per finding on its contract file."""
    lines = []
    for finding in report.findings:
        level = "error" if finding.severity == "error" else "warning"
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
