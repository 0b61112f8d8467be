"""The formats, by name, and rendering one run or several into one document (``rpctest fuzz
--framing`` writes the schema fuzz and the framing fuzz into the same file)."""

from __future__ import annotations

import json
from typing import Callable, Sequence

from rpctest.report.github import render_github
from rpctest.report.jsonfmt import render_json
from rpctest.report.junit import render_junit, suite_xml
from rpctest.report.markdown import render_markdown
from rpctest.report.model import RunReport
from rpctest.report.text import render_text

__all__ = ["FORMATS", "render", "render_many"]

FORMATS: dict[str, Callable[[RunReport], str]] = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
    "github": render_github,
    "markdown": render_markdown,
}


def _renderer(fmt: str) -> Callable[[RunReport], str]:
    try:
        return FORMATS[fmt]
    except KeyError:
        from rpctest.exceptions import ConfigError

        raise ConfigError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}") from None


def render(report: RunReport, fmt: str = "text") -> str:
    """``report`` in the format ``fmt`` (a :data:`FORMATS` name; another is a ConfigError naming them)."""
    return _renderer(fmt)(report)


def render_many(reports: Sequence[RunReport], fmt: str = "text") -> str:
    """Several runs in one document: a JSON list, one JUnit ``<testsuites>``, the others one after
    another (text separated by a blank line). A single run renders as :func:`render` does."""
    renderer = _renderer(fmt)
    if len(reports) == 1:
        return renderer(reports[0])
    if fmt == "json":
        return json.dumps([report.to_dict() for report in reports], indent=2, sort_keys=True, default=repr) + "\n"
    if fmt == "junit":
        suites = "\n".join(suite_xml(report) for report in reports)
        return f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n{suites}\n</testsuites>\n'
    separator = "\n" if fmt in ("text", "markdown") else ""
    return separator.join(renderer(report) for report in reports)
