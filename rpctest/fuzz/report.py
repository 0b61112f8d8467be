"""Render a :class:`~rpctest.fuzz.engine.FuzzReport`: text for people, JSON for scripts, JUnit for CI."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from rpctest.schema import values

if TYPE_CHECKING:  # pragma: no cover
    from rpctest.fuzz.engine import FuzzReport, OperationResult

__all__ = ["render"]


def _name(report: "FuzzReport", result: "OperationResult") -> str:
    return f"{report.stack}:{report.service}.{result.operation}"


def render_text(report: "FuzzReport") -> str:
    lines = []
    for result in report.results:
        status = "ok" if result.ok else "FAILED"
        note = f"  ({result.note})" if result.note else ""
        lines.append(f"{status:<6} {_name(report, result):<48} {result.mode:<17} {result.examples:5d} case(s) {result.seconds:6.2f} s{note}")
        if result.failure is not None:
            lines.extend("       " + line for line in result.failure.render().splitlines())
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def _result_data(report: "FuzzReport", result: "OperationResult") -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": _name(report, result),
        "operation": result.operation,
        "mode": result.mode,
        "examples": result.examples,
        "seconds": round(result.seconds, 3),
        "ok": result.ok,
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


def render_json(report: "FuzzReport") -> str:
    data = {
        "ok": report.ok,
        "stack": report.stack,
        "service": report.service,
        "examples": report.examples,
        "results": [_result_data(report, result) for result in report.results],
    }
    return json.dumps(data, indent=2, sort_keys=True, default=repr) + "\n"


def render_junit(report: "FuzzReport") -> str:
    suite = ET.Element("testsuite", name="rpctest.fuzz", tests=str(len(report.results)))
    failures = 0
    for result in report.results:
        case = ET.SubElement(suite, "testcase", classname=f"{report.stack}.{report.service}", name=f"{result.operation} [{result.mode}]", time=f"{result.seconds:.3f}")
        if result.failure is not None:
            failures += 1
            element = ET.SubElement(case, "failure", message=result.failure.message[:500], type=result.failure.check)
            element.text = result.failure.render()
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def render(report: "FuzzReport", fmt: str = "text") -> str:
    renderers = {"text": render_text, "json": render_json, "junit": render_junit}
    if fmt not in renderers:
        from rpctest.exceptions import ConfigError

        raise ConfigError(f"unknown fuzz report format {fmt!r}; choose one of {', '.join(renderers)}")
    return renderers[fmt](report)
