"""The JUnit XML report, for CI test tabs: one ``testcase`` per case, a ``failure`` carrying its
error findings (or, for ``strict`` framing runs, its weaknesses), warnings in ``system-out``, cases
never run as ``skipped``, and the run's facts (the seed) as ``properties``.

Written by hand rather than with ElementTree, which writes characters XML 1.0 cannot hold as they
are and a carriage return raw (a parser reads it back as a newline): every value goes through
:mod:`rpctest.report.escape`, so the file parses whatever the service answered.
"""

from __future__ import annotations

from rpctest.report.escape import xml_attribute, xml_text
from rpctest.report.model import Case, ReportFinding, RunReport

__all__ = ["render_junit", "suite_xml"]

#: a failure's ``message`` attribute is a one-line title; the element's text has the rest
_MESSAGE_LIMIT = 500


def _element(tag: str, attributes: dict[str, str], text: str | None = None, children: list[str] | None = None) -> str:
    attrs = "".join(f' {name}="{xml_attribute(value)}"' for name, value in attributes.items())
    if text is None and not children:
        return f"<{tag}{attrs} />"
    inner = xml_text(text) if text is not None else "\n" + "\n".join(children or []) + "\n"
    return f"<{tag}{attrs}>{inner}</{tag}>"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _case_xml(report: RunReport, case: Case) -> tuple[str, bool]:
    """The ``testcase`` element, and whether it failed."""
    attributes = {"classname": case.suite, "name": case.name}
    if case.seconds is not None:
        attributes["time"] = f"{case.seconds:.3f}"
    findings = report.findings_of(case)
    failing = [f for f in findings if f.severity == "error"]
    other = [f for f in findings if f.severity != "error"]
    children: list[str] = []
    if case.status == "skipped":
        children.append(_element("skipped", {"message": _clip(case.skipped or "not run", _MESSAGE_LIMIT)}))
    head = [case.headline] if case.headline is not None else []
    if failing:
        first = failing[0]
        children.append(_element("failure", {"message": _clip(first.message, _MESSAGE_LIMIT), "type": first.check},
                                 _joined(head, failing)))
    elif case.status == "failed":
        children.append(_element("failure", {"message": "failed", "type": "failure"}, _joined(head, findings)))
    if other:
        children.append(_element("system-out", {}, _joined(head if not failing else [], other)))
    return _element("testcase", attributes, children=children), bool(failing) or case.status == "failed"


def _joined(head: list[str], findings: list[ReportFinding]) -> str:
    """The case's line (where it has one) and its findings' lines, as the text report shows them."""
    return "\n".join([*head, *(line for f in findings for line in (f.text or [f.message]))])


def suite_xml(report: RunReport) -> str:
    """The ``testsuite`` element of one run."""
    cases = [_case_xml(report, case) for case in report.cases]
    children = []
    properties = [_element("property", {"name": str(k), "value": str(v)}) for k, v in report.meta.items() if v is not None]
    if properties:
        children.append(_element("properties", {}, children=properties))
    children.extend(xml for xml, _ in cases)
    attributes = {
        "name": report.suite,
        "tests": str(len(report.cases)),
        "failures": str(sum(1 for _, failed in cases if failed)),
        "errors": "0",
        "skipped": str(sum(1 for case in report.cases if case.status == "skipped")),
    }
    return _element("testsuite", attributes, children=children)


def render_junit(report: RunReport) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n' + suite_xml(report) + "\n"
